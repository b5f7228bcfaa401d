/**
 * `npm run bench [-- --quick] [-- --small] [-- --tsx] [-- --rounds N --seconds N --connections N]`
 *
 * Starts everything it measures, on loopback, and stops it all at the end:
 *   - a private redis-server (free port, nothing on disk);
 *   - the baseline: bench/baseline.ts, bare node:http doing ONE Redis GET per request, and the same
 *     server without Redis (the machine's HTTP ceiling);
 *   - the app as production runs it (npm run build → node dist/server.js, NODE_ENV=production,
 *     LOG_LEVEL=info), once more at LOG_LEVEL=warn (to show what request logging costs), and
 *     with two processes (WORKERS=2, or two processes on two ports if server.ts does not fork);
 * then drives them with autocannon from this process and prints the table of docs/PERFORMANCE.md
 * ("Benchmark"), also written to bench/results/latest.md (and .json).
 *
 * The throughput scenarios run round-robin (every scenario once per round, `--rounds` rounds) and
 * each figure is the median of its rounds, so a disturbance on the shared machine hits every
 * scenario alike instead of one. The "foreign CPU" column says how much else the machine did.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, Agent } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Request } from 'autocannon';
import { createDatabase } from '../src/database/connection.js';
import { findEmployeeByEmail } from '../src/employees/employee-repository.js';
import { LEGACY_BCRYPT_EMP_NOS, SEED_EMPLOYEES, SEED_PASSWORD } from '../src/database/seed.js';
import { eventLoopLag, login, prepareEntry, startApp, type Login, type RunningApp } from './lib/app.js';
import { fullSizeDataset, installDataset, loaderAvailable, type Dataset } from './lib/dataset.js';
import { percentile, runLoad, type LoadOptions, type LoadRun } from './lib/load.js';
import { freePort, startProcess, treeCpuSeconds, treeRss, type Owned } from './lib/processes.js';
import { commandCalls, commandDelta, redisCpuSeconds, startPrivateRedis, totalOf, usedMemory, type PrivateRedis } from './lib/redis.js';
import {
  ms,
  ratio,
  renderMarkdown,
  renderText,
  targetsTable,
  thousands,
  throughputTable,
  verdict,
  type Scenario,
  type TargetCheck,
} from './lib/report.js';
import { seedSessions } from './lib/sessions.js';
import { loadAverage, machineBusySeconds, machineDescription, ownCpuSeconds } from './lib/system.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
const KEY_PREFIX = 'starsessions.';
const IDLE_TIMEOUT_SECONDS = 1800;
const ABSOLUTE_TIMEOUT_SECONDS = 28_800;
/** A user:read employee of the seed (present at every size) for /admin/me. */
const ME_USER = 'pranav.furedi.10198@gmail.com';
/** An admin:read employee for the search. */
const SEARCH_USER = 'kyoichi.maliniak.10005@gmail.com';
const JSON_ACCEPT = { accept: 'application/json' };

/**
 * Searches a person would type (each needs a % in both names), first pages only, in the shares of
 * scripts/measure-search.ts ("Full-size data" in docs/PERFORMANCE.md): 20 searches, cycled.
 */
const SEARCH_KINDS: Array<{ kind: string; searches: Array<[last: string, first: string]> }> = [
  { kind: 'infix in both names', searches: [['%nas%', '%an'], ['%ber%', '%ie'], ['%man%', '%el'], ['%ski%', '%na'], ['%lli%', '%ro'], ['%ova%', '%an']] },
  { kind: 'infix in the last name', searches: [['%ski%', '%'], ['%ett%', '%'], ['%ara%', '%']] },
  { kind: 'prefix of the last name', searches: [['Gor%', '%'], ['Fac%', '%'], ['Sim%', '%']] },
  { kind: 'whole names', searches: [['Gornas%', 'Niranjan%'], ['Facello%', 'Georgi%']] },
  { kind: 'whole last name', searches: [['Facello%', '%'], ['Maliniak%', '%']] },
  { kind: 'everyone', searches: [['%', '%'], ['%', '%']] },
  { kind: 'nothing matches', searches: [['%qxq%', '%']] },
  { kind: 'two-letter infix', searches: [['%er%', '%']] },
];
const SEARCHES: Array<{ kind: string; last: string; first: string }> = [];
{
  // Interleaved, so that no kind runs only on a cold or only on a warm cache.
  const queues = SEARCH_KINDS.map(({ kind, searches }) => searches.map(([last, first]) => ({ kind, last, first })));
  while (queues.some((queue) => queue.length)) for (const queue of queues) if (queue.length) SEARCHES.push(queue.shift()!);
}
const searchPath = ({ last, first }: { last: string; first: string }) => `/emp/search/${encodeURIComponent(last)}/${encodeURIComponent(first)}`;

