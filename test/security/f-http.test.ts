/**
 * Checklist group F: HTTP hygiene (caching, security headers, the login page's form, error bodies).
 *
 * Also covered elsewhere: test/routes/operations.test.ts (404 naming the path, 413 on an oversized
 * form), test/routes/auth.test.ts (Cache-Control on /auth/token and /admin/me).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { serviceGate } from '../helpers/services.js';
import { API, BROWSER, FORM, form, login, useApp, useSuiteApp } from '../helpers/app.js';
import { captureLogs } from '../helpers/logs.js';
import { ADMIN, credentials, U1, U2 } from '../helpers/people.js';

/** The policy decided for this app (docs/SECURITY.md), directive by directive. */
const CSP_DIRECTIVES = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
];

/** What an error body must never show: stacks, SQL, file paths, versions, environment values. */
const LEAKS =
  /\bat [\w.<>]+ \(|node_modules|\/work\/|\bselect\b.*\bfrom\b|sqlite|postgres|mysql|ioredis|fastify@|v\d+\.\d+\.\d+|SECRET_KEY|Error:/i;

function assertNoStore(response: LightMyRequestResponse, label: string): void {
  assert.equal(response.headers['cache-control'], 'no-store', `${label}: Cache-Control`);
}

describe('F. HTTP hygiene', await serviceGate('redis'), () => {
  const { app } = useSuiteApp({ store: 'redis', env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' } });

  it('F-01 never lets a cache keep tokens, authenticated answers or anything that sets a cookie', async () => {
    const success = await app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form(credentials(U1)) });
    assertNoStore(success, 'token');
    assert.equal(success.headers.pragma, 'no-cache');
    const cookie = success.cookies.find((c) => c.name === 'session')!.value;
    const token = success.json().access_token as string;
    const admin = await login(app, ADMIN);
    const responses: Record<string, LightMyRequestResponse> = {
      'token failure': await app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: FORM,
        payload: form({ username: U1.username, password: 'wrong' }),
      }),
      'browser token failure (sets login_notice)': await app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: { ...FORM, ...BROWSER },
        payload: form({ username: U1.username, password: 'wrong' }),
      }),
      'me by cookie': await app.inject({ method: 'GET', url: '/api/me', cookies: { session: cookie } }),
      'me by token': await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } }),
      'me page': await app.inject({ method: 'GET', url: '/admin/me', headers: BROWSER, cookies: { session: cookie } }),
      search: await app.inject({ method: 'GET', url: '/api/emp/search/%25a%25/%25', cookies: { session: admin.cookie } }),
      'one employee': await app.inject({
        method: 'GET',
        url: '/emp/admin-get-update/10001',
        headers: API,
        cookies: { session: admin.cookie },
      }),
      'my sessions': await app.inject({ method: 'GET', url: '/auth/sessions', headers: API, cookies: { session: cookie } }),
      'stale cookie (cleared)': await app.inject({
        method: 'GET',
        url: '/api/me',
        cookies: { session: `${'z'.repeat(22)}.${'z'.repeat(22)}` },
      }),
      'login page': await app.inject({ method: 'GET', url: '/auth/login', headers: BROWSER }),
      'logout (clears the cookie)': await app.inject({
        method: 'POST',
        url: '/auth/logout',
        cookies: { session: (await login(app, U2)).cookie },
      }),
    };
    for (const [label, response] of Object.entries(responses)) {
      assert.ok(response.statusCode < 500, label);
      assertNoStore(response, label);
      if (label !== 'logout (clears the cookie)') assert.equal(response.headers.vary, 'Cookie, Authorization', `${label}: Vary`);
    }
    for (const [label, response] of Object.entries(responses)) {
      if (response.headers['set-cookie'] !== undefined) assertNoStore(response, `${label} sets a cookie`);
    }
  });

  it('F-02 sends the security headers on the login page and Swagger UI, and a password form that password managers can fill', async () => {
    for (const url of ['/', '/auth/login', '/docs/', '/openapi.json', '/static/styles.css']) {
      const response = await app.inject({ method: 'GET', url, headers: BROWSER });
      assert.equal(response.statusCode, 200, url);
      const csp = String(response.headers['content-security-policy'])
        .split(';')
        .map((d) => d.trim());
      // Swagger UI's page allows its one inline <style> by hash, and nothing else inline.
      const styleSrc = url === '/docs/' ? /^style-src 'self' 'sha256-[A-Za-z0-9+/]{43}='$/ : /^style-src 'self'$/;
      assert.ok(
        csp.some((directive) => styleSrc.test(directive)),
        `${url}: CSP style-src ${csp.find((d) => d.startsWith('style-src'))}`,
      );
      for (const directive of CSP_DIRECTIVES.filter((d) => !d.startsWith('style-src')))
        assert.ok(csp.includes(directive), `${url}: CSP lacks ${directive}`);
      assert.doesNotMatch(csp.join(';'), /unsafe-inline|unsafe-eval|\*/, `${url}: CSP`);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(response.headers['referrer-policy'], 'same-origin', url);
      const hsts = /max-age=(\d+)/.exec(String(response.headers['strict-transport-security']));
      assert.ok(hsts && Number(hsts[1]) >= 31_536_000, `${url}: HSTS of a year at least`);
      assert.equal(response.headers['x-frame-options'], 'SAMEORIGIN', url);
      assert.equal(response.headers['x-powered-by'], undefined, url);
      if (url !== '/static/styles.css') assert.match(String(response.headers['content-type']), /charset=utf-8/i, url);
      if (/html/.test(String(response.headers['content-type']))) {
        assert.doesNotMatch(response.body, /<script(?![^>]*\bsrc=)[^>]*>/i, `${url}: no inline script`);
        assert.doesNotMatch(response.body, /\son[a-z]+\s*=/i, `${url}: no inline event handler`);
      }
    }
    const page = (await app.inject({ method: 'GET', url: '/auth/login', headers: BROWSER })).body;
    assert.match(page, /<form id="loginForm" method="post" action="\/auth\/token">/, 'posts to a relative, same-origin URL');
    assert.match(page, /<input type="password" id="password" name="password" autocomplete="current-password" required>/);
    assert.match(page, /<input type="email" id="username" name="username" autocomplete="username"/);
    assert.doesNotMatch(page, /autocomplete="off"|onpaste|oncopy/);
  });

  it('F-03 answers every error with a generic detail and a request id, no stack, query, path, version or token', async () => {
    const { token } = await login(app, U1);
    const errors: Record<string, [LightMyRequestResponse, number, string]> = {
      '404': [await app.inject({ method: 'GET', url: '/nowhere', headers: API }), 404, 'Not found: GET /nowhere'],
      'wrong method (404, Fastify has no 405)': [
        await app.inject({ method: 'DELETE', url: '/api/me', headers: API }),
        404,
        'Not found: DELETE /api/me',
      ],
      '413': [
        await app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: 'x'.repeat(70_000) }),
        413,
        'Request body is too large',
      ],
      '415': [
        await app.inject({
          method: 'POST',
          url: '/emp/user-save',
          headers: { 'content-type': 'application/xml', authorization: `Bearer ${token}` },
          payload: '<x/>',
        }),
        415,
        'Unsupported Media Type',
      ],
      'malformed JSON': [
        await app.inject({
          method: 'POST',
          url: '/emp/account/10001',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          payload: '{"disabled": tru',
        }),
        400,
        "Body is not valid JSON but content-type is set to 'application/json'",
      ],
      'schema violation': [
        await app.inject({ method: 'GET', url: '/api/emp/admin-get-update/abc', headers: { authorization: `Bearer ${token}` } }),
        422,
        'Invalid request: emp_no must be a whole number from 1 to 2147483647, in digits only',
      ],
      'bad token': [
        await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}x` } }),
        401,
        'Could not validate credentials',
      ],
    };
    for (const [label, [response, status, detail]] of Object.entries(errors)) {
      assert.equal(response.statusCode, status, label);
      assert.equal(response.json().detail, detail, label);
      assert.doesNotMatch(response.body, LEAKS, label);
      assert.ok(!response.body.includes(token), `${label}: echoes the token`);
      assert.match(String(response.headers['x-request-id']), /^[\w-]{8,}$/, `${label}: a request id to quote`);
      assert.equal(response.headers['x-powered-by'], undefined);
      assert.equal(response.headers.server, undefined);
    }
  });

  it('F-03 answers an unexpected failure with a bare 500 and logs its cause under the request id', async (t) => {
    const logs = captureLogs();
    // Its database is destroyed below, so closing it fails: that says nothing about the code under test.
    const { app: brokenApp } = await useApp(t, {
      env: { LOG_LEVEL: 'error' },
      build: { logStream: logs.stream },
      tolerateCloseErrors: true,
    });
    const { cookie } = await login(brokenApp, U1);
    await brokenApp.db.destroy(); // the driver is gone: a bug-like failure, not an outage
    const response = await brokenApp.inject({ method: 'GET', url: '/api/me', cookies: { session: cookie } });
    assert.equal(response.statusCode, 500);
    assert.deepEqual(response.json(), { detail: 'Internal Server Error' });
    const requestId = String(response.headers['x-request-id']);
    const line = logs.lines().find((entry) => entry.reqId === requestId && entry.msg === 'request failed');
    assert.ok(line, 'the cause is logged with the request id');
    assert.ok((line.err as { message?: string }).message, 'with the real error');
  });
});
