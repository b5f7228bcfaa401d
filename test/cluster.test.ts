/**
 * WORKERS=N: the real server process as a cluster primary with workers sharing one port; a dead
 * worker is replaced, and SIGTERM drains them all and exits 0.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, pollUntil } from './helpers/processes.js';

function workerPids(primary: number): number[] {
  try {
    // Only the workers: tsx also runs an esbuild helper process under the primary.
    return execFileSync('pgrep', ['-P', String(primary), '-f', 'server.ts']).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

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
    const replaced = await pollUntil(async () => {
      const pids = workerPids(server.pid!);
      return pids.length === 2 && !pids.includes(victim!);
    }, 20_000, 200);
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
