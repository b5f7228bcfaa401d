/**
 * Per-request costs on the authenticated hot path, one at a time, in microseconds per call: what
 * the profile (bench/profile.ts) points at, measured in isolation, each beside the cheaper way the
 * same result can be had. docs/PERFORMANCE.md quotes these figures.
 *
 *   node --import tsx bench/micro.ts
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import SqliteDatabase from 'better-sqlite3';
import helmet from 'helmet';
import accepts from 'accepts';
import pino from 'pino';
import { jwtVerify, SignJWT } from 'jose';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { hash as bcryptHash, verify as bcryptVerify } from '@node-rs/bcrypt';
import { openDatabase } from '../src/database/open.js';
import { seedIfEmpty } from '../src/sample-data/seed.js';
import { findEmployeeByNumber, PUBLIC_EMPLOYEE_COLUMNS } from '../src/employees/employee-repository.js';
import { AccessTokens } from '../src/auth/tokens.js';
import { decodeSessionRecord } from '../src/sessions/record-codec.js';
import { REDACTED_PATHS } from '../src/observability/logging.js';
import { HELMET_OPTIONS } from '../src/http/security.js';

const results: Array<[string, number]> = [];

/** Runs `fn` for about `ms` milliseconds after a warm-up and records µs per call. */
async function time(name: string, fn: () => unknown, ms = 1500): Promise<number> {
  const isAsync = fn() instanceof Promise;
  for (let i = 0; i < 2000; i++) isAsync ? await fn() : fn();
  let calls = 0;
  const start = performance.now();
  const deadline = start + ms;
  while (performance.now() < deadline) {
    for (let i = 0; i < 200; i++) isAsync ? await fn() : fn();
    calls += 200;
  }
  const us = ((performance.now() - start) * 1000) / calls;
  results.push([name, us]);
  console.log(`${us.toFixed(2).padStart(9)} µs  ${name}`);
  return us;
}

function fakeResponse(): ServerResponse {
  const req = new IncomingMessage(new Socket());
  return new ServerResponse(req);
}

