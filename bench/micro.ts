/**
 * Per-request costs on the authenticated hot path, one at a time, in microseconds per call: what
 * the profile (bench/profile.ts) points at, measured in isolation, each beside the cheaper way the
 * same result can be had. docs/PERFORMANCE.md quotes these figures.
 *
 *   node --import tsx bench/micro.ts
 *   node --import tsx bench/micro.ts --only 'bearer|cookie'    # the lines matching a pattern (and the lines under them)
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
import { createVerifier } from 'fast-jwt';
import { decodeSessionRecord } from '../src/sessions/record-codec.js';
import { isSessionId, parseSessionToken } from '../src/sessions/session-manager.js';
import { bearerToken } from '../src/auth/plugin.js';
import { loggerOptions } from '../src/observability/logging.js';
import { HELMET_OPTIONS } from '../src/http/security.js';

const results: Array<[string, number]> = [];
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex === -1 ? undefined : new RegExp(process.argv[onlyIndex + 1] ?? '', 'i');
let lastTopLevelShown = true;

/** Runs `fn` for about `ms` milliseconds after a warm-up and records µs per call. */
async function time(name: string, fn: () => unknown, ms = 1500): Promise<number> {
  // An indented line is a variant of the line above it: shown with it.
  const shown = !only || only.test(name) || (name.startsWith('  ') && lastTopLevelShown);
  if (!name.startsWith('  ')) lastTopLevelShown = shown;
  if (!shown) return Number.NaN;
  const isAsync = fn() instanceof Promise;
  for (let i = 0; i < 2000; i++) isAsync ? await fn() : fn();
  // CPU time of this process rather than the wall clock: on a machine other programs share, the
  // time this process waits for a core is not counted against the call.
  let calls = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const deadline = start + ms;
  while (performance.now() < deadline) {
    for (let i = 0; i < 200; i++) isAsync ? await fn() : fn();
    calls += 200;
  }
  const cpu = process.cpuUsage(cpuStart);
  const us = (cpu.user + cpu.system) / calls;
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
  const tokenKey = randomBytes(32).toString('base64url');
  const tokens = new AccessTokens(tokenKey, 1800);
  const { token } = await tokens.sign({ sub: 'pranav.furedi.10198@gmail.com', emp_no: 10198, scopes: ['user:read'], sid: 'a'.repeat(22) });
  const cookieSide = await time('cookie, the whole check: parse <id>.<secret>, sha256 + timingSafeEqual, record decode', () => {
    const parsed = parseSessionToken(`${'a'.repeat(22)}.${secret}`)!;
    const actual = createHash('sha256').update(parsed.secret).digest();
    const decoded = decodeSessionRecord(record)!;
    const expected = Buffer.from(decoded.secretHash, 'base64url');
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  });
  const bearerSide = await time('bearer, the whole check: AccessTokens.verify (fast-jwt HS256 + claims) + record decode', () => {
    const claims = tokens.verify(token);
    return decodeSessionRecord(record)!.empNo === claims.emp_no && isSessionId(claims.sid);
  });
  if (Number.isFinite(bearerSide - cookieSide)) console.log(`           bearer − cookie: ${(bearerSide - cookieSide).toFixed(2)} µs`);
  await time('  AccessTokens.verify alone, a token seen before (remembered: its SHA-256 and an LRU look-up)', () => tokens.verify(token));
  const uncached = createVerifier({
    key: Buffer.from(tokenKey, 'utf8'),
    algorithms: ['HS256'],
    allowedIss: 'employees-portal',
    allowedAud: 'employees-portal',
    requiredClaims: ['exp', 'sub', 'sid', 'emp_no', 'scopes'],
    clockTolerance: 0,
  });
  await time("  a token's first check: fast-jwt HS256 verify without the cache (HMAC, decode, claims)", () => uncached(token));
  await time('  bearerToken(): the Authorization header regex', () =>
    bearerToken({ headers: { authorization: `Bearer ${token}` } } as never),
  );
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

  // --- Request logging at info: one line per request, with reqId and empNo (observability/logging.ts).
  const sink = openSync('/dev/null', 'w');
  const logger = pino(loggerOptions({ LOG_LEVEL: 'info' }), pino.destination({ fd: sink, sync: true }));
  const plain = pino({ level: 'info' }, pino.destination({ fd: sink, sync: true }));
  const fakeReq = { method: 'GET', url: '/admin/me', host: '127.0.0.1:5000', remoteAddress: '127.0.0.1', remotePort: 50000 };
  const completed = { req: fakeReq, res: { statusCode: 200 }, responseTime: 1.23 };
  await time("Fastify's per-request child logger: child({ reqId }) + setBindings({ empNo })", () =>
    logger.child({ reqId: 'c0ffee-1234' }).setBindings({ empNo: 10198 }),
  );
  await time('the completed line through that child (app options: redact paths, req serializer)', () => {
    const child = logger.child({ reqId: 'c0ffee-1234' });
    child.setBindings({ empNo: 10198 });
    child.info(completed, 'request completed');
  });
  const bindings = { reqId: 'c0ffee-1234', empNo: 10198 };
  await time('  the same line on the root logger, bindings merged into its object (no child)', () =>
    logger.info(Object.assign({}, bindings, completed), 'request completed'),
  );
  await time('  the same line through a child, without the redact paths', () => {
    const child = plain.child({ reqId: 'c0ffee-1234' });
    child.setBindings({ empNo: 10198 });
    child.info(completed, 'request completed');
  });

  // --- Login: both password checks run for every login (equal work).
  const argonHash = await argon2Hash('password');
  const bcryptHashed = await bcryptHash('password', 10);
  await time('argon2id verify (m=19 MiB, t=2, p=1), one', () => argon2Verify(argonHash, 'password'), 3000);
  await time('bcrypt verify (cost 10), one', () => bcryptVerify('password', bcryptHashed), 3000);
} finally {
  rmSync(work, { recursive: true, force: true });
}
