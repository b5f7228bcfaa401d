/**
 * HTTPS straight from certificate files (HTTP/1.1 and HTTP/2 on one port), TRUST_PROXY, and the
 * session cookie's Secure attribute, which follows the scheme of each request.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig } from '../../src/config.js';
import { parseTrustProxy, readTlsFiles } from '../../src/http/transport.js';
import { API, FORM, form, sessionCookieOf, testEnvironment, useApp, useSuiteApp } from '../helpers/app.js';
import { captureLogs } from '../helpers/logs.js';
import { makeSelfSignedCertificate, type SelfSignedCertificate } from '../helpers/tls.js';
import { U1, U1_ME } from '../helpers/people.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP/1.1 request over TLS, trusting `ca` (or only the system's authorities). */
function https1(
  port: number,
  ca: Buffer | undefined,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', servername: 'localhost', port, method, path, headers, agent: false, ...(ca ? { ca } : {}) };
    const req = httpsRequest(options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One HTTP/2 request on an open session. */
function https2(
  session: ClientHttp2Session,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': method, ':path': path, ...headers });
    let answerHeaders: Record<string, string | string[] | undefined> = {};
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (answerHeaders = h as typeof answerHeaders));
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => resolve({ status: Number(answerHeaders[':status']), headers: answerHeaders, body: text }));
    stream.on('error', reject);
    stream.end(body);
  });
}

const LOGIN_BODY = form({ username: U1.username, password: U1.password });

function cookiesOf(answer: Answer): string[] {
  const header = answer.headers['set-cookie'];
  return Array.isArray(header) ? header : header ? [header] : [];
}

describe('HTTPS from certificate files', () => {
  let certificate: SelfSignedCertificate;
  let port: number;
  before(() => {
    certificate = makeSelfSignedCertificate();
  });
  const { app } = useSuiteApp({ env: () => ({ TLS_CERT_FILE: certificate.certFile, TLS_KEY_FILE: certificate.keyFile }) });
  before(async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  after(() => {
    certificate?.remove();
  });

  it('logs in over HTTP/1.1 and sets the session cookie Secure', async () => {
    const answer = await https1(port, certificate.cert, 'POST', '/auth/token', { ...FORM, ...API }, LOGIN_BODY);
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).token_type, 'bearer');
    const session = cookiesOf(answer).find((cookie) => cookie.startsWith('session='));
    assert.ok(session, 'a session cookie');
    assert.match(session, /; Secure(;|$)/);
    assert.match(session, /; HttpOnly(;|$)/);
  });

  it('speaks HTTP/2 to a client that offers it, and the session works there', async () => {
    const session = http2Connect(`https://localhost:${port}`, { ca: certificate.cert });
    try {
      const login = await https2(session, 'POST', '/auth/token', { ...FORM, ...API }, LOGIN_BODY);
      assert.equal(login.status, 200);
      const cookie = cookiesOf(login).find((value) => value.startsWith('session='));
      assert.ok(cookie);
      assert.match(cookie, /; Secure(;|$)/);
      const me = await https2(session, 'GET', '/admin/me', { ...API, cookie: cookie.split(';')[0]! });
      assert.equal(me.status, 200);
      assert.deepEqual(JSON.parse(me.body), U1_ME);
    } finally {
      session.close();
    }
  });

  it('refuses a client that does not trust the certificate', async () => {
    await assert.rejects(https1(port, undefined, 'GET', '/health', {}), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });
});