// ---------------------------------------------------------------------------------------------
// Command line

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    small: { type: 'boolean', default: false },
    tsx: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    'memory-seconds': { type: 'string' },
    'memory-sessions': { type: 'string' },
    'wait-quiet': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (args.help) {
  console.log(`Usage: npm run bench [-- options]
  --quick               short runs (a smoke test, ~1 minute); figures are rough
  --small               the small seed even when the full-size loader is available
  --tsx                 run the app from src/ with tsx instead of the build
  --rounds N            round-robin rounds of the throughput scenarios (default 3; quick 1)
  --seconds N           seconds per scenario and round (default 6; quick 2)
  --connections N       connections for the throughput scenarios (default 32)
  --memory-sessions N   live sessions in the memory run (default 100000; quick 2000)
  --memory-seconds N    length of the memory run (default 120; quick 8)
  --wait-quiet N        wait up to N s for other programs to leave the CPU alone before measuring
                        (default 120; quick 0); a round disturbed by them is run again (twice at most)`);
  process.exit(0);
}
const quick = args.quick;
const number = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Math.max(1, Number(value)));
const ROUNDS = number(args.rounds, quick ? 1 : 3);
const SECONDS = number(args.seconds, quick ? 2 : 6);
const WARMUP_SECONDS = quick ? 1 : 2;
const CONNECTIONS = number(args.connections, 32);
const LOGIN_CONNECTIONS = 8;
const LOGIN_SECONDS = quick ? 3 : 10;
const SEARCH_LATENCY_SECONDS = quick ? 3 : 15;
const SEARCH_LOAD_SECONDS = quick ? 2 : 8;
const MEMORY_SESSIONS = number(args['memory-sessions'], quick ? 2_000 : 100_000);
const MEMORY_SECONDS = number(args['memory-seconds'], quick ? 8 : 120);
const EMAIL_LOOKUPS = quick ? 200 : 1_000;
const WAIT_QUIET_SECONDS = args['wait-quiet'] === undefined ? (quick ? 0 : 120) : Number(args['wait-quiet']);
/** Cores of CPU used by programs outside the benchmark above which a sample counts as disturbed. */
const FOREIGN_LIMIT_CORES = 0.3;
const DISTURBED_RETRIES = quick ? 0 : 2;
/** Requests of the exact Redis count (every one answered before counting, none in flight). */
const REDIS_COUNT_REQUESTS = quick ? 500 : 3_000;

const began = performance.now();
const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Everything started here is stopped here, whatever happens.

