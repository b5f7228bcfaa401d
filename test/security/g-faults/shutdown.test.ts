/**
 * Checklist group G, shutdown (G-06): the real server process (`src/server.ts`) spawned and sent
 * SIGTERM with requests in flight. Every child process is stopped in an `after` hook.
 *
 * The other fault kinds are beside this file; docs/SECURITY.md lists them by checklist id.
 */
import { after, describe, it } from 'node:test';
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
import { Redis } from 'ioredis';
import { serviceGate, SERVICE_URLS } from '../../helpers/services.js';
import { form } from '../../helpers/app.js';
import { freePort, killProcess, pollUntil } from '../../../support/private-servers.js';
import { PROJECT_ROOT } from '../../../src/paths.js';
import { rawRequest } from '../support.js';
import { credentials, U1 } from '../../helpers/people.js';

const redisGate = await serviceGate('redis');

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
  async function startServer(
    workers: 'cluster' | 'single' = 'cluster',
  ): Promise<{ child: ChildProcess; port: number; stderr: () => string; exit: Promise<{ code: number | null; at: number }> }> {
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
    const up = await pollUntil(
      async () => (await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 1000)).status === 200,
      30_000,
      200,
    );
    assert.ok(up, `the server did not start: ${stderr}`);
    return { child, port, stderr: () => stderr, exit };
  }

  /** A login whose body arrives a byte at a time over about `overMs`, on its own connection. */
  function trickledLogin(port: number, overMs: number): Promise<{ status: number | undefined; body: string }> {
    const body = form(credentials(U1));
    const socket: Socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.write(
      `POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
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
      socket.write(
        'POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=',
      );
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
    assert.ok(
      stuckExit.at - signalledAt >= 9000 && stuckExit.at - signalledAt < 12_500,
      `forced exit after ${stuckExit.at - signalledAt} ms`,
    );
    assert.match(stuck.stderr(), /killed by timeout \(10000ms\)/);
    for (const server of [second, stuck]) assert.doesNotMatch(server.stderr(), /Error|at .*\(/, 'no crash');
  });
});