describe('the session cookie behind a proxy', () => {
  async function loginCookie(app: FastifyInstance, headers: Record<string, string> = {}, remoteAddress?: string) {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...API, ...headers },
      payload: LOGIN_BODY,
      ...(remoteAddress ? { remoteAddress } : {}),
    });
    assert.equal(response.statusCode, 200);
    return sessionCookieOf(response)!;
  }

  it('is Secure when a trusted proxy says the request was HTTPS', async (t) => {
    const { app } = await useApp(t, { env: { TRUST_PROXY: 'true' } });
    assert.equal((await loginCookie(app, { 'x-forwarded-proto': 'https' })).secure, true);
    assert.equal((await loginCookie(app)).secure, undefined, 'plain HTTP without the header');
  });

  it('trusts only the listed proxy addresses', async (t) => {
    const { app } = await useApp(t, { env: { TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' } });
    assert.equal((await loginCookie(app, { 'x-forwarded-proto': 'https' }, '10.1.2.3')).secure, true);
    assert.equal((await loginCookie(app, { 'x-forwarded-proto': 'https' }, '192.0.2.7')).secure, undefined);
  });

  it('ignores X-Forwarded-Proto without TRUST_PROXY', async (t) => {
    const { app } = await useApp(t, { env: {} });
    assert.equal((await loginCookie(app, { 'x-forwarded-proto': 'https' })).secure, undefined);
  });

  it('is always Secure with COOKIE_SECURE=true', async (t) => {
    const { app } = await useApp(t, { env: { COOKIE_SECURE: 'true' } });
    assert.equal((await loginCookie(app)).secure, true);
  });

  it('takes the client address from X-Forwarded-For only from a trusted proxy', async (t) => {
    for (const [trust, expected] of [
      ['true', '203.0.113.9'],
      ['false', '127.0.0.1'],
    ] as const) {
      const logs = captureLogs();
      const { app } = await useApp(t, { env: { TRUST_PROXY: trust, LOG_LEVEL: 'info' }, build: { logStream: logs.stream } });
      await app.inject({ method: 'GET', url: '/health', headers: { 'x-forwarded-for': '203.0.113.9' } });
      const completed = logs.lines().find((line) => line.msg === 'request completed') as { req: { remoteAddress: string } };
      assert.equal(completed.req.remoteAddress, expected, `TRUST_PROXY=${trust}`);
    }
  });
});

describe('a production start over plain HTTP', () => {
  async function warningsOf(t: TestContext, env: Record<string, string>): Promise<string[]> {
    const logs = captureLogs();
    await useApp(t, { env: { NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env }, build: { logStream: logs.stream } });
    return logs.lines().map((line) => String(line.msg));
  }

  it('warns when nothing makes the session cookie Secure', async (t) => {
    const warnings = await warningsOf(t, {});
    assert.ok(
      warnings.some((message) => /plain HTTP in production/.test(message)),
      warnings.join('\n'),
    );
  });

  it('does not warn behind a trusted proxy, or with COOKIE_SECURE=true', async (t) => {
    for (const env of [{ TRUST_PROXY: '1' }, { COOKIE_SECURE: 'true' }] as Array<Record<string, string>>) {
      const warnings = await warningsOf(t, env);
      assert.ok(!warnings.some((message) => /plain HTTP/.test(message)), JSON.stringify(env));
    }
  });
});

describe('TLS and proxy configuration', () => {
  let certificate: SelfSignedCertificate;
  let other: SelfSignedCertificate;
  before(() => {
    certificate = makeSelfSignedCertificate();
    other = makeSelfSignedCertificate('other');
  });
  after(() => {
    certificate?.remove();
    other?.remove();
  });

  function configError(run: () => unknown, message: RegExp) {
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, message);
      return true;
    });
  }

  it('needs the certificate and the key together', () => {
    configError(() => loadConfig({ TLS_CERT_FILE: certificate.certFile }), /TLS_KEY_FILE must be set too/);
    configError(() => loadConfig({ TLS_KEY_FILE: certificate.keyFile }), /TLS_CERT_FILE must be set too/);
  });

  it('names the variable whose file cannot be read', () => {
    configError(
      () => readTlsFiles('/nonexistent/cert.pem', certificate.keyFile),
      /^Invalid configuration: TLS_CERT_FILE cannot be read \(ENOENT/,
    );
    configError(
      () => readTlsFiles(certificate.certFile, '/nonexistent/key.pem'),
      /^Invalid configuration: TLS_KEY_FILE cannot be read \(ENOENT/,
    );
  });

  it('refuses files that are not a certificate and its own key', () => {
    configError(() => readTlsFiles(certificate.keyFile, certificate.keyFile), /TLS_CERT_FILE .* is not a PEM certificate/);
    configError(() => readTlsFiles(certificate.certFile, certificate.certFile), /TLS_KEY_FILE .* is not an unencrypted PEM private key/);
    configError(() => readTlsFiles(certificate.certFile, other.keyFile), /TLS_KEY_FILE is not the private key of the certificate/);
  });

  it('stops buildApp before anything opens when a file is missing', async () => {
    const env = testEnvironment('sqlite', { TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: certificate.keyFile });
    try {
      await assert.rejects(env.start(), (error: unknown) => error instanceof ConfigError && /TLS_CERT_FILE/.test(error.message));
    } finally {
      await env.cleanup();
    }
  });

  it('reads TRUST_PROXY as a boolean, a hop count or a list of addresses', () => {
    assert.equal(parseTrustProxy('false'), false);
    assert.equal(parseTrustProxy('TRUE'), true);
    assert.equal(parseTrustProxy('2'), 2);
    assert.deepEqual(parseTrustProxy('127.0.0.1, 10.0.0.0/8,::1,fd00::/8,loopback,192.168.0.0/255.255.0.0'), [
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
      'loopback',
      '192.168.0.0/255.255.0.0',
    ]);
    for (const bad of ['yes', '10.0.0.0/33', 'proxy.example.com', '10.0.0.1,,10.0.0.2']) {
      configError(() => parseTrustProxy(bad), /^Invalid configuration: TRUST_PROXY must be/);
    }
  });
});
