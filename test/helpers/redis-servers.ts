/**
 * Private redis-server processes for tests that stop, pause or fail over Redis: each one is the
 * test's own, on a free loopback port, so killing it disturbs nobody. Killed in the test's `after`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const REDIS_SERVER_BINARY = process.env.REDIS_SERVER_BINARY ?? 'redis-server';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

export async function pollUntil(check: () => Promise<boolean>, withinMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(everyMs);
  }
  return false;
}

export interface RedisProcess {
  port: number;
  child: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` on `port` (a free one if not given) with nothing kept on disk, plus
 * `extraArgs` (e.g. `--cluster-enabled yes`, `--replicaof 127.0.0.1 6400`). With `sentinelConfig`,
 * starts a Sentinel instead, from that configuration text.
 */
export async function startRedis(
  options: { port?: number; extraArgs?: string[]; sentinelConfig?: string } = {},
): Promise<RedisProcess> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'ep-redis-'));
  let args: string[];
  if (options.sentinelConfig !== undefined) {
    const file = join(dir, 'sentinel.conf');
    writeFileSync(file, `port ${port}\nbind 127.0.0.1\ndir ${dir}\n${options.sentinelConfig}\n`);
    args = [file, '--sentinel'];
  } else {
    args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(options.extraArgs ?? [])];
  }
  const child = spawn(REDIS_SERVER_BINARY, args, { stdio: 'ignore' });
  if (!(await pollUntil(() => canConnect(port), 5000))) {
    child.kill('SIGKILL');
    throw new Error(`${REDIS_SERVER_BINARY} did not listen on port ${port}`);
  }
  return {
    port,
    child,
    dir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
