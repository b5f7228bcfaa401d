/**
 * Checklist group A: the session cookie and the session id (docs/SECURITY.md; the checklist is
 * shared/reference/security-checklist.md). Against Redis, where the checklist's gray-box steps look.
 *
 * Also covered elsewhere: test/routes/auth.test.ts (cookie attributes over HTTP, malformed and
 * tampered cookies), test/http/transport.test.ts (Secure over HTTPS, behind a proxy, COOKIE_SECURE),
 * test/sessions/session-manager.test.ts (token shape, a well-formed token never issued).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { serviceGate, SERVICE_URLS } from '../helpers/services.js';
import { API, BROWSER, FORM, form, login, sessionCookieOf, useSuiteApp } from '../helpers/app.js';
import { captureLogs } from '../helpers/logs.js';
import { me, portOf, rawRequest, sessionKey, setCookieLines } from './support.js';
import { U1, U1_ME } from '../helpers/people.js';
import { NOT_AUTHENTICATED } from '../helpers/messages.js';

const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const CLEARING_COOKIE = 'session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax';

describe('A. session cookie and session id', await serviceGate('redis'), () => {
  const logs = captureLogs();
  const { app, env } = useSuiteApp({
    store: 'redis',
    env: {
      // The checklist logs in through "the trusted proxy with X-Forwarded-Proto: https"; inject
      // requests come from 127.0.0.1.
      TRUST_PROXY: '127.0.0.1',
      LOG_LEVEL: 'debug',
      // A-02 logs one account in 20 at a time: every attempt counts until it succeeds.
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000',
      LOGIN_MAX_FAILURES_PER_CLIENT: '100000',
    },
    build: { logStream: logs.stream },
  });
  let redis: Redis;
  before(() => {
    redis = new Redis(SERVICE_URLS.redis);
  });
  after(() => {
    redis?.disconnect();
  });

  it('A-01 sets the session cookie HttpOnly, SameSite=Lax, Secure over HTTPS, Path=/, with no Domain and no lifetime', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, 'x-forwarded-proto': 'https' },
      payload: form({ username: U1.username, password: U1.password }),
    });
    assert.equal(response.statusCode, 200);
    const lines = setCookieLines(response);
    assert.equal(lines.length, 1, 'exactly one Set-Cookie');
    const [nameValue, ...attributes] = lines[0]!.split('; ');
    assert.match(nameValue!, /^session=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/);
    // Every attribute explicit, none left to browser defaults; no Max-Age/Expires: the cookie dies
    // with the browser, and the server-side idle and absolute timeouts bound it anyway.
    assert.deepEqual(attributes.sort(), ['HttpOnly', 'Path=/', 'SameSite=Lax', 'Secure']);
    assert.ok(Buffer.byteLength(nameValue!) <= 4096);
    // The name is `session`, not `__Host-session`: a recorded deviation (docs/SECURITY.md).
    assert.equal(nameValue!.split('=')[0], 'session');
  });

  it('A-02 issues unique session ids and secrets of 128 random bits that carry no user data', async () => {
    // 60 logins through HTTP, and 940 more sessions from the session manager (the very call a
    // login makes once the password is checked): a login's deliberate password-hashing cost
    // would otherwise spend the suite's whole time budget on this one item.
    const values: string[] = [];
    for (let batch = 0; batch < 3; batch++) {
      values.push(...(await Promise.all(Array.from({ length: 20 }, () => login(app, U1)))).map((l) => l.cookie));
    }
    const direct = await Promise.all(Array.from({ length: 940 }, () => app.sessions.create(U1.empNo, ['user:read'], 'test')));
    values.push(...direct.map((session) => session.token));

    const ids = values.map((value) => value.split('.')[0]!);
    const secrets = values.map((value) => value.split('.')[1]!);
    assert.equal(new Set([...ids, ...secrets]).size, 2 * values.length, 'every id and secret is unique');
    for (const part of [...ids, ...secrets]) {
      assert.match(part, ID_PATTERN);
      assert.equal(Buffer.from(part, 'base64url').length, 16, '128 bits');
      assert.ok(!part.includes(String(U1.empNo)) && !part.toLowerCase().includes('behai'));
    }
    // Every one of the 128 bit positions is set in about half of the ids (a counter, a timestamp
    // or an employee number would pin some positions): 1000 draws, 6 standard deviations of slack.
    for (const sample of [ids, secrets]) {
      const bytes = sample.map((part) => Buffer.from(part, 'base64url'));
      for (let bit = 0; bit < 128; bit++) {
        const ones = bytes.filter((b) => (b[bit >> 3]! >> (7 - (bit & 7))) & 1).length;
        assert.ok(ones > sample.length * 0.4 && ones < sample.length * 0.6, `bit ${bit} set in ${ones} of ${sample.length}`);
      }
    }
    // Not ordered by creation time: about half of the consecutive pairs increase.
    const increasing = ids.slice(1).filter((id, index) => id > ids[index]!).length;
    assert.ok(increasing > ids.length * 0.4 && increasing < ids.length * 0.6, `${increasing} increasing pairs`);
    await Promise.all(direct.map((session) => app.sessions.destroy(session.id)));
  });

  describe('A-03', () => {
    let s1: string;
    let token: string;
    before(async () => {
      ({ cookie: s1, token } = await login(app, U1));
    });

    it('A-03 refuses the session id and the token anywhere but the cookie and the Authorization header', async () => {
      const elsewhere = [
        { method: 'GET' as const, url: `/api/me?session=${encodeURIComponent(s1)}` },
        { method: 'GET' as const, url: `/api/me?sessionId=${encodeURIComponent(s1)}` },
        { method: 'GET' as const, url: `/api/me?access_token=${token}` },
        { method: 'GET' as const, url: '/api/me', headers: { 'x-session-id': s1 } },
        { method: 'GET' as const, url: '/api/me', headers: { 'x-session-id': s1.split('.')[0]! } },
        {
          method: 'POST' as const,
          url: '/auth/password',
          headers: { ...FORM, ...API },
          payload: form({ session: s1, current_password: 'x', new_password: 'y' }),
        },
        {
          method: 'POST' as const,
          url: '/auth/password',
          headers: { ...FORM, ...API },
          payload: form({ access_token: token, current_password: 'x', new_password: 'y' }),
        },
      ];
      for (const request of elsewhere) {
        const response = await app.inject(request);
        assert.equal(response.statusCode, 401, `${request.method} ${request.url}`);
        assert.deepEqual(response.json(), NOT_AUTHENTICATED);
        assert.equal(response.headers['www-authenticate'], 'Bearer');
      }
      // A form logout naming the session in its body ends nothing.
      const logout = await app.inject({
        method: 'POST',
        url: '/api/logout',
        headers: FORM,
        payload: form({ session: s1, access_token: token }),
      });
      assert.deepEqual(logout.json(), { message: 'This session has not been logged in before' });
      assert.equal((await me(app, { cookie: s1 })).statusCode, 200, 'the session is still alive');
    });

    it('A-03 never writes the session id, its secret or the token into a Location, a page or an error body', async () => {
      const secret = s1.split('.')[1]!;
      const responses = [
        await app.inject({ method: 'GET', url: `/auth/home?session=${encodeURIComponent(s1)}&access_token=${token}`, headers: BROWSER }),
        await app.inject({ method: 'GET', url: '/auth/home', headers: BROWSER, cookies: { session: s1 } }),
        await app.inject({ method: 'GET', url: '/admin/me', headers: BROWSER, cookies: { session: s1 } }),
        await app.inject({ method: 'GET', url: '/auth/sessions', headers: BROWSER, cookies: { session: s1 } }),
        await app.inject({ method: 'GET', url: '/auth/sessions', headers: API, cookies: { session: s1 } }),
        await app.inject({ method: 'GET', url: `/nowhere?access_token=${token}`, headers: API }),
        await app.inject({ method: 'GET', url: '/emp/search', headers: BROWSER, cookies: { session: s1 } }),
        await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}x` } }),
      ];
      for (const response of responses) {
        const visible = `${response.headers.location ?? ''}\n${response.body}`;
        assert.ok(!visible.includes(secret), 'no session secret');
        assert.ok(!visible.includes(token), 'no token');
        assert.ok(!visible.includes(s1), 'no cookie value');
      }
    });

    it('A-03 [GB] keeps session secrets, cookie values and tokens out of the logs of ordinary use', async () => {
      // Everything a person does with cookie and token, logged at debug level.
      const fresh = await login(app, U1);
      await me(app, { cookie: fresh.cookie });
      await me(app, { token: fresh.token });
      await app.inject({ method: 'GET', url: '/auth/home', headers: BROWSER, cookies: { session: fresh.cookie } });
      await me(app, { cookie: `${fresh.cookie}x` });
      await me(app, { token: `${fresh.token}x` });
      await app.inject({ method: 'POST', url: '/auth/logout', cookies: { session: fresh.cookie } });
      const text = logs.text();
      assert.ok(text.length > 0, 'something was logged');
      for (const value of [fresh.cookie, fresh.cookie.split('.')[1]!, fresh.token, fresh.token.split('.')[2]!]) {
        assert.ok(!text.includes(value), `a credential leaked into the logs: ${value.slice(0, 8)}…`);
      }
    });

    it('A-03 [GB] keeps a token a client wrongly puts in the query string out of the logs', async () => {
      const before = logs.text().length;
      await app.inject({ method: 'GET', url: `/api/me?access_token=${token}&session=${encodeURIComponent(s1)}` });
      const text = logs.text().slice(before);
      assert.ok(!text.includes(token), 'the token is in the logs');
      assert.ok(!text.includes(s1.split('.')[1]!), 'the session secret is in the logs');
    });
  });

  it('A-04 refuses a session id the server never issued, and creates nothing under it', async () => {
    const plantedId = 'AttackerChosenId000000';
    const planted = `${plantedId}.AttackerChosenSecret00`;
    assert.match(planted, /^[\w-]{22}\.[\w-]{22}$/, 'the right format');

    const api = await me(app, { cookie: planted });
    assert.equal(api.statusCode, 401);
    assert.deepEqual(api.json(), NOT_AUTHENTICATED);
    assert.deepEqual(setCookieLines(api), [CLEARING_COOKIE]);

    const page = await app.inject({ method: 'GET', url: '/', headers: BROWSER, cookies: { session: planted } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form id="loginForm"/);

    const loggedIn = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: FORM,
      cookies: { session: planted },
      payload: form({ username: U1.username, password: U1.password }),
    });
    assert.equal(loggedIn.statusCode, 200);
    const issued = sessionCookieOf(loggedIn)!.value;
    assert.notEqual(issued.split('.')[0], plantedId);
    assert.equal(await redis.exists(`${env.keyPrefix}${plantedId}`), 0, '[GB] no key under the planted id');
    assert.equal(await redis.exists(sessionKey(env.keyPrefix, issued)), 1, '[GB] the issued one is stored');
  });

  describe('A-05', () => {
    let valid: string;
    before(async () => {
      ({ cookie: valid } = await login(app, U1));
    });

    const flipped = () => {
      const [id, secret] = valid.split('.') as [string, string];
      return `${id}.${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    };

    // [Cookie header, who /api/me should then be]. Duplicate names: the FIRST `session` wins
    // (jshttp/cookie keeps the first occurrence), deterministic and documented.
    const cases: Array<[string, () => string, 'anonymous' | 'U1']> = [
      ['a lone %', () => 'session=%', 'anonymous'],
      ['a truncated escape', () => 'session=%E0%A4%A', 'anonymous'],
      ['an empty value', () => 'session=', 'anonymous'],
      ['a flipped secret', () => `session=${flipped()}`, 'anonymous'],
      ['4000 As', () => `session=${'A'.repeat(4000)}`, 'anonymous'],
      ['a quoted junk value', () => 'session="not-a-session"', 'anonymous'],
      // The quotes stay part of the value, so even a quoted valid token is refused.
      ['a quoted valid value', () => `session="${valid}"`, 'anonymous'],
      ['a bad one before the valid one', () => `session=bad; session=${valid}`, 'anonymous'],
      ['the valid one before a bad one', () => `session=${valid}; session=bad`, 'U1'],
      ['a valid one beside an unrelated foo=%', () => `session=${valid}; foo=%`, 'U1'],
      ['a NUL and high bytes', () => 'session=\u0000\u00ff\u00fe', 'anonymous'],
    ];

    for (const [label, header, expected] of cases) {
      it(`A-05 answers ${label} as ${expected === 'U1' ? 'the valid session' : 'anonymous'}, never with a 5xx or an echo`, async () => {
        const cookie = header();
        const api = await app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
        const page = await app.inject({ method: 'GET', url: '/', headers: { ...BROWSER, cookie } });
        if (expected === 'U1') {
          assert.equal(api.statusCode, 200);
          assert.deepEqual(api.json(), U1_ME);
          assert.equal(page.statusCode, 303, 'a logged-in browser is sent home');
        } else {
          assert.equal(api.statusCode, 401);
          assert.deepEqual(api.json(), NOT_AUTHENTICATED);
          assert.equal(page.statusCode, 200);
          assert.match(page.body, /<form id="loginForm"/);
        }
        for (const response of [api, page]) {
          for (const line of setCookieLines(response)) {
            assert.ok(line === CLEARING_COOKIE || line.startsWith('login_notice='), `only a clearing cookie: ${line}`);
          }
        }
      });
    }

    it('A-05 answers a CR or LF inside the cookie value (raw socket) with 400 and keeps serving', async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = portOf(app);
      for (const breaker of ['\r', '\n', '\r\n']) {
        const response = await rawRequest(
          port,
          `GET /api/me HTTP/1.1\r\nHost: localhost\r\nCookie: session=${valid.slice(0, 10)}${breaker}Set-Cookie: x=1\r\nConnection: close\r\n\r\n`,
        );
        assert.ok(response.status === 400 || response.status === 401, `status ${response.status}`);
        assert.ok(!/^set-cookie: x=1/im.test(response.text), 'nothing echoed');
      }
      const after = await rawRequest(
        port,
        `GET /api/me HTTP/1.1\r\nHost: localhost\r\nCookie: session=${valid}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(after.status, 200, 'the process still serves');
    });
  });
});
