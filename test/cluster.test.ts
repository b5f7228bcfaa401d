/**
 * WORKERS=N: the real server process as a cluster primary with workers sharing one port; a dead
 * worker is replaced, and SIGTERM drains them all and exits 0. Workers start and serve 503 while
 * the database is away, and serve again by themselves when it returns.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { freePort, pollUntil, startPrivatePostgres, type PrivatePostgres } from '../support/private-servers.js';
import { spawnServer, type ServerProcess } from './helpers/processes.js';
import { isReachable } from './helpers/services.js';
import { restartDelayMs } from '../src/cluster.js';
import { DATABASE_UNAVAILABLE } from './helpers/messages.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
const LOGIN = 'username=behai_nguyen%40hotmail.com&password=password';
/** The private cluster needs the PostgreSQL binaries; the shared server being up says they are installed. */
const pgGate = (await isReachable('postgres')) || process.env.CI === 'true' ? {} : { skip: 'PostgreSQL is not installed here' };

function workerPids(primary: number): number[] {
  try {
    // Only the workers: tsx also runs an esbuild helper process under the primary.
    return execFileSync('pgrep', ['-P', String(primary), '-f', 'server.ts'])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

describe('restarting workers', () => {
  it('restarts at once after a worker that lived, and waits longer after each failed start, up to 30 s, never giving up', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 50].map(restartDelayMs), [0, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });
});

describe('several worker processes on one port', () => {
  let server: ChildProcess;
  let dataDir: string;
  let baseUrl: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ep-cluster-'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, WORKERS: '2', LOG_LEVEL: 'warn', SECRET_KEY: 'k'.repeat(40) },
      stdio: 'ignore',
    });
    const up = await pollUntil(async () => (await fetch(`${baseUrl}/ready`)).status === 200, 30_000, 200);
    assert.ok(up, 'the cluster answers');
  });
  after(async () => {
    if (server.exitCode === null) server.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves from two workers, which share one session store', async () => {
    assert.ok(await pollUntil(async () => workerPids(server.pid!).length === 2, 10_000));
    const loginResponse = await fetch(`${baseUrl}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=behai_nguyen%40hotmail.com&password=password',
    });
    const { access_token: token } = (await loginResponse.json()) as { access_token: string };
    for (let i = 0; i < 10; i++) {
      const me = await fetch(`${baseUrl}/api/me`, { headers: { authorization: `Bearer ${token}`, connection: 'close' } });
      assert.equal(me.status, 200);
    }
  });

  it('replaces a worker that dies', async () => {
    const [victim] = workerPids(server.pid!);
    process.kill(victim!, 'SIGKILL');
    const replaced = await pollUntil(
      async () => {
        const pids = workerPids(server.pid!);
        return pids.length === 2 && !pids.includes(victim!);
      },
      20_000,
      200,
    );
    assert.ok(replaced);
    assert.ok(await pollUntil(async () => (await fetch(`${baseUrl}/health`)).status === 200, 10_000));
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    const [code] = (await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(['timeout']), 15_000))])) as [unknown];
    assert.equal(code, 0);
  });
});

describe('several workers over a PostgreSQL that is away', { timeout: 120_000, ...pgGate }, () => {
  let postgres: PrivatePostgres;
  let server: ServerProcess;

  before(async () => {
    postgres = await startPrivatePostgres();
    const client = new pg.Client({ connectionString: `${postgres.url}/postgres` });
    await client.connect();
    await client.query('create database workers');
    await client.end();
    await postgres.kill();
  });
  after(async () => {
    for (const pid of server ? workerPids(server.child.pid!) : []) process.kill(pid, 'SIGKILL');
    await server?.stop();
    await postgres?.stop();
  });

  it('starts, replaces a worker that dies during the outage, and serves by itself once the database is back', async () => {
    server = await spawnServer({ DATABASE_URL: `${postgres.url}/workers`, WORKERS: '2' });
    const { baseUrl } = server;
    assert.ok(
      await pollUntil(async () => workerPids(server.child.pid!).length === 2 && (await fetch(`${baseUrl}/health`)).ok, 30_000, 200),
      server.output(),
    );
    const notReady = await fetch(`${baseUrl}/ready`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), { status: 'unavailable', checks: { sessionStore: 'ok', database: 'unavailable' } });
    const refused = await fetch(`${baseUrl}/auth/token`, { method: 'POST', headers: FORM, body: LOGIN });
    assert.equal(refused.status, 503);
    assert.deepEqual(await refused.json(), DATABASE_UNAVAILABLE);

    const [victim] = workerPids(server.child.pid!);
    process.kill(victim!, 'SIGKILL');
    const replaced = await pollUntil(
      async () => {
        const pids = workerPids(server.child.pid!);
        return pids.length === 2 && !pids.includes(victim!) && (await fetch(`${baseUrl}/health`, { headers: { connection: 'close' } })).ok;
      },
      30_000,
      200,
    );
    assert.ok(replaced, 'a replacement worker starts and serves while the database is away');

    await postgres.start();
    const back = Date.now();
    // Each worker finds the schema current on its own next retry: ready once several new
    // connections in a row (handed round-robin to the workers) say so.
    let inARow = 0;
    const everyWorkerReady = async () => {
      inARow = (await fetch(`${baseUrl}/ready`, { headers: { connection: 'close' } })).status === 200 ? inARow + 1 : 0;
      return inARow >= 4;
    };
    assert.ok(await pollUntil(everyWorkerReady, 30_000, 100), server.output());
    for (let i = 0; i < 6; i++) {
      const loggedIn = await fetch(`${baseUrl}/auth/token`, { method: 'POST', headers: { ...FORM, connection: 'close' }, body: LOGIN });
      assert.equal(loggedIn.status, 200, 'migrated by the primary, served by the workers');
    }
    assert.equal(server.child.exitCode, null, 'the primary never gave up');
    const warnings = server
      .output()
      .split('\n')
      .filter((line) => line.includes('"level":40'));
    assert.ok(
      warnings.some((line) => line.includes('a worker stopped')),
      'a dead worker is a warning',
    );
    assert.ok(
      warnings.some((line) => line.includes('"role":"primary"') && line.includes('database unavailable')),
      'the primary says the database is away',
    );
    console.log(`WORKERS=2: serving ${((Date.now() - back) / 1000).toFixed(1)} s after PostgreSQL came back`);
  });
});
