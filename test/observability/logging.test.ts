/**
 * The log lines of a real app: JSON, a request id on every line of a request (and echoed back),
 * the employee's number once known, and no credential or session material anywhere.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API, FORM, form, sessionCookieOf, useSuiteApp } from '../helpers/app.js';
import { captureLogs } from '../helpers/logs.js';
import { U1 } from '../helpers/people.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('logs', () => {
  const logs = captureLogs();
  const { app } = useSuiteApp({ env: { LOG_LEVEL: 'info' }, build: { logStream: logs.stream } });

  function linesOf(reqId: string) {
    return logs.lines().filter((line) => line.reqId === reqId);
  }

  it('writes one line per request, with its id, and sends the id back', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    const reqId = response.headers['x-request-id'] as string;
    assert.match(reqId, UUID);
    const lines = linesOf(reqId);
    assert.deepEqual(
      lines.map((line) => line.msg),
      ['request completed'],
    );
    assert.deepEqual(lines[0]!.res, { statusCode: 200 });
    assert.deepEqual(lines[0]!.req, { method: 'GET', url: '/health', host: 'localhost:80', remoteAddress: '127.0.0.1' });
  });

  it("keeps a caller's sane X-Request-Id, and replaces anything else", async () => {
    const kept = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'lb-7f3a.2_x' } });
    assert.equal(kept.headers['x-request-id'], 'lb-7f3a.2_x');
    assert.equal(linesOf('lb-7f3a.2_x').length, 1);
    for (const insane of ['a'.repeat(65), 'id with spaces', 'x\n{"level":60}', '']) {
      const response = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': insane } });
      assert.match(response.headers['x-request-id'] as string, UUID, JSON.stringify(insane));
    }
  });

  it('sends the request id back on errors too', async () => {
    const response = await app.inject({ method: 'GET', url: '/admin/me', headers: { ...API, 'x-request-id': 'err-1' } });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['x-request-id'], 'err-1');
  });

  it("carries the employee's number on the lines after they are known, the completed line included", async () => {
    const loginResponse = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...API },
      payload: form({ username: U1.username, password: U1.password }),
    });
    const cookie = sessionCookieOf(loginResponse)!.value;
    const me = await app.inject({ method: 'GET', url: '/admin/me', cookies: { session: cookie }, headers: { 'x-request-id': 'me-1' } });
    assert.equal(me.statusCode, 200);
    const [completed, ...more] = linesOf('me-1');
    assert.deepEqual(more, []);
    assert.equal(completed!.msg, 'request completed');
    assert.equal(completed!.empNo, U1.empNo);
  });

  it('never writes a password, token, cookie or session id', async () => {
    const password = U1.password + '-but-wrong-9c1e';
    await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...API },
      payload: form({ username: U1.username, password }),
    });
    const loginResponse = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...API },
      payload: form({ username: U1.username, password: U1.password }),
    });
    const cookie = sessionCookieOf(loginResponse)!.value;
    const token = loginResponse.json<{ access_token: string }>().access_token;
    await app.inject({ method: 'GET', url: '/admin/me', headers: { authorization: `Bearer ${token}` } });
    await app.inject({ method: 'GET', url: '/admin/me', cookies: { session: cookie } });
    await app.inject({ method: 'POST', url: '/auth/logout', cookies: { session: cookie } });
    // What a careless log call could pass: it is redacted by path, wherever it is written.
    app.log.info({ password, access_token: token, body: { password }, err: { command: { name: 'get', args: [cookie] } } }, 'careless');

    const text = logs.text();
    const [sessionId, secret] = cookie.split('.');
    for (const secretValue of [password, token, cookie, sessionId!, secret!]) {
      assert.ok(!text.includes(secretValue), `the logs contain ${secretValue.slice(0, 12)}…`);
    }
    const careless = logs.lines().find((line) => line.msg === 'careless')!;
    assert.equal(careless.password, '[redacted]');
    assert.equal(careless.access_token, '[redacted]');
  });

  it('writes `req` and `res` only as their fixed summaries, never a header or body (why no redaction path is under them)', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...API, 'x-request-id': 'shape-1', authorization: 'Bearer shape-secret-1', cookie: 'session=shape-secret-2' },
      payload: form({ username: U1.username, password: 'shape-secret-3' }),
    });
    assert.equal(response.statusCode, 400); // a wrong password
    const completed = linesOf('shape-1').find((line) => line.msg === 'request completed')!;
    assert.deepEqual(Object.keys(completed.req as object).sort(), ['host', 'method', 'remoteAddress', 'url']);
    assert.deepEqual(completed.res, { statusCode: 400 });
    // Whatever a log call hands over as `req` or `res`, the serializers keep only those fields.
    const request = {
      method: 'GET',
      url: '/x',
      headers: { authorization: 'Bearer shape-secret-4', cookie: 'a=b' },
      body: { password: 'p' },
    };
    app.log.info({ req: request, res: { statusCode: 200, headers: { 'set-cookie': 'session=shape-secret-5' } } }, 'careless shapes');
    const careless = logs.lines().find((line) => line.msg === 'careless shapes')!;
    assert.deepEqual(careless.req, { method: 'GET', url: '/x' });
    assert.deepEqual(careless.res, { statusCode: 200 });
    assert.ok(!logs.text().includes('shape-secret'), 'a header or body value reached the logs');
  });

  it('redacts credentials a client wrongly puts in the query string, and keeps the rest of the URL', async () => {
    const url = '/api/me?access_token=eyJhbGciOi.secret-part&page=2&Session=abc.def&api%5Fkey=k-123';
    await app.inject({ method: 'GET', url, headers: { 'x-request-id': 'query-1' } });
    const completed = linesOf('query-1').find((line) => line.msg === 'request completed') as { req: { url: string; method: string } };
    assert.deepEqual(completed.req, {
      ...completed.req,
      method: 'GET',
      url: '/api/me?access_token=[redacted]&page=2&Session=[redacted]&api%5Fkey=[redacted]',
    });
    assert.ok(!logs.text().includes('secret-part'));
  });

  it('redacts passwords, tokens and secrets under every common name, after ; as well as &', async () => {
    const names = [
      'password',
      'pw',
      'pwd',
      'token',
      'access_token',
      'secret',
      'current_password',
      'new_password',
      'client_secret',
      'PASSWORD',
      'pass%77ord',
    ];
    const query = names.map((name, i) => `${name}=leak-${i}-x`).join('&');
    const url = `/api/me?page=2&${query};pw=leak-semicolon-x&q=a%3Db`;
    await app.inject({ method: 'GET', url, headers: { 'x-request-id': 'query-2' } });
    const completed = linesOf('query-2').find((line) => line.msg === 'request completed') as { req: { url: string } };
    assert.equal(completed.req.url, `/api/me?page=2&${names.map((name) => `${name}=[redacted]`).join('&')};pw=[redacted]&q=a%3Db`);
    assert.doesNotMatch(logs.text(), /leak-/);
  });

  it('writes JSON lines, one object per line', () => {
    const raw = logs.text().trimEnd().split('\n');
    assert.ok(raw.length > 10);
    for (const line of raw) assert.doesNotThrow(() => JSON.parse(line), line);
  });
});
