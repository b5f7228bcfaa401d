/**
 * A person's own sessions and password, and an administrator ending someone's sessions or
 * disabling their login: each ends sessions and the tokens issued with them, at once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serviceGate } from '../helpers/services.js';
import { API, BROWSER, FORM, form, login, sessionCookieOf, STORE_KINDS, useSuiteApp } from '../helpers/app.js';
import { INCORRECT } from '../helpers/messages.js';

const BEHAI = { username: 'behai_nguyen@hotmail.com', password: 'password' };
const NIDAPAN = { username: 'nidapan.samarati.262556@gmail.com', password: 'password' };
const KYOICHI = { username: 'kyoichi.maliniak.10005@gmail.com', password: 'password' }; // admin:write
const MARY = { username: 'mary.sluis.10011@gmail.com', password: 'password' }; // super:*

for (const store of STORE_KINDS) {
  describe(`accounts and sessions with the ${store} store`, await serviceGate(...(store === 'redis' ? ['redis' as const] : [])), () => {
    const { app } = useSuiteApp({ store });

    const me = (credentials: { cookie?: string; token?: string }) =>
      app.inject({
        method: 'GET',
        url: '/api/me',
        ...(credentials.cookie ? { cookies: { session: credentials.cookie } } : {}),
        ...(credentials.token ? { headers: { authorization: `Bearer ${credentials.token}` } } : {}),
      });

    it('lists my live sessions with their client, marking the current one', async () => {
      const phone = await app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: { ...FORM, 'user-agent': 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36' },
        payload: form(NIDAPAN),
      });
      const desktop = await login(app, NIDAPAN);
      const response = await app.inject({ method: 'GET', url: '/auth/sessions', headers: API, cookies: { session: desktop.cookie } });
      assert.equal(response.statusCode, 200);
      const { sessions } = response.json();
      assert.equal(sessions.length, 2);
      assert.deepEqual(
        sessions.map((s: { client: string; current: boolean }) => [s.client, s.current]),
        [
          ['Chrome 120 on Android', false],
          ['Other client', true], // light-my-request's own user agent
        ],
      );
      assert.match(sessions[0].created_at, /^\d{4}-\d\d-\d\dT/);
      assert.equal(sessions[0].id, sessionCookieOf(phone)!.value.split('.')[0]);
      assert.doesNotMatch(response.body, new RegExp(desktop.cookie.split('.')[1]!), 'no secret is shown');
    });

    it('ends one of my other sessions, and its token with it', async () => {
      const other = await login(app, BEHAI);
      const mine = await login(app, BEHAI);
      const id = other.cookie.split('.')[0]!;
      const response = await app.inject({
        method: 'POST',
        url: `/auth/sessions/${id}/end`,
        headers: API,
        cookies: { session: mine.cookie },
      });
      assert.deepEqual(response.json(), { message: 'Session ended' });
      assert.equal((await me({ cookie: other.cookie })).statusCode, 401);
      assert.equal((await me({ token: other.token })).statusCode, 401);
      assert.equal((await me({ cookie: mine.cookie })).statusCode, 200);
    });

    it("refuses to end someone else's session, as if it did not exist", async () => {
      const theirs = await login(app, NIDAPAN);
      const mine = await login(app, BEHAI);
      const response = await app.inject({
        method: 'POST',
        url: `/auth/sessions/${theirs.cookie.split('.')[0]}/end`,
        headers: API,
        cookies: { session: mine.cookie },
      });
      assert.equal(response.statusCode, 404);
      assert.equal((await me({ cookie: theirs.cookie })).statusCode, 200);
    });

    it('ends all my sessions, this one included, and clears the cookie', async () => {
      const a = await login(app, BEHAI);
      const b = await login(app, BEHAI);
      const response = await app.inject({ method: 'POST', url: '/auth/sessions/end-all', headers: API, cookies: { session: a.cookie } });
      assert.equal(response.json().message, 'All your sessions have ended');
      assert.ok(response.json().ended >= 2);
      assert.equal(sessionCookieOf(response)?.value, '');
      for (const c of [a, b]) {
        assert.equal((await me({ cookie: c.cookie })).statusCode, 401);
        assert.equal((await me({ token: c.token })).statusCode, 401);
      }
    });

    it('changes my password, which ends every session of mine', async () => {
      const other = await login(app, NIDAPAN);
      const mine = await login(app, NIDAPAN);
      const wrong = await app.inject({
        method: 'POST',
        url: '/auth/password',
        headers: { ...FORM, ...API },
        cookies: { session: mine.cookie },
        payload: form({ current_password: 'not it', new_password: 'a new long password' }),
      });
      assert.equal(wrong.statusCode, 422);
      assert.deepEqual(wrong.json().errors, [{ field: 'current_password', message: 'is not your current password' }]);
      const short = await app.inject({
        method: 'POST',
        url: '/auth/password',
        headers: { ...FORM, ...API },
        cookies: { session: mine.cookie },
        payload: form({ current_password: 'password', new_password: 'short' }),
      });
      assert.deepEqual(short.json().errors, [{ field: 'new_password', message: 'Please enter between 10 and 64 characters' }]);

      const changed = await app.inject({
        method: 'POST',
        url: '/auth/password',
        headers: { ...FORM, ...BROWSER },
        cookies: { session: mine.cookie },
        payload: form({ current_password: 'password', new_password: 'a new long password' }),
      });
      assert.equal(changed.statusCode, 303);
      assert.equal(changed.headers.location, '/auth/login');
      for (const c of [other, mine]) assert.equal((await me({ token: c.token })).statusCode, 401);
      await login(app, { username: NIDAPAN.username, password: 'a new long password' });
      const old = await app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form(NIDAPAN) });
      assert.equal(old.statusCode, 400);
    });

    it("lets an administrator list and end someone's sessions", async () => {
      const victim = await login(app, BEHAI);
      const admin = await login(app, KYOICHI);
      const listed = await app.inject({ method: 'GET', url: '/emp/sessions/500222', headers: API, cookies: { session: admin.cookie } });
      assert.ok(listed.json().sessions.some((s: { id: string }) => s.id === victim.cookie.split('.')[0]));
      const ended = await app.inject({
        method: 'POST',
        url: '/emp/sessions/500222/end-all',
        headers: API,
        cookies: { session: admin.cookie },
      });
      assert.equal(ended.statusCode, 200);
      assert.ok(ended.json().ended >= 1);
      assert.equal((await me({ token: victim.token })).statusCode, 401);
      const superUser = await app.inject({
        method: 'POST',
        url: '/emp/sessions/10011/end-all',
        headers: API,
        cookies: { session: admin.cookie },
      });
      assert.equal(superUser.statusCode, 403, 'not someone holding a scope the administrator lacks');
    });

    it('disables a login, ending its sessions, and the same answer then meets a right password', async () => {
      const victim = await login(app, BEHAI);
      const admin = await login(app, MARY);
      const disable = await app.inject({
        method: 'POST',
        url: '/emp/account/500222',
        headers: API,
        cookies: { session: admin.cookie },
        payload: { disabled: true },
      });
      assert.deepEqual(disable.json(), { emp_no: 500222, disabled: true, sessions_ended: disable.json().sessions_ended });
      assert.ok(disable.json().sessions_ended >= 1);
      assert.equal((await me({ cookie: victim.cookie })).statusCode, 401);
      const refused = await app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form(BEHAI) });
      assert.equal(refused.statusCode, 400);
      assert.deepEqual(refused.json(), INCORRECT);

      await app.inject({
        method: 'POST',
        url: '/emp/account/500222',
        headers: API,
        cookies: { session: admin.cookie },
        payload: { disabled: false },
      });
      await login(app, BEHAI);
      const self = await app.inject({
        method: 'POST',
        url: '/emp/account/10011',
        headers: API,
        cookies: { session: admin.cookie },
        payload: { disabled: true },
      });
      assert.equal(self.statusCode, 403, 'nobody disables themself');
    });

    it('shows My sessions and the password form as pages, this session first', async () => {
      await login(app, BEHAI);
      const { cookie } = await login(app, BEHAI);
      const sessions = await app.inject({ method: 'GET', url: '/auth/sessions', headers: BROWSER, cookies: { session: cookie } });
      assert.match(sessions.body, /<h1>My sessions<\/h1>/);
      const rows = sessions.body.split('<tr>').slice(2);
      assert.ok(rows.length >= 2);
      assert.match(rows[0]!, /<strong>\(this one\)<\/strong>/);
      assert.doesNotMatch(rows.slice(1).join(''), /this one/);
      assert.match(sessions.body, /<button type="submit" class="danger">End all my sessions<\/button>/);

      const ask = await app.inject({
        method: 'POST',
        url: '/auth/sessions/end-all',
        headers: { ...FORM, ...BROWSER },
        cookies: { session: cookie },
        payload: '',
      });
      assert.equal(ask.statusCode, 200);
      assert.match(ask.body, /<h1 id="confirm-heading">End all your sessions\?<\/h1>/);
      const still = await app.inject({ method: 'GET', url: '/auth/sessions', headers: API, cookies: { session: cookie } });
      assert.equal(still.statusCode, 200, 'nothing ends before the confirmation');
      const password = await app.inject({ method: 'GET', url: '/auth/password', headers: BROWSER, cookies: { session: cookie } });
      assert.match(
        password.body,
        /<input type="password" id="current_password" name="current_password" autocomplete="current-password" required>/,
      );
    });
  });
}
