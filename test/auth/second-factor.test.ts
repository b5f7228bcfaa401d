/**
 * The second factor on real servers: TOTP codes computed here (otpauth), the two-step login,
 * enrolment required by MFA_REQUIRED_SCOPES (the production default), replay and throttling,
 * pending sessions that reach nothing and mint nothing, races, an administrator's reset, and the
 * audit trail, once per event. On every engine, with sessions in Redis (SQLite sessions on SQLite).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';
import { serviceGate } from '../helpers/services.js';
import { API, BROWSER, FORM, form, login, sessionCookieOf, useSuiteApp } from '../helpers/app.js';
import { ADMIN, SUPER, U1, U2, type Person } from '../helpers/people.js';
import { MFA_ENROLMENT_REQUIRED, MFA_REQUIRED, NOT_AUTHENTICATED, SECOND_FACTOR_OWED, WRONG_SECOND_FACTOR } from '../helpers/messages.js';
import { codeOf, enrolTotp, MFA_ENV } from '../helpers/second-factor.js';

/** A browser's login form post: the pending (or full) cookie and where it is sent. */
async function browserLogin(app: FastifyInstance, person: Person, next?: string) {
  const response = await app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { ...FORM, ...BROWSER },
    payload: form({ username: person.username, password: person.password, ...(next ? { next } : {}) }),
  });
  assert.equal(response.statusCode, 303, response.body);
  return { cookie: sessionCookieOf(response)!.value, location: response.headers.location };
}

function programLogin(app: FastifyInstance, person: Person, totp?: string) {
  return app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { ...FORM, ...API },
    payload: form({ username: person.username, password: person.password, ...(totp === undefined ? {} : { totp }) }),
  });
}

function secondStep(app: FastifyInstance, cookie: string, code: string, next?: string) {
  return app.inject({
    method: 'POST',
    url: '/auth/mfa/totp',
    headers: { ...FORM, ...API },
    cookies: { session: cookie },
    payload: form({ code, ...(next ? { next } : {}) }),
  });
}

const me = (app: FastifyInstance, cookie: string) =>
  app.inject({ method: 'GET', url: '/admin/me', headers: API, cookies: { session: cookie } });
const idOf = (cookie: string) => cookie.split('.')[0];
const newCookie = (response: LightMyRequestResponse) => sessionCookieOf(response)?.value;

