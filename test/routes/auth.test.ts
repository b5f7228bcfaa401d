/**
 * The seed post's scenarios, through HTTP, against both session stores: logging in and out, the
 * login page, and who is asking (cookie first, then bearer).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { serviceGate, SERVICE_URLS } from '../helpers/services.js';
import { API, BROWSER, FORM, form, login, sessionCookieOf, STORE_KINDS, useSuiteApp } from '../helpers/app.js';
import { U1, U1_ME, U2 } from '../helpers/people.js';
import { INCORRECT, INVALID_TOKEN, NOT_AUTHENTICATED } from '../helpers/messages.js';

for (const store of STORE_KINDS) {
  describe(`auth routes with the ${store} session store`, await serviceGate(...(store === 'redis' ? ['redis' as const] : [])), () => {
    const { app, env, restart } = useSuiteApp({ store });

    /** Whether the store holds the session behind a cookie value (`<id>.<secret>`). */
    async function storeHas(cookie: string): Promise<boolean> {
      const id = cookie.split('.')[0]!;
      return (await app.sessionStore.get(id)) !== undefined;
    }

    describe('the login page', () => {
      for (const url of ['/', '/auth/login']) {
        it(`GET ${url} shows the login form and opens no session`, async () => {
          const response = await app.inject({ method: 'GET', url, headers: BROWSER });
          assert.equal(response.statusCode, 200);
          assert.match(response.headers['content-type'] as string, /^text\/html/);
          assert.match(response.body, /<title>Login · Employees Portal<\/title>/);
          assert.match(response.body, /<form id="loginForm" method="post" action="\/auth\/token">/);
          assert.match(response.body, /<input type="email" id="username" name="username"/);
          assert.match(response.body, /<input type="password" id="password" name="password"/);
          assert.equal(response.headers['set-cookie'], undefined);
        });
      }

      it('tells a logged-in program that it is already logged in', async () => {
        const { cookie } = await login(app);
        const response = await app.inject({ method: 'GET', url: '/auth/login', headers: API, cookies: { session: cookie } });
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), { message: 'Already logged in' });
      });

      it('sends a logged-in browser to the home page', async () => {
        const { cookie } = await login(app);
        const response = await app.inject({ method: 'GET', url: '/', headers: BROWSER, cookies: { session: cookie } });
        assert.equal(response.statusCode, 303);
        assert.equal(response.headers.location, '/auth/home');
      });

      it('shows a fixed message for a known state and ignores anything else in the URL', async () => {
        const known = await app.inject({ method: 'GET', url: '/auth/login?state=3', headers: BROWSER });
        assert.match(known.body, /<p class="notice" role="status">Incorrect username or password<\/p>/);
        const unknown = await app.inject({ method: 'GET', url: '/auth/login?state=<script>', headers: BROWSER });
        assert.equal(unknown.statusCode, 200);
        assert.doesNotMatch(unknown.body, /<script>|class="notice"/);
      });
    });

    describe('POST /auth/token', () => {
      it('returns a bearer token and logs the cookie session in', async () => {
        const response = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: FORM,
          payload: form({ username: U1.username, password: U1.password }),
        });
        assert.equal(response.statusCode, 200);
        const body = response.json();
        assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
        assert.equal(body.token_type, 'bearer');
        assert.equal(body.scope, 'user:read user:write');
        assert.equal(body.expires_in, 1800);
        assert.match(body.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
        assert.equal(response.headers['cache-control'], 'no-store');

        const cookie = sessionCookieOf(response);
        assert.ok(cookie, 'a session cookie is set');
        assert.match(cookie.value, /^[\w-]{22}\.[\w-]{22}$/);
        assert.equal(cookie.httpOnly, true);
        assert.equal(cookie.sameSite, 'Lax');
        assert.equal(cookie.path, '/');
        assert.equal(cookie.secure, undefined);
        assert.equal(cookie.maxAge, undefined);
        assert.equal(await storeHas(cookie.value), true);
      });

      it('accepts the optional OAuth2 fields that Swagger UI sends', async () => {
        const response = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: FORM,
          payload: form({
            grant_type: 'password',
            username: U1.username,
            password: U1.password,
            scope: '',
            client_id: 'swagger',
            client_secret: '',
          }),
        });
        assert.equal(response.statusCode, 200);
        assert.equal(response.json().token_type, 'bearer');
      });

      it('answers a wrong password and an unknown user identically', async () => {
        const wrong = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: FORM,
          payload: form({ username: U1.username, password: 'not-the-password' }),
        });
        const unknown = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: FORM,
          payload: form({ username: 'nobody@example.com', password: 'password' }),
        });
        for (const response of [wrong, unknown]) {
          assert.equal(response.statusCode, 400);
          assert.deepEqual(response.json(), INCORRECT);
          assert.equal(sessionCookieOf(response), undefined);
        }
      });

      for (const missing of ['username', 'password']) {
        it(`names the missing ${missing} field with a 422`, async () => {
          const fields: Record<string, string> = { username: U1.username, password: 'password' };
          delete fields[missing];
          const response = await app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form(fields) });
          assert.equal(response.statusCode, 422);
          assert.deepEqual(response.json(), {
            detail: `Invalid request: ${missing} is required`,
            errors: [{ field: missing, message: 'is required' }],
          });
        });
      }

      it('refuses a grant type other than password', async () => {
        const response = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: FORM,
          payload: form({ username: U1.username, password: U1.password, grant_type: 'client_credentials' }),
        });
        assert.equal(response.statusCode, 400);
        const detail = 'unsupported_grant_type: only the password grant is offered here';
        assert.deepEqual(response.json(), { detail, error: 'unsupported_grant_type', error_description: detail });
      });

      it('tells a session that is already logged in so, without a new token', async () => {
        const { cookie } = await login(app);
        const response = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: FORM,
          cookies: { session: cookie },
          payload: form({ username: U1.username, password: U1.password }),
        });
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), { message: 'Already logged in' });
      });

      it('never keeps a session id the client brought along (fixation)', async () => {
        const planted = `${'A'.repeat(22)}.${'B'.repeat(22)}`;
        const response = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: FORM,
          cookies: { session: planted },
          payload: form({ username: U1.username, password: U1.password }),
        });
        assert.equal(response.statusCode, 200);
        const issued = sessionCookieOf(response)!.value;
        assert.notEqual(issued, planted);
        assert.notEqual(issued.split('.')[0], 'A'.repeat(22));
        assert.equal(await storeHas(planted), false);
      });

      it('issues a new id when a logged-out session logs in again', async () => {
        const first = await login(app);
        await app.inject({ method: 'POST', url: '/auth/logout', cookies: { session: first.cookie } });
        const response = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: FORM,
          cookies: { session: first.cookie },
          payload: form({ username: U1.username, password: U1.password }),
        });
        const second = sessionCookieOf(response)!.value;
        assert.notEqual(second.split('.')[0], first.cookie.split('.')[0]);
      });

      it('sends a browser that posted the login form to the home page', async () => {
        const response = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: { ...FORM, ...BROWSER },
          payload: form({ username: U1.username, password: U1.password }),
        });
        assert.equal(response.statusCode, 303);
        assert.equal(response.headers.location, '/auth/home');
        assert.ok(sessionCookieOf(response));
      });

      it('shows a browser with wrong credentials the login form again, the email kept and the message beside it', async () => {
        const response = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: { ...FORM, ...BROWSER },
          payload: form({ username: U1.username, password: 'wrong', next: '/emp/search' }),
        });
        assert.equal(response.statusCode, 400);
        assert.match(response.headers['content-type'] as string, /^text\/html/);
        assert.equal(sessionCookieOf(response), undefined);
        assert.match(
          response.body,
          /<p class="error-box" role="alert" id="login-error">Incorrect username or password\. Check both and try again\.<\/p>/,
        );
        assert.match(
          response.body,
          /<input type="email" id="username" name="username" [^>]*value="behai_nguyen@hotmail\.com" aria-invalid="true" aria-describedby="login-error">/,
        );
        assert.match(response.body, /<input type="hidden" name="next" value="\/emp\/search">/);
        assert.doesNotMatch(response.body, /wrong/, 'the password is never echoed');
      });

      it('goes on to the page asked for before login, and only to a path on this site', async () => {
        const post = (next: string) =>
          app.inject({
            method: 'POST',
            url: '/auth/token',
            headers: { ...FORM, ...BROWSER },
            payload: form({ username: U1.username, password: U1.password, next }),
          });
        const kept = await post('/emp/search/nas/an?page=2&saved=1');
        assert.equal(kept.statusCode, 303);
        assert.equal(kept.headers.location, '/emp/search/nas/an?page=2', 'the search parameters, nothing else of the query');
        const hostile = [
          '//evil.com',
          '/\\evil.com',
          'https://evil.com/',
          '/%2F%2Fevil.com',
          '\t//evil.com',
          '/\t/evil.com',
          'javascript:alert(1)',
          '%2F%2Fevil.com',
          '///evil.com',
        ];
        for (const next of hostile) {
          const response = await post(next);
          assert.equal(response.statusCode, 303, next);
          const location = response.headers.location as string;
          assert.ok(location.startsWith('/') && !location.startsWith('//') && !location.includes('\\'), `${next} → ${location}`);
          assert.equal(new URL(location, 'http://portal.test').host, 'portal.test', `${next} → ${location}`);
        }
      });
    });

    describe('GET /admin/me', () => {
      it('refuses a request with neither cookie nor token', async () => {
        const response = await app.inject({ method: 'GET', url: '/admin/me' });
        assert.equal(response.statusCode, 401);
        assert.deepEqual(response.json(), NOT_AUTHENTICATED);
        assert.equal(response.headers['www-authenticate'], 'Bearer');
      });

      it('answers the logged-in employee by cookie, without any password hash', async () => {
        const { cookie } = await login(app);
        const response = await app.inject({ method: 'GET', url: '/admin/me', cookies: { session: cookie } });
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), U1_ME);
        assert.doesNotMatch(response.body, /password|\$argon2|\$2[aby]\$/);
        assert.equal(response.headers['cache-control'], 'no-store');
      });

      it('answers the logged-in employee by bearer token', async () => {
        const { token } = await login(app);
        const response = await app.inject({ method: 'GET', url: '/admin/me', headers: { authorization: `Bearer ${token}` } });
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), U1_ME);
      });

      it('takes the session first when both cookie and token are sent', async () => {
        const other = await login(app, U2);
        const mine = await login(app);
        const response = await app.inject({
          method: 'GET',
          url: '/admin/me',
          cookies: { session: mine.cookie },
          headers: { authorization: `Bearer ${other.token}` },
        });
        assert.equal(response.json().emp_no, U1.empNo);
      });

      it('falls back to the bearer token when the cookie is stale', async () => {
        const { token } = await login(app);
        const response = await app.inject({
          method: 'GET',
          url: '/admin/me',
          cookies: { session: `${'x'.repeat(22)}.${'y'.repeat(22)}` },
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(response.statusCode, 200);
        assert.equal(response.json().emp_no, U1.empNo);
      });

      for (const [label, value] of [
        ['a malformed', 'not-a-session'],
        ['a tampered', 'TAMPERED'],
        ['an overlong', 'a'.repeat(4000)],
        ['a non-ASCII', '%E2%98%83.%E2%98%83'],
      ] as const) {
        it(`treats ${label} cookie as no session and drops it`, async () => {
          let cookieValue: string = value;
          if (value === 'TAMPERED') {
            const { cookie } = await login(app);
            const [id, secret] = cookie.split('.') as [string, string];
            cookieValue = `${id}.${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
          }
          const response = await app.inject({ method: 'GET', url: '/admin/me', cookies: { session: cookieValue } });
          assert.equal(response.statusCode, 401);
          assert.deepEqual(response.json(), NOT_AUTHENTICATED);
          const cleared = sessionCookieOf(response);
          assert.equal(cleared?.value, '');
        });
      }

      for (const [label, header] of [
        ['garbage', 'Bearer not.a.jwt'],
        [
          'unsigned (alg none)',
          `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: U1.username, emp_no: 500222, sid: 'x', exp: 9999999999 })).toString('base64url')}.`,
        ],
      ] as const) {
        it(`refuses a ${label} bearer token with a Bearer challenge`, async () => {
          const response = await app.inject({ method: 'GET', url: '/admin/me', headers: { authorization: header } });
          assert.equal(response.statusCode, 401);
          assert.deepEqual(response.json(), INVALID_TOKEN);
          assert.match(response.headers['www-authenticate'] as string, /^Bearer/);
        });
      }

      it('refuses an expired token, and one signed with another key', async () => {
        const { token } = await login(app);
        const sid = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid as string;
        const sign = (key: string, exp: number) =>
          new SignJWT({ emp_no: 500222, sid })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject(U1.username)
            .setIssuer('employees-portal')
            .setAudience('employees-portal')
            .setExpirationTime(exp)
            .sign(new TextEncoder().encode(key));
        const expired = await sign(env.config.SECRET_KEY, Math.floor(Date.now() / 1000) - 10);
        const foreign = await sign('another key that is at least 32 characters', Math.floor(Date.now() / 1000) + 600);
        for (const candidate of [expired, foreign]) {
          const response = await app.inject({ method: 'GET', url: '/admin/me', headers: { authorization: `Bearer ${candidate}` } });
          assert.equal(response.statusCode, 401);
          assert.match(response.headers['www-authenticate'] as string, /^Bearer/);
        }
      });
    });

    describe('POST /auth/logout', () => {
      it('ends the session and its tokens, clears the cookie and sends a browser to the login page (POST/redirect/GET)', async () => {
        const { cookie, token } = await login(app);
        const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: BROWSER, cookies: { session: cookie } });
        assert.equal(response.statusCode, 303);
        assert.equal(response.headers.location, '/auth/login');
        assert.equal(response.cookies.find((c) => c.name === 'login_notice')?.value, 'logged-out');
        const cleared = sessionCookieOf(response);
        assert.equal(cleared?.value, '');
        assert.ok(cleared?.expires && cleared.expires.getTime() <= Date.now());
        assert.equal(await storeHas(cookie), false);
        const page = await app.inject({ method: 'GET', url: '/auth/login', headers: BROWSER, cookies: { login_notice: 'logged-out' } });
        assert.match(page.body, /<p class="notice" role="status">You have been logged out<\/p>/);

        const byCookie = await app.inject({ method: 'GET', url: '/admin/me', cookies: { session: cookie } });
        assert.equal(byCookie.statusCode, 401);
        const byToken = await app.inject({ method: 'GET', url: '/admin/me', headers: { authorization: `Bearer ${token}` } });
        assert.equal(byToken.statusCode, 401);
        assert.deepEqual(byToken.json(), INVALID_TOKEN);
      });

      it('says so when the request had no logged-in session', async () => {
        const response = await app.inject({ method: 'POST', url: '/auth/logout' });
        assert.equal(response.statusCode, 303);
        assert.equal(response.headers.location, '/auth/login');
        assert.equal(response.cookies.find((c) => c.name === 'login_notice')?.value, 'not-logged-in');
        assert.equal(sessionCookieOf(response), undefined);
        const json = await app.inject({ method: 'POST', url: '/auth/logout', headers: API });
        assert.deepEqual(json.json(), { message: 'This session has not been logged in before' });
      });

      it('answers a script in a browser (fetch, as Swagger UI calls it) with JSON, not a redirect', async () => {
        const { cookie } = await login(app);
        const response = await app.inject({
          method: 'POST',
          url: '/auth/logout',
          headers: { accept: '*/*', 'sec-fetch-mode': 'cors' },
          cookies: { session: cookie },
        });
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), { message: 'You have been logged out' });
      });

      it('ends the session behind a bearer token when there is no cookie', async () => {
        const { cookie, token } = await login(app);
        const response = await app.inject({
          method: 'POST',
          url: '/auth/logout',
          headers: { authorization: `Bearer ${token}`, ...API },
        });
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), { message: 'You have been logged out' });
        assert.equal(await storeHas(cookie), false);
        const after = await app.inject({ method: 'GET', url: '/admin/me', cookies: { session: cookie } });
        assert.equal(after.statusCode, 401);
      });

      it('ends the session behind a bearer token when the cookie beside it names no live session, and clears the cookie', async () => {
        const stale = await login(app);
        await app.inject({ method: 'POST', url: '/auth/logout', cookies: { session: stale.cookie } });
        const live = await login(app);
        const response = await app.inject({
          method: 'POST',
          url: '/auth/logout',
          headers: { authorization: `Bearer ${live.token}`, ...API },
          cookies: { session: stale.cookie },
        });
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), { message: 'You have been logged out' });
        assert.equal(sessionCookieOf(response)?.value, '', 'the stale cookie is cleared');
        assert.equal(await storeHas(live.cookie), false);
        const after = await app.inject({ method: 'GET', url: '/admin/me', headers: { authorization: `Bearer ${live.token}` } });
        assert.equal(after.statusCode, 401);
      });

      it("ends the cookie's session, not the bearer's, when both are live", async () => {
        const [byCookie, byToken] = [await login(app), await login(app)];
        const response = await app.inject({
          method: 'POST',
          url: '/auth/logout',
          headers: { authorization: `Bearer ${byToken.token}`, ...API },
          cookies: { session: byCookie.cookie },
        });
        assert.deepEqual(response.json(), { message: 'You have been logged out' });
        assert.equal(await storeHas(byCookie.cookie), false);
        assert.equal(await storeHas(byToken.cookie), true);
      });
    });

    describe('GET /auth/home', () => {
      it('greets the logged-in employee with links and a logout button', async () => {
        const { cookie } = await login(app);
        const response = await app.inject({ method: 'GET', url: '/auth/home', headers: BROWSER, cookies: { session: cookie } });
        assert.equal(response.statusCode, 200);
        assert.match(response.body, /<title>Home · Employees Portal<\/title>/);
        assert.match(response.body, /Welcome, Be Hai Doe/);
        assert.match(response.body, /<li><a href="\/admin\/me">My details<\/a><\/li>/);
        assert.match(response.body, /<a href="\/emp\/own-get-update\/500222">Edit my details<\/a>/);
        assert.match(
          response.body,
          /<span class="disabled" aria-disabled="true">Search Employees<\/span> <span class="reason">\(needs “See every employee”\)<\/span>/,
        );
        assert.doesNotMatch(response.body, /Add a New Employee/, 'not offered to someone who cannot even search');
        assert.match(response.body, /<a href="\/docs">API documentation \(Swagger UI\)<\/a>/);
        assert.match(response.body, /<ul><li>See own details<\/li><li>Change own details<\/li><\/ul>/);
        assert.match(
          response.body,
          /<form method="post" action="\/auth\/logout">\s*<input type="hidden" name="_csrf" value="[\w-]{43}">\s*<button type="submit">Logout<\/button>/,
        );
      });

      it('sends a browser that is not logged in to the login page, asking it to log in', async () => {
        const response = await app.inject({ method: 'GET', url: '/auth/home', headers: BROWSER });
        assert.equal(response.statusCode, 303);
        assert.equal(response.headers.location, '/auth/login');
        assert.equal(response.cookies.find((cookie) => cookie.name === 'login_notice')?.value, 'login-required');
      });

      it('remembers a deep link through the login page, and drops one that leaves the site', async () => {
        const response = await app.inject({ method: 'GET', url: '/emp/search?last_name=nas', headers: BROWSER });
        assert.equal(response.statusCode, 303);
        assert.equal(response.headers.location, '/auth/login?next=%2Femp%2Fsearch%3Flast_name%3Dnas');
        const page = await app.inject({ method: 'GET', url: response.headers.location as string, headers: BROWSER });
        assert.match(page.body, /<input type="hidden" name="next" value="\/emp\/search\?last_name=nas">/);
        for (const next of ['//evil.com', '/\\evil.com', 'https://evil.com', '%2F%2Fevil.com', '/\t/evil.com']) {
          const hostile = await app.inject({ method: 'GET', url: `/auth/login?next=${encodeURIComponent(next)}`, headers: BROWSER });
          assert.equal(hostile.statusCode, 200, next);
          assert.doesNotMatch(hostile.body, /name="next"/, next);
        }
      });

      it('tells a browser whose session has ended that it has', async () => {
        const { cookie } = await login(app);
        await app.inject({ method: 'POST', url: '/auth/logout', cookies: { session: cookie } });
        const response = await app.inject({ method: 'GET', url: '/auth/home', headers: BROWSER, cookies: { session: cookie } });
        assert.equal(response.statusCode, 303);
        assert.equal(response.cookies.find((cookie) => cookie.name === 'login_notice')?.value, 'session-ended');
      });

      it('answers a program that is not logged in with 401', async () => {
        const response = await app.inject({ method: 'GET', url: '/auth/home', headers: API });
        assert.equal(response.statusCode, 401);
        assert.deepEqual(response.json(), NOT_AUTHENTICATED);
      });
    });

    describe('sessions that outlive the app', () => {
      it('keeps a login across a restart of the app', async () => {
        const { cookie, token } = await login(app);
        await restart();
        const byCookie = await app.inject({ method: 'GET', url: '/admin/me', cookies: { session: cookie } });
        assert.equal(byCookie.statusCode, 200);
        assert.equal(byCookie.json().emp_no, U1.empNo);
        const byToken = await app.inject({ method: 'GET', url: '/admin/me', headers: { authorization: `Bearer ${token}` } });
        assert.equal(byToken.statusCode, 200);
      });
    });

    if (store === 'redis') {
      it('keeps the session in Redis under <SESSION_KEY_PREFIX><id> with an expiry', async () => {
        const { cookie } = await login(app);
        const redis = new Redis(SERVICE_URLS.redis);
        try {
          const key = `${env.keyPrefix}${cookie.split('.')[0]}`;
          const ttl = await redis.ttl(key);
          assert.ok(ttl > 0 && ttl <= 1800, `ttl ${ttl}`);
          const value = (await redis.get(key))!;
          assert.ok(!value.includes(cookie.split('.')[1]!), 'the secret itself is not stored');
        } finally {
          redis.disconnect();
        }
      });
    }
  });
}
