/**
 * Servers a test, a benchmark or a chaos run owns: a private redis-server (or PostgreSQL cluster) on
 * a free loopback port, started and stopped by its owner, so that killing, pausing or restarting it
 * disturbs nobody else. Every start returns a handle whose `stop()` belongs in an `after` hook (or
 * the run's clean-up). test/, bench/ and chaos/ all start their servers here, so there is one way
 * to do it; this folder sits outside test/ because benchmark and chaos code must not import tests.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REDIS_SERVER_BINARY = process.env.REDIS_SERVER_BINARY ?? 'redis-server';

/** A TCP port nothing listens on right now (the kernel's choice). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  assert.ok(address && typeof address === 'object');
  return address.port;
}

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/**
 * Polls `check` every `everyMs` until it is true (→ true) or `withinMs` has passed (→ false). A check
 * that throws (a server not up yet refusing the connection) counts as not yet.
 */
export async function pollUntil(check: () => Promise<boolean>, withinMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(everyMs);
  }
  return false;
}

/** SIGKILLs a child (if still running) and waits for it to be gone. */
export async function killProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** The running server process (undefined while stopped). */
  process: ChildProcess | undefined;
  /** Starts it (again) on the same port and directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGKILL: an outage with no goodbye. Data in memory is lost unless it was saved. */
  kill(): Promise<void>;
  /** Removes the data directory too. For `after` hooks. */
  stop(): Promise<void>;
}

/**
 * A throwaway redis-server. Persistence is off (no RDB schedule, no AOF), so a kill and start
 * forgets every session, unless the test saves first (`SHUTDOWN SAVE`); the dump then lives in a
 * private directory and is read back by the next start. DEBUG is enabled for `DEBUG SLEEP`.
 * `extraArgs` adds options (`--cluster-enabled yes`, `--replicaof 127.0.0.1 N`); `sentinelConfig`
 * starts a Sentinel from that configuration text instead.
 */
export async function startPrivateRedis(options: { extraArgs?: string[]; sentinelConfig?: string } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ep-redis-'));
  const handle: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: undefined,
    async start() {
      let args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--enable-debug-command',
        'yes',
        ...(options.extraArgs ?? []),
      ];
      if (options.sentinelConfig !== undefined) {
        const file = join(dir, 'sentinel.conf');
        writeFileSync(file, `port ${port}\nbind 127.0.0.1\ndir ${dir}\n${options.sentinelConfig}\n`);
        args = [file, '--sentinel'];
      }
      const child = spawn(REDIS_SERVER_BINARY, args, { stdio: 'ignore' });
      handle.process = child;
      if (!(await pollUntil(() => canConnect(port), 5000, 50))) {
        await killProcess(child);
        throw new Error(`${REDIS_SERVER_BINARY} did not listen on port ${port}`);
      }
    },
    async kill() {
      await killProcess(handle.process);
      handle.process = undefined;
    },
    async stop() {
      await handle.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

export interface PrivatePostgres {
  port: number;
  /** The server URL (the `postgres` superuser, trust authentication on loopback). */
  url: string;
  start(): Promise<void>;
  /** `pg_ctl stop -m immediate`: every connection is cut, as in a crash. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private PostgreSQL cluster (initdb + pg_ctl) in a temporary directory. PostgreSQL refuses to
 * run as root, so as root the cluster belongs to the `postgres` system user.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ep-pg-'));
  const asRoot = process.getuid?.() === 0;
  const pg = (command: string, args: string[]) =>
    run(asRoot ? 'runuser' : command, asRoot ? ['-u', 'postgres', '--', command, ...args] : args, { timeout: 30_000 });
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const handle: PrivatePostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}`,
    async start() {
      await pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
    },
    async kill() {
      await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    },
    async stop() {
      await handle.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}