for (const engine of ENGINES) {
  const store = engine === 'sqlite' ? 'sqlite' : 'redis';
  const gate = (await gateFor(engine)).skip || (store === 'redis' && (await serviceGate('redis')).skip);
  describe(`the second factor on ${engine} (${store} sessions)`, { skip: gate }, () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase(engine);
    });
    const { app } = useSuiteApp({ store, env: () => ({ ...MFA_ENV, DATABASE_URL: database.url, LOGIN_MAX_FAILURES_PER_ACCOUNT: '5' }) });
    after(async () => {
      await database?.cleanup();
    });

    const events = async (empNo: number, action: string) =>
      app.db
        .selectFrom('audit_events')
        .select(['action', 'outcome', 'actor_kind', 'actor_emp_no', 'actor_name', 'target_emp_no', 'detail'])
        .where('target_emp_no', '=', empNo)
        .where('action', '=', action)
        .orderBy('id')
        .execute();
    /** Forgets the TOTP steps used so far, so that a test can use the codes of now again (a fresh minute). */
    const forgetUsedSteps = (empNo: number) =>
      app.db.updateTable('totp_factors').set({ last_step: null }).where('emp_no', '=', empNo).execute();

    let superSecret: string;
    let superCodes: string[];

    it('leads someone who must have a second factor through enrolment at login, and nowhere else until done', async () => {
      const { cookie: pending, location } = await browserLogin(app, SUPER, '/emp/search?last_name=nas');
      assert.equal(location, '/auth/mfa/totp/enrol?next=%2Femp%2Fsearch%3Flast_name%3Dnas');
      // Any other page: on to enrolment, keeping where the person was going.
      const page = await app.inject({ method: 'GET', url: '/admin/me', headers: BROWSER, cookies: { session: pending } });
      assert.equal(page.statusCode, 303);
      assert.equal(page.headers.location, '/auth/mfa/totp/enrol?next=%2Fadmin%2Fme');
      assert.deepEqual((await me(app, pending)).json(), SECOND_FACTOR_OWED);
      // The second step of a login that owes an enrolment is not open to it.
      assert.deepEqual((await secondStep(app, pending, '000000')).json(), SECOND_FACTOR_OWED);

      const enrolPage = await app.inject({ method: 'GET', url: location, headers: BROWSER, cookies: { session: pending } });
      assert.equal(enrolPage.statusCode, 200);
      assert.match(enrolPage.body, /<img class="qr-code" src="data:image\/svg\+xml;base64,/);
      assert.match(enrolPage.body, /name="next" value="\/emp\/search\?last_name=nas"/);

      const enrolled = await enrolTotp(app, pending);
      superSecret = enrolled.secret;
      superCodes = enrolled.recoveryCodes;
      assert.equal(superCodes.length, 10);
      assert.equal(new Set(superCodes).size, 10);
      for (const code of superCodes) assert.match(code, /^[a-z2-9]{6}(-[a-z2-9]{6}){3}$/);
      assert.notEqual(idOf(enrolled.cookie), idOf(pending), 'a new session id after the second factor');
      assert.equal((await me(app, enrolled.cookie)).json().emp_no, SUPER.empNo);
      assert.deepEqual((await me(app, pending)).json(), NOT_AUTHENTICATED, 'the pending session is gone');
      // Stored sealed and hashed: neither the seed nor a code is in the database.
      const row = await app.db.selectFrom('totp_factors').selectAll().where('emp_no', '=', SUPER.empNo).executeTakeFirstOrThrow();
      assert.doesNotMatch(row.secret, new RegExp(superSecret));
      const hashes = await app.db.selectFrom('recovery_codes').select('code_hash').where('emp_no', '=', SUPER.empNo).execute();
      assert.equal(hashes.length, 10);
      assert.ok(hashes.every(({ code_hash }) => !superCodes.some((code) => code_hash.includes(code))));
      assert.deepEqual(await events(SUPER.empNo, 'mfa.enrol'), [
        {
          action: 'mfa.enrol',
          outcome: 'success',
          actor_kind: 'employee',
          actor_emp_no: SUPER.empNo,
          actor_name: null,
          target_emp_no: SUPER.empNo,
          detail: '{"method":"totp"}',
        },
      ]);
    });

    it('asks a program for the totp field, takes a right code once, and refuses it again', async () => {
      await forgetUsedSteps(SUPER.empNo);
      assert.deepEqual((await programLogin(app, SUPER)).json(), MFA_REQUIRED);
      const code = codeOf(superSecret);
      const granted = await programLogin(app, SUPER, code);
      assert.equal(granted.statusCode, 200, granted.body);
      assert.deepEqual(Object.keys(granted.json()).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
      assert.equal(granted.json().scope, 'super:*');
      const replayed = await programLogin(app, SUPER, code);
      assert.equal(replayed.statusCode, 400);
      assert.deepEqual(replayed.json(), WRONG_SECOND_FACTOR);
      assert.equal(newCookie(replayed), undefined);
      const wrong = await programLogin(app, SUPER, code === '123456' ? '654321' : '123456');
      assert.deepEqual(wrong.json(), WRONG_SECOND_FACTOR);
      // A recovery code is for the browser's second step only.
      assert.deepEqual((await programLogin(app, SUPER, superCodes[0])).json(), WRONG_SECOND_FACTOR);
    });

    it('tells a program whose account must first enrol to do so in a browser', async () => {
      const response = await programLogin(app, ADMIN);
      assert.equal(response.statusCode, 400);
      assert.deepEqual(response.json(), MFA_ENROLMENT_REQUIRED);
      assert.equal(newCookie(response), undefined, 'no session of any kind');
    });

    it('logs a browser in with the second step, keeping the deep link, with a new session id', async () => {
      await forgetUsedSteps(SUPER.empNo);
      const { cookie: pending, location } = await browserLogin(app, SUPER, '/emp/search?last_name=nas&first_name=an');
      assert.equal(location, '/auth/mfa?next=%2Femp%2Fsearch%3Flast_name%3Dnas%26first_name%3Dan');
      const page = await app.inject({ method: 'GET', url: location, headers: BROWSER, cookies: { session: pending } });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /autocomplete="one-time-code"/);
      const done = await app.inject({
        method: 'POST',
        url: '/auth/mfa/totp',
        headers: { ...FORM, ...BROWSER },
        cookies: { session: pending },
        payload: form({ code: codeOf(superSecret), next: '/emp/search?last_name=nas&first_name=an' }),
      });
      assert.equal(done.statusCode, 303);
      assert.equal(done.headers.location, '/emp/search?last_name=nas&first_name=an');
      const full = newCookie(done)!;
      assert.notEqual(idOf(full), idOf(pending));
      assert.equal((await me(app, full)).statusCode, 200);
      assert.deepEqual((await me(app, pending)).json(), NOT_AUTHENTICATED);
    });

    it('takes a recovery code once in the second step', async () => {
      const code = superCodes[1]!;
      const first = await browserLogin(app, SUPER);
      const used = await secondStep(app, first.cookie, code.toUpperCase().replaceAll('-', ' '));
      assert.equal(used.statusCode, 200, used.body);
      assert.deepEqual(used.json(), { message: 'Logged in' });
      const again = await browserLogin(app, SUPER);
      assert.deepEqual((await secondStep(app, again.cookie, code)).json(), WRONG_SECOND_FACTOR);
      const status = await app.inject({ method: 'GET', url: '/api/mfa', headers: API, cookies: { session: newCookie(used)! } });
      assert.deepEqual(status.json(), { totp: true, recovery_codes_left: 9, required: true });
    });

    it('lets a pending session reach no protected route and mint no token', async () => {
      const { cookie: pending } = await browserLogin(app, SUPER);
      const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
        paths: Record<string, Record<string, { security?: unknown[] }>>;
      }>();
      const secured = Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.entries(operations)
          .filter(([, operation]) => (operation.security ?? []).length > 0)
          .map(([method, _]) => ({ method: method.toUpperCase(), path })),
      );
      const pages = ['/auth/home', '/auth/password', '/auth/mfa/settings', '/emp/new'].map((path) => ({ method: 'GET', path }));
      let refused = 0;
      for (const { method, path } of [...secured, ...pages]) {
        const url = path
          .replace('{emp_no}', String(U2.empNo))
          .replace('{session_id}', idOf(pending)!)
          .replace('{last_name}', 'nas')
          .replace('{first_name}', 'an');
        const response = await app.inject({
          method: method as 'GET',
          url,
          headers: { ...API, ...FORM },
          cookies: { session: pending },
          payload: '',
        });
        // Schema validation of a body runs before the permission check (422, nothing read); otherwise: not logged in.
        assert.ok([401, 422].includes(response.statusCode), `${method} ${url}: ${response.statusCode} ${response.body}`);
        if (response.statusCode === 401) {
          assert.deepEqual(response.json(), SECOND_FACTOR_OWED, `${method} ${url}`);
          refused++;
        }
      }
      assert.ok(refused >= 15, `${refused} routes refused`);
      // The login page does not count it as logged in, and a login over it is a full one again.
      const loginPage = await app.inject({ method: 'GET', url: '/auth/login', headers: API, cookies: { session: pending } });
      assert.match(loginPage.body, /<form id="loginForm"/);
      assert.deepEqual((await programLogin(app, SUPER)).json(), MFA_REQUIRED);
    });

    it('gives exactly one full session to second steps racing with one code', async () => {
      await forgetUsedSteps(SUPER.empNo);
      const { cookie: pending } = await browserLogin(app, SUPER);
      const code = codeOf(superSecret);
      // Four: under the code throttle's limit of five in this suite, so that it is not what refuses them.
      const answers = await Promise.all(Array.from({ length: 4 }, () => secondStep(app, pending, code)));
      const won = answers.filter((answer) => answer.statusCode === 200);
      assert.equal(won.length, 1, answers.map((answer) => `${answer.statusCode} ${answer.body}`).join('\n'));
      for (const lost of answers.filter((answer) => answer.statusCode !== 200)) {
        // The code spent already (400), or the pending session gone before this request looked (401).
        const expected = lost.statusCode === 400 ? WRONG_SECOND_FACTOR : NOT_AUTHENTICATED;
        assert.deepEqual(
          { status: lost.statusCode, body: lost.json<unknown>() },
          { status: lost.statusCode === 400 ? 400 : 401, body: expected },
        );
        assert.ok(!newCookie(lost), 'no session for it');
      }
      assert.equal((await me(app, newCookie(won[0]!)!)).statusCode, 200);
    });

    it('throttles wrong codes per employee like passwords, whatever the password did', async () => {
      await forgetUsedSteps(SUPER.empNo);
      for (let attempt = 1; attempt <= 5; attempt++) {
        const { cookie } = await browserLogin(app, SUPER);
        assert.deepEqual((await secondStep(app, cookie, '000000')).json(), WRONG_SECOND_FACTOR);
      }
      const { cookie } = await browserLogin(app, SUPER);
      const throttled = await secondStep(app, cookie, codeOf(superSecret));
      assert.equal(throttled.statusCode, 429);
      assert.ok(Number(throttled.headers['retry-after']) > 0);
      assert.equal((await programLogin(app, SUPER, codeOf(superSecret))).statusCode, 429, 'the program path shares the counter');
      await app.counterStore.resetCounter(`mfa:employee:${SUPER.empNo}`);
      const failures = (await events(SUPER.empNo, 'mfa.verify')).filter((event) => event.outcome === 'failure');
      assert.ok(failures.length >= 5 && failures.length <= 12, `${failures.length} failures recorded, none for the throttled tries`);
    });

    it('resets a second factor (super:* only), ending the sessions, audited once; the next login enrols again', async () => {
      // ADMIN must enrol at login first; then SUPER resets it.
      const { cookie: pending } = await browserLogin(app, ADMIN);
      const adminEnrolled = await enrolTotp(app, pending);
      await forgetUsedSteps(SUPER.empNo);
      const superLogin = (await programLogin(app, SUPER, codeOf(superSecret))).headers['set-cookie'];
      const superCookie = /session=([^;]+)/.exec(String(superLogin))![1]!;
      const byAdmin = await app.inject({
        method: 'POST',
        url: `/api/emp/mfa/${SUPER.empNo}/reset`,
        headers: API,
        cookies: { session: adminEnrolled.cookie },
      });
      assert.equal(byAdmin.statusCode, 403, 'admin:write is not enough');

      // Logins racing the reset: none may outlive it.
      const racing = Array.from({ length: 4 }, () =>
        app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: { ...FORM, ...BROWSER },
          payload: form({ username: ADMIN.username, password: ADMIN.password }),
        }),
      );
      const reset = await app.inject({
        method: 'POST',
        url: `/api/emp/mfa/${ADMIN.empNo}/reset`,
        headers: API,
        cookies: { session: superCookie },
      });
      assert.equal(reset.statusCode, 200, reset.body);
      assert.equal(reset.json().had_second_factor, true);
      assert.equal(reset.json().emp_no, ADMIN.empNo);
      const pendings = await Promise.all(racing);
      assert.deepEqual((await me(app, adminEnrolled.cookie)).json(), NOT_AUTHENTICATED);
      for (const racer of pendings) {
        // Each racing login either failed, or got a pending session (to verify, or to enrol again) that ends in nothing usable.
        const cookie = newCookie(racer);
        if (!cookie) continue;
        const step = await secondStep(app, cookie, codeOf(adminEnrolled.secret));
        assert.notEqual(step.statusCode, 200, 'no login halfway through with the old factor survives the reset');
      }
      assert.deepEqual(await app.auth.listSessions(ADMIN.empNo), []);
      assert.deepEqual(await events(ADMIN.empNo, 'mfa.reset'), [
        {
          action: 'mfa.reset',
          outcome: 'success',
          actor_kind: 'employee',
          actor_emp_no: SUPER.empNo,
          actor_name: null,
          target_emp_no: ADMIN.empNo,
          detail: '{"methods":["totp"]}',
        },
      ]);
      const again = await browserLogin(app, ADMIN);
      assert.equal(again.location, '/auth/mfa/totp/enrol');
      const own = await app.inject({
        method: 'POST',
        url: `/api/emp/mfa/${SUPER.empNo}/reset`,
        headers: API,
        cookies: { session: superCookie },
      });
      assert.equal(own.statusCode, 403, 'never one’s own');
    });

    it('lets someone not required enrol and remove it with a code; a password alone logs them in again', async () => {
      const { cookie } = await login(app, U1);
      const enrolled = await enrolTotp(app, cookie);
      assert.equal((await programLogin(app, U1)).statusCode, 400);
      const wrong = await app.inject({
        method: 'POST',
        url: '/api/mfa/totp/remove',
        headers: { ...FORM, ...API },
        cookies: { session: enrolled.cookie },
        payload: form({ code: '000000' }),
      });
      assert.deepEqual(wrong.json(), WRONG_SECOND_FACTOR);
      const removed = await app.inject({
        method: 'POST',
        url: '/api/mfa/totp/remove',
        headers: { ...FORM, ...API },
        cookies: { session: enrolled.cookie },
        payload: form({ code: codeOf(enrolled.secret) }),
      });
      assert.deepEqual(removed.json(), { message: 'The authenticator app and the recovery codes are removed' });
      assert.equal((await programLogin(app, U1)).statusCode, 200);
      assert.deepEqual(
        (await events(U1.empNo, 'mfa.remove')).map(({ outcome, detail }) => ({ outcome, detail })),
        [{ outcome: 'success', detail: '{"method":"totp"}' }],
      );
      const kept = await app.inject({
        method: 'POST',
        url: '/api/mfa/totp/remove',
        headers: { ...FORM, ...API },
        cookies: { session: (await programLogin(app, SUPER, codeOf(superSecret, 1))).cookies.find((c) => c.name === 'session')!.value },
        payload: form({ code: '000000' }),
      });
      assert.equal(kept.statusCode, 409, 'a required second factor is not removed by its holder');
    });
  });
}
