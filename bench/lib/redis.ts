/**
 * The benchmark's private Redis: the same throwaway redis-server the tests and chaos runs start
 * (support/private-servers.ts: a free loopback port, nothing kept on disk), plus a connection for
 * the INFO readings the report needs: commands processed, by command, and memory.
 */
import { Redis } from 'ioredis';
import { startPrivateRedis as startServer } from '../../support/private-servers.js';
import type { Owned } from './processes.js';

export interface PrivateRedis {
  port: number;
  url: string;
  process: Owned;
  /** A connection for the benchmark's own readings (INFO, MEMORY USAGE, seeding). */
  client: Redis;
  stop(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const server = await startServer();
  const child = server.process;
  if (!child) throw new Error('redis-server is not running');
  const client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return {
    port: server.port,
    url: server.url,
    // Counted with the app's processes for the CPU and memory figures.
    process: { name: 'redis-server', child, stop: () => server.kill() },
    client,
    async stop() {
      client.disconnect();
      await server.stop();
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

/**
 * What clients send, by command, while `run` runs: one command per round trip. INFO commandstats
 * cannot tell these apart from the commands a Lua script runs (a script's GET and SET count as two
 * more, within the one round trip of its EVALSHA), so this reads MONITOR, which tags those `lua`.
 * The benchmark's own INFO calls are left out. MONITOR slows Redis down, so this is for fixed-count
 * runs only, never for timed ones.
 */
export async function sentCommands<T>(redis: PrivateRedis, run: () => Promise<T>): Promise<{ result: T; sent: Map<string, number> }> {
  // lazyConnect: monitor() opens a connection of its own, and this one then never connects.
  const monitor = await new Redis({ port: redis.port, host: '127.0.0.1', maxRetriesPerRequest: 1, lazyConnect: true }).monitor();
  const sent = new Map<string, number>();
  const marker = `bench-marker-${process.pid}-${Date.now()}`;
  let markerSeen: () => void = () => undefined;
  const markerArrived = new Promise<void>((resolve) => (markerSeen = resolve));
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = args[0]?.toLowerCase() ?? '';
    if (name === 'echo' && args[1] === marker) markerSeen();
    else if (source !== 'lua' && name !== 'info') sent.set(name, (sent.get(name) ?? 0) + 1);
  });
  try {
    const result = await run();
    // Redis feeds MONITOR in the order it runs commands: once the marker is seen, so is everything before it.
    await redis.client.echo(marker);
    await markerArrived;
    return { result, sent };
  } finally {
    monitor.disconnect();
  }
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
