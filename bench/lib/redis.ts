/**
 * The benchmark's private Redis: Debian's `redis-server` on a free loopback port, nothing kept on
 * disk (`--save '' --appendonly no`), as test/helpers/redis-servers.ts starts them for tests.
 * Plus the INFO readings the report needs: commands processed, by command, and memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startProcess, type Owned } from './processes.js';

export const REDIS_SERVER_BINARY = process.env.REDIS_SERVER_BINARY ?? 'redis-server';

export interface PrivateRedis {
  port: number;
  url: string;
  process: Owned;
  /** A connection for the benchmark's own readings (INFO, MEMORY USAGE, seeding). */
  client: Redis;
  stop(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ep-bench-redis-'));
  const owned = await startProcess({
    name: 'redis-server',
    command: REDIS_SERVER_BINARY,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    port,
    readyWithinMs: 5_000,
  });
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: owned,
    client,
    async stop() {
      client.disconnect();
      await owned.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `INFO commandstats` as calls per command (lower-case names, e.g. `get`, `set`, `evalsha`). */
export async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const text = await client.info('commandstats');
  const calls = new Map<string, number>();
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]));
  return calls;
}

/** Commands run between two readings, by command, leaving out the benchmark's own INFO calls. */
export function commandDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [name, calls] of after) {
    if (name === 'info') continue;
    const diff = calls - (before.get(name) ?? 0);
    if (diff > 0) delta.set(name, diff);
  }
  return delta;
}

export function totalOf(delta: Map<string, number>): number {
  let sum = 0;
  for (const calls of delta.values()) sum += calls;
  return sum;
}

/** `used_memory` in bytes. */
export async function usedMemory(client: Redis): Promise<number> {
  const text = await client.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(text)?.[1] ?? 0);
}

/** CPU seconds (user + sys) the Redis server has used. */
export async function redisCpuSeconds(client: Redis): Promise<number> {
  const text = await client.info('cpu');
  const sys = Number(/^used_cpu_sys:([\d.]+)/m.exec(text)?.[1] ?? 0);
  const user = Number(/^used_cpu_user:([\d.]+)/m.exec(text)?.[1] ?? 0);
  return sys + user;
}
