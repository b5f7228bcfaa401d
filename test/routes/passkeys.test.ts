/**
 * The passkey routes through the real HTTP layer, with a software passkey (test/helpers/webauthn.ts)
 * answering as browser and authenticator: registration by a logged-in person, the JSON list, a login
 * whose second step is a passkey, what a pending login may not reach, replays, and racing answers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { API, BROWSER, FORM, form, login, sessionCookieOf, useSuiteApp } from '../helpers/app.js';
import { ADMIN, U1 } from '../helpers/people.js';
import { SoftPasskey } from '../helpers/webauthn.js';

/** The test config's defaults: PORT 5000, no PUBLIC_ORIGIN, so passkeys live on http://localhost:5000. */
const ORIGIN = 'http://localhost:5000';

async function post(app: FastifyInstance, url: string, cookie: string, payload?: object) {
  return app.inject({ method: 'POST', url, headers: API, cookies: { session: cookie }, ...(payload ? { payload } : {}) });
}

/** Registers a new software passkey for the holder of `cookie` through the JSON routes. */
async function registerPasskey(app: FastifyInstance, cookie: string, name: string): Promise<SoftPasskey> {
  const passkey = new SoftPasskey(ORIGIN, 'localhost');
  const options = await post(app, '/api/mfa/passkeys/registration/options', cookie);
  assert.equal(options.statusCode, 200);
  const registered = await post(app, '/api/mfa/passkeys/registration', cookie, { name, response: passkey.register(options.json()) });
  assert.equal(registered.statusCode, 201, registered.body);
  return passkey;
}

/** The password step on the login page (a program is not given a pending session): where it leads, and the pending session's cookie. */
async function enterPassword(app: FastifyInstance, person = U1): Promise<{ status: number; location: unknown; cookie: string }> {
  const response = await app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { ...FORM, ...BROWSER },
    payload: form({ username: person.username, password: person.password }),
  });
  return { status: response.statusCode, location: response.headers.location, cookie: sessionCookieOf(response)?.value ?? '' };
}

describe('passkey routes', () => {
  const { app } = useSuiteApp({ env: { MFA_REQUIRED_SCOPES: 'admin:write super:*' } });
  let laptop: SoftPasskey;

  it('registers a passkey for a logged-in person and lists it', async () => {
    const { cookie } = await login(app, U1);
    laptop = await registerPasskey(app, cookie, 'Laptop');
    const listed = await app.inject({ url: '/api/mfa/passkeys', cookies: { session: cookie } });
    const [passkey] = listed.json().passkeys;
    assert.deepEqual(listed.json(), {
      available: true,
      passkeys: [{ id: laptop.id, name: 'Laptop', transports: ['internal'], created_at: passkey.created_at, last_used_at: null }],
    });
    const renamed = await post(app, `/api/mfa/passkeys/${laptop.id}/rename`, cookie, { name: 'Work laptop' });
    assert.deepEqual([renamed.statusCode, renamed.json()], [200, { message: 'Passkey renamed' }]);
  });

  it('makes the next login pending, and a pending login reaches no protected route and gets no token', async () => {
    const program = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...API },
      payload: form({ username: U1.username, password: U1.password }),
    });
    assert.deepEqual([program.statusCode, program.json().error, sessionCookieOf(program)], [400, 'mfa_required', undefined]);
    const pending = await enterPassword(app);
    assert.deepEqual([pending.status, pending.location], [303, '/auth/mfa']);
    for (const url of ['/api/me', '/api/sessions', '/api/mfa/passkeys', '/emp/search/nas/an']) {
      const response = await app.inject({ url, headers: API, cookies: { session: pending.cookie } });
      assert.equal(response.statusCode, 401, url);
    }
    const registering = await post(app, '/api/mfa/passkeys/registration/options', pending.cookie);
    assert.equal(registering.statusCode, 401);
  });

  it('completes the login with the passkey: a new session id with the scopes, the pending one gone', async () => {
    const pending = await enterPassword(app);
    const options = await post(app, '/auth/mfa/passkeys/authentication/options', pending.cookie);
    assert.deepEqual(options.json().allowCredentials, [{ id: laptop.id, type: 'public-key', transports: ['internal'] }]);
    const done = await post(app, '/auth/mfa/passkeys/authentication', pending.cookie, { response: laptop.authenticate(options.json()) });
    assert.deepEqual([done.statusCode, done.json()], [200, { message: 'Logged in', next: '/auth/home' }]);
    const full = sessionCookieOf(done)?.value ?? '';
    assert.notEqual(full.split('.')[0], pending.cookie.split('.')[0]);
    const me = await app.inject({ url: '/api/me', cookies: { session: full } });
    assert.deepEqual([me.statusCode, me.json().scopes], [200, ['user:read', 'user:write']]);
    const old = await app.inject({ url: '/auth/mfa', headers: API, cookies: { session: pending.cookie } });
    assert.equal(old.statusCode, 401);
  });

  it('refuses a replayed authentication answer, even with a fresh challenge', async () => {
    const pending = await enterPassword(app);
    const options = await post(app, '/auth/mfa/passkeys/authentication/options', pending.cookie);
    const answer = laptop.authenticate(options.json());
    const first = await post(app, '/auth/mfa/passkeys/authentication', pending.cookie, { response: answer });
    assert.equal(first.statusCode, 200);
    const again = await enterPassword(app);
    const replayed = await post(app, '/auth/mfa/passkeys/authentication', again.cookie, { response: answer });
    assert.deepEqual(
      [replayed.statusCode, replayed.json().detail],
      [400, 'No passkey request is under way for this session, or it has expired: start again'],
    );
    await post(app, '/auth/mfa/passkeys/authentication/options', again.cookie);
    const stale = await post(app, '/auth/mfa/passkeys/authentication', again.cookie, { response: answer });
    assert.deepEqual([stale.statusCode, stale.json().detail], [400, 'The passkey could not be verified']);
  });

  it('turns one pending login into exactly one full session when answers race', async () => {
    const pending = await enterPassword(app);
    const options = await post(app, '/auth/mfa/passkeys/authentication/options', pending.cookie);
    const answer = laptop.authenticate(options.json());
    const results = await Promise.all(
      Array.from({ length: 5 }, () => post(app, '/auth/mfa/passkeys/authentication', pending.cookie, { response: answer })),
    );
    assert.deepEqual(results.map((response) => response.statusCode).sort(), [200, 400, 400, 400, 400]);
  });

  it('lets an administrator who must enrol set up a passkey instead of an app, completing the login', async () => {
    const pending = await enterPassword(app, ADMIN);
    assert.deepEqual([pending.status, pending.location], [303, '/auth/mfa/totp/enrol']);
    const passkey = new SoftPasskey(ORIGIN, 'localhost');
    const options = await post(app, '/api/mfa/passkeys/registration/options', pending.cookie);
    assert.equal(options.statusCode, 200, options.body);
    const done = await post(app, '/api/mfa/passkeys/registration', pending.cookie, {
      name: 'Key',
      response: passkey.register(options.json()),
    });
    assert.deepEqual([done.statusCode, done.json().next], [201, '/auth/home']);
    const full = sessionCookieOf(done)?.value ?? '';
    const me = await app.inject({ url: '/api/me', cookies: { session: full } });
    assert.equal(me.statusCode, 200);
    const removed = await post(app, `/api/mfa/passkeys/${passkey.id}/remove`, full);
    assert.deepEqual(
      [removed.statusCode, removed.json().detail],
      [409, 'Your permissions require a second factor and this passkey is your last one: add another before removing it'],
    );
  });
});
