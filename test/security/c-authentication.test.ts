/**
 * Checklist group C: authentication (generic failures, timing, throttling, password handling, the
 * token endpoint's input contract). Against Redis, which keeps the throttle counters.
 *
 * Also covered elsewhere: test/routes/auth.test.ts (wrong password and unknown user answer alike,
 * missing fields, unsupported grant type), test/routes/engines.test.ts (the bcrypt → argon2id upgrade
 * on every engine), test/sessions/store.test.ts (counters are atomic under concurrency).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { serviceGate, SERVICE_URLS } from '../helpers/services.js';
import { API, BROWSER, FORM, form, login, useApp, useSuiteApp } from '../helpers/app.js';
import { captureLogs } from '../helpers/logs.js';
import { loadConfig } from '../../src/config.js';
import { accountCounterKey, me, median, percentile } from './support.js';
import { ADMIN, credentials, type Person, U1, U2, UB, UX } from '../helpers/people.js';
import { INCORRECT, NOT_AUTHENTICATED } from '../helpers/messages.js';

const TOO_LONG = {
  detail: 'Invalid request: password must be at most 72 bytes',
  errors: [{ field: 'password', message: 'must be at most 72 bytes' }],
};
const VOLATILE_HEADERS = ['date', 'x-request-id'];

const tokenRequest = (app: FastifyInstance, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/auth/token', headers: { ...FORM, ...headers }, payload: form(fields) });

function stableHeaders(response: LightMyRequestResponse): Record<string, unknown> {
  return Object.fromEntries(Object.entries(response.headers).filter(([name]) => !VOLATILE_HEADERS.includes(name)));
}

function assertTooManyAttempts(response: LightMyRequestResponse): void {
  assert.equal(response.statusCode, 429);
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 900, `Retry-After ${response.headers['retry-after']}`);
  assert.deepEqual(response.json(), { detail: `Too many failed logins. Try again in ${retryAfter} seconds` });
  assert.equal(response.headers['set-cookie'], undefined);
}

describe('C. authentication', await serviceGate('redis'), () => {
  const logs = captureLogs();
  // Throttling is tested on its own app below; here it must not get in the way of timing runs.
  const { app } = useSuiteApp({
    store: 'redis',
    env: { LOG_LEVEL: 'debug', LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_CLIENT: '100000' },
    build: { logStream: logs.stream },
  });

  before(async () => {
    // UX is disabled for this suite ([GB]).
    await app.db.updateTable('employees').set({ disabled: 1 }).where('emp_no', '=', UX.empNo).execute();
  });

  it('C-01 answers an unknown user, a wrong password, a disabled account and a bcrypt user byte for byte alike', async () => {
    const attempts = {
      unknown: { username: 'nobody.at.all@example.com', password: 'password' },
      wrongPassword: { username: U1.username, password: 'not the password' },
      disabled: { username: UX.username, password: UX.password },
      bcryptWrongPassword: { username: UB[0].username, password: 'not the password' },
    };
    const programs = await Promise.all(Object.values(attempts).map((fields) => tokenRequest(app, fields)));
    const reference = programs[0]!;
    assert.equal(reference.statusCode, 400);
    assert.deepEqual(reference.json(), INCORRECT);
    for (const response of programs) {
      assert.equal(response.statusCode, 400);
      assert.equal(response.body, reference.body);
      assert.deepEqual(stableHeaders(response), stableHeaders(reference), 'same headers, Content-Length included');
      assert.equal(response.headers['set-cookie'], undefined);
    }
    // A browser gets the form back with the email it typed (and nothing else of the attempt): the
    // same page for every failure once that echo is taken out, and the same headers but the length.
    const browsers = await Promise.all(Object.values(attempts).map((fields) => tokenRequest(app, fields, BROWSER)));
    const usernames = Object.values(attempts).map((fields) => fields.username);
    const withoutEcho = (response: LightMyRequestResponse, index: number) =>
      response.body.replaceAll(usernames[index]!.replaceAll('&', '&amp;'), '<typed email>');
    const { 'content-length': _length, ...headers } = stableHeaders(browsers[0]!);
    for (const [index, response] of browsers.entries()) {
      assert.equal(response.statusCode, 400);
      const { 'content-length': _ownLength, ...own } = stableHeaders(response);
      assert.deepEqual(own, headers);
      assert.equal(withoutEcho(response, index), withoutEcho(browsers[0]!, 0));
      assert.equal(
        response.cookies.find((c) => c.name === 'session'),
        undefined,
      );
    }
    // A missing field is answered from the form alone, whoever it names.
    const missing = await Promise.all([
      tokenRequest(app, { username: U1.username }),
      tokenRequest(app, { username: 'nobody.at.all@example.com' }),
    ]);
    assert.equal(missing[0].body, missing[1].body);
    assert.equal(missing[0].statusCode, 422);
  });

  it('C-02 takes the same time for an unknown user, argon2id and bcrypt wrong passwords and a disabled account', async () => {
    const cases: Record<string, Record<string, string>> = {
      unknown: { username: 'nobody.at.all@example.com', password: 'a wrong password' },
      argon2id: { username: U2.username, password: 'a wrong password' },
      bcrypt: { username: UB[0].username, password: 'a wrong password' },
      disabled: { username: UX.username, password: UX.password },
    };
    const timings: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
    const timed = async (name: string) => {
      const started = performance.now();
      const response = await tokenRequest(app, cases[name]!);
      const elapsed = performance.now() - started;
      assert.equal(response.statusCode, 400);
      return elapsed;
    };
    for (const name of Object.keys(cases)) for (let i = 0; i < 3; i++) await timed(name); // warm-up
    // Interleaved rounds: each case once per round, in a shuffled order, so that load on a shared
    // CI machine hits every case alike. One after another, not side by side: password checks queue
    // for one hashing core (src/identity/passwords.ts), so side by side a case's time would be its place
    // in the queue rather than its own. A uniform shuffle (Fisher–Yates), for the same reason.
    for (let round = 0; round < 40; round++) {
      const order = Object.keys(cases);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const name of order) timings[name]!.push(await timed(name));
    }
    const medians = Object.fromEntries(Object.entries(timings).map(([name, values]) => [name, median(values)]));
    const overall = median(Object.values(timings).flat());
    // A generous band: a real leak (no dummy hash: a few ms against ~40 ms; bcrypt against
    // argon2id: twice or half) is far outside it, while CI noise stays within.
    for (const [name, value] of Object.entries(medians)) {
      assert.ok(
        Math.abs(value - overall) / overall < 0.25,
        `${name}: median ${value.toFixed(1)} ms against ${overall.toFixed(1)} ms overall (${JSON.stringify(medians)})`,
      );
    }
    // [GB] The dummy hashes have the real ones' algorithm and cost (src/identity/passwords.ts): every
    // argon2id hash uses the library defaults and every bcrypt hash cost 10.
    const hashes = (await app.db.selectFrom('employees').select('password').execute()).map((row) => row.password);
    for (const hash of hashes) assert.match(hash, /^(\$argon2id\$v=19\$m=19456,t=2,p=1\$|\$2[aby]\$10\$)/);
  });

  it('C-06 accepts passwords exactly as sent: 64 characters, emoji and inner spaces, leading and trailing spaces', async () => {
    const admin = await login(app, ADMIN);
    const passwords = {
      long: 'Aa1!'.repeat(16),
      emoji: 'correct horse 🐎 battery staple',
      spaced: '  spaces at both ends  ',
    };
    const people: Record<string, string> = {};
    for (const [name, password] of Object.entries(passwords)) {
      const email = `c06.${name}.${Date.now()}@example.com`;
      const created = await app.inject({
        method: 'POST',
        url: '/api/emp/admin-save',
        headers: FORM,
        cookies: { session: admin.cookie },
        payload: form({ email, password, firstName: 'Test', lastName: name, gender: 'F', birthDate: '01/02/1990', hireDate: '03/04/2020' }),
      });
      assert.equal(created.statusCode, 201, created.body);
      people[name] = email;
      const exact = await tokenRequest(app, { username: email, password });
      assert.equal(exact.statusCode, 200, `${name}: the exact password`);
      for (const variant of [password.trim(), password.toUpperCase(), password.toLowerCase(), `${password} `, password.slice(0, -1)]) {
        if (variant === password) continue;
        const refused = await tokenRequest(app, { username: email, password: variant });
        assert.equal(refused.statusCode, 400, `${name}: variant ${JSON.stringify(variant)}`);
        assert.deepEqual(refused.json(), INCORRECT);
      }
    }
    // Over the maximum: refused when set (65 characters), and at login before any hashing (C-08).
    const tooLong = await app.inject({
      method: 'POST',
      url: '/api/emp/admin-save',
      headers: FORM,
      cookies: { session: admin.cookie },
      payload: form({
        email: 'c06.toolong@example.com',
        password: 'x'.repeat(65),
        firstName: 'T',
        lastName: 'L',
        gender: 'F',
        birthDate: '01/02/1990',
        hireDate: '03/04/2020',
      }),
    });
    assert.equal(tooLong.statusCode, 422);
    assert.deepEqual(tooLong.json().errors, [{ field: 'password', message: 'Please enter between 10 and 64 characters' }]);
    const login128 = await tokenRequest(app, { username: people.long!, password: 'Aa1!'.repeat(32) });
    assert.equal(login128.statusCode, 422);
    assert.deepEqual(login128.json(), TOO_LONG);
  });

  it('C-07 never compares a password over 72 bytes as its truncated prefix against a bcrypt hash', async () => {
    const ub = UB[1];
    const p72 = `${'x'.repeat(70)}é`; // 72 bytes, ending in a two-byte character
    assert.equal(Buffer.byteLength(p72), 72);
    // [GB] The legacy hash of exactly P72, as an older system would have stored it.
    await app.db
      .updateTable('employees')
      .set({ password: await bcryptHash(p72, 10) })
      .where('emp_no', '=', ub.empNo)
      .execute();

    for (const over of [`${p72}x`, `${p72}anything-else`, `${'y'.repeat(69)}😀`]) {
      assert.ok(Buffer.byteLength(over) > 72);
      for (const username of [ub.username, 'nobody.at.all@example.com']) {
        const response = await tokenRequest(app, { username, password: over });
        assert.equal(response.statusCode, 422, `${Buffer.byteLength(over)} bytes for ${username}`);
        assert.deepEqual(response.json(), TOO_LONG);
      }
    }
    const prefix = await tokenRequest(app, { username: ub.username, password: p72.slice(0, -1) });
    assert.equal(prefix.statusCode, 400);
    assert.deepEqual(prefix.json(), INCORRECT);
    const exact = await tokenRequest(app, { username: ub.username, password: p72 });
    assert.equal(exact.statusCode, 200);
  });

  it('C-08 refuses oversized credentials cheaply: 413 over the body limit, 422 over 72 bytes without hashing', async () => {
    const probes: number[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const started = performance.now();
        assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
        probes.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const big = await Promise.all(
      [100 * 1024, 1024 * 1024, 1024 * 1024 + 1].flatMap((size) =>
        Array.from({ length: 20 }, () => {
          const started = performance.now();
          return tokenRequest(app, { username: U1.username, password: 'p'.repeat(size) }).then((response) => ({
            response,
            ms: performance.now() - started,
          }));
        }),
      ),
    );
    for (const { response } of big) {
      assert.equal(response.statusCode, 413);
      assert.deepEqual(response.json(), { detail: 'Request body is too large' });
    }
    const timedLogin = async (password: string) => {
      const started = performance.now();
      const response = await tokenRequest(app, { username: U1.username, password });
      return { response, ms: performance.now() - started };
    };
    const overMax = [];
    const wrong = [];
    for (let i = 0; i < 10; i++) {
      overMax.push(await timedLogin('p'.repeat(73)), await timedLogin('p'.repeat(1000)));
      wrong.push(await timedLogin('a wrong password'));
    }
    probing = false;
    await prober;
    for (const { response } of overMax) {
      assert.equal(response.statusCode, 422);
      assert.equal(response.json().errors[0].field, 'password');
    }
    const overMaxMedian = median(overMax.map((r) => r.ms));
    const wrongMedian = median(wrong.map((r) => r.ms));
    assert.ok(
      overMaxMedian < wrongMedian / 3,
      `over-long ${overMaxMedian.toFixed(1)} ms against a hashed wrong password ${wrongMedian.toFixed(1)} ms`,
    );
    assert.ok(percentile(probes, 99) < 1000, `/health p99 ${percentile(probes, 99).toFixed(0)} ms`);
  });

  it('C-09 upgrades a legacy bcrypt hash to argon2id at a successful login, and leaves it alone on a failed one', async () => {
    const upgraded = UB[2];
    const untouched = UB[3];
    const hashOf = async (empNo: number) =>
      (await app.db.selectFrom('employees').select('password').where('emp_no', '=', empNo).executeTakeFirstOrThrow()).password;
    assert.match(await hashOf(upgraded.empNo), /^\$2[aby]\$10\$/);
    await login(app, upgraded);
    assert.match(await hashOf(upgraded.empNo), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await login(app, upgraded);

    const before = await hashOf(untouched.empNo);
    assert.equal((await tokenRequest(app, { username: untouched.username, password: 'wrong password' })).statusCode, 400);
    assert.equal(await hashOf(untouched.empNo), before, 'a failed login does not rehash');
    // [GB] No bcrypt hash below cost 10 remains.
    for (const { password } of await app.db.selectFrom('employees').select('password').execute()) {
      const cost = /^\$2[aby]\$(\d\d)\$/.exec(password)?.[1];
      if (cost) assert.ok(Number(cost) >= 10, `bcrypt cost ${cost}`);
    }
  });

  it('C-10 takes credentials only as a form body, refuses other grants, and never caches the answer', async () => {
    const inQuery = `/auth/token?${form({ username: U1.username, password: U1.password })}`;
    const unsupported = { detail: 'Send the login as application/x-www-form-urlencoded' };
    const queryPost = await app.inject({ method: 'POST', url: inQuery });
    assert.equal(queryPost.statusCode, 415);
    assert.deepEqual(queryPost.json(), unsupported);
    const queryForm = await app.inject({ method: 'POST', url: inQuery, headers: FORM, payload: '' });
    assert.equal(queryForm.statusCode, 422, 'an empty form: the query string is not read');
    const queryGet = await app.inject({ method: 'GET', url: inQuery });
    assert.equal(queryGet.statusCode, 404, 'no GET route');
    assert.deepEqual(queryGet.json(), { detail: 'Not found: GET /auth/token' });

    const bodies = [
      { 'content-type': 'application/json', payload: JSON.stringify({ username: U1.username, password: U1.password }) },
      { 'content-type': 'text/plain', payload: `username=${U1.username}&password=${U1.password}` },
      {
        'content-type': 'multipart/form-data; boundary=x',
        payload: `--x\r\nContent-Disposition: form-data; name="username"\r\n\r\n${U1.username}\r\n--x\r\nContent-Disposition: form-data; name="password"\r\n\r\npassword\r\n--x--\r\n`,
      },
    ];
    for (const { payload, ...headers } of bodies) {
      const response = await app.inject({ method: 'POST', url: '/auth/token', headers, payload });
      assert.equal(response.statusCode, 415, headers['content-type']);
      // Refused by the route (JSON, text) or already by Fastify, which has no multipart parser.
      assert.ok([unsupported.detail, 'Unsupported Media Type'].includes(response.json().detail), response.body);
      assert.equal(response.headers['set-cookie'], undefined);
    }
    // Duplicate fields: refused (422 naming the field), never first- or last-wins.
    const duplicate = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: FORM,
      payload: `username=${encodeURIComponent(U2.username)}&username=${encodeURIComponent(U1.username)}&password=password`,
    });
    assert.equal(duplicate.statusCode, 422);
    assert.deepEqual(duplicate.json(), {
      detail: 'Invalid request: username must be string',
      errors: [{ field: 'username', message: 'must be string' }],
    });

    const grant = await tokenRequest(app, { ...U1Fields(), grant_type: 'client_credentials' });
    assert.equal(grant.statusCode, 400);
    const detail = 'unsupported_grant_type: only the password grant is offered here';
    assert.deepEqual(grant.json(), { detail, error: 'unsupported_grant_type', error_description: detail });

    const success = await tokenRequest(app, { ...U1Fields(), grant_type: 'password' });
    assert.equal(success.statusCode, 200);
    assert.equal(success.headers['cache-control'], 'no-store');
    assert.equal(success.headers.pragma, 'no-cache');
    const failure = await tokenRequest(app, { username: U1.username, password: 'Distinctive-Wrong-Password-4711' });
    assert.equal(failure.headers['cache-control'], 'no-store');

    // [GB] No password typed in this suite (C-06's, C-07's, the wrong ones) ever reached the logs.
    const text = logs.text();
    assert.ok(text.includes('logged in'), 'the suite did log');
    for (const secret of [
      'Distinctive-Wrong-Password-4711',
      'a wrong password',
      'correct horse',
      'spaces at both ends',
      'Aa1!Aa1!',
      'x'.repeat(70),
    ]) {
      assert.ok(!text.includes(secret), `"${secret}" is in the logs`);
    }
  });

  function U1Fields() {
    return { username: U1.username, password: U1.password };
  }

  describe('throttling', () => {
    const ACCOUNT_LIMIT = 5;
    const {
      apps: [throttled, second], // the second: another instance on the same Redis
      env: throttledEnv,
    } = useSuiteApp({
      store: 'redis',
      env: {
        LOGIN_MAX_FAILURES_PER_ACCOUNT: String(ACCOUNT_LIMIT),
        LOGIN_MAX_FAILURES_PER_CLIENT: '1000',
        LOGIN_THROTTLE_WINDOW_SECONDS: '900',
      },
      instances: 2,
    });
    let redis: Redis;
    before(() => {
      redis = new Redis(SERVICE_URLS.redis);
    });
    after(() => {
      redis?.disconnect();
    });

    const person = (empNo: number, first: string, last: string): Person => ({
      username: `${first}.${last}.${empNo}@gmail.com`,
      password: 'password',
      empNo,
    });

    it('C-03 throttles one account after LOGIN_MAX_FAILURES_PER_ACCOUNT failures, whatever X-Forwarded-For says', async () => {
      const victim = person(10014, 'berni', 'genin');
      for (let i = 0; i < ACCOUNT_LIMIT; i++) {
        const response = await tokenRequest(
          throttled,
          { username: victim.username, password: `guess ${i}` },
          { 'x-forwarded-for': `203.0.113.${i}` },
        );
        assert.equal(response.statusCode, 400);
      }
      assertTooManyAttempts(
        await tokenRequest(throttled, { username: victim.username, password: 'guess' }, { 'x-forwarded-for': '198.51.100.7' }),
      );
      // Hard lockout for the window: the right password is not even checked.
      assertTooManyAttempts(await tokenRequest(throttled, { username: victim.username, password: victim.password }));
      // An unknown name is throttled the same way, so the lockout reveals nothing.
      for (let i = 0; i < ACCOUNT_LIMIT; i++)
        await tokenRequest(throttled, { username: 'no.such.person@example.com', password: `guess ${i}` });
      assertTooManyAttempts(await tokenRequest(throttled, { username: 'no.such.person@example.com', password: 'guess' }));
      // Everyone else is unaffected.
      assert.equal((await tokenRequest(throttled, U2Fields())).statusCode, 200);
      // The defaults allow far fewer than ASVS's 100 failures an hour: 10 per 15 minutes.
      const defaults = loadConfig({});
      assert.equal(defaults.LOGIN_MAX_FAILURES_PER_ACCOUNT, 10);
      assert.equal(defaults.LOGIN_THROTTLE_WINDOW_SECONDS, 900);
      assert.ok((defaults.LOGIN_MAX_FAILURES_PER_ACCOUNT * 3600) / defaults.LOGIN_THROTTLE_WINDOW_SECONDS <= 100);
    });

    it('C-03 counts per client address too, which only a trusted proxy may name', async (t) => {
      const { app: app2 } = await useApp(t, {
        store: 'redis',
        env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_CLIENT: '3', TRUST_PROXY: '127.0.0.1' },
      });
      // Behind the trusted proxy, X-Forwarded-For names the client: three different accounts from one address.
      for (let i = 0; i < 3; i++) {
        assert.equal(
          (await tokenRequest(app2, { username: `sprayed${i}@example.com`, password: 'x' }, { 'x-forwarded-for': '203.0.113.9' }))
            .statusCode,
          400,
        );
      }
      assertTooManyAttempts(
        await tokenRequest(app2, { username: 'sprayed9@example.com', password: 'x' }, { 'x-forwarded-for': '203.0.113.9' }),
      );
      assert.equal(
        (await tokenRequest(app2, U2Fields(), { 'x-forwarded-for': '203.0.113.10' })).statusCode,
        200,
        'another client is unaffected',
      );
      // From an address that is not the trusted proxy, X-Forwarded-For is ignored: the socket counts.
      for (let i = 0; i < 3; i++) {
        await app2.inject({
          method: 'POST',
          url: '/auth/token',
          remoteAddress: '192.0.2.50',
          headers: { ...FORM, 'x-forwarded-for': `203.0.113.${100 + i}` },
          payload: form({ username: `spoof${i}@example.com`, password: 'x' }),
        });
      }
      const spoofed = await app2.inject({
        method: 'POST',
        url: '/auth/token',
        remoteAddress: '192.0.2.50',
        headers: { ...FORM, 'x-forwarded-for': '203.0.113.200' },
        payload: form(U2Fields()),
      });
      assertTooManyAttempts(spoofed);
    });

    it('C-04 evaluates at most LOGIN_MAX_FAILURES_PER_ACCOUNT of 200 simultaneous guesses, counting every one atomically', async () => {
      const victim = person(10015, 'guoxiang', 'nooteboom');
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) => tokenRequest(throttled, { username: victim.username, password: `parallel guess ${i}` })),
      );
      const evaluated = responses.filter((response) => response.statusCode === 400).length;
      const throttledCount = responses.filter((response) => response.statusCode === 429).length;
      assert.equal(evaluated + throttledCount, 200, 'nothing but 400 and 429');
      assert.ok(
        evaluated <= ACCOUNT_LIMIT,
        `${evaluated} guesses were checked (the limit is ${ACCOUNT_LIMIT}; no slack: the count comes first)`,
      );
      assert.equal(await redis.get(accountCounterKey(throttledEnv.keyPrefix, victim.username)), '200', '[GB] INCR counted every attempt');
    });

    it('C-05 applies one throttle to /auth/token, /api/login, the password change and every instance', async () => {
      const victim = person(10016, 'kazuhito', 'cappelletti');
      const loggedIn = await login(throttled, victim);
      for (let i = 0; i < ACCOUNT_LIMIT; i++) await tokenRequest(throttled, { username: victim.username, password: `guess ${i}` });
      const apiLogin = await throttled.inject({ method: 'POST', url: '/api/login', headers: FORM, payload: form(credentials(victim)) });
      assertTooManyAttempts(apiLogin);
      assertTooManyAttempts(await tokenRequest(second, { username: victim.username, password: victim.password }));
      const passwordChange = await throttled.inject({
        method: 'POST',
        url: '/auth/password',
        headers: { ...FORM, ...API },
        cookies: { session: loggedIn.cookie },
        payload: form({ current_password: victim.password, new_password: 'a brand new password' }),
      });
      assertTooManyAttempts(passwordChange);
      // Guesses through the password change count toward logins, too.
      const other = person(10017, 'cristinel', 'bouloucos');
      const session = await login(throttled, other);
      for (let i = 0; i < ACCOUNT_LIMIT; i++) {
        const wrong = await throttled.inject({
          method: 'POST',
          url: '/auth/password',
          headers: { ...FORM, ...API },
          cookies: { session: session.cookie },
          payload: form({ current_password: `guess ${i}`, new_password: 'a brand new password' }),
        });
        assert.equal(wrong.statusCode, 422);
      }
      assertTooManyAttempts(await tokenRequest(second, { username: other.username, password: other.password }));
      // There is no other way in: no Basic authentication.
      const basic = await me(throttled, {
        headers: { authorization: `Basic ${Buffer.from(`${U2.username}:${U2.password}`).toString('base64')}` },
      });
      assert.equal(basic.statusCode, 401);
      assert.deepEqual(basic.json(), NOT_AUTHENTICATED);
    });

    function U2Fields() {
      return { username: U2.username, password: U2.password };
    }
  });
});
