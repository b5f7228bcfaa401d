/**
 * Checklist group G: reliability and failure modes. The faults are real: a private redis-server
 * (killed, paused with CLIENT PAUSE, slowed with DEBUG SLEEP, restarted with and without its data),
 * a private PostgreSQL cluster (stopped and restarted), the shared MariaDB's connections killed, an
 * SQLite file locked; the real server process (`src/server.ts`) spawned and sent SIGTERM; real
 * sockets for slow clients and HTTP framing. Every child process is stopped in an `after` hook.
 *
 * Also covered elsewhere: test/sessions/redis-outage.test.ts (the store alone against a dead, hung
 * and restarted Redis), test/routes/operations.test.ts (503 and the login page with Redis down).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import Database from 'better-sqlite3';
import { hash as argon2Hash } from '@node-rs/argon2';
import { serviceGate, SERVICE_URLS } from '../helpers/services.js';
import { API, BROWSER, FORM, form, login, testEnvironment, type TestEnvironment } from '../helpers/app.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';
import { freePort, killProcess, pollUntil, startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from '../helpers/processes.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import {
  ADMIN,
  DATABASE_UNAVAILABLE,
  INCORRECT,
  me,
  percentile,
  portOf,
  rawBody,
  rawRequest,
  STORE_UNAVAILABLE,
  U1,
  U1_ME,
  U2,
  credentials,
} from './support.js';

/** The checklist's bound for a dependency outage to be answered (the Redis command timeout is 1 s). */
const OUTAGE_ANSWER_MS = 2000;
const RECOVERY_MS = 5000;

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

function assertStoreOutage(response: LightMyRequestResponse, ms: number, label: string): void {
  assert.equal(response.statusCode, 503, `${label}: ${response.statusCode} ${response.body}`);
  assert.deepEqual(response.json(), STORE_UNAVAILABLE, label);
  assert.equal(response.headers['retry-after'], '5', label);
  assert.ok(ms < OUTAGE_ANSWER_MS, `${label}: answered in ${ms.toFixed(0)} ms`);
  assert.equal(response.headers['set-cookie'], undefined, `${label}: no cookie`);
}

