/**
 * Measuring one load: requests and latency (autocannon), Redis commands (INFO commandstats), CPU on
 * each side (/proc), the event loop (the app's /metrics), and what other programs on the machine
 * did meanwhile. Also the one-connection search latency, timed request by request.
 */
import { request as httpRequest, Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventLoopLag } from './app.js';
import { percentile, runLoad, type LoadOptions, type LoadRun } from './load.js';
import { treeCpuSeconds, type Owned } from './processes.js';
import { commandCalls, commandDelta, redisCpuSeconds, sentCommands, totalOf, type PrivateRedis } from './redis.js';
import type { Scenario } from './report.js';
import { machineBusySeconds, ownCpuSeconds } from './system.js';

/** Cores of CPU used by programs outside the benchmark above which a sample counts as disturbed. */
export const FOREIGN_LIMIT_CORES = 0.3;

/**
 * Searches a person would type (each needs a % in both names), first pages only, in the shares of
 * scripts/measure-search.ts ("Full-size data" in docs/PERFORMANCE.md): 20 searches, cycled.
 */
export const SEARCH_KINDS: Array<{ kind: string; searches: Array<[last: string, first: string]> }> = [
  {
    kind: 'infix in both names',
    searches: [
      ['%nas%', '%an'],
      ['%ber%', '%ie'],
      ['%man%', '%el'],
      ['%ski%', '%na'],
      ['%lli%', '%ro'],
      ['%ova%', '%an'],
    ],
  },
  {
    kind: 'infix in the last name',
    searches: [
      ['%ski%', '%'],
      ['%ett%', '%'],
      ['%ara%', '%'],
    ],
  },
  {
    kind: 'prefix of the last name',
    searches: [
      ['Gor%', '%'],
      ['Fac%', '%'],
      ['Sim%', '%'],
    ],
  },
  {
    kind: 'whole names',
    searches: [
      ['Gornas%', 'Niranjan%'],
      ['Facello%', 'Georgi%'],
    ],
  },
  {
    kind: 'whole last name',
    searches: [
      ['Facello%', '%'],
      ['Maliniak%', '%'],
    ],
  },
  {
    kind: 'everyone',
    searches: [
      ['%', '%'],
      ['%', '%'],
    ],
  },
  { kind: 'nothing matches', searches: [['%qxq%', '%']] },
  { kind: 'two-letter infix', searches: [['%er%', '%']] },
];
export const SEARCHES: Array<{ kind: string; last: string; first: string }> = [];
{
  // Interleaved, so that no kind runs only on a cold or only on a warm cache.
  const queues = SEARCH_KINDS.map(({ kind, searches }) => searches.map(([last, first]) => ({ kind, last, first })));
  while (queues.some((queue) => queue.length)) for (const queue of queues) if (queue.length) SEARCHES.push(queue.shift()!);
}
export const searchPath = ({ last, first }: { last: string; first: string }) =>
  `/emp/search/${encodeURIComponent(last)}/${encodeURIComponent(first)}`;

export interface Target {
  id: string;
  label: string;
  urls: string[];
  headers?: Record<string, string>;
  /** Processes whose CPU is the server's. */
  server: Owned[];
  /** A single-process app whose /metrics reports its event loop. */
  metricsUrl?: string;
}

export interface Sample {
  run: LoadRun;
  redis: Map<string, number>;
  serverCpu: number;
  redisCpu: number;
  generatorCpu: number;
  foreignCpu: number;
  eventLoop?: { p99: number; max: number } | undefined;
}

/** What the measurements read: the private Redis and every server process the benchmark started. */
export const meter: { redis: PrivateRedis; servers: Owned[]; connections: number; log: (line: string) => void } = {
  redis: undefined as unknown as PrivateRedis,
  servers: [],
  connections: 32,
  log: (line) => process.stderr.write(`${line}\n`),
};

function ourCpu(): number {
  return meter.servers.reduce((sum, owned) => sum + treeCpuSeconds(owned.child.pid!), 0) + ownCpuSeconds();
}

/**
 * Waits until Redis has seen no command for a quarter of a second: the requests a previous run
 * left in flight (a timed run stops with every connection's last request unanswered, and a slow
 * search or login can take a second) must not be counted in the next one.
 */