const cleanups: Array<() => Promise<void>> = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`clean-up: ${String(error)}`));
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything`);
    void cleanUp().then(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring one load: requests, latency, Redis commands, CPU on each side, event loop.

interface Target {
  id: string;
  label: string;
  urls: string[];
  headers?: Record<string, string>;
  /** Processes whose CPU is the server's. */
  server: Owned[];
  /** A single-process app whose /metrics reports its event loop. */
  metricsUrl?: string;
}

interface Sample {
  run: LoadRun;
  redis: Map<string, number>;
  serverCpu: number;
  redisCpu: number;
  generatorCpu: number;
  foreignCpu: number;
  eventLoop?: { p99: number; max: number } | undefined;
}

let redis: PrivateRedis;
const allServers: Owned[] = [];

function ourCpu(): number {
  return allServers.reduce((sum, owned) => sum + treeCpuSeconds(owned.child.pid!), 0) + ownCpuSeconds();
}

/**
 * Waits until Redis has seen no command for a quarter of a second: the requests a previous run
 * left in flight (a timed run stops with every connection's last request unanswered, and a slow
 * search or login can take a second) must not be counted in the next one.
 */
async function settle(maxMs = 15_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  const notInfo = async () => totalOf(commandDelta(new Map(), await commandCalls(redis.client))); // our INFO calls left out
  let last = await notInfo();
  while (Date.now() < deadline) {
    await sleep(250);
    const now = await notInfo();
    if (now === last) return;
    last = now;
  }
}

async function measure(target: Target, load: Omit<LoadOptions, 'url'>, settleFirst = true): Promise<Sample> {
  if (settleFirst) await settle();
  if (target.metricsUrl) await eventLoopLag(target.metricsUrl); // resets prom-client's histogram
  const calls = await commandCalls(redis.client);
  const redisCpu = await redisCpuSeconds(redis.client);
  const server = target.server.reduce((sum, owned) => sum + treeCpuSeconds(owned.child.pid!), 0);
  const own = ownCpuSeconds();
  const ours = ourCpu() + redisCpu;
  const busy = machineBusySeconds();

  const run = await runLoad({ url: target.urls, ...load, headers: { ...target.headers, ...load.headers } });

  const busyAfter = machineBusySeconds();
  const oursAfter = ourCpu() + (await redisCpuSeconds(redis.client));
  const redisCpuAfter = await redisCpuSeconds(redis.client);
  const sample: Sample = {
    run,
    redis: commandDelta(calls, await commandCalls(redis.client)),
    redisCpu: redisCpuAfter - redisCpu,
    serverCpu: target.server.reduce((sum, owned) => sum + treeCpuSeconds(owned.child.pid!), 0) - server,
    generatorCpu: ownCpuSeconds() - own,
    foreignCpu: Math.max(0, busyAfter - busy - (oursAfter - ours)),
    eventLoop: target.metricsUrl ? await eventLoopLag(target.metricsUrl) : undefined,
  };
  return sample;
}

/** Cores used by programs outside the benchmark over `seconds`, with the benchmark idle. */
async function foreignCores(seconds: number): Promise<number> {
  const busy = machineBusySeconds();
  const ours = ourCpu() + (await redisCpuSeconds(redis.client));
  await sleep(seconds * 1000);
  const busyAfter = machineBusySeconds();
  const oursAfter = ourCpu() + (await redisCpuSeconds(redis.client));
  return Math.max(0, (busyAfter - busy - (oursAfter - ours)) / seconds);
}

async function waitForQuiet(maxSeconds: number): Promise<number> {
  const deadline = Date.now() + maxSeconds * 1000;
  let foreign = await foreignCores(2);
  while (foreign > FOREIGN_LIMIT_CORES && Date.now() < deadline) {
    log(`other programs use ${foreign.toFixed(2)} cores; waiting for quiet (up to ${Math.round((deadline - Date.now()) / 1000)} s more)`);
    foreign = await foreignCores(3);
  }
  return foreign;
}

/**
 * Redis commands per request, exactly: a fixed number of requests, every one answered before the
 * count is read (a timed run ends with requests in flight whose GETs Redis has already counted).
 * Redis counts the commands a Lua script runs as commands too (the login throttle's EVALs).
 */
async function redisPerRequest(target: Target, amount: number, load: Partial<LoadOptions> = {}): Promise<{ perRequest: number; breakdown: string }> {
  await settle();
  const before = await commandCalls(redis.client);
  const run = await runLoad({ url: target.urls, connections: Math.min(CONNECTIONS, amount), amount, ...load, headers: { ...target.headers, ...load.headers } });
  if (run.errors > 0) log(`warning: ${run.errors} of the counted requests to ${target.label} failed or timed out; the count may be off`);
  const delta = commandDelta(before, await commandCalls(redis.client));
  const answered = run.requests;
  return {
    perRequest: totalOf(delta) / answered,
    breakdown: [...delta]
      .sort((a, b) => b[1] - a[1])
      .map(([name, calls]) => `${name} ${(calls / answered).toFixed(answered >= 1000 ? 3 : 2)}`)
      .join(', '),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function summarise(target: Target, samples: Sample[], note?: string): Scenario {
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
async function check(url: string, path: string, headers: Record<string, string>, expect = 200): Promise<string> {
  const response = await fetch(url + path, { headers });
  const text = await response.text();
  if (response.status !== expect) throw new Error(`GET ${url}${path} answered ${response.status}, not ${expect}: ${text.slice(0, 300)}`);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Search latency at one connection, per search, with node:http (exact and in order).

async function sequentialSearches(url: string, headers: Record<string, string>, seconds: number) {
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
    return { count: values.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
  };
  return {
    overall: stats(all),
    perKind: SEARCH_KINDS.map(({ kind, searches }) => ({ kind, example: searches[0]!, ...stats(perKind.get(kind)!) })),
    statuses,
  };
}

// ---------------------------------------------------------------------------------------------

interface Results {
  startedAt: string;
  machine: string;
  command: string;
  appEntry: string;
  dataset: string;
  clusterMode: string;
  settings: Record<string, number>;
  scenarios: Scenario[];
  session: Record<string, number | string>;
  search: Awaited<ReturnType<typeof sequentialSearches>> | undefined;
  searchLoad: Scenario | undefined;
  loginDb: { count: number; p50: number; p95: number; p99: number; max: number } | undefined;
  memory: Record<string, number | string> | undefined;
  targets: TargetCheck[];
  loadAverageAtStart: number;
  foreignAtStart: number;
  repeatedSamples: number;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const results: Partial<Results> = {
    startedAt: startedAt.toISOString(),
    machine: machineDescription(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    loadAverageAtStart: loadAverage(),
    settings: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS },
  };
  log(`${results.machine}; load average ${results.loadAverageAtStart!.toFixed(2)}`);

  // The app, built as production builds it.
  const entry = prepareEntry(ROOT, TSX_LOADER, args.tsx, log);
  results.appEntry = entry.note;

  // The data.
  let dataset: Dataset;
  if (!args.small && loaderAvailable(ROOT)) {
    dataset = await fullSizeDataset(ROOT, TSX_LOADER, log);
  } else {
    dataset = { size: 'small', note: args.small ? 'the small seed (--small)' : 'the small seed (no full-size loader in this tree)' };
  }
  results.dataset = dataset.note;
  log(`data: ${dataset.note}`);

  const work = mkdtempSync(join(tmpdir(), 'ep-bench-'));
  cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
  const dataDir = join(work, 'data');
  const logDir = join(work, 'logs');
  mkdirSync(dataDir);
  mkdirSync(logDir);
  installDataset(dataset, dataDir);

  redis = await startPrivateRedis();
  cleanups.push(() => redis.stop());
  allServers.push(redis.process);
  log(`redis-server on port ${redis.port}`);

  const secretKey = randomBytes(32).toString('base64url');
  const appOptions = { entry, redisUrl: redis.url, dataDir, secretKey, logDir };
  // One at a time: the first start migrates (and on the small size, seeds) the database.
  const started = async (name: string, logLevel: 'info' | 'warn', workers: number): Promise<RunningApp> => {
    const app = await startApp({ ...appOptions, name, logLevel, workers });
    cleanups.push(() => app.stop());
    allServers.push(...app.processes);
    log(`${name}: ${app.mode}, ${app.urls.join(' ')}`);
    return app;
  };
  const appInfo = await started('app-info', 'info', 1);
  const appWarn = await started('app-warn', 'warn', 1);
  const appTwo = await started('app-2proc', 'info', 2);
  results.clusterMode =
    appTwo.mode === 'cluster'
      ? 'WORKERS=2: server.ts forked two workers sharing one port (node:cluster)'
      : 'WORKERS=2 is not honoured by server.ts yet: two separate app processes on two ports, driven together';

  const startBaselineProcess = async (name: string, withRedis: boolean, script = 'bench/baseline.ts') => {
    const port = await freePort();
    const owned = await startProcess({
      name,
      command: process.execPath,
      args: ['--import', TSX_LOADER, join(ROOT, script)],
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        BASELINE_PORT: String(port),
        FLOOR_PORT: String(port),
        SESSION_KEY_PREFIX: KEY_PREFIX,
        ...(withRedis ? { REDIS_URL: redis.url } : {}),
      },
      logFile: join(logDir, `${name}.log`),
      port,
    });
    cleanups.push(() => owned.stop());
    allServers.push(owned);
    return { owned, url: `http://127.0.0.1:${port}` };
  };
  const baseline = await startBaselineProcess('baseline', true);
  const bare = await startBaselineProcess('bare', false);
  const floor = await startBaselineProcess('fastify-floor', true, 'bench/fastify-floor.ts');

  // Who is asking: one login each, through the app itself. Sessions live in Redis, so the same
  // cookie and token are good on every app process (and the baseline reads the same key).
  const me: Login = await login(appInfo.urls[0]!, ME_USER, SEED_PASSWORD);
  const admin: Login = await login(appInfo.urls[0]!, SEARCH_USER, SEED_PASSWORD);
  const byCookie = { ...JSON_ACCEPT, cookie: me.cookie };
  const byBearer = { ...JSON_ACCEPT, authorization: `Bearer ${me.accessToken}` };

  // What one session costs in Redis.
  const key = KEY_PREFIX + me.sessionId;
  const value = (await redis.client.get(key)) ?? '';
  const memoryUsage = Number(await redis.client.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  results.session = {
    key: `${KEY_PREFIX}<22-char id>`,
    keyBytes: Buffer.byteLength(key),
    valueBytes: Buffer.byteLength(value),
    memoryUsage,
    value: value.replace(/"h":"[^"]+"/, '"h":"<43-char hash>"'),
  };
  log(`one session: key ${results.session.keyBytes} B + value ${results.session.valueBytes} B; MEMORY USAGE ${memoryUsage} B`);

  // Every target answers as expected before anything is timed.
  for (const app of [appInfo, appWarn, appTwo]) {
    for (const url of app.urls) {
      await check(url, '/admin/me', byCookie);
      await check(url, '/admin/me', byBearer);
    }
  }
  await check(baseline.url, '/', { cookie: me.cookie });
  await check(baseline.url, '/', {}, 401);
  await check(bare.url, '/', {});
  await check(floor.url, '/admin/me', { cookie: me.cookie });
  await check(appInfo.urls[0]!, searchPath(SEARCHES[0]!), { ...JSON_ACCEPT, cookie: admin.cookie });

  const oneProcess = (app: RunningApp) => (app.mode === 'single' ? { metricsUrl: app.urls[0]! } : {});
  const targets: Target[] = [
    { id: 'bare', label: 'bare node:http, no Redis (reference)', urls: [`${bare.url}/`], server: [bare.owned] },
    { id: 'baseline', label: 'baseline: node:http + one Redis GET', urls: [`${baseline.url}/`], headers: { cookie: me.cookie }, server: [baseline.owned] },
    { id: 'floor', label: 'Fastify route + one Redis GET, nothing else (reference)', urls: [`${floor.url}/admin/me`], headers: { cookie: me.cookie }, server: [floor.owned] },
    { id: 'cookie', label: 'app /admin/me by cookie (info logs)', urls: appInfo.urls.map((u) => `${u}/admin/me`), headers: byCookie, server: appInfo.processes, ...oneProcess(appInfo) },
    { id: 'bearer', label: 'app /admin/me by bearer (info logs)', urls: appInfo.urls.map((u) => `${u}/admin/me`), headers: byBearer, server: appInfo.processes, ...oneProcess(appInfo) },
    { id: 'cookie-warn', label: 'app /admin/me by cookie (LOG_LEVEL=warn)', urls: appWarn.urls.map((u) => `${u}/admin/me`), headers: byCookie, server: appWarn.processes, ...oneProcess(appWarn) },
    { id: 'bearer-warn', label: 'app /admin/me by bearer (LOG_LEVEL=warn)', urls: appWarn.urls.map((u) => `${u}/admin/me`), headers: byBearer, server: appWarn.processes, ...oneProcess(appWarn) },
    { id: 'cookie-2', label: `app /admin/me by cookie, 2 processes (info)`, urls: appTwo.urls.map((u) => `${u}/admin/me`), headers: byCookie, server: appTwo.processes },
    { id: 'bearer-2', label: `app /admin/me by bearer, 2 processes (info)`, urls: appTwo.urls.map((u) => `${u}/admin/me`), headers: byBearer, server: appTwo.processes },
  ];

  log(`warming up ${targets.length} targets (${WARMUP_SECONDS} s each)`);
  for (const target of targets) await runLoad({ url: target.urls, connections: CONNECTIONS, seconds: WARMUP_SECONDS, ...(target.headers ? { headers: target.headers } : {}) });

  if (WAIT_QUIET_SECONDS > 0) results.foreignAtStart = await waitForQuiet(WAIT_QUIET_SECONDS);
  const samples = new Map<string, Sample[]>(targets.map((t) => [t.id, []]));
  let repeated = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const target of targets) {
      let sample = await measure(target, { connections: CONNECTIONS, seconds: SECONDS });
      for (let retry = 1; retry <= DISTURBED_RETRIES && sample.foreignCpu / sample.run.seconds > FOREIGN_LIMIT_CORES; retry++) {
        log(`round ${round} ${target.label}: disturbed (other programs used ${(sample.foreignCpu / sample.run.seconds).toFixed(2)} cores); again`);
        repeated++;
        const again = await measure(target, { connections: CONNECTIONS, seconds: SECONDS });
        if (again.foreignCpu / again.run.seconds < sample.foreignCpu / sample.run.seconds) sample = again;
      }
      samples.get(target.id)!.push(sample);
      log(
        `round ${round}/${ROUNDS} ${target.label}: ${thousands(sample.run.rps)} req/s, p50 ${ms(sample.run.p50)} ms, p99 ${ms(sample.run.p99)} ms` +
          (sample.foreignCpu / sample.run.seconds > 0.1 ? ` (foreign CPU ${(sample.foreignCpu / sample.run.seconds).toFixed(2)} cores)` : ''),
      );
    }
  }
  results.repeatedSamples = repeated;
  const scenarios = targets.map((t) => summarise(t, samples.get(t.id)!));
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  log(`counting Redis commands over exactly ${REDIS_COUNT_REQUESTS} requests per target`);
  for (const target of targets) {
    const counted = await redisPerRequest(target, REDIS_COUNT_REQUESTS);
    const scenario = byId.get(target.id)!;
    scenario.redisPerRequest = counted.perRequest;
    scenario.redisBreakdown = counted.breakdown;
  }

  // The search, as an admin:read user: latency at one connection (the target), then under load.
  const searchHeaders = { ...JSON_ACCEPT, cookie: admin.cookie };
  log(`search: ${SEARCHES.length} searches in turn at one connection for ${SEARCH_LATENCY_SECONDS} s`);
  results.search = await sequentialSearches(appInfo.urls[0]!, searchHeaders, SEARCH_LATENCY_SECONDS);
  let searchIndex = 0;
  const searchRequests: Request[] = [
    {
      method: 'GET',
      setupRequest: (request) => ({ ...request, path: searchPath(SEARCHES[searchIndex++ % SEARCHES.length]!) }),
    },
  ];
  const searchTarget: Target = {
    id: 'search',
    label: `app search, first page (${dataset.size === 'full' ? 'full size' : 'small seed'}), ${CONNECTIONS} connections`,
    urls: appInfo.urls,
    headers: searchHeaders,
    server: appInfo.processes,
    metricsUrl: appInfo.urls[0]!,
  };
  results.searchLoad = summarise(searchTarget, [await measure(searchTarget, { connections: CONNECTIONS, seconds: SEARCH_LOAD_SECONDS, requests: searchRequests })]);
  Object.assign(results.searchLoad, pick(await redisPerRequest(searchTarget, quick ? 40 : 200, { requests: searchRequests })));
  log(`search under load: ${thousands(results.searchLoad.rps)} req/s, p50 ${ms(results.searchLoad.p50)} ms, p99 ${ms(results.searchLoad.p99)} ms`);

  // Logins: a different (argon2id) user per request, default throttle limits.
  const loginUsers = SEED_EMPLOYEES.filter((e) => !LEGACY_BCRYPT_EMP_NOS.includes(e.emp_no)).map((e) => e.email);
  let loginIndex = 0;
  const loginRequests: Request[] = [
    {
      method: 'POST',
      path: '/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...JSON_ACCEPT },
      setupRequest: (request) => ({
        ...request,
        body: new URLSearchParams({ username: loginUsers[loginIndex++ % loginUsers.length]!, password: SEED_PASSWORD }).toString(),
      }),
    },
  ];
  const loginTarget: Target = {
    id: 'login',
    label: `app login POST /auth/token, ${LOGIN_CONNECTIONS} connections`,
    urls: appInfo.urls,
    server: appInfo.processes,
    metricsUrl: appInfo.urls[0]!,
  };
  log(`logins: ${LOGIN_CONNECTIONS} connections for ${LOGIN_SECONDS} s`);
  const loginScenario = summarise(loginTarget, [await measure(loginTarget, { connections: LOGIN_CONNECTIONS, seconds: LOGIN_SECONDS, requests: loginRequests, timeout: 30 })]);
  Object.assign(loginScenario, pick(await redisPerRequest(loginTarget, LOGIN_CONNECTIONS * 2, { connections: LOGIN_CONNECTIONS, requests: loginRequests, timeout: 30 })));

  // /admin/me while logins run on the same process: does a burst of logins slow everyone else?
  // By cookie and by bearer: a bearer check runs WebCrypto's HMAC, which queues on the same libuv
  // thread pool as the password hashes.
  const duringScenarios: Scenario[] = [];
  for (const id of ['cookie', 'bearer'] as const) {
    log(`/admin/me by ${id} during a login burst (${LOGIN_SECONDS} s)`);
    const duringTarget: Target = { ...targets.find((t) => t.id === id)!, id: `${id}-during-logins`, label: `app /admin/me by ${id} during a login burst` };
    await settle();
    const [during, alongside] = await Promise.all([
      measure(duringTarget, { connections: CONNECTIONS, seconds: LOGIN_SECONDS }, false),
      runLoad({ url: appInfo.urls, connections: LOGIN_CONNECTIONS, seconds: LOGIN_SECONDS, requests: loginRequests, timeout: 30 }),
    ]);
    const scenario = summarise(
      duringTarget,
      [during],
      `alongside ${alongside.rps.toFixed(1)} logins/s (p50 ${ms(alongside.p50)} ms${Object.keys(alongside.otherStatuses).length ? `; not 2xx: ${JSON.stringify(alongside.otherStatuses)}` : ''})`,
    );
    // The logins' Redis commands and CPU landed in this sample too: leave them out of the row.
    delete scenario.redisPerRequest;
    delete scenario.serverCpuUs;
    scenario.redisBreakdown = '';
    duringScenarios.push(scenario);
  }

  // Login by email: the database's part of a login, timed in this process on the same file.
  {
    const handle = createDatabase(undefined, { dataDir });
    try {
      const { rows } = await sql<{ email: string }>`select email from employees where emp_no % 293 = 7 limit ${EMAIL_LOOKUPS}`.execute(handle.db);
      const emails = rows.length >= 20 ? rows.map((r) => r.email) : SEED_EMPLOYEES.map((e) => e.email);
      for (const email of emails.slice(0, 50)) await findEmployeeByEmail(handle.db, email);
      const times: number[] = [];
      for (let index = 0; index < EMAIL_LOOKUPS; index++) {
        const email = emails[index % emails.length]!;
        const startedAtLookup = performance.now();
        const found = await findEmployeeByEmail(handle.db, email.toUpperCase());
        times.push(performance.now() - startedAtLookup);
        if (!found) throw new Error(`login look-up found no ${email}`);
      }
      const sorted = Float64Array.from(times).sort();
      results.loginDb = { count: times.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! };
    } finally {
      await handle.db.destroy();
    }
  }

  // Memory: many live sessions, used in turn, and the app's RSS over the run.
  {
    const app = await started('app-memory', 'info', 1);
    const handle = createDatabase(undefined, { dataDir });
    let empNos: number[];
    try {
      const { rows } = await sql<{ emp_no: number }>`select emp_no from employees where emp_no % 7 = 3 limit 20000`.execute(handle.db);
      empNos = rows.length ? rows.map((r) => Number(r.emp_no)) : SEED_EMPLOYEES.map((e) => e.emp_no);
    } finally {
      await handle.db.destroy();
    }
    const memoryBefore = await usedMemory(redis.client);
    const keysBefore = await redis.client.dbsize();
    log(`memory: writing ${thousands(MEMORY_SESSIONS)} sessions with the app's own store`);
    const seedStart = performance.now();
    const tokens = await seedSessions({
      redisUrl: redis.url,
      keyPrefix: KEY_PREFIX,
      count: MEMORY_SESSIONS,
      empNos,
      idleTimeoutSeconds: IDLE_TIMEOUT_SECONDS,
      absoluteTimeoutSeconds: ABSOLUTE_TIMEOUT_SECONDS,
      lastSeenSecondsAgo: 90, // every session's first use is due an idle-expiry refresh, as in real life
      clientLabel: 'Firefox on Linux',
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const memoryAfter = await usedMemory(redis.client);
    const keysAfter = await redis.client.dbsize();
    await check(app.urls[0]!, '/admin/me', { ...JSON_ACCEPT, cookie: `session=${tokens[0]}` });

    let tokenIndex = 0;
    const memoryRequests: Request[] = [
      {
        method: 'GET',
        path: '/admin/me',
        setupRequest: (request) => ({ ...request, headers: { ...JSON_ACCEPT, cookie: `session=${tokens[tokenIndex++ % tokens.length]}` } }),
      },
    ];
    const pid = app.processes[0]!.child.pid!;
    const rss: Array<[seconds: number, bytes: number]> = [];
    const rssStart = performance.now();
    const rssAtIdle = treeRss(pid);
    const sampler = setInterval(() => rss.push([(performance.now() - rssStart) / 1000, treeRss(pid)]), 1000);
    log(`memory: driving /admin/me over them for ${MEMORY_SECONDS} s, RSS every second`);
    const memoryTarget: Target = { id: 'memory', label: `app /admin/me over ${thousands(MEMORY_SESSIONS)} sessions`, urls: app.urls, server: app.processes, metricsUrl: app.urls[0]! };
    let memorySample: Sample;
    try {
      memorySample = await measure(memoryTarget, { connections: CONNECTIONS, seconds: MEMORY_SECONDS, requests: memoryRequests });
    } finally {
      clearInterval(sampler);
    }
    const memoryScenario = summarise(memoryTarget, [memorySample]);
    const quarter = rss.filter(([t]) => t >= MEMORY_SECONDS / 4);
    const fromQuarter = quarter[0]?.[1] ?? rssAtIdle;
    const end = rss[rss.length - 1]?.[1] ?? rssAtIdle;
    // Least-squares slope over the last three quarters, in bytes per minute.
    const n = quarter.length;
    const meanT = quarter.reduce((s, [t]) => s + t, 0) / Math.max(1, n);
    const meanB = quarter.reduce((s, [, b]) => s + b, 0) / Math.max(1, n);
    const slope = n > 1 ? (quarter.reduce((s, [t, b]) => s + (t - meanT) * (b - meanB), 0) / quarter.reduce((s, [t]) => s + (t - meanT) ** 2, 0)) * 60 : NaN;
    results.memory = {
      sessions: MEMORY_SESSIONS,
      seedSeconds: Number(seedSeconds.toFixed(1)),
      redisKeysAdded: keysAfter - keysBefore,
      redisBytesPerSession: Math.round((memoryAfter - memoryBefore) / MEMORY_SESSIONS),
      seconds: MEMORY_SECONDS,
      requests: memoryScenario.requests,
      rps: Math.round(memoryScenario.rps),
      p99: Number(memoryScenario.p99.toFixed(2)),
      failures: memoryScenario.failures || 'none',
      redisPerRequest: Number((memoryScenario.redisPerRequest ?? NaN).toFixed(3)),
      redisBreakdown: memoryScenario.redisBreakdown ?? '',
      rssIdleMiB: mib(rssAtIdle),
      rssAtQuarterMiB: mib(fromQuarter),
      rssEndMiB: mib(end),
      rssMaxMiB: mib(Math.max(...rss.map(([, b]) => b))),
      rssSlopeMiBPerMinute: Number((slope / 2 ** 20).toFixed(2)),
      bytesPerRequestAfterQuarter: Number(((end - fromQuarter) / Math.max(1, memoryScenario.requests * 0.75)).toFixed(3)),
    };
    log(`memory: RSS ${results.memory.rssAtQuarterMiB} → ${results.memory.rssEndMiB} MiB over ${thousands(memoryScenario.requests)} requests`);
  }

  // ---------------------------------------------------------------------------------------------
  // The report.
  const base = byId.get('baseline')!;
  const cookie = byId.get('cookie')!;
  const bearer = byId.get('bearer')!;
  const targetsText = new Map<string, string>();
  const checks: TargetCheck[] = [];
  for (const s of [cookie, bearer, byId.get('cookie-warn')!, byId.get('bearer-warn')!]) {
    const production = s.id === 'cookie' || s.id === 'bearer';
    const rpsOk = s.rps >= 0.5 * base.rps;
    const p99Ok = s.p99 <= 2 * base.p99;
    targetsText.set(s.id, `≥0.50× req/s: ${verdict(rpsOk)}; p99 ≤2×: ${verdict(p99Ok)}${production ? '' : ' (not the production log level)'}`);
    if (production) {
      checks.push({ target: `${s.label}: req/s ≥ 0.5× baseline`, measured: `${ratio(s.rps / base.rps)} (${thousands(s.rps)} vs ${thousands(base.rps)})`, verdict: verdict(rpsOk) });
      checks.push({ target: `${s.label}: p99 ≤ 2× baseline p99`, measured: `${ratio(s.p99 / base.p99)} (${ms(s.p99)} vs ${ms(base.p99)} ms)`, verdict: verdict(p99Ok) });
    }
  }
  for (const s of [cookie, bearer]) {
    // One GET each, plus the idle-expiry refresh (a SET) once a minute per session: 1.00 to two decimals.
    checks.push({ target: `${s.label}: ≤ 1 Redis command per request`, measured: `${(s.redisPerRequest ?? NaN).toFixed(3)} (${s.redisBreakdown})`, verdict: verdict((s.redisPerRequest ?? Infinity) < 1.005) });
  }
  const memory = results.memory!;
  const usesPerSession = Number(memory.requests) / MEMORY_SESSIONS;
  checks.push({
    target: `Redis commands per request over ${thousands(MEMORY_SESSIONS)} sessions, each used ~${usesPerSession.toFixed(1)} times in ${memory.seconds} s (a refresh is due once a minute per session)`,
    measured: `${memory.redisPerRequest} (${memory.redisBreakdown})`,
    verdict: 'n/a',
  });
  const two = byId.get('cookie-2')!;
  targetsText.set('cookie-2', `scales: ${ratio(two.rps / cookie.rps)} of 1 process`);
  targetsText.set('bearer-2', `scales: ${ratio(byId.get('bearer-2')!.rps / bearer.rps)} of 1 process`);
  checks.push({
    target: 'several processes scale throughput (2 processes vs 1, cookie)',
    measured: `${ratio(two.rps / cookie.rps)} on 2 cores shared with Redis and the load generator`,
    verdict: 'n/a',
  });
  for (const during of duringScenarios) {
    const alone = byId.get(during.id.replace('-during-logins', ''))!;
    const kept = during.rps / alone.rps;
    checks.push({
      target: `a burst of logins does not slow everyone else down: ${during.label} (≥ 0.75× req/s, p99 ≤ 2× of alone)`,
      measured: `${ratio(kept)} req/s (${thousands(during.rps)} vs ${thousands(alone.rps)}), p99 ${ratio(during.p99 / alone.p99)} (${ms(during.p99)} vs ${ms(alone.p99)} ms); ${during.note ?? ''}`,
      verdict: verdict(kept >= 0.75 && during.p99 <= 2 * alone.p99),
    });
  }
  const search = results.search!;
  checks.push({
    target: `search first page p95 < 50 ms (${dataset.size === 'full' ? 'full size, SQLite' : 'SMALL SEED only, SQLite'}, 1 connection)`,
    measured: `${ms(search.overall.p95)} ms (p50 ${ms(search.overall.p50)}, p99 ${ms(search.overall.p99)}, ${search.overall.count} searches)`,
    verdict: dataset.size === 'full' ? verdict(search.overall.p95 < 50) : 'n/a',
  });
  const loginDb = results.loginDb!;
  checks.push({
    target: 'login by email < 5 ms of database time (SQLite, in process)',
    measured: `p95 ${ms(loginDb.p95)} ms, max ${ms(loginDb.max)} ms (${loginDb.count} look-ups)`,
    verdict: verdict(loginDb.p95 < 5),
  });
  checks.push({
    target: 'bytes per session < 256 (MEMORY USAGE of the key)',
    measured: `${memoryUsage} B (key ${results.session.keyBytes} + value ${results.session.valueBytes}); ${memory.redisBytesPerSession} B each with the owner index, over ${thousands(MEMORY_SESSIONS)}`,
    verdict: verdict(memoryUsage < 256),
  });
  const steady = Math.abs(Number(memory.rssSlopeMiBPerMinute)) < 2 && Number(memory.rssEndMiB) - Number(memory.rssAtQuarterMiB) < 0.05 * Number(memory.rssAtQuarterMiB);
  checks.push({
    target: `memory steady under a long run with ${thousands(MEMORY_SESSIONS)} live sessions`,
    measured: `RSS ${memory.rssAtQuarterMiB} → ${memory.rssEndMiB} MiB (slope ${memory.rssSlopeMiBPerMinute} MiB/min) over ${memory.seconds} s, ${thousands(Number(memory.requests))} requests`,
    verdict: quick ? 'n/a' : verdict(steady),
  });
  results.targets = checks;

  const throughputRows = [...scenarios, ...duringScenarios, results.searchLoad, loginScenario];
  results.scenarios = throughputRows;
  const table = throughputTable(throughputRows, base, targetsText);
  const goals = targetsTable(checks);

  const details = [
    `Machine: ${results.machine}; load average at start ${results.loadAverageAtStart!.toFixed(2)}.`,
    `App: ${results.appEntry}; NODE_ENV=production; ${results.clusterMode}.`,
    `Data: ${results.dataset}. Redis: private redis-server ${(await redis.client.info('server')).match(/redis_version:(\S+)/)?.[1] ?? ''}, no persistence.`,
    `Load: autocannon in the benchmark process, ${CONNECTIONS} connections, ${ROUNDS} round(s) of ${SECONDS} s per scenario (median of rounds) after ${WARMUP_SECONDS} s of warm-up; logins ${LOGIN_CONNECTIONS} connections for ${LOGIN_SECONDS} s. Redis commands counted over exactly ${REDIS_COUNT_REQUESTS} requests per scenario.`,
    `Other programs on the machine: ${results.foreignAtStart === undefined ? 'not checked' : `${results.foreignAtStart.toFixed(2)} cores busy when measuring began`}; ${results.repeatedSamples ?? 0} disturbed sample(s) run again.`,
  ];
  const extras = throughputRows.map(
    (s) =>
      `- ${s.label}: p95 ${ms(s.p95)} ms; server ${s.serverCpuUs !== undefined ? ((s.serverCpuUs * s.rps) / 1e6).toFixed(2) : '–'} cores, Redis ${(s.redisCores ?? 0).toFixed(2)} cores, load generator ${(s.generatorCores ?? 0).toFixed(2)} cores, other programs ${(s.foreignCores ?? 0).toFixed(2)} cores` +
      (s.eventLoop ? `; event-loop delay p99 ${ms(s.eventLoop.p99)} ms, max ${ms(s.eventLoop.max)} ms` : '') +
      (s.redisBreakdown ? `; Redis per request: ${s.redisBreakdown}` : '') +
      (s.failures ? `; NOT 2xx: ${s.failures}` : '') +
      (s.note ? `; ${s.note}` : ''),
  );
  const searchLines = search.perKind.map(
    (each) => `| ${each.kind} | \`${each.example[0]}\` / \`${each.example[1]}\` | ${each.count} | ${ms(each.p50)} | ${ms(each.p95)} | ${ms(each.max)} |`,
  );
  const memoryLines = Object.entries(memory).map(([name, value]) => `- ${name}: ${value}`);

  const markdown = [
    `### Results (${results.startedAt})`,
    '',
    `Command: \`${results.command}\``,
    '',
    ...details.map((line) => `- ${line}`),
    '',
    renderMarkdown(table),
    '',
    renderMarkdown(goals),
    '',
    'Per scenario:',
    '',
    ...extras,
    '',
    `Search at one connection (${dataset.size === 'full' ? 'full size' : 'small seed'}), by kind of search (ms):`,
    '',
    '| kind | e.g. (last / first) | count | p50 | p95 | max |',
    '|---|---|---:|---:|---:|---:|',
    ...searchLines,
    '',
    `One session in Redis: \`${results.session.value}\` under \`${results.session.key}\`: key ${results.session.keyBytes} B, value ${results.session.valueBytes} B, MEMORY USAGE ${memoryUsage} B.`,
    '',
    'Memory run:',
    '',
    ...memoryLines,
    '',
  ].join('\n');

  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.md'), markdown);
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);

  console.log('');
  console.log(details.join('\n'));
  console.log('');
  console.log(renderText(table));
  console.log('');
  console.log(renderText(goals));
  console.log('');
  console.log(extras.join('\n'));
  console.log('');
  console.log(`Search at one connection, by kind: ${search.perKind.map((e) => `${e.kind} p50 ${ms(e.p50)} p95 ${ms(e.p95)}`).join('; ')}`);
  if (Object.keys(search.statuses).length) console.log(`Search answers that were not 200: ${JSON.stringify(search.statuses)}`);
  console.log(`Memory run: ${memoryLines.map((l) => l.slice(2)).join('; ')}`);
  console.log(`\nWritten to ${join('bench', 'results', 'latest.md')} (and latest.json).`);
}

function pick(counted: { perRequest: number; breakdown: string }): Pick<Scenario, 'redisPerRequest' | 'redisBreakdown'> {
  return { redisPerRequest: counted.perRequest, redisBreakdown: counted.breakdown };
}

function mib(bytes: number): number {
  return Number((bytes / 2 ** 20).toFixed(1));
}

try {
  await main();
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
  // ioredis and autocannon leave nothing behind once closed; exit promptly regardless.
  await sleep(10);
  process.exit(process.exitCode ?? 0);
}