const work = mkdtempSync(join(tmpdir(), 'ep-micro-'));
try {
  // --- The employee row of /admin/me: Kysely on better-sqlite3 as the app runs it, and cached statements.
  const db = await openDatabase(undefined, { dataDir: work, seed: seedIfEmpty });
  await time('findEmployeeByNumber via Kysely (as the app: compile + prepare each call)', () => findEmployeeByNumber(db.db, 10198));
  const raw = new SqliteDatabase(join(work, 'employees.sqlite'));
  const text = `select ${PUBLIC_EMPLOYEE_COLUMNS.map((c) => `"${c}"`).join(', ')} from "employees" where "emp_no" = ?`;
  await time('  better-sqlite3 prepare() + get() each call', () => raw.prepare(text).get(10198));
  const statement = raw.prepare(text);
  await time('  better-sqlite3 cached statement get()', () => statement.get(10198));
  const compiled = db.db.selectFrom('employees').select(PUBLIC_EMPLOYEE_COLUMNS).where('emp_no', '=', 10198).compile();
  await time('  Kysely executeQuery of a precompiled query', () => db.db.executeQuery(compiled));
  raw.close();
  await db.close();

  // --- Security headers: @fastify/helmet builds helmet's middleware anew on every request.
  const options = HELMET_OPTIONS;
  const res = fakeResponse();
  const req = res.req;
  await time('helmet(options) built and applied per request (as @fastify/helmet 13 does)', () =>
    helmet(options)(req, res, () => undefined),
  );
  const once = helmet(options);
  await time('  helmet middleware built once, applied per request', () => once(req, res, () => undefined));
  const headers = Object.fromEntries(Object.entries(res.getHeaders()).map(([k, v]) => [k, String(v)]));
  await time('  the same headers precomputed, set with setHeader', () => {
    for (const name in headers) res.setHeader(name, headers[name]!);
  });

  // --- Content negotiation on every /admin/me (wantsHtml).
  const negotiated = new IncomingMessage(new Socket());
  negotiated.headers = { accept: 'application/json' };
  await time('accepts(req).type([json, html]) (wantsHtml, per request)', () => accepts(negotiated).type(['application/json', 'text/html']));

  // --- Session checks.
  const secret = randomBytes(16).toString('base64url');
  const stored = createHash('sha256').update(secret).digest('base64url');
  await time('session secret: sha256 + timingSafeEqual', () => {
    const expected = Buffer.from(stored, 'base64url');
    const actual = createHash('sha256').update(secret).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  });
  const record = JSON.stringify({ h: stored, e: 10198, c: Date.now(), s: Date.now(), g: ['user:read'], u: 'Node.js' });
  await time('session record decode (JSON.parse + checks)', () => decodeSessionRecord(record));
  const tokens = new AccessTokens(randomBytes(32).toString('base64url'), 1800);
  const { token } = await tokens.sign({ sub: 'pranav.furedi.10198@gmail.com', emp_no: 10198, scopes: ['user:read'], sid: 'a'.repeat(22) });
  await time('bearer: AccessTokens.verify (jose jwtVerify HS256, key as bytes: imported on every call)', () => tokens.verify(token));
  const keyBytes = new TextEncoder().encode('k'.repeat(43));
  const signed = await new SignJWT({ emp_no: 1 })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('i')
    .setAudience('a')
    .setExpirationTime('30m')
    .sign(keyBytes);
  const verifyOptions = { algorithms: ['HS256'], issuer: 'i', audience: 'a' };
  await time('  jose jwtVerify, key as bytes', () => jwtVerify(signed, keyBytes, verifyOptions));
  const cryptoKey = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  await time('  jose jwtVerify, key imported once as a CryptoKey', () => jwtVerify(signed, cryptoKey, verifyOptions));
  await time('  node:crypto createHmac + timingSafeEqual + JSON.parse (by hand)', () => {
    const [header, payload, signature] = signed.split('.') as [string, string, string];
    const expected = createHmac('sha256', keyBytes).update(`${header}.${payload}`).digest();
    const actual = Buffer.from(signature, 'base64url');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new Error('bad signature');
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  });

  // --- Request logging: two lines per request at info ("incoming request", "request completed"),
  // through a child logger per request plus one more child with empNo (auth/plugin.ts requireUser).
  const sink = openSync('/dev/null', 'w');
  const logger = pino(
    { level: 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    pino.destination({ fd: sink, sync: true }),
  );
  const plain = pino({ level: 'info' }, pino.destination({ fd: sink, sync: true }));
  const fakeReq = { method: 'GET', url: '/admin/me', host: '127.0.0.1:5000', remoteAddress: '127.0.0.1', remotePort: 50000 };
  const lines = (log: pino.Logger) => () => {
    const child = log.child({ reqId: 'c0ffee-1234' });
    child.info({ req: fakeReq }, 'incoming request');
    const withEmp = child.child({ empNo: 10198 });
    withEmp.info({ res: { statusCode: 200 }, responseTime: 1.23 }, 'request completed');
  };
  await time('request logging at info: 2 lines + 2 child loggers, with redact paths', lines(logger));
  await time('  the same without redact', lines(plain));
  await time(
    '  the same at LOG_LEVEL=warn (nothing written)',
    lines(pino({ level: 'warn', redact: { paths: REDACTED_PATHS } }, pino.destination({ fd: sink, sync: true }))),
  );

  // --- Login: both password checks run for every login (equal work).
  const argonHash = await argon2Hash('password');
  const bcryptHashed = await bcryptHash('password', 10);
  await time('argon2id verify (m=19 MiB, t=2, p=1), one', () => argon2Verify(argonHash, 'password'), 3000);
  await time('bcrypt verify (cost 10), one', () => bcryptVerify('password', bcryptHashed), 3000);
} finally {
  rmSync(work, { recursive: true, force: true });
}