describe('G. faults: Redis', await serviceGate('redis'), () => {
  let redisServer: PrivateRedis;
  let env: TestEnvironment;
  let app: FastifyInstance;
  let admin: Redis;

  before(async () => {
    redisServer = await startPrivateRedis();
    env = testEnvironment('redis', { REDIS_URL: redisServer.url, LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' });
    app = await env.start();
    admin = new Redis(redisServer.url, { maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    admin.on('error', () => {});
  });
  after(async () => {
    admin?.disconnect();
    await env?.cleanup().catch(() => undefined);
    await redisServer?.stop();
  });

  /** Every request a person can make during an outage: none hangs, none fails open, none is a 500. */
  async function assertFailsClosed(session: { cookie: string; token: string }, label: string): Promise<void> {
    const byCookie = await timed(() => me(app, { cookie: session.cookie }));
    assertStoreOutage(byCookie.value, byCookie.ms, `${label}: /api/me by cookie`);
    const byToken = await timed(() => me(app, { token: session.token }));
    assertStoreOutage(byToken.value, byToken.ms, `${label}: /api/me by token (its revocation check needs Redis)`);
    const loginAttempt = await timed(() => app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form(credentials(U2)) }));
    assertStoreOutage(loginAttempt.value, loginAttempt.ms, `${label}: login`);
    assert.doesNotMatch(loginAttempt.value.body, /access_token/);
    const logout = await timed(() => app.inject({ method: 'POST', url: '/auth/logout', headers: API, cookies: { session: session.cookie } }));
    assert.equal(logout.value.statusCode, 503, `${label}: logout is never a false success`);
    assert.deepEqual(logout.value.json(), STORE_UNAVAILABLE);
    assert.ok(logout.ms < OUTAGE_ANSWER_MS);
    const page = await app.inject({ method: 'GET', url: '/auth/login', headers: BROWSER });
    assert.equal(page.statusCode, 200, `${label}: the login page still renders`);
    const ready = await timed(() => app.inject({ method: 'GET', url: '/ready' }));
    assert.equal(ready.value.statusCode, 503, `${label}: not ready`);
    assert.deepEqual(ready.value.json(), { status: 'unavailable', checks: { sessionStore: 'unavailable', database: 'ok' } });
    assert.ok(ready.ms < OUTAGE_ANSWER_MS);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/health' })).json(), { status: 'ok' }, `${label}: alive`);
  }

  const recovered = (cookie: string, status: number) =>
    pollUntil(async () => {
      const response = await me(app, { cookie });
      assert.ok(response.statusCode === status || response.statusCode === 503, `after recovery: ${response.statusCode}`);
      return response.statusCode === status;
    }, RECOVERY_MS, 200);

  it('G-01 answers 503 with Retry-After within 2 s while Redis is down, keeps the login page, and never fails open', async () => {
    const session = await login(app, U1);
    await redisServer.kill();
    const until = Date.now() + 3000;
    while (Date.now() < until) await assertFailsClosed(session, 'Redis killed');
  });

  it('G-02 recovers by itself within 5 s of a flushed Redis coming back: the lost session is 401, never 5xx', async () => {
    const lost = await login(app, U1).catch(() => undefined);
    assert.equal(lost, undefined, 'no login while Redis is down');
    await redisServer.start(); // persistence off: every session is gone
    const session = (await pollUntil(async () => (await app.inject({ method: 'GET', url: '/ready' })).statusCode === 200, RECOVERY_MS, 200)) ? await login(app, U1) : undefined;
    assert.ok(session, 'ready and logging in again within 5 s');
    assert.deepEqual((await me(app, { cookie: session.cookie })).json(), U1_ME);
  });

  it('G-02 recovers within 5 s of a persistent Redis restart: sessions are back, and a logged-out one stays out', async () => {
    const kept = await login(app, U1);
    const loggedOut = await login(app, U2);
    await app.inject({ method: 'POST', url: '/auth/logout', cookies: { session: loggedOut.cookie } });
    await admin.call('SHUTDOWN', 'SAVE').catch(() => undefined); // writes the dump, then exits
    await pollUntil(async () => redisServer.process?.exitCode !== null, 5000, 50);
    const during = await timed(() => me(app, { cookie: kept.cookie }));
    assertStoreOutage(during.value, during.ms, 'Redis shut down');
    await redisServer.start();
    assert.ok(await recovered(kept.cookie, 200), 'the saved session is back within 5 s');
    assert.equal((await me(app, { token: kept.token })).statusCode, 200);
    assert.equal((await me(app, { cookie: loggedOut.cookie })).statusCode, 401, 'no replayed write brought the logged-out session back');
  });

  it('G-01 answers 503 within 2 s while Redis hangs (CLIENT PAUSE), and serves again when it resumes', async () => {
    const session = await login(app, U1);
    await admin.call('CLIENT', 'PAUSE', '3500', 'ALL');
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      const response = await timed(() => me(app, { cookie: session.cookie }));
      assertStoreOutage(response.value, response.ms, 'Redis paused');
    }
    assert.ok(await recovered(session.cookie, 200), 'serves again after the pause');
  });

  it('G-03 answers a logout during a Redis hang with 503, never a false success, and the session is then still whole', async () => {
    const session = await login(app, U1);
    await admin.call('CLIENT', 'PAUSE', '2500', 'ALL');
    const logout = await timed(() => app.inject({ method: 'POST', url: '/auth/logout', headers: API, cookies: { session: session.cookie } }));
    assert.equal(logout.value.statusCode, 503);
    assert.deepEqual(logout.value.json(), STORE_UNAVAILABLE);
    assert.ok(logout.ms < OUTAGE_ANSWER_MS);
    // The logout said it failed, and indeed it did: the session lives, and a retried logout ends it.
    assert.ok(await recovered(session.cookie, 200));
    const retried = await app.inject({ method: 'POST', url: '/auth/logout', headers: API, cookies: { session: session.cookie } });
    assert.deepEqual(retried.json(), { message: 'You have been logged out' });
    assert.equal((await me(app, { cookie: session.cookie })).statusCode, 401);
  });

  it('G-03 clears the cookie along with a logout that failed on the store', async () => {
    const session = await login(app, U1);
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    const logout = await app.inject({ method: 'POST', url: '/auth/logout', cookies: { session: session.cookie } });
    await sleep(1600);
    assert.equal(logout.statusCode, 503);
    assert.match(String(logout.headers['set-cookie']), /^session=; Max-Age=0/);
  });

  it('G-01 answers 503 within 2 s while Redis is slow (DEBUG SLEEP), and serves again afterwards', async () => {
    const session = await login(app, U1);
    const sleeping = admin.call('DEBUG', 'SLEEP', '2.5').catch(() => undefined);
    await sleep(50);
    const response = await timed(() => me(app, { cookie: session.cookie }));
    assertStoreOutage(response.value, response.ms, 'Redis asleep');
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.statusCode, 503);
    await sleeping;
    assert.ok(await recovered(session.cookie, 200));
  });
});

