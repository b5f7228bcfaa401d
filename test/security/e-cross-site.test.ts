/**
 * Checklist group E: cross-site requests (src/http/security.ts) and CORS. PUBLIC_ORIGIN is the
 * origin browsers use; requests from anywhere else that use or set the session cookie are refused.
 *
 * Also covered elsewhere: test/browser/login-flows.test.ts (a real Chromium: the login form and
 * same-origin Swagger UI keep working under these rules).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { serviceGate } from '../helpers/services.js';
import { API, BROWSER, FORM, form, login, useApp, useSuiteApp } from '../helpers/app.js';
import { me } from './support.js';
import { ADMIN, credentials, SUPER, U1, U1_ME, U2, UB } from '../helpers/people.js';
import { CROSS_SITE_REFUSED, NOT_ENOUGH_PERMISSIONS } from '../helpers/messages.js';

const PUBLIC_ORIGIN = 'https://app.example';
const CROSS_SITE = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' };
const SAME_ORIGIN = { origin: PUBLIC_ORIGIN, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' };

function assertRefused(response: LightMyRequestResponse, label: string): void {
  assert.equal(response.statusCode, 403, label);
  assert.deepEqual(response.json(), CROSS_SITE_REFUSED, label);
  assert.equal(response.headers['set-cookie'], undefined, `${label}: no cookie`);
}

describe('E. cross-site requests and CORS', await serviceGate('redis'), () => {
  const { app } = useSuiteApp({ store: 'redis', env: { PUBLIC_ORIGIN, LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' } });

  const loginWith = (headers: Record<string, string>, url = '/auth/token') =>
    app.inject({ method: 'POST', url, headers: { ...FORM, ...API, ...headers }, payload: form(credentials(U2)) });

  it('E-01 refuses a login from another site: cross-site, Origin null, same-site, a look-alike origin', async () => {
    const attempts: Record<string, Record<string, string>> = {
      'cross-site navigation': CROSS_SITE,
      'Origin: null': { origin: 'null' },
      'same-site sibling': { origin: 'https://other.app.example', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate' },
      'look-alike origin': { origin: 'https://app.example.evil.example' },
      'Sec-Fetch-Site cross-site alone': { 'sec-fetch-site': 'cross-site' },
    };
    for (const url of ['/auth/token', '/api/login']) {
      for (const [label, headers] of Object.entries(attempts)) {
        const response = await loginWith(headers, url);
        assertRefused(response, `${url} ${label}`);
        assert.doesNotMatch(response.body, /access_token/);
      }
    }
  });

  it('E-01 refuses a login whose only hint is a Referer from another site', async () => {
    assertRefused(await loginWith({ referer: 'https://evil.example/' }), 'Referer only');
  });

  it('E-02 lets same-origin Swagger UI, the HTML form and curl log in, and refuses the wrong scheme, port or host', async () => {
    const swagger = await loginWith(SAME_ORIGIN);
    assert.equal(swagger.statusCode, 200, '(a) Swagger UI');
    assert.equal(swagger.json().token_type, 'bearer');
    const page = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...BROWSER, origin: PUBLIC_ORIGIN, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' },
      payload: form(credentials(U2)),
    });
    assert.equal(page.statusCode, 303, '(b) the HTML form');
    assert.equal(page.headers.location, '/auth/home');
    assert.ok(page.cookies.find((c) => c.name === 'session'));
    assert.equal((await loginWith({})).statusCode, 200, '(c) curl: neither header');
    assert.equal((await loginWith({ 'sec-fetch-site': 'none' })).statusCode, 200, 'typed into the address bar: none');

    assertRefused(await loginWith({ origin: 'http://app.example' }), '(d) http instead of https');
    assertRefused(await loginWith({ origin: 'https://app.example:8443' }), '(d) another port');
    assertRefused(
      await loginWith({ origin: 'https://evil.example', host: 'evil.example', 'x-forwarded-host': 'evil.example' }),
      '(e) spoofed Host',
    );
  });

  it("E-02 without PUBLIC_ORIGIN compares with the request's own Host, never X-Forwarded-Host from an untrusted peer", async (t) => {
    const { app: own } = await useApp(t, { store: 'redis', env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' } });
    const post = (headers: Record<string, string>) =>
      own.inject({
        method: 'POST',
        url: '/auth/token',
        headers: { ...FORM, ...API, host: 'portal.test', ...headers },
        payload: form(credentials(U2)),
      });
    assert.equal((await post({ origin: 'http://portal.test' })).statusCode, 200);
    assertRefused(await post({ origin: 'http://evil.example', 'x-forwarded-host': 'evil.example' }), 'X-Forwarded-Host ignored');
    assertRefused(await post({ origin: 'https://portal.test' }), 'another scheme');
  });

  describe('E-03', () => {
    let u1: { cookie: string; token: string };
    let admin: { cookie: string; token: string };
    before(async () => {
      u1 = await login(app, U1);
      admin = await login(app, ADMIN);
    });

    const ownRecord = {
      empNo: String(U1.empNo),
      birthDate: '09/12/1978',
      firstName: 'Be Hai',
      lastName: 'Doe',
      gender: 'M',
      hireDate: '01/11/2022',
    };
    const changes = (cookieOf: () => string): Array<[string, InjectOptions]> => [
      [
        'user-save',
        {
          method: 'POST',
          url: '/emp/user-save',
          headers: FORM,
          payload: form({ ...ownRecord, firstName: 'Forged' }),
          cookies: { session: cookieOf() },
        },
      ],
      [
        'admin-save',
        {
          method: 'POST',
          url: '/emp/admin-save',
          headers: FORM,
          payload: form({ ...ownRecord, firstName: 'Forged' }),
          cookies: { session: admin.cookie },
        },
      ],
      [
        'scopes',
        {
          method: 'POST',
          url: `/emp/scopes/${UB[0].empNo}`,
          headers: FORM,
          payload: form({ scopes: 'admin:read' }),
          cookies: { session: admin.cookie },
        },
      ],
      [
        'account',
        {
          method: 'POST',
          url: `/emp/account/${UB[0].empNo}`,
          headers: FORM,
          payload: form({ disabled: 'true' }),
          cookies: { session: admin.cookie },
        },
      ],
      ['end-all', { method: 'POST', url: `/emp/sessions/${U1.empNo}/end-all`, cookies: { session: admin.cookie } }],
      [
        'password',
        {
          method: 'POST',
          url: '/auth/password',
          headers: FORM,
          payload: form({ current_password: 'password', new_password: 'a forged new password' }),
          cookies: { session: cookieOf() },
        },
      ],
      ['own sessions end-all', { method: 'POST', url: '/auth/sessions/end-all', cookies: { session: cookieOf() } }],
      ['logout', { method: 'POST', url: '/auth/logout', cookies: { session: cookieOf() } }],
    ];

    async function assertNothingChanged() {
      assert.deepEqual((await me(app, { cookie: u1.cookie })).json(), U1_ME, 'U1 still logged in, record unchanged');
      const scopes = await app.db.selectFrom('employee_scopes').select('scope').where('emp_no', '=', UB[0].empNo).execute();
      assert.deepEqual(
        scopes.map((row) => row.scope),
        ['user:read'],
      );
      const row = await app.db.selectFrom('employees').select('disabled').where('emp_no', '=', UB[0].empNo).executeTakeFirstOrThrow();
      assert.equal(row.disabled, 0);
    }

    it('E-03 refuses every cookie-authenticated state change from another site, or same-site with a simple body', async () => {
      const contexts: Record<string, Record<string, string>> = {
        'cross-site': CROSS_SITE,
        'cross-site Origin only': { origin: 'https://evil.example' },
        'same-site form': { 'sec-fetch-site': 'same-site' },
        'same-site text/plain': { 'sec-fetch-site': 'same-site', 'content-type': 'text/plain' },
        'same-site multipart': { 'sec-fetch-site': 'same-site', 'content-type': 'multipart/form-data; boundary=x' },
      };
      for (const [label, request] of changes(() => u1.cookie)) {
        for (const [context, headers] of Object.entries(contexts)) {
          const response = await app.inject({
            ...request,
            headers: { ...API, ...(request.headers as Record<string, string>), ...headers },
          });
          // 403 from the guard; a body the route's schema cannot read is refused (415/422) even
          // before the guard runs (it is a preHandler, after validation). Never anything else.
          assert.ok([403, 415, 422].includes(response.statusCode), `${label} ${context}: ${response.statusCode}`);
          if (!context.includes('same-site ')) assert.equal(response.statusCode, 403, `${label} ${context}`);
          if (response.statusCode === 403) assert.deepEqual(response.json(), CROSS_SITE_REFUSED);
        }
        for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
          const response = await app.inject({
            ...request,
            method,
            headers: { ...API, ...(request.headers as Record<string, string>), ...CROSS_SITE },
          });
          assert.ok([403, 404].includes(response.statusCode), `${method} ${label}: ${response.statusCode}`);
        }
      }
      await assertNothingChanged();
    });

    it('E-03 leaves bearer-only requests to scopes and authentication, whatever site they claim', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/emp/user-save',
        headers: { ...FORM, ...API, ...CROSS_SITE, authorization: `Bearer ${u1.token}` },
        payload: form(ownRecord),
      });
      assert.equal(response.statusCode, 200);
      assert.equal(response.json().emp_no, U1.empNo);
      const denied = await app.inject({
        method: 'POST',
        url: `/emp/account/${UB[0].empNo}`,
        headers: { ...API, ...CROSS_SITE, authorization: `Bearer ${u1.token}` },
        payload: { disabled: true },
      });
      assert.equal(denied.statusCode, 403);
      assert.deepEqual(denied.json(), NOT_ENOUGH_PERMISSIONS, 'refused for its scope, not its site');
    });
  });

  it('E-04 offers logout only as POST, refuses it from another site, and logs out same-origin', async () => {
    const { cookie } = await login(app, U1);
    for (const method of ['GET', 'HEAD'] as const) {
      const response = await app.inject({ method, url: '/auth/logout', cookies: { session: cookie } });
      assert.equal(response.statusCode, 404, method);
    }
    assertRefused(
      await app.inject({ method: 'POST', url: '/auth/logout', headers: { ...API, ...CROSS_SITE }, cookies: { session: cookie } }),
      'cross-site logout',
    );
    assert.equal((await me(app, { cookie })).statusCode, 200, 'still logged in');
    const same = await app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { ...API, ...SAME_ORIGIN },
      cookies: { session: cookie },
    });
    assert.deepEqual(same.json(), { message: 'You have been logged out' });
    assert.equal((await me(app, { cookie })).statusCode, 401);
  });

  it('E-05 changes nothing through GET or HEAD on any path of a state-changing operation', async () => {
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
    const superUser = await login(app, SUPER);
    const victim = await login(app, UB[0]);
    const snapshot = async () => ({
      employees: (
        await app.db
          .selectFrom('employees')
          .select(({ fn }) => fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
      scopes: await app.db.selectFrom('employee_scopes').selectAll().orderBy('emp_no').orderBy('scope').execute(),
      disabled: await app.db.selectFrom('employees').select('emp_no').where('disabled', '=', 1).execute(),
      superSession: (await me(app, { cookie: superUser.cookie })).statusCode,
      victimSession: (await me(app, { token: victim.token })).statusCode,
    });
    const before = await snapshot();
    let probed = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!Object.keys(operations).some((method) => method !== 'get')) continue;
      const url = path
        .replace('{emp_no}', String(UB[0].empNo))
        .replace('{session_id}', victim.cookie.split('.')[0]!)
        .replace('{last_name}', '%25a%25')
        .replace('{first_name}', '%25');
      // A path may also have a GET of its own (the scopes list, the password page, the search
      // results): that is a read. Anything else answers 404.
      const readable = 'get' in operations || /\/password$|\/search\//.test(path);
      for (const method of ['GET', 'HEAD'] as const) {
        const response = await app.inject({ method, url, headers: API, cookies: { session: superUser.cookie } });
        probed++;
        if (!readable) assert.equal(response.statusCode, 404, `${method} ${url}`);
        else assert.ok(response.statusCode < 500, `${method} ${url}: ${response.statusCode}`);
      }
    }
    assert.ok(probed >= 20, `${probed} probes`);
    assert.deepEqual(await snapshot(), before, 'no side effect anywhere');
  });

  describe('E-06', () => {
    const { app: corsApp } = useSuiteApp({ store: 'redis', env: { CORS_ORIGINS: 'https://partner.example' } });

    const preflight = (target: FastifyInstance, origin: string) =>
      target.inject({
        method: 'OPTIONS',
        url: '/api/me',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });

    it('E-06 answers no CORS header at all by default', async () => {
      for (const origin of ['https://evil.example', 'null', PUBLIC_ORIGIN]) {
        const pre = await preflight(app, origin);
        assert.equal(pre.headers['access-control-allow-origin'], undefined);
        assert.equal(pre.headers['access-control-allow-credentials'], undefined);
        const actual = await app.inject({ method: 'GET', url: '/api/me', headers: { origin } });
        assert.equal(actual.headers['access-control-allow-origin'], undefined);
      }
    });

    it('E-06 with CORS_ORIGINS allows exactly the listed origins, with credentials, never * and never null', async () => {
      for (const origin of ['https://evil.example', 'null', 'https://partner.example.evil.example', 'http://partner.example']) {
        const pre = await preflight(corsApp, origin);
        assert.equal(pre.headers['access-control-allow-origin'], undefined, origin);
        const actual = await corsApp.inject({ method: 'GET', url: '/api/me', headers: { origin } });
        assert.equal(actual.headers['access-control-allow-origin'], undefined, origin);
      }
      const pre = await preflight(corsApp, 'https://partner.example');
      assert.equal(pre.statusCode, 204);
      assert.equal(pre.headers['access-control-allow-origin'], 'https://partner.example');
      assert.equal(pre.headers['access-control-allow-credentials'], 'true');
      const { token } = await login(corsApp, U2);
      const actual = await corsApp.inject({
        method: 'GET',
        url: '/api/me',
        headers: { origin: 'https://partner.example', authorization: `Bearer ${token}` },
      });
      assert.equal(actual.statusCode, 200);
      assert.equal(actual.headers['access-control-allow-origin'], 'https://partner.example');
      assert.match(String(actual.headers.vary), /Origin/);
    });
  });
});
