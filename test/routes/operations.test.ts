/**
 * The parts around the login: probes, the API document and Swagger UI, static files, and what
 * happens when the session store goes away.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serviceGate } from '../helpers/services.js';
import { API, BROWSER, FORM, form, login, useSuiteApp } from '../helpers/app.js';
import { U1 } from '../helpers/people.js';
import { INCORRECT, STORE_UNAVAILABLE } from '../helpers/messages.js';

describe('operations and documentation', () => {
  const { app } = useSuiteApp();

  it('reports itself alive on /health', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ok' });
  });

  it('reports itself ready on /ready when the store and the database answer', async () => {
    const response = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ready', checks: { sessionStore: 'ok', database: 'ok' } });
  });

  it('declares the OAuth2 password flow with /auth/token in /openapi.json', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const document = response.json();
    assert.equal(document.openapi, '3.1.0');
    assert.deepEqual(document.components.securitySchemes.OAuth2PasswordBearer, {
      type: 'oauth2',
      flows: {
        password: {
          tokenUrl: '/auth/token',
          scopes: {
            'user:read': 'Read your own information',
            'user:write': 'Update your own information',
            'admin:read': "Read other employees' information",
            'admin:write': "Update other employees' information and add employees",
            'audit:read': 'Read the audit trail: who did what, to whom, from where and when',
            'super:*': 'Everything',
          },
        },
      },
    });
    const paths = Object.keys(document.paths);
    // The login page has a JSON face ("Already logged in"), so it is in the document, as in the original's.
    for (const path of [
      '/',
      '/auth/login',
      '/auth/token',
      '/auth/logout',
      '/admin/me',
      '/api/me',
      '/api/login',
      '/api/logout',
      '/auth/sessions',
      '/health',
      '/ready',
    ]) {
      assert.ok(paths.includes(path), path);
    }
    for (const page of ['/auth/home', '/openapi.json', '/metrics', '/favicon.ico']) {
      assert.ok(!paths.includes(page), `${page} is a page or an internal route, not API`);
    }
    const employeeRoutes = paths.filter((path) => path.startsWith('/emp/'));
    assert.ok(employeeRoutes.length >= 10);
    for (const path of employeeRoutes) assert.ok(paths.includes(`/api${path}`), `/api${path} mirrors ${path}`);
    const tokenBody = document.paths['/auth/token'].post.requestBody.content['application/x-www-form-urlencoded'].schema;
    assert.deepEqual(tokenBody.required, ['username', 'password']);
    assert.deepEqual(document.paths['/admin/me'].get.security, [{ OAuth2PasswordBearer: ['user:read'] }, { SessionCookie: [] }]);
    assert.doesNotMatch(JSON.stringify(document.paths['/admin/me']), /"password"/);
  });

  it('serves Swagger UI on /docs', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /swagger-ui/i);
  });

  it('serves static files without opening a session', async () => {
    const response = await app.inject({ method: 'GET', url: '/static/styles.css' });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /^text\/css/);
    assert.equal(response.headers['set-cookie'], undefined);
  });

  it('answers an unknown path with a 404 that names it', async () => {
    const json = await app.inject({ method: 'GET', url: '/nowhere?x=1', headers: API });
    assert.equal(json.statusCode, 404);
    assert.deepEqual(json.json(), { detail: 'Not found: GET /nowhere' });
    const html = await app.inject({ method: 'GET', url: '/nowhere', headers: BROWSER });
    assert.equal(html.statusCode, 404);
    assert.match(html.body, /Not found: GET \/nowhere/);
  });

  it('refuses an oversized login form with a 413, not a 500', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: FORM,
      payload: form({ username: U1.username, password: 'x'.repeat(100_000) }),
    });
    assert.equal(response.statusCode, 413);
    assert.ok(response.json().detail);
  });

  it('refuses an overlong password field with a 422 that names it', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: FORM,
      payload: form({ username: U1.username, password: 'x'.repeat(2000) }),
    });
    assert.equal(response.statusCode, 422);
    assert.equal(response.json().errors[0].field, 'password');
  });

  it('refuses SQL metacharacters in the username like any wrong login', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: FORM,
      payload: form({ username: "x'or'1'='1@gmail.com", password: "' OR 1=1 --" }),
    });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), INCORRECT);
  });
});

describe('when the Redis session store is down', await serviceGate('redis'), () => {
  // Port 1 on loopback: nothing listens there, so every connection is refused at once.
  const { app } = useSuiteApp({ store: 'redis', env: { REDIS_URL: 'redis://127.0.0.1:1' }, tolerateCloseErrors: true });

  it('still renders the login page and static files', async () => {
    const page = await app.inject({ method: 'GET', url: '/', headers: BROWSER });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /loginForm/);
    const css = await app.inject({ method: 'GET', url: '/static/styles.css' });
    assert.equal(css.statusCode, 200);
  });

  it('answers protected routes and logins with a quick 503, never a 500', async () => {
    const started = Date.now();
    const me = await app.inject({ method: 'GET', url: '/admin/me', cookies: { session: `${'a'.repeat(22)}.${'b'.repeat(22)}` } });
    assert.equal(me.statusCode, 503);
    assert.deepEqual(me.json(), STORE_UNAVAILABLE);
    const token = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: FORM,
      payload: form({ username: U1.username, password: U1.password }),
    });
    assert.equal(token.statusCode, 503);
    assert.ok(Date.now() - started < 5000, 'answered quickly');
  });

  it('reports itself not ready', async () => {
    const response = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(response.statusCode, 503);
    assert.deepEqual(response.json(), { status: 'unavailable', checks: { sessionStore: 'unavailable', database: 'ok' } });
  });
});

describe('two app instances sharing one Redis', await serviceGate('redis'), () => {
  const {
    apps: [first, second],
  } = useSuiteApp({ store: 'redis', instances: 2 });

  it('recognises on one instance a login made on the other, and a logout too', async () => {
    const { cookie, token } = await login(first);
    const byCookie = await second.inject({ method: 'GET', url: '/admin/me', cookies: { session: cookie } });
    assert.equal(byCookie.statusCode, 200);
    assert.equal(byCookie.json().emp_no, U1.empNo);
    const byToken = await second.inject({ method: 'GET', url: '/admin/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(byToken.statusCode, 200);

    await second.inject({ method: 'POST', url: '/auth/logout', cookies: { session: cookie } });
    const afterLogout = await first.inject({ method: 'GET', url: '/admin/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(afterLogout.statusCode, 401);
  });
});