const redisGate = await serviceGate('redis');
const mysqlGate = await gateFor('mysql');

describe('G-04 the SQL database goes down or restarts', () => {
  describe('a private PostgreSQL cluster, stopped and restarted', redisGate, () => {
    let postgres: PrivatePostgres | undefined;
    let env: TestEnvironment;
    let app: FastifyInstance;
    before(async () => {
      postgres = await startPrivatePostgres();
      env = testEnvironment('redis', { DATABASE_URL: `${postgres.url}/postgres`, LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' });
      app = await env.start();
    });
    after(async () => {
      await env?.cleanup().catch(() => undefined);
      await postgres?.stop();
    });

    it('G-04 answers 503 quickly while PostgreSQL is down, logs nobody in, stays up, and recovers within 5 s', async () => {
      const session = await login(app, U1);
      const adminSession = await login(app, ADMIN);
      await postgres!.kill(); // immediate: idle pooled connections die under the pool (57P01-like)
      await sleep(200);
      for (let round = 0; round < 3; round++) {
        for (const [label, run] of [
          ['my info', () => me(app, { cookie: session.cookie })],
          ['search', () => app.inject({ method: 'GET', url: '/api/emp/search/%25a%25/%25', cookies: { session: adminSession.cookie } })],
          ['login', () => app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form(credentials(U2)) })],
        ] as const) {
          const { value, ms } = await timed(run);
          assert.equal(value.statusCode, 503, `${label}: ${value.statusCode} ${value.body}`);
          assert.deepEqual(value.json(), DATABASE_UNAVAILABLE);
          assert.ok(ms < 6000, `${label}: ${ms.toFixed(0)} ms (connect timeout 5 s)`);
        }
        const ready = await app.inject({ method: 'GET', url: '/ready' });
        assert.equal(ready.statusCode, 503);
        assert.deepEqual(ready.json(), { status: 'unavailable', checks: { sessionStore: 'ok', database: 'unavailable' } });
        assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      }
      await postgres!.start();
      const back = await pollUntil(async () => (await me(app, { cookie: session.cookie })).statusCode === 200, RECOVERY_MS, 200);
      assert.ok(back, 'recovered within 5 s, no restart of the app');
      assert.equal((await app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form({ username: U2.username, password: 'wrong' }) })).statusCode, 400, 'a login still checks the password');
    });

    it('G-04 survives its idle connections being terminated (pg_terminate_backend) and answers the next request', async () => {
      const session = await login(app, U1);
      assert.equal((await me(app, { cookie: session.cookie })).statusCode, 200);
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and datname = 'postgres' and backend_type = 'client backend'`.execute(app.db).catch(() => undefined);
      await sleep(100);
      const statuses: number[] = [];
      const back = await pollUntil(async () => {
        const status = (await me(app, { cookie: session.cookie })).statusCode;
        statuses.push(status);
        return status === 200;
      }, RECOVERY_MS, 100);
      assert.ok(back, `statuses: ${statuses.join(',')}`);
      for (const status of statuses) assert.ok(status === 200 || status === 503, `${status}`);
    });
  });

  describe('the shared MariaDB, its connections killed', mysqlGate, () => {
    let database: TestDatabase;
    let env: TestEnvironment;
    let app: FastifyInstance;
    before(async () => {
      database = await createTestDatabase('mysql', { seed: false });
      env = testEnvironment('redis', { DATABASE_URL: database.url });
      app = await env.start();
    });
    after(async () => {
      await env?.cleanup().catch(() => undefined);
      await database?.cleanup();
    });

    it('G-04 answers only 200 or 503 when MariaDB kills the pool\'s connections, and is back within 5 s', async () => {
      const session = await login(app, U1);
      await Promise.all(Array.from({ length: 5 }, () => me(app, { cookie: session.cookie }))); // several pooled connections
      const dbName = new URL(database.url).pathname.slice(1);
      const { rows } = await sql<{ id: number }>`select id from information_schema.processlist where db = ${dbName}`.execute(database.db);
      for (const { id } of rows) await sql`kill ${sql.lit(Number(id))}`.execute(database.db).catch(() => undefined);
      const statuses: number[] = [];
      const back = await pollUntil(async () => {
        const responses = await Promise.all(Array.from({ length: 3 }, () => me(app, { cookie: session.cookie })));
        statuses.push(...responses.map((response) => response.statusCode));
        return responses.every((response) => response.statusCode === 200);
      }, RECOVERY_MS, 100);
      assert.ok(back, `statuses: ${statuses.join(',')}`);
      for (const status of statuses) assert.ok(status === 200 || status === 503, `${status}`);
    });
  });

  describe('the embedded SQLite file, locked by another process', () => {
    let env: TestEnvironment;
    let app: FastifyInstance;
    before(async () => {
      env = testEnvironment('sqlite');
      app = await env.start();
    });
    after(async () => {
      await env?.cleanup();
    });

    it('G-04 answers a write 503 after the busy timeout while another writer holds the file, and writes again after', async () => {
      // An open SQLite file cannot "go down" under its process (chmod does not reach an open
      // descriptor); a writer that will not let go is the outage it can have.
      const session = await login(app, ADMIN);
      const locker = new Database(join(env.dataDir, 'employees.sqlite'));
      locker.exec('BEGIN EXCLUSIVE');
      const update = () =>
        app.inject({
          method: 'POST',
          url: '/api/emp/admin-save',
          headers: FORM,
          cookies: { session: session.cookie },
          payload: form({ empNo: '10001', birthDate: '02/09/1953', firstName: 'Georgi', lastName: 'Facello', gender: 'M', hireDate: '26/06/1986' }),
        });
      try {
        const { value, ms } = await timed(update);
        assert.equal(value.statusCode, 503, value.body);
        assert.deepEqual(value.json(), DATABASE_UNAVAILABLE);
        assert.ok(ms < 7000, `${ms.toFixed(0)} ms`);
      } finally {
        locker.exec('ROLLBACK');
        locker.close();
      }
      assert.equal((await update()).statusCode, 200);
    });
  });
});

describe('G-05 saturation', await serviceGate('redis'), () => {
  let env: TestEnvironment;
  let app: FastifyInstance;
  let admin: { cookie: string };
  before(async () => {
    env = testEnvironment('redis', { LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_CLIENT: '100000' });
    app = await env.start();
    admin = await login(app, ADMIN);
  });
  after(async () => {
    await env?.cleanup();
  });

  async function burst() {
    const probes: number[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const { ms } = await timed(() => app.inject({ method: 'GET', url: '/health' }));
        probes.push(ms);
        await sleep(10);
      }
    })();
    const rssBefore = process.memoryUsage().rss;
    const logins = Array.from({ length: 100 }, () => timed(() => app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form(credentials(U2)) })));
    const searches = Array.from({ length: 100 }, () => app.inject({ method: 'GET', url: '/api/emp/search/%25a%25/%25', cookies: { session: admin.cookie } }));
    const [loginResults, searchResults] = await Promise.all([Promise.all(logins), Promise.all(searches)]);
    probing = false;
    await prober;
    return { probes, loginResults, searchResults, rssGrowth: process.memoryUsage().rss - rssBefore };
  }

  let measured: Awaited<ReturnType<typeof burst>> | undefined;

  it('G-05 keeps memory bounded and /health fast under 100 concurrent logins and 100 searches, with no 5xx', async () => {
    measured = await burst();
    const { probes, loginResults, searchResults, rssGrowth } = measured;
    for (const { value } of loginResults) assert.ok([200, 429, 503].includes(value.statusCode), `login ${value.statusCode}`);
    for (const response of searchResults) assert.equal(response.statusCode, 200);
    // Hashing runs on libuv's four threads: at most four argon2 buffers (19 MiB) at once.
    assert.ok(rssGrowth < 300 * 1024 * 1024, `RSS grew by ${(rssGrowth / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(percentile(probes, 99) < 1000, `/health p99 ${percentile(probes, 99).toFixed(0)} ms`);
  });

  it('G-05 answers logins beyond the hashing capacity at once with 429 and Retry-After instead of queueing them', async () => {
    // Far more logins than the checks the server can finish within its 5 s waiting bound.
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 250 }, () =>
        timed(() => app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form(credentials(U2)) })),
      ),
    );
    const refused = results.filter(({ value }) => value.statusCode === 429);
    const served = results.filter(({ value }) => value.statusCode === 200);
    assert.equal(refused.length + served.length, 250, 'only 200 or 429');
    assert.ok(refused.length > 0, 'some logins were refused');
    assert.ok(served.length > 0, 'some logins were served');
    for (const { value } of refused) {
      assert.equal(value.headers['retry-after'], '1');
      assert.deepEqual(value.json(), { detail: 'Too many logins at this moment; try again in a second' });
    }
    const fastestRefusal = Math.min(...refused.map(({ ms }) => ms));
    assert.ok(fastestRefusal < 1000, `a refusal took ${fastestRefusal.toFixed(0)} ms`);
    const whole = performance.now() - started;
    assert.ok(whole < 15_000, `the burst took ${whole.toFixed(0)} ms: nothing piled up without bound`);
  });
});

