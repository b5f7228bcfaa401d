/**
 * Every audited action, through the real HTTP layer on every engine, produces exactly one event
 * with the right fields (whole rows, minus id and time); a refused or rolled-back change produces
 * none; and racing requests produce exactly one event each for what they did.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';
import { API, FORM, form, sessionCookieOf, useSuiteApp } from '../helpers/app.js';
import { ADMIN, credentials, NO_SCOPES, SUPER, U1, U2, updateForm, USER_READ, UX, type Person } from '../helpers/people.js';
import { byEmployee, eventsAfter, lastAuditId, type AuditRowSeen } from '../helpers/audit.js';
import { getEmployee } from '../../src/employees/employee-service.js';

const CURL = { 'user-agent': 'curl/8.5.0' };

interface SignedIn {
  person: Person;
  cookie: string;
  token: string;
  sessionId: string;
}

/** Logs `person` in as curl would, and finds the id of the new session. */
async function signIn(app: FastifyInstance, person: Person): Promise<SignedIn> {
  const response = await app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { ...FORM, ...API, ...CURL },
    payload: form(credentials(person)),
  });
  assert.equal(response.statusCode, 200, response.body);
  const cookie = sessionCookieOf(response)!.value;
  const listed = await app.inject({ method: 'GET', url: '/api/sessions', cookies: { session: cookie }, headers: CURL });
  const sessionId = (listed.json().sessions as Array<{ id: string; current: boolean }>).find((session) => session.current)!.id;
  return { person, cookie, token: response.json().access_token as string, sessionId };
}

/** A JSON request through the person's session cookie, from curl. */
function send(app: FastifyInstance, who: SignedIn, method: 'GET' | 'POST', url: string, payload?: object | string) {
  const headers = typeof payload === 'string' ? { ...API, ...CURL, ...FORM } : { ...API, ...CURL };
  return app.inject({ method, url, headers, cookies: { session: who.cookie }, ...(payload === undefined ? {} : { payload }) });
}

const failedLogin = (name: string, target: number | null, outcome = 'failure'): AuditRowSeen => ({
  action: 'login',
  outcome,
  actor_kind: 'anonymous',
  actor_emp_no: null,
  actor_name: name,
  session_id: null,
  client_address: '127.0.0.1',
  client_label: 'curl',
  target_emp_no: target,
  repeat_count: 1,
  detail: null,
});

