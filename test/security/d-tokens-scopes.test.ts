/**
 * Checklist group D: the JWT, the bearer fallback and scopes. Tokens are forged here the way an
 * attacker would (by hand, with node:crypto) or minted with the real key where the checklist says
 * "in the test environment" ([GB]).
 *
 * Also covered elsewhere: test/routes/auth.test.ts (garbage, alg none, expired and foreign-key
 * tokens; cookie before bearer), test/routes/employees.test.ts (scopes per route, narrowing).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomUUID, sign as cryptoSign } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { serviceGate } from '../helpers/services.js';
import { API, FORM, form, login, useSuiteApp } from '../helpers/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { b64url, decodeJwt, me, portOf, rawBody, rawRequest } from './support.js';
import { ADMIN, ADMIN_READ, credentials, NO_SCOPES, type Person, SUPER, U1, U1_ME, U2, USER_READ } from '../helpers/people.js';
import { INVALID_TOKEN, NOT_AUTHENTICATED, NOT_ENOUGH_PERMISSIONS } from '../helpers/messages.js';

const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';

/** A JWT with exactly this header and payload, HMAC-SHA256 signed with `key` (or unsigned). */
function forge(header: Record<string, unknown>, payload: Record<string, unknown>, key?: string | Buffer): string {
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  const signature = key === undefined ? '' : createHmac('sha256', key).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

/** The README's implication table, written out here rather than imported from src/identity/scopes.ts. */
const IMPLIES: Record<string, string[]> = {
  'user:read': ['user:read'],
  'user:write': ['user:write', 'user:read'],
  'admin:read': ['admin:read', 'user:read'],
  'admin:write': ['admin:write', 'admin:read', 'user:write', 'user:read'],
  'audit:read': ['audit:read'],
  'super:*': ['super:*', 'admin:write', 'admin:read', 'user:write', 'user:read', 'audit:read'],
};
const holds = (granted: string[], required: string[]) => {
  const closure = new Set(granted.flatMap((scope) => IMPLIES[scope] ?? []));
  return required.every((scope) => closure.has(scope));
};

describe('D. JWT, bearer fallback and scopes', await serviceGate('redis'), () => {
  const { app, env } = useSuiteApp({
    store: 'redis',
    env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_CLIENT: '100000' },
  });
  let key: string;
  let u1: { cookie: string; token: string };
  let claims: Record<string, unknown>;
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    key = env.config.SECRET_KEY;
    u1 = await login(app, U1);
    claims = decodeJwt(u1.token).payload;
  });

  async function assertInvalidToken(token: string, label: string) {
    const response = await me(app, { token });
    assert.equal(response.statusCode, 401, label);
    assert.deepEqual(response.json(), INVALID_TOKEN, label);
    assert.equal(response.headers['www-authenticate'], INVALID_TOKEN_CHALLENGE, label);
  }

  it('D-01 signs tokens HS256 only, with iss, aud, exp within the TTL, jti and sid, and no secret material', () => {
    const { header, payload } = decodeJwt(u1.token);
    assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' });
    assert.deepEqual(Object.keys(payload).sort(), ['aud', 'emp_no', 'exp', 'iat', 'iss', 'jti', 'scopes', 'sid', 'sub']);
    assert.equal(payload.iss, 'employees-portal');
    assert.equal(payload.aud, 'employees-portal');
    assert.equal((payload.exp as number) - (payload.iat as number), env.config.ACCESS_TOKEN_EXPIRE_SECONDS);
    assert.equal(env.config.ACCESS_TOKEN_EXPIRE_SECONDS, 1800);
    assert.match(payload.jti as string, /^[0-9a-f-]{36}$/);
    // sub is the login email, as in the seed series (a recorded deviation: the token goes only to
    // the person themself); emp_no is the stable number.
    assert.equal(payload.sub, U1.username);
    assert.equal(payload.emp_no, U1.empNo);
    assert.deepEqual(payload.scopes, ['user:read', 'user:write'], 'exactly what was granted');
    // sid names the session; the cookie's secret half never travels in a token.
    assert.equal(payload.sid, u1.cookie.split('.')[0]);
    assert.ok(!u1.token.includes(u1.cookie.split('.')[1]!));
    assert.doesNotMatch(JSON.stringify(payload), /\$argon2|\$2[aby]\$|password/);
    // The key: at least 32 characters (256 bits of a generated key's base64url), or no start.
    assert.throws(() => loadConfig({ SECRET_KEY: 'k'.repeat(31) }), ConfigError);
  });

  it('D-02 refuses unsigned tokens: alg none, None, NONE and NoNe, with an empty signature or none at all', async () => {
    const raised = { ...claims, scopes: ['admin:write', 'super:*'], exp: now() + 600 };
    for (const alg of ['none', 'None', 'NONE', 'NoNe']) {
      const unsigned = forge({ alg, typ: 'JWT' }, raised);
      await assertInvalidToken(unsigned, `${alg} with an empty signature`);
      await assertInvalidToken(unsigned.slice(0, -1), `${alg} without the trailing dot`);
    }
  });

  it('D-03 refuses other algorithms, keys named in the header, and never fetches a jku or x5u', async () => {
    let fetches = 0;
    const listener: Server = createServer((_request, response) => {
      fetches++;
      response.end('{"keys":[]}');
    });
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const jku = `http://127.0.0.1:${(listener.address() as { port: number }).port}/jwks.json`;
    try {
      const payload = { ...claims, scopes: ['super:*'], exp: now() + 600 };
      const attackerKey = 'an attacker key of at least thirty-two characters';
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const jwk = publicKey.export({ format: 'jwk' });
      const rs256 = (header: Record<string, unknown>) => {
        const input = `${b64url(header)}.${b64url(payload)}`;
        return `${input}.${cryptoSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
      };
      const forged = {
        'RS256 with the attacker key in jwk': rs256({ alg: 'RS256', typ: 'JWT', jwk }),
        'RS256 with a jku': rs256({ alg: 'RS256', typ: 'JWT', jku }),
        'RS256 with an x5u': rs256({ alg: 'RS256', typ: 'JWT', x5u: jku }),
        'HS256 signed with a public key PEM': forge({ alg: 'HS256', typ: 'JWT' }, payload, publicPem),
        'HS256 signed with a whitespace-prefixed PEM': forge({ alg: 'HS256', typ: 'JWT' }, payload, `  ${publicPem}`),
        'HS256 signed with a CRLF PEM': forge({ alg: 'HS256', typ: 'JWT' }, payload, publicPem.replaceAll('\n', '\r\n')),
        'HS256 with an oct jwk of the attacker key': forge(
          { alg: 'HS256', typ: 'JWT', jwk: { kty: 'oct', k: b64url(attackerKey) } },
          payload,
          attackerKey,
        ),
        'HS256 with a jku': forge({ alg: 'HS256', typ: 'JWT', jku }, payload, attackerKey),
        'HS256 with kid ../../dev/null and an empty key': forge({ alg: 'HS256', typ: 'JWT', kid: '../../dev/null' }, payload, ''),
        "HS256 with kid ' OR '1'='1": forge({ alg: 'HS256', typ: 'JWT', kid: "' OR '1'='1" }, payload, attackerKey),
        'HS384 with the real key': forge({ alg: 'HS384', typ: 'JWT' }, payload, key),
        'ES256 header with an HMAC signature': forge({ alg: 'ES256', typ: 'JWT' }, payload, key),
      };
      for (const [label, token] of Object.entries(forged)) await assertInvalidToken(token, label);
      assert.equal(fetches, 0, 'no outbound fetch of a jku or x5u');
    } finally {
      listener.close();
    }
  });

  it('D-04 refuses tampered, expired, not-yet-valid, wrong-audience, wrong-issuer and exp-less tokens', async () => {
    const mint = (changes: Record<string, unknown>, drop: string[] = []) => {
      const payload: Record<string, unknown> = { ...claims, iat: now(), exp: now() + 600, jti: randomUUID(), ...changes };
      for (const name of drop) delete payload[name];
      return forge({ alg: 'HS256', typ: 'JWT' }, payload, key);
    };
    // The control: minted the same way, nothing wrong with it, it works.
    assert.deepEqual((await me(app, { token: mint({}) })).json(), U1_ME);

    const [header, payload, signature] = u1.token.split('.') as [string, string, string];
    const bytes = Buffer.from(payload, 'base64url');
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x01;
    await assertInvalidToken(`${header}.${bytes.toString('base64url')}.${signature}`, 'one payload byte flipped');
    // Clock skew tolerance is zero: a token is dead the second its exp has passed.
    await assertInvalidToken(mint({ exp: now() - 1 }), 'expired 1 s ago');
    await assertInvalidToken(mint({ exp: now() - 61 }), 'expired 61 s ago');
    await assertInvalidToken(mint({ nbf: now() + 3600 }), 'nbf an hour ahead');
    await assertInvalidToken(mint({ aud: 'another-service' }), 'wrong aud');
    await assertInvalidToken(mint({ iss: 'https://evil.example' }), 'wrong iss');
    await assertInvalidToken(mint({}, ['exp']), 'no exp');
    await assertInvalidToken(mint({}, ['sid']), 'no sid');
    await assertInvalidToken(mint({ emp_no: U2.empNo }), "another person's number on this session");
  });

  it('D-05 parses Authorization: any case of Bearer, a lenient space, 401 with a challenge otherwise, and nothing from the URL or body', async () => {
    for (const header of [`bearer ${u1.token}`, `BEARER ${u1.token}`, `Bearer  ${u1.token}`]) {
      const response = await me(app, { headers: { authorization: header } });
      assert.equal(response.statusCode, 200, header.slice(0, 8));
      assert.deepEqual(response.json(), U1_ME);
    }
    for (const header of [
      'Bearer',
      'Bearer ',
      `Basic ${Buffer.from(`${U1.username}:password`).toString('base64')}`,
      `Token ${u1.token}`,
      u1.token,
      `Bearer ${u1.token} extra`,
    ]) {
      const response = await me(app, { headers: { authorization: header } });
      assert.equal(response.statusCode, 401, JSON.stringify(header.slice(0, 12)));
      assert.match(response.headers['www-authenticate'] as string, /^Bearer/);
      assert.ok([JSON.stringify(NOT_AUTHENTICATED), JSON.stringify(INVALID_TOKEN)].includes(response.body));
    }
    assert.equal((await app.inject({ method: 'GET', url: `/api/me?access_token=${u1.token}` })).statusCode, 401);
    const inBody = await app.inject({
      method: 'POST',
      url: '/api/password',
      headers: { ...FORM },
      payload: form({ access_token: u1.token, current_password: 'x', new_password: 'y' }),
    });
    assert.equal(inBody.statusCode, 401);

    // Over a real socket: an oversized header is 431; of two Authorization headers the first counts.
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = portOf(app);
    const huge = await rawRequest(
      port,
      `GET /api/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${'a'.repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(huge.status, 431);
    const twice = (first: string, second: string) =>
      rawRequest(
        port,
        `GET /api/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${first}\r\nAuthorization: Bearer ${second}\r\nConnection: close\r\n\r\n`,
      );
    const validFirst = await twice(u1.token, 'junk');
    assert.equal(validFirst.status, 200);
    assert.deepEqual(JSON.parse(rawBody(validFirst)), U1_ME);
    assert.equal((await twice('junk', u1.token)).status, 401);
  });

  it('D-06 takes the session cookie first, then the bearer token, and never mixes two identities', async () => {
    // The seed's OAuth2PasswordBearerRedis order, a recorded deviation from "Authorization wins".
    const u2 = await login(app, U2);
    const mixed = await me(app, { cookie: u1.cookie, token: u2.token });
    assert.equal(mixed.statusCode, 200);
    assert.deepEqual(mixed.json(), U1_ME, '(a) U1 cookie + U2 bearer: U1, and only U1');
    const badBearer = await me(app, { cookie: u1.cookie, token: `${u2.token}x` });
    assert.deepEqual(badBearer.json(), U1_ME, '(b) valid cookie + invalid bearer: the cookie person');
    const expired = forge({ alg: 'HS256', typ: 'JWT' }, { ...decodeJwt(u2.token).payload, exp: now() - 10 }, key);
    assert.deepEqual((await me(app, { cookie: u1.cookie, token: expired })).json(), U1_ME, '(b) with an expired bearer');
    const staleCookie = await me(app, { cookie: `${'x'.repeat(22)}.${'y'.repeat(22)}`, token: u2.token });
    assert.equal(staleCookie.statusCode, 200, '(c) invalid cookie + valid bearer: the bearer person');
    assert.equal(staleCookie.json().emp_no, U2.empNo);
    assert.equal(staleCookie.json().username, U2.username);
  });

  describe('D-07', () => {
    /** Well-formed, and no registration was started: refused (400) for whoever may register. */
    const PASSKEY_ANSWER = {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      clientExtensionResults: {},
      response: { clientDataJSON: 'AAAA', attestationObject: 'AAAA' },
    };
    const people: Array<[string, Person, string | undefined]> = [
      ['no scopes', NO_SCOPES, undefined],
      ['user:read', USER_READ, undefined],
      ['user:read user:write', U1, undefined],
      ['user:write narrowed to user:read', U1, 'user:read'],
      ['admin:read', ADMIN_READ, undefined],
      ['admin:read admin:write', ADMIN, undefined],
      ['super:*', SUPER, undefined],
    ];
    let operations: Array<{ method: string; path: string; required: string[] }>;
    before(async () => {
      const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
        paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>>;
      }>();
      operations = Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.entries(methods).flatMap(([method, operation]) => {
          const required = operation.security?.find((entry) => entry.OAuth2PasswordBearer)?.OAuth2PasswordBearer;
          return required ? [{ method: method.toUpperCase(), path, required }] : [];
        }),
      );
    });

    /** A request to `path` with parameters and a body that cannot change anything even when allowed. */
    function requestFor(method: string, path: string, person: Person) {
      const url = path
        .replace(
          '{emp_no}',
          path.includes('own-get-update') ? String(person.empNo) : /account|end-all|reset/.test(path) ? '2000000000' : '10001',
        )
        .replace('{last_name}', '%25ab%25')
        .replace('{first_name}', '%25')
        .replace('{session_id}', 'A'.repeat(22))
        .replace('{credential_id}', 'A'.repeat(22));
      const bodies: Record<string, { headers: Record<string, string>; payload: string }> = {
        'admin-save': { headers: FORM, payload: form({ firstName: '' }) },
        'user-save': { headers: FORM, payload: form({ empNo: String(person.empNo), firstName: '' }) },
        password: { headers: FORM, payload: form({ current_password: 'not it', new_password: 'x' }) },
        scopes: { headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ scopes: ['no:such-scope'] }) },
        account: { headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ disabled: false }) },
        // A code that is never right: confirming or removing an authenticator app changes nothing.
        'mfa/totp': { headers: FORM, payload: form({ code: 'not-a-code' }) },
        // A passkey answer to no challenge, and a passkey nobody has: nothing is stored or renamed.
        'passkeys/registration': {
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ name: 'x', response: PASSKEY_ANSWER }),
        },
        rename: { headers: FORM, payload: form({ name: 'x' }) },
      };
      const body = method === 'POST' ? Object.entries(bodies).find(([name]) => path.includes(name))?.[1] : undefined;
      return { method: method as 'GET' | 'POST', url, headers: { ...API, ...body?.headers }, ...(body ? { payload: body.payload } : {}) };
    }

    it("D-07 enforces every operation's scopes alike for bearer and cookie: 403 insufficient_scope naming them", async () => {
      assert.ok(operations.length >= 20, `${operations.length} protected operations`);
      const checked = operations.filter(({ path }) => !path.endsWith('/sessions/end-all') || path.includes('{emp_no}'));
      for (const [label, person, scope] of people) {
        const response = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: FORM,
          payload: form({ ...credentials(person), ...(scope ? { scope } : {}) }),
        });
        const granted = (response.json().scope as string).split(' ').filter(Boolean);
        const cookie = response.cookies.find((c) => c.name === 'session')!.value;
        const token = response.json().access_token as string;
        for (const { method, path, required } of checked) {
          for (const via of ['bearer', 'cookie'] as const) {
            const request = requestFor(method, path, person);
            const result = await app.inject(
              via === 'bearer'
                ? { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } }
                : { ...request, cookies: { session: cookie } },
            );
            const where = `${label} via ${via}: ${method} ${path} (needs ${required.join(' ') || 'a login'})`;
            if (holds(granted, required)) {
              assert.ok(
                ![401, 403].includes(result.statusCode) && result.statusCode < 500,
                `${where}: ${result.statusCode} ${result.body.slice(0, 120)}`,
              );
            } else {
              assert.equal(result.statusCode, 403, where);
              assert.deepEqual(result.json(), NOT_ENOUGH_PERMISSIONS, where);
              assert.equal(result.headers['www-authenticate'], `Bearer error="insufficient_scope", scope="${required.join(' ')}"`, where);
            }
            // D-09: no response of any route ever carries a password hash.
            assert.doesNotMatch(result.body, /\$argon2|\$2[aby]\$\d\d\$|"password"\s*:/, where);
          }
        }
      }
      for (const { method, path } of checked) {
        const anonymous = await app.inject(requestFor(method, path, U1));
        assert.equal(anonymous.statusCode, 401, `anonymous ${method} ${path}`);
        assert.deepEqual(anonymous.json(), NOT_AUTHENTICATED);
      }
    });
  });

  it("D-08 grants no scope beyond the person's own: asking for more narrows, unknown names are dropped, oversize is 422", async () => {
    const ask = (scope: string, person: Person = U1) =>
      app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form({ ...credentials(person), scope }) });
    const narrowed = await ask('admin:read admin:write user:read');
    assert.equal(narrowed.statusCode, 200);
    assert.equal(narrowed.json().scope, 'user:read');
    assert.deepEqual(decodeJwt(narrowed.json().access_token).payload.scopes, ['user:read']);
    const cookie = narrowed.cookies.find((c) => c.name === 'session')!.value;
    assert.deepEqual((await me(app, { cookie })).json().scopes, ['user:read'], 'the cookie session carries the same scopes');
    assert.equal((await app.inject({ method: 'GET', url: '/api/emp/search/%25a%25/%25', cookies: { session: cookie } })).statusCode, 403);

    const root = await ask('root');
    assert.equal(root.json().scope, '', 'an unknown scope is never granted');
    assert.equal((await me(app, { token: root.json().access_token })).statusCode, 403);
    assert.equal((await ask('user:read user:read')).json().scope, 'user:read');
    const huge = await ask('user:read '.repeat(1024));
    assert.equal(huge.statusCode, 422);
    assert.equal(huge.json().errors[0].field, 'scope');
  });

  it("D-09 keeps a person to their own record: no one else's, no privileged fields, never a hash", async () => {
    const other = U2.empNo;
    const beforeRow = await app.db.selectFrom('employees').selectAll().where('emp_no', '=', other).executeTakeFirstOrThrow();
    for (const url of [
      `/api/emp/own-get-update/${other}`,
      `/api/emp/admin-get-update/${other}`,
      `/api/emp/scopes/${other}`,
      `/api/emp/sessions/${other}`,
    ]) {
      const response = await app.inject({ method: 'GET', url, cookies: { session: u1.cookie } });
      assert.equal(response.statusCode, 403, url);
      assert.deepEqual(response.json(), NOT_ENOUGH_PERMISSIONS);
    }
    const fields = { birthDate: '09/12/1978', firstName: 'Be Hai', lastName: 'Doe', gender: 'M', hireDate: '01/11/2022' };
    const theirs = await app.inject({
      method: 'POST',
      url: '/api/emp/user-save',
      headers: FORM,
      cookies: { session: u1.cookie },
      payload: form({ ...fields, empNo: String(other), firstName: 'Hacked' }),
    });
    assert.equal(theirs.statusCode, 403);
    assert.deepEqual(await app.db.selectFrom('employees').selectAll().where('emp_no', '=', other).executeTakeFirstOrThrow(), beforeRow);

    const mine = await app.db.selectFrom('employees').selectAll().where('emp_no', '=', U1.empNo).executeTakeFirstOrThrow();
    const privileged = {
      role: 'admin',
      scopes: 'super:*',
      password_hash: 'x',
      is_admin: 'true',
      password: 'a new password here',
      email: 'evil@example.com',
      disabled: '0',
      emp_no: '1',
    };
    const own = await app.inject({
      method: 'POST',
      url: '/api/emp/user-save',
      headers: FORM,
      cookies: { session: u1.cookie },
      payload: form({ ...fields, empNo: String(U1.empNo), ...privileged }),
    });
    assert.equal(own.statusCode, 200);
    assert.deepEqual(own.json(), {
      emp_no: U1.empNo,
      email: U1.username,
      first_name: 'Be Hai',
      last_name: 'Doe',
      birth_date: '1978-12-09',
      gender: 'M',
      hire_date: '2022-11-01',
    });
    const after = await app.db.selectFrom('employees').selectAll().where('emp_no', '=', U1.empNo).executeTakeFirstOrThrow();
    assert.deepEqual({ ...after }, { ...mine }, 'privileged fields ignored: hash, email, disabled unchanged');
    const scopes = await app.db.selectFrom('employee_scopes').select('scope').where('emp_no', '=', U1.empNo).orderBy('scope').execute();
    assert.deepEqual(
      scopes.map((row) => row.scope),
      ['user:read', 'user:write'],
    );
    // An administrator's update cannot set a password or email either.
    const admin = await login(app, ADMIN);
    const adminSave = await app.inject({
      method: 'POST',
      url: '/api/emp/admin-save',
      headers: FORM,
      cookies: { session: admin.cookie },
      payload: form({ ...fields, empNo: String(U1.empNo), ...privileged }),
    });
    assert.equal(adminSave.statusCode, 200);
    assert.equal(
      (await app.db.selectFrom('employees').select('password').where('emp_no', '=', U1.empNo).executeTakeFirstOrThrow()).password,
      mine.password,
    );
  });
});