// The two tests mostly wait on child processes: side by side they take the time of one.
describe('G-06 SIGTERM with requests in flight', { ...redisGate, concurrency: true }, () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const prefix = `ep-test:${randomBytes(6).toString('hex')}:`;
  after(async () => {
    for (const child of children) await killProcess(child);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    const redis = new Redis(SERVICE_URLS.redis);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  /** `node --import tsx src/server.ts` as production runs it, on a free port and a fresh data folder. */
  async function startServer(workers: 'cluster' | 'single' = 'cluster'): Promise<{ child: ChildProcess; port: number; stderr: () => string; exit: Promise<{ code: number | null; at: number }> }> {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'ep-server-'));
    dirs.push(dataDir);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        REDIS_URL: SERVICE_URLS.redis,
        SESSION_KEY_PREFIX: prefix,
        SECRET_KEY: randomBytes(32).toString('hex'),
        LOG_LEVEL: 'warn',
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000',
        // Unset (production's default) is one worker per core under a cluster primary; 1 is the
        // plain single process, whose close-with-grace handles the signals itself.
        ...(workers === 'single' ? { WORKERS: '1' } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
    const exit = once(child, 'exit').then(([code]) => ({ code: code as number | null, at: Date.now() }));
    const up = await pollUntil(async () => (await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 1000)).status === 200, 30_000, 200);
    assert.ok(up, `the server did not start: ${stderr}`);
    return { child, port, stderr: () => stderr, exit };
  }

  /** A login whose body arrives a byte at a time over about `overMs`, on its own connection. */
  function trickledLogin(port: number, overMs: number): Promise<{ status: number | undefined; body: string }> {
    const body = form(credentials(U1));
    const socket: Socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.write(`POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`);
    const step = overMs / body.length;
    return (async () => {
      for (const character of body) {
        socket.write(character);
        await sleep(step);
      }
      await Promise.race([once(socket, 'close'), sleep(5000)]);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      return { status: status ? Number(status) : undefined, body: text.slice(text.indexOf('\r\n\r\n') + 4) };
    })();
  }

  it('G-06 finishes the requests in flight, refuses new ones, and exits 0 within the grace period', async () => {
    const server = await startServer();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const request = httpRequest({ host: '127.0.0.1', port: server.port, path, agent }, (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode!, connection: response.headers.connection }));
        });
        request.on('error', reject);
        request.end();
      });
    assert.equal((await get('/health')).status, 200); // an idle keep-alive connection stays open

    const inFlight = Array.from({ length: 10 }, () => trickledLogin(server.port, 1500));
    const quick = Array.from({ length: 10 }, () => trickledLogin(server.port, 100));
    await sleep(300);
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    await sleep(150);
    const fresh = await rawRequest(server.port, 'GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 1000);
    assert.ok(fresh.status === undefined || fresh.status === 503, `a new connection: refused or 503, got ${fresh.status}`);
    const reused = await get('/ready').catch(() => undefined);
    if (reused) {
      assert.equal(reused.status, 503, 'on the kept-alive connection: 503');
      assert.equal(reused.connection, 'close');
    }

    const results = await Promise.all([...inFlight, ...quick]);
    const redis = new Redis(SERVICE_URLS.redis);
    try {
      for (const { status, body } of results) {
        assert.equal(status, 200, `an in-flight login was cut: ${status} ${body}`);
        assert.match(body, /"access_token"/);
      }
      const sessions = (await redis.keys(`${prefix}*`)).filter((key) => /^[\w-]{22}$/.test(key.slice(prefix.length)));
      assert.ok(sessions.length >= 20, `[GB] ${sessions.length} sessions of the completed logins are in Redis`);
    } finally {
      redis.disconnect();
      agent.destroy();
    }
    const { code, at } = await server.exit;
    assert.equal(code, 0, server.stderr());
    assert.ok(at - signalledAt < 10_000, `exited ${at - signalledAt} ms after SIGTERM`);
    assert.doesNotMatch(server.stderr(), /Error|at .*\(/, 'a clean exit');
  });

  it('G-06 exits at once on a second SIGTERM, and by the 10 s deadline when a request never finishes (one process)', async () => {
    const [second, stuck] = await Promise.all([startServer('single'), startServer('single')]);
    for (const server of [second, stuck]) {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write('POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=');
      await sleep(100);
      server.child.kill('SIGTERM');
    }
    const signalledAt = Date.now();
    await sleep(500);
    second.child.kill('SIGTERM');
    const [secondExit, stuckExit] = await Promise.all([second.exit, stuck.exit]);
    // close-with-grace (src/server.ts): a second signal exits at once with 1, and a close that
    // outlives the 10 s grace is cut with 1. (Under a cluster primary, WORKERS unset, the primary
    // passes the first signal on, ignores a repeat, and exits 0 once its workers have gone.)
    assert.equal(secondExit.code, 1);
    assert.ok(secondExit.at - signalledAt < 2500, `a second signal means now: ${secondExit.at - signalledAt} ms`);
    assert.match(second.stderr(), /second SIGTERM, exiting/);
    assert.equal(stuckExit.code, 1);
    assert.ok(stuckExit.at - signalledAt >= 9000 && stuckExit.at - signalledAt < 12_500, `forced exit after ${stuckExit.at - signalledAt} ms`);
    assert.match(stuck.stderr(), /killed by timeout \(10000ms\)/);
    for (const server of [second, stuck]) assert.doesNotMatch(server.stderr(), /Error|at .*\(/, 'no crash');
  });
});