const NEW_EMPLOYEE = { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1990-12-10', hireDate: '2020-01-06', gender: 'F' };

for (const engine of ENGINES) {
  describe(`the audit trail of every action on ${engine}`, await gateFor(engine), () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase(engine);
    });
    after(() => database?.cleanup());
    // A low account limit, so that a throttled login is one request away.
    const { app } = useSuiteApp({ env: () => ({ DATABASE_URL: database.url, LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' }) });
    let mark = 0;
    beforeEach(async () => {
      mark = await lastAuditId(app.db);
    });
    const recorded = () => eventsAfter(app.db, mark);

    it('records a login, a wrong password (by the name tried, on its employee), an unknown name and a throttled login', async () => {
      const u2 = await signIn(app, U2);
      const wrong = (username: string) =>
        app.inject({
          method: 'POST',
          url: '/api/login',
          headers: { ...FORM, ...CURL },
          payload: form({ username, password: 'wrong password' }),
        });
      assert.equal((await wrong(U2.username.toUpperCase())).statusCode, 400);
      assert.equal((await wrong('nobody@example.com')).statusCode, 400);
      for (let i = 0; i < 3; i++) await wrong('locked.out@example.com');
      assert.equal((await wrong('locked.out@example.com')).statusCode, 429);
      assert.deepEqual(await recorded(), [
        byEmployee(U2.empNo, u2.sessionId, { action: 'login', target_emp_no: U2.empNo }),
        failedLogin(U2.username, U2.empNo),
        failedLogin('nobody@example.com', null),
        ...Array.from({ length: 3 }, () => failedLogin('locked.out@example.com', null)),
        failedLogin('locked.out@example.com', null, 'throttled'),
      ]);
    });

    it('records a logout through the cookie and through a bearer token, and none for a logout that ended nothing', async () => {
      const [first, second] = [await signIn(app, U1), await signIn(app, U1)];
      mark = await lastAuditId(app.db);
      await send(app, first, 'POST', '/api/logout');
      await app.inject({ method: 'POST', url: '/api/logout', headers: { ...CURL, authorization: `Bearer ${second.token}` } });
      await send(app, first, 'POST', '/api/logout'); // that session has ended already
      assert.deepEqual(await recorded(), [
        byEmployee(U1.empNo, first.sessionId, { action: 'logout', target_emp_no: U1.empNo }),
        byEmployee(U1.empNo, second.sessionId, { action: 'logout', target_emp_no: U1.empNo }),
      ]);
    });

    it('records ending one of my sessions and all of them, with what was ended', async () => {
      const [here, there, third] = [await signIn(app, U1), await signIn(app, U1), await signIn(app, U1)];
      mark = await lastAuditId(app.db);
      assert.equal((await send(app, here, 'POST', `/api/sessions/${there.sessionId}/end`)).statusCode, 200);
      assert.equal((await send(app, here, 'POST', `/api/sessions/${there.sessionId}/end`)).statusCode, 404);
      assert.deepEqual((await send(app, here, 'POST', '/api/sessions/end-all')).json(), {
        message: 'All your sessions have ended',
        ended: 2,
      });
      assert.ok(third);
      assert.deepEqual(await recorded(), [
        byEmployee(U1.empNo, here.sessionId, { action: 'session.end', target_emp_no: U1.empNo, detail: { session_id: there.sessionId } }),
        byEmployee(U1.empNo, here.sessionId, { action: 'sessions.end_all', target_emp_no: U1.empNo, detail: { ended: 2 } }),
      ]);
    });

    it('records a password change, and nothing for a wrong current password', async () => {
      const me = await signIn(app, USER_READ);
      mark = await lastAuditId(app.db);
      const change = (current: string) =>
        send(app, me, 'POST', '/api/password', form({ current_password: current, new_password: 'a brand new password' }));
      assert.equal((await change('not my password')).statusCode, 422);
      assert.equal((await change('password')).statusCode, 200);
      assert.deepEqual(await recorded(), [
        byEmployee(USER_READ.empNo, me.sessionId, { action: 'password.change', target_emp_no: USER_READ.empNo }),
      ]);
    });

    it("records an administrator disabling and enabling a login and ending someone's sessions, and nothing refused", async () => {
      const admin = await signIn(app, ADMIN);
      await signIn(app, U2);
      mark = await lastAuditId(app.db);
      assert.equal((await send(app, admin, 'POST', `/api/emp/account/${UX.empNo}`, { disabled: true })).statusCode, 200);
      assert.equal((await send(app, admin, 'POST', `/api/emp/account/${UX.empNo}`, { disabled: false })).statusCode, 200);
      const { ended } = (await send(app, admin, 'POST', `/api/emp/sessions/${U2.empNo}/end-all`)).json();
      assert.ok(ended >= 1);
      assert.equal((await send(app, admin, 'POST', `/api/emp/account/${SUPER.empNo}`, { disabled: true })).statusCode, 403);
      assert.equal((await send(app, admin, 'POST', `/api/emp/account/999999`, { disabled: true })).statusCode, 404);
      const by = (action: string, target: number, detail?: unknown) =>
        byEmployee(ADMIN.empNo, admin.sessionId, { action, target_emp_no: target, detail });
      assert.deepEqual(await recorded(), [
        by('account.disable', UX.empNo),
        by('account.enable', UX.empNo),
        by('sessions.end_all', U2.empNo, { ended }),
      ]);
    });

    it('records a scope change with the scopes before and after, and nothing for a refused one', async () => {
      const admin = await signIn(app, SUPER);
      mark = await lastAuditId(app.db);
      assert.equal(
        (await send(app, admin, 'POST', `/api/emp/scopes/${NO_SCOPES.empNo}`, { scopes: ['user:read', 'audit:read'] })).statusCode,
        200,
      );
      assert.equal((await send(app, admin, 'POST', `/api/emp/scopes/${NO_SCOPES.empNo}`, { scopes: ['root'] })).statusCode, 422);
      assert.equal((await send(app, admin, 'POST', `/api/emp/scopes/${SUPER.empNo}`, { scopes: [] })).statusCode, 403);
      assert.deepEqual(await recorded(), [
        byEmployee(SUPER.empNo, admin.sessionId, {
          action: 'scopes.change',
          target_emp_no: NO_SCOPES.empNo,
          detail: { before: [], after: ['audit:read', 'user:read'] },
        }),
      ]);
    });

    it('records a new employee and an update (the fields that changed), never a password, and nothing rolled back', async () => {
      const admin = await signIn(app, ADMIN);
      mark = await lastAuditId(app.db);
      const save = (fields: Record<string, string>) => send(app, admin, 'POST', '/api/emp/admin-save', form(fields));
      const created = await save({ ...NEW_EMPLOYEE, empNo: '', email: 'ada.audit@example.com', password: 'a long password' });
      assert.equal(created.statusCode, 201);
      const empNo = created.json().emp_no as number;
      assert.equal((await save({ ...NEW_EMPLOYEE, empNo: String(empNo), lastName: 'Byron' })).statusCode, 200);
      // Refused or failed: a taken email, a missing employee, an invalid field.
      assert.equal(
        (await save({ ...NEW_EMPLOYEE, empNo: '', email: 'ADA.audit@example.com', password: 'a long password' })).statusCode,
        422,
      );
      assert.equal((await save({ ...NEW_EMPLOYEE, empNo: '999999' })).statusCode, 404);
      assert.equal((await save({ ...NEW_EMPLOYEE, empNo: String(empNo), gender: 'X' })).statusCode, 422);
      const stored = await getEmployee(app.db, empNo);
      assert.deepEqual(await recorded(), [
        byEmployee(ADMIN.empNo, admin.sessionId, {
          action: 'employee.create',
          target_emp_no: empNo,
          detail: { after: { ...stored, last_name: 'Lovelace', scopes: ['user:read'] } },
        }),
        byEmployee(ADMIN.empNo, admin.sessionId, {
          action: 'employee.update',
          target_emp_no: empNo,
          detail: { before: { last_name: 'Lovelace' }, after: { last_name: 'Byron' } },
        }),
      ]);
    });

    it('records a person saving their own record', async () => {
      const me = await signIn(app, U1);
      mark = await lastAuditId(app.db);
      const mine = await getEmployee(app.db, U1.empNo);
      const fields = updateForm(mine, { lastName: 'Nguyen' });
      assert.equal((await send(app, me, 'POST', '/api/emp/user-save', form(fields))).statusCode, 200);
      assert.deepEqual(await recorded(), [
        byEmployee(U1.empNo, me.sessionId, {
          action: 'employee.update',
          target_emp_no: U1.empNo,
          detail: { before: { last_name: mine.last_name }, after: { last_name: 'Nguyen' } },
        }),
      ]);
    });

    it('records exactly one event per login, failure and session end when they race', async () => {
      const before = await signIn(app, U2);
      const others = await Promise.all(Array.from({ length: 3 }, () => signIn(app, U2)));
      mark = await lastAuditId(app.db);
      const attempts = await Promise.all([
        ...Array.from({ length: 6 }, () =>
          app.inject({ method: 'POST', url: '/api/login', headers: { ...FORM, ...CURL }, payload: form(credentials(U2)) }),
        ),
        ...Array.from({ length: 2 }, () =>
          app.inject({
            method: 'POST',
            url: '/api/login',
            headers: { ...FORM, ...CURL },
            payload: form({ username: U2.username, password: 'nope nope nope' }),
          }),
        ),
        ...others.map((other) => send(app, before, 'POST', `/api/sessions/${other.sessionId}/end`)),
        send(app, before, 'POST', '/api/sessions/end-all'),
      ]);
      const statuses = attempts.map((response) => response.statusCode);
      const events = await recorded();
      const count = (action: string, outcome = 'success') =>
        events.filter((event) => event.action === action && event.outcome === outcome).reduce((sum, event) => sum + event.repeat_count, 0);
      const answered = (status: number, from: number, to: number) => statuses.slice(from, to).filter((s) => s === status).length;
      // A login stood (200), was undone by the racing end-all (409: nothing recorded), met the
      // account's limit of 3 attempts (429), or had the wrong password (400).
      assert.deepEqual(
        {
          logins: count('login'),
          failures: count('login', 'failure'),
          throttled: count('login', 'throttled'),
          ends: count('session.end'),
          endAlls: count('sessions.end_all'),
        },
        {
          logins: answered(200, 0, 6),
          failures: answered(400, 6, 8),
          throttled: answered(429, 0, 8),
          ends: answered(200, 8, 11),
          endAlls: 1,
        },
      );
      assert.equal(answered(200, 0, 6) + answered(409, 0, 6) + answered(429, 0, 6), 6);
      const endAll = events.find((event) => event.action === 'sessions.end_all')!;
      assert.deepEqual(endAll.detail, { ended: attempts[11]!.json().ended });
    });
  });
}