export async function settle(maxMs = 15_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  const notInfo = async () => totalOf(commandDelta(new Map(), await commandCalls(meter.redis.client))); // our INFO calls left out
  let last = await notInfo();
  while (Date.now() < deadline) {
    await sleep(250);
    const now = await notInfo();
    if (now === last) return;
    last = now;
  }
}

export async function measure(target: Target, load: Omit<LoadOptions, 'url'>, settleFirst = true): Promise<Sample> {
  if (settleFirst) await settle();
  if (target.metricsUrl) await eventLoopLag(target.metricsUrl); // resets prom-client's histogram
  const calls = await commandCalls(meter.redis.client);
  const redisCpu = await redisCpuSeconds(meter.redis.client);
  const server = target.server.reduce((sum, owned) => sum + treeCpuSeconds(owned.child.pid!), 0);
  const own = ownCpuSeconds();
  const ours = ourCpu() + redisCpu;
  const busy = machineBusySeconds();

  const run = await runLoad({ url: target.urls, ...load, headers: { ...target.headers, ...load.headers } });

  const busyAfter = machineBusySeconds();
  const oursAfter = ourCpu() + (await redisCpuSeconds(meter.redis.client));
  const redisCpuAfter = await redisCpuSeconds(meter.redis.client);
  const sample: Sample = {
    run,
    redis: commandDelta(calls, await commandCalls(meter.redis.client)),
    redisCpu: redisCpuAfter - redisCpu,
    serverCpu: target.server.reduce((sum, owned) => sum + treeCpuSeconds(owned.child.pid!), 0) - server,
    generatorCpu: ownCpuSeconds() - own,
    foreignCpu: Math.max(0, busyAfter - busy - (oursAfter - ours)),
    eventLoop: target.metricsUrl ? await eventLoopLag(target.metricsUrl) : undefined,
  };
  return sample;
}

/** Cores used by programs outside the benchmark over `seconds`, with the benchmark idle. */
export async function foreignCores(seconds: number): Promise<number> {
  const busy = machineBusySeconds();
  const ours = ourCpu() + (await redisCpuSeconds(meter.redis.client));
  await sleep(seconds * 1000);
  const busyAfter = machineBusySeconds();
  const oursAfter = ourCpu() + (await redisCpuSeconds(meter.redis.client));
  return Math.max(0, (busyAfter - busy - (oursAfter - ours)) / seconds);
}

export async function waitForQuiet(maxSeconds: number): Promise<number> {
  const deadline = Date.now() + maxSeconds * 1000;
  let foreign = await foreignCores(2);
  while (foreign > FOREIGN_LIMIT_CORES && Date.now() < deadline) {
    meter.log(
      `other programs use ${foreign.toFixed(2)} cores; waiting for quiet (up to ${Math.round((deadline - Date.now()) / 1000)} s more)`,
    );
    foreign = await foreignCores(3);
  }
  return foreign;
}

/**
 * Redis round trips per request, exactly: a fixed number of requests, every one answered before the
 * count is read (a timed run ends with requests in flight whose commands Redis has already counted).
 * `perRequest` counts what the servers send (redis.ts `sentCommands`); the breakdown also gives what
 * Redis ran, INFO commandstats, which counts every command a Lua script runs as well (the session
 * check's GET and SET inside its one EVALSHA, the login throttle's).
 */