describe('G-07 and G-08 on a real socket', await serviceGate('redis'), () => {
  let env: TestEnvironment;
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    env = testEnvironment('redis');
    app = await env.start();
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = portOf(app);
  });
  after(async () => {
    await env?.cleanup();
  });

  it('G-07 bounds slow clients with Node\'s request and header timeouts, and serves normal clients meanwhile', async () => {
    // The documented limits (src/app.ts): 30 s for a whole request, headers included; Node checks
    // every 30 s, so a slow client is cut between 30 and 60 s. Waiting that out would double this
    // suite's time, so the cut itself is asserted from the server's settings, and the load part live.
    assert.equal(app.server.requestTimeout, 30_000);
    assert.ok(app.server.headersTimeout > 0 && app.server.headersTimeout <= 60_000);
    const slow: Socket[] = [];
    for (let i = 0; i < 200; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      slow.push(socket);
    }
    const trickle = connect(port, '127.0.0.1');
    trickle.on('error', () => {});
    trickle.write('POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nu');
    const drip = setInterval(() => {
      for (const socket of slow) socket.write('a');
      trickle.write('s');
    }, 200);
    try {
      const latencies: number[] = [];
      for (let i = 0; i < 50; i++) {
        const { value, ms } = await timed(() => rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
        assert.equal(value.status, 200);
        latencies.push(ms);
      }
      const normal = await timed(() => rawRequest(port, `POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form(credentials(U1)).length}\r\nConnection: close\r\n\r\n${form(credentials(U1))}`));
      assert.equal(normal.value.status, 200);
      assert.ok(percentile(latencies, 99) < 1000, `p99 ${percentile(latencies, 99).toFixed(0)} ms`);
    } finally {
      clearInterval(drip);
      for (const socket of [...slow, trickle]) socket.destroy();
    }
  });

  it('G-08 answers oversize and malformed framing quickly with 413, 431, 414 or 400, never a 5xx or a hang', async () => {
    const send = (request: string) => rawRequest(port, request, 3000);
    const cases: Array<[string, string, number[]]> = [
      ['1 MiB + 1 body', `POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${1024 * 1024 + 1}\r\nConnection: close\r\n\r\n${'a'.repeat(1024 * 1024 + 1)}`, [413]],
      ['a 20 KB Cookie', `GET /api/me HTTP/1.1\r\nHost: x\r\nCookie: session=${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`, [431]],
      ['a 16 KB URL', `GET /api/emp/search/${'a'.repeat(16_000)}/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, [414, 431]],
      ['a Content-Length shorter than the body', `POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\nusername=a&password=b`, [400, 422]],
      ['Transfer-Encoding with Content-Length', `POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, [400]],
      ['Content-Length: -1', 'POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', [400]],
      ['two Content-Lengths', 'POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', [400]],
    ];
    for (const [label, request, expected] of cases) {
      const response = await send(request);
      assert.ok(response.status !== undefined && expected.includes(response.status), `${label}: ${response.status} ${response.text.slice(0, 80)}`);
      assert.ok(response.elapsedMs < 2500, `${label}: ${response.elapsedMs.toFixed(0)} ms`);
    }
    const manyHeaders = await send(`GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 200 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\nConnection: close\r\n\r\n`);
    assert.equal(manyHeaders.status, 200, '200 small headers are within the limits');
    // A Content-Length longer than what arrives is a slow body (G-07): the request timeout ends it.
    const { cookie } = await login(app, U1);
    assert.ok(Buffer.byteLength(`session=${cookie}; Path=/; HttpOnly; SameSite=Lax; Secure`) < 4096, 'our own cookie stays far under 4 KB');
    const alive = await send('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.deepEqual(JSON.parse(rawBody(alive)), { status: 'ok' });
  });
});

for (const engine of ENGINES) {
  describe(`G-09 and G-10 on ${engine}`, await gateFor(engine), () => {
    let database: TestDatabase;
    let env: TestEnvironment;
    let app: FastifyInstance;
    let admin: { cookie: string };
    before(async () => {
      database = await createTestDatabase(engine);
      env = testEnvironment('redis', { DATABASE_URL: database.url, LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_CLIENT: '100000' });
      app = await env.start();
      admin = await login(app, ADMIN);
    });
    after(async () => {
      await env?.cleanup();
      await database?.cleanup();
    });

    const postLogin = (payload: string) => app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload });

    it(`G-09 answers odd encodings in the login form with 400 or 422, never a 5xx, and pollutes no prototype (${engine})`, async () => {
      const bodies = [
        'username=%C3%28&password=%FF%FE',
        'username=%',
        'username=%&password=%',
        'username=%C0%AF&password=%C0%AF',
        'username=%ED%A0%80&password=%ED%A0%80',
        Array.from({ length: 10_000 }, () => 'a=1').join('&'),
        '__proto__[admin]=1&constructor[prototype][admin]=1&__proto__=x&username=a%40b.c&password=x',
        'username[]=a&password[]=b',
        'username=a&username=b&password=x',
      ];
      for (const body of bodies) {
        const response = await postLogin(body);
        assert.ok([400, 413, 422].includes(response.statusCode), `${body.slice(0, 50)}: ${response.statusCode} ${response.body}`);
      }
      assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype pollution');
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'admin'), false);
      assert.deepEqual((await me(app, { cookie: admin.cookie })).json().username, ADMIN.username, 'later requests are normal');
    });

    it(
      `G-09 does not truncate a username at a NUL byte (${engine})`,
      {},
      async () => {
        const response = await postLogin(form({ username: `${U1.username}\u0000x`, password: U1.password }));
        assert.equal(response.statusCode, 400);
        assert.deepEqual(response.json(), INCORRECT);
      },
    );

    it(`G-09 compares login names after one normalisation, the same on every engine (${engine})`, async () => {
      // The rule (docs/SECURITY.md): an email is trimmed, NFKC-normalised and lower-cased when stored
      // and when looked up, and then compared exactly (MariaDB's column is utf8mb4_bin). So an NFD
      // spelling is the same person everywhere, and a spelling without the accent is nobody, on
      // MariaDB too (its old accent-insensitive collation let `zoe` log in as `zoë`).
      const nfc = 'zoë.nfc.test@example.com'.normalize('NFC');
      await app.db
        .insertInto('employees')
        .values({ emp_no: 900_001, birth_date: '1990-01-01', first_name: 'Zoë', last_name: 'Unicode', gender: 'F', hire_date: '2020-01-01', email: nfc, password: await argon2Hash('password') })
        .execute();
      const status = async (username: string) => (await postLogin(form({ username, password: 'password' }))).statusCode;
      assert.equal(await status(nfc), 200);
      assert.equal(await status(nfc.toUpperCase()), 200, 'case never matters');
      assert.equal(await status(nfc.normalize('NFD')), 200, 'NFD is the same name');
      assert.equal(await status('zoe.nfc.test@example.com'), 400, 'without the diaeresis');
    });

    describe(`G-10 (${engine})`, () => {
      const search = (last: string, first = '%', query = '') =>
        app.inject({ method: 'GET', url: `/api/emp/search/${encodeURIComponent(last)}/${encodeURIComponent(first)}${query}`, cookies: { session: admin.cookie } });

      it(`G-10 matches SQL metacharacters literally in every search field, with no error text and no extra rows (${engine})`, async () => {
        const baseline = await search('%nas%', '%An');
        assert.equal(baseline.statusCode, 200);
        assert.ok(baseline.json().items.length > 0);
        const payloads = [
          "' OR '1'='1",
          "'; DROP TABLE employees;--",
          "%' UNION SELECT password_hash FROM employees--",
          "';DROP TABLE x;--",
          "'UNION SELECT 1",
          '1) OR SLEEP(5)#',
          "'||pg_sleep(5)--",
          "' AND randomblob(500000000)--",
          '_',
          '\\',
          '\\%',
          '"; --',
        ];
        const baselineMs = (await timed(() => search('%zz%'))).ms;
        for (const payload of payloads) {
          for (const [last, first] of [[`%${payload}%`, '%'], ['%', `%${payload}%`]] as const) {
            for (const method of ['GET', 'POST'] as const) {
              const { value, ms } = await timed(() =>
                app.inject({ method, url: `/api/emp/search/${encodeURIComponent(last)}/${encodeURIComponent(first)}`, cookies: { session: admin.cookie } }),
              );
              // Names are at most 16 characters with a % (the original's rule): 422 naming the field
              // for longer payloads, else a literal match, which finds nobody.
              assert.ok([200, 422].includes(value.statusCode), `${method} ${payload}: ${value.body}`);
              if (value.statusCode === 200) assert.deepEqual(value.json(), { items: [], page: 1, size: 50, has_more: false }, `${payload}: matched literally, nothing`);
              else assert.match(value.json().errors[0].field, /^(lastName|firstName)$/);
              assert.doesNotMatch(value.body, /syntax|sqlite|mysql|postgres|relation|column/i);
              assert.ok(ms < baselineMs + 500, `${payload}: ${ms.toFixed(0)} ms`);
            }
          }
        }
        const viaForm = await app.inject({ method: 'GET', url: `/api/emp/search?last_name=${encodeURIComponent("%' OR '1'='1")}&first_name=%25`, cookies: { session: admin.cookie } });
        assert.equal(viaForm.statusCode, 303);
        const followed = await app.inject({ method: 'GET', url: viaForm.headers.location!, cookies: { session: admin.cookie } });
        assert.deepEqual(followed.json().items, []);
        assert.equal(await app.db.selectFrom('employees').select('emp_no').limit(1).executeTakeFirst().then(Boolean), true, 'the table is still there');
      });

      it(`G-10 caps paging, ignores a sort it does not offer, and never returns a hash (${engine})`, async () => {
        for (const query of ['?size=-1', '?size=1000000000', '?size=101', '?page=0', '?page=-1', '?size=1;--', '?page=1e9']) {
          const response = await search('%a%', '%', query);
          assert.equal(response.statusCode, 422, query);
          assert.doesNotMatch(response.body, /sql|syntax|select/i);
        }
        const plain = await search('%a%', '%', '?size=100');
        assert.ok(plain.json().items.length > 10 && plain.json().items.length <= 100);
        for (const sort of ['password', 'password_hash', '1;--', '(CASE WHEN 1=1 THEN emp_no END)']) {
          const sorted = await search('%a%', '%', `?size=100&sort=${encodeURIComponent(sort)}&order=${encodeURIComponent(sort)}`);
          assert.equal(sorted.statusCode, 200, sort);
          assert.deepEqual(sorted.json(), plain.json(), `${sort}: results by employee number, as always`);
          assert.doesNotMatch(sorted.body, /\$argon2|\$2[aby]\$|"password"/);
        }
      });

      it(`G-10 treats SQL in the login name as a name like any other (${engine})`, async () => {
        for (const payload of ["' OR '1'='1", "admin'--", "x' UNION SELECT 1,2,3--", `${U1.username}' --`, "'||pg_sleep(5)--", '1) OR SLEEP(5)#']) {
          const { value, ms } = await timed(() => postLogin(form({ username: payload, password: "' OR 1=1 --" })));
          assert.equal(value.statusCode, 400, payload);
          assert.deepEqual(value.json(), INCORRECT);
          assert.ok(ms < 3000, `${payload}: ${ms.toFixed(0)} ms`);
        }
      });

      it(
        `G-10 refuses a NUL byte in a search field as input, not as a server error (${engine})`,
        {},
        async () => {
          const response = await search('%a\u0000b%');
          assert.ok([200, 422].includes(response.statusCode), `${response.statusCode} ${response.body}`);
        },
      );
    });
  });
}