export async function redisPerRequest(
  target: Target,
  amount: number,
  load: Partial<LoadOptions> = {},
): Promise<{ perRequest: number; breakdown: string }> {
  await settle();
  const before = await commandCalls(meter.redis.client);
  const { result: run, sent } = await sentCommands(meter.redis, () =>
    runLoad({
      url: target.urls,
      connections: Math.min(meter.connections, amount),
      amount,
      ...load,
      headers: { ...target.headers, ...load.headers },
    }),
  );
  if (run.errors > 0)
    meter.log(`warning: ${run.errors} of the counted requests to ${target.label} failed or timed out; the count may be off`);
  const ran = commandDelta(before, await commandCalls(meter.redis.client));
  for (const own of ['echo', 'monitor']) ran.delete(own); // sentCommands' own
  const answered = run.requests;
  const perCommand = (counts: Map<string, number>) =>
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([name, calls]) => `${name} ${(calls / answered).toFixed(answered >= 1000 ? 3 : 2)}`)
      .join(', ');
  return {
    perRequest: totalOf(sent) / answered,
    breakdown: `sent ${perCommand(sent) || 'nothing'}; Redis ran ${(totalOf(ran) / answered).toFixed(3)}: ${perCommand(ran)}`,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

export function summarise(target: Target, samples: Sample[], note?: string): Scenario {
  const requests = samples.reduce((sum, s) => sum + s.run.requests, 0);
  const seconds = samples.reduce((sum, s) => sum + s.run.seconds, 0);
  const redisTotals = new Map<string, number>();
  for (const s of samples) for (const [name, calls] of s.redis) redisTotals.set(name, (redisTotals.get(name) ?? 0) + calls);
  const failures: Record<string, number> = {};
  for (const s of samples) {
    for (const [status, count] of Object.entries(s.run.otherStatuses)) failures[status] = (failures[status] ?? 0) + count;
    if (s.run.errors) failures.errors = (failures.errors ?? 0) + s.run.errors;
  }
  const loops = samples.map((s) => s.eventLoop).filter((each) => each !== undefined);
  return {
    id: target.id,
    label: target.label,
    rps: median(samples.map((s) => s.run.rps)),
    perRound: samples.map((s) => ({ rps: s.run.rps, p99: s.run.p99 })),
    p50: median(samples.map((s) => s.run.p50)),
    p95: median(samples.map((s) => s.run.p95)),
    p99: median(samples.map((s) => s.run.p99)),
    requests,
    failures: Object.entries(failures)
      .map(([status, count]) => `${count}× ${status}`)
      .join(', '),
    redisPerRequest: requests ? totalOf(redisTotals) / requests : undefined,
    redisBreakdown: [...redisTotals]
      .sort((a, b) => b[1] - a[1])
      .map(([name, calls]) => `${name} ${(calls / requests).toFixed(requests >= 1000 ? 3 : 2)}`)
      .join(', '),
    serverCpuUs: requests ? (samples.reduce((sum, s) => sum + s.serverCpu, 0) / requests) * 1e6 : undefined,
    generatorCores: samples.reduce((sum, s) => sum + s.generatorCpu, 0) / seconds,
    redisCores: samples.reduce((sum, s) => sum + s.redisCpu, 0) / seconds,
    foreignCores: samples.reduce((sum, s) => sum + s.foreignCpu, 0) / seconds,
    ...(loops.length ? { eventLoop: { p99: median(loops.map((l) => l.p99)), max: Math.max(...loops.map((l) => l.max)) } } : {}),
    rounds: samples.length,
    ...(note ? { note } : {}),
  };
}

/** One request, to check a target answers what the scenario expects before timing it. */
export async function check(url: string, path: string, headers: Record<string, string>, expect = 200): Promise<string> {
  const response = await fetch(url + path, { headers });
  const text = await response.text();
  if (response.status !== expect) throw new Error(`GET ${url}${path} answered ${response.status}, not ${expect}: ${text.slice(0, 300)}`);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Search latency at one connection, per search, with node:http (exact and in order).

export async function sequentialSearches(url: string, headers: Record<string, string>, seconds: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const { hostname, port } = new URL(url);
  const perKind = new Map<string, number[]>(SEARCH_KINDS.map(({ kind }) => [kind, []]));
  const all: number[] = [];
  const statuses: Record<string, number> = {};
  const deadline = performance.now() + seconds * 1000;
  for (let index = 0; performance.now() < deadline; index++) {
    const search = SEARCHES[index % SEARCHES.length]!;
    const startedAt = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ agent, hostname, port, path: searchPath(search), headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    const elapsed = performance.now() - startedAt;
    if (status !== 200) statuses[status] = (statuses[status] ?? 0) + 1;
    perKind.get(search.kind)!.push(elapsed);
    all.push(elapsed);
  }
  agent.destroy();
  const stats = (values: number[]) => {
    const sorted = Float64Array.from(values).sort();
    return {
      count: values.length,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? NaN,
    };
  };
  return {
    overall: stats(all),
    perKind: SEARCH_KINDS.map(({ kind, searches }) => ({ kind, example: searches[0]!, ...stats(perKind.get(kind)!) })),
    statuses,
  };
}
