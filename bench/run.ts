/**
 * `npm run bench [-- --quick] [-- --small] [-- --tsx] [-- --rounds N --seconds N --connections N]`
 *
 * Starts everything it measures, on loopback, and stops it all at the end:
 *   - a private redis-server (free port, nothing on disk);
 *   - the baseline: bench/baseline.ts, bare node:http doing ONE Redis GET per request;
 *   - the peers a user would pick instead (bench/peers/): Express 5 + express-session and
 *     Fastify 5 + @fastify/session, both over connect-redis on the same Redis;
 *   - the app as production runs it (npm run build → node dist/server.js, NODE_ENV=production,
 *     LOG_LEVEL=info, WORKERS=1) on the full-size database: SQLite, and MariaDB and PostgreSQL
 *     when their servers answer (bench/lib/engines.ts);
 * then drives them with autocannon from this process, prints every target of docs/PERFORMANCE.md
 * ("Benchmark") with its verdict, and writes bench/results/latest.md (and .json).
 *
 * The phases: throughput (round-robin rounds, the median of each), logins (and /admin/me while
 * they run), searches (latency per engine, and /admin/me while they run), memory, the report.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Request } from 'autocannon';
import { createDatabase } from '../src/database/connection.js';
import { LEGACY_BCRYPT_EMP_NOS, SEED_EMPLOYEES, SEED_PASSWORD } from '../src/sample-data/seed.js';
import { login, loginRequests, prepareEntry, startApp, type AppEntry, type Login, type RunningApp } from './lib/app.js';
import { fullSizeDataset, installDataset, loaderAvailable, type Dataset } from './lib/dataset.js';
import { serverDatabase, type ServerDatabase, type ServerEngine } from './lib/engines.js';
import { runLoad } from './lib/load.js';
import {
  check,
  FOREIGN_LIMIT_CORES,
  measure,
  meter,
  redisPerRequest,
  SEARCHES,
  searchPath,
  sequentialSearches,
  settle,
  summarise,
  waitForQuiet,
  type Sample,
  type Target,
} from './lib/measure.js';
import { freePort, startProcess, treeRss, type Owned } from './lib/processes.js';
import { startPrivateRedis, usedMemory } from './lib/redis.js';
import {
  ms,
  pairedRatio,
  ratio,
  renderMarkdown,
  renderText,
  RSS_GROWTH_BOUND,
  RSS_SLOPE_BOUND_MIB_PER_MINUTE,
  heapTrend,
  parseHeapAfterGc,
  rssSteady,
  rssTrend,
  RSS_WINDOW_SECONDS,
  targetsTable,
  thousands,
  throughputTable,
  verdict,
  type Scenario,
  type TargetCheck,
} from './lib/report.js';
import { seedSessions } from './lib/sessions.js';
import { loadAverage, machineDescription } from './lib/system.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
const KEY_PREFIX = 'starsessions.';
const IDLE_TIMEOUT_SECONDS = 1800;
const ABSOLUTE_TIMEOUT_SECONDS = 28_800;
/** A user:read employee of the seed (present at every size) for /admin/me; the peers serve the same one. */
const ME_USER = 'pranav.furedi.10198@gmail.com';
/** An admin:read employee for the searches. */
const SEARCH_USER = 'kyoichi.maliniak.10005@gmail.com';
const JSON_ACCEPT = { accept: 'application/json' };
/** Logins a second before this work (docs/PERFORMANCE.md, 2026-11-27: 8 connections, 25/s). */
const LOGINS_PER_SECOND_BEFORE = 25;
/** Clients logging in, or searching, beside /admin/me. */
const SIDE_CLIENTS = 4;

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
  --quick               a smoke test (~2 minutes): the small seed, short runs, rough figures
  --small               the small seed instead of the full-size databases
  --tsx                 run the app from src/ with tsx instead of the build
  --rounds N            round-robin rounds of the throughput scenarios (default 5; quick 1)
  --seconds N           seconds per scenario and round (default 6; quick 2)
  --connections N       connections for the throughput scenarios (default 32)
  --memory-sessions N   live sessions in the memory run (default 100000; quick 2000)
  --memory-seconds N    length of the memory run (default 120; quick 8)
  --wait-quiet N        wait up to N s for other programs to leave the CPU alone before measuring
                        (default 120; quick 0); a round disturbed by them is run again (twice at most)
Environment: BENCH_MYSQL_URL, BENCH_POSTGRES_URL (servers for the full-size databases; default the
local test servers), REDIS_SERVER_BINARY.`);
  process.exit(0);
}
const quick = args.quick;
const number = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Math.max(1, Number(value)));
const ROUNDS = number(args.rounds, quick ? 1 : 5);
const SECONDS = number(args.seconds, quick ? 2 : 6);
const WARMUP_SECONDS = quick ? 1 : 2;
const CONNECTIONS = number(args.connections, 32);
const SIDE_SECONDS = quick ? 3 : 10;
const SEARCH_LATENCY_SECONDS = quick ? 3 : 15;
const MEMORY_SESSIONS = number(args['memory-sessions'], quick ? 2_000 : 100_000);
const MEMORY_SECONDS = number(args['memory-seconds'], quick ? 8 : 120);
const WAIT_QUIET_SECONDS = args['wait-quiet'] === undefined ? (quick ? 0 : 120) : Number(args['wait-quiet']);
const DISTURBED_RETRIES = quick ? 0 : 2;
/** Requests of the exact Redis count (every one answered before counting, none in flight). */
const REDIS_COUNT_REQUESTS = quick ? 500 : 3_000;
const SMALL = args.small || quick;

const began = performance.now();
const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
meter.log = log;
meter.connections = CONNECTIONS;

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
// Set-up: data, Redis, the servers, who is logged in.

interface Context {
  dataset: Dataset;
  dataDir: string;
  logDir: string;
  entry: AppEntry;
  secretKey: string;
  /** The app on SQLite, and on the servers that answered. */
  apps: Partial<Record<'sqlite' | ServerEngine, RunningApp>>;
  databases: ServerDatabase[];
  baseline: Target;
  peers: Target[];
  me: Login;
  admin: Login;
  cookie: Record<string, string>;
  bearer: Record<string, string>;
}

async function startServer(
  name: string,
  script: string,
  env: Record<string, string>,
  logDir: string,
): Promise<{ url: string; owned: Owned }> {
  const port = await freePort();
  const owned = await startProcess({
    name,
    command: process.execPath,
    args: ['--import', TSX_LOADER, join(ROOT, script)],
    env: { PATH: process.env.PATH, NODE_ENV: 'production', BASELINE_PORT: String(port), PEER_PORT: String(port), ...env },
    logFile: join(logDir, `${name}.log`),
    port,
  });
  cleanups.push(() => owned.stop());
  meter.servers.push(owned);
  return { url: `http://127.0.0.1:${port}`, owned };
}

async function startAppOn(
  context: Omit<Context, 'apps' | 'baseline' | 'peers' | 'me' | 'admin' | 'cookie' | 'bearer'>,
  name: string,
  databaseUrl?: string,
  extra: { nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<RunningApp> {
  const extraEnv = { ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...extra.env };
  const app = await startApp({
    entry: context.entry,
    redisUrl: meter.redis.url,
    dataDir: context.dataDir,
    secretKey: context.secretKey,
    logDir: context.logDir,
    name,
    logLevel: 'info',
    workers: 1,
    ...(Object.keys(extraEnv).length > 0 ? { extraEnv } : {}),
    ...(extra.nodeArgs ? { nodeArgs: extra.nodeArgs } : {}),
  });
  cleanups.push(() => app.stop());
  meter.servers.push(...app.processes);
  log(`${name}: ${app.urls.join(' ')}`);
  return app;
}

async function setUp(results: Partial<Results>): Promise<Context> {
  const entry = prepareEntry(ROOT, TSX_LOADER, args.tsx, log);
  results.appEntry = entry.note;
  const work = mkdtempSync(join(tmpdir(), 'ep-bench-'));
  cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
  const dataDir = join(work, 'data');
  const logDir = join(work, 'logs');
  mkdirSync(dataDir);
  mkdirSync(logDir);

  const dataset: Dataset =
    !SMALL && loaderAvailable(ROOT) ? await fullSizeDataset(ROOT, TSX_LOADER, log) : { size: 'small', note: 'the small seed' };
  installDataset(dataset, dataDir);
  const databases: ServerDatabase[] = [];
  for (const engine of ['mysql', 'postgres'] as const) {
    const database = await serverDatabase(engine, dataset.size, { root: ROOT, tsxLoader: TSX_LOADER, logDir, log });
    if (database) {
      databases.push(database);
      cleanups.push(() => database.drop());
    }
  }
  results.dataset = [`sqlite: ${dataset.note}`, ...databases.map((database) => database.note)].join('; ');
  log(`data: ${results.dataset}`);

  meter.redis = await startPrivateRedis();
  cleanups.push(() => meter.redis.stop());
  meter.servers.push(meter.redis.process);
  const base = { dataset, dataDir, logDir, entry, secretKey: randomBytes(32).toString('base64url'), databases };
  // One at a time: the first start migrates (and on the small size, seeds) each database.
  const apps: Context['apps'] = { sqlite: await startAppOn(base, 'app-sqlite') };
  for (const database of databases) apps[database.engine] = await startAppOn(base, `app-${database.engine}`, database.url);

  const redisEnv = { REDIS_URL: meter.redis.url, SESSION_KEY_PREFIX: KEY_PREFIX };
  const baselineServer = await startServer('baseline', 'bench/baseline.ts', redisEnv, logDir);
  const express = await startServer('peer-express', 'bench/peers/express.ts', redisEnv, logDir);
  const fastify = await startServer('peer-fastify', 'bench/peers/fastify.ts', redisEnv, logDir);

  // Sessions live in Redis, so one login is good on every app process (and the baseline reads it).
  const me = await login(apps.sqlite!.urls[0]!, ME_USER, SEED_PASSWORD);
  const admin = await login(apps.sqlite!.urls[0]!, SEARCH_USER, SEED_PASSWORD);
  const peers: Target[] = [
    {
      id: 'express',
      label: 'Express 5 + express-session + connect-redis (peer)',
      urls: [`${express.url}/admin/me`],
      headers: { ...JSON_ACCEPT, cookie: await peerCookie(express.url) },
      server: [express.owned],
    },
    {
      id: 'fastify',
      label: 'Fastify 5 + @fastify/session + connect-redis (peer)',
      urls: [`${fastify.url}/admin/me`],
      headers: { ...JSON_ACCEPT, cookie: await peerCookie(fastify.url) },
      server: [fastify.owned],
    },
  ];
  const baseline: Target = {
    id: 'baseline',
    label: 'baseline: node:http + one Redis GET',
    urls: [`${baselineServer.url}/`],
    headers: { cookie: me.cookie },
    server: [baselineServer.owned],
  };
  const context: Context = {
    ...base,
    apps,
    baseline,
    peers,
    me,
    admin,
    cookie: { ...JSON_ACCEPT, cookie: me.cookie },
    bearer: { ...JSON_ACCEPT, authorization: `Bearer ${me.accessToken}` },
  };
  await checkTargets(context);
  return context;
}

/** The peers answer `{"message"}`, not a token: only their cookie matters. */
async function peerCookie(url: string): Promise<string> {
  const response = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: ME_USER, password: SEED_PASSWORD }).toString(),
  });
  const cookie = response.headers
    .getSetCookie()
    .map((line) => /^session=[^;]+/.exec(line)?.[0])
    .find(Boolean);
  if (response.status !== 200 || !cookie) throw new Error(`peer login at ${url} answered ${response.status}`);
  return cookie;
}

/** Every target answers as expected before anything is timed. */
async function checkTargets(context: Context): Promise<void> {
  for (const app of Object.values(context.apps)) {
    await check(app.urls[0]!, '/admin/me', context.cookie);
    await check(app.urls[0]!, '/admin/me', context.bearer);
    await check(app.urls[0]!, searchPath(SEARCHES[0]!), { ...JSON_ACCEPT, cookie: context.admin.cookie });
  }
  await check(context.baseline.urls[0]!, '', { cookie: context.me.cookie });
  await check(context.baseline.urls[0]!, '', {}, 401);
  const expected = JSON.parse(await check(context.apps.sqlite!.urls[0]!, '/admin/me', context.cookie)) as unknown;
  for (const peer of context.peers) {
    const body = await check(peer.urls[0]!, '', peer.headers!);
    assert.deepStrictEqual(JSON.parse(body), expected, `${peer.label} answers what the app answers`);
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 1: /admin/me throughput, round-robin.

function appTargets(context: Context): Target[] {
  const app = context.apps.sqlite!;
  const common = { urls: app.urls.map((url) => `${url}/admin/me`), server: app.processes, metricsUrl: app.urls[0]! };
  return [
    { id: 'cookie', label: 'app /admin/me by cookie', headers: context.cookie, ...common },
    { id: 'bearer', label: 'app /admin/me by bearer token', headers: context.bearer, ...common },
  ];
}

async function throughputPhase(context: Context, results: Partial<Results>): Promise<Map<string, Scenario>> {
  const targets = [context.baseline, ...context.peers, ...appTargets(context)];
  log(`warming up ${targets.length} targets (${WARMUP_SECONDS} s each)`);
  for (const target of targets)
    await runLoad({ url: target.urls, connections: CONNECTIONS, seconds: WARMUP_SECONDS, headers: target.headers ?? {} });
  if (WAIT_QUIET_SECONDS > 0) results.foreignAtStart = await waitForQuiet(WAIT_QUIET_SECONDS);
  const samples = new Map<string, Sample[]>(targets.map((target) => [target.id, []]));
  let repeated = 0;
  // The app's cookie row runs next to the baseline and the Fastify peer, the rows its targets
  // compare it with, and every other round runs the order backwards, so that no row is always the
  // one measured later (pairedRatio takes the ratios round by round).
  const order = ['baseline', 'cookie', 'fastify', 'bearer', 'express'].map((id) => targets.find((target) => target.id === id)!);
  if (order.some((target) => target === undefined) || order.length !== targets.length)
    throw new Error('the throughput rows changed: set their order');
  for (let round = 1; round <= ROUNDS; round++) {
    for (const target of round % 2 === 1 ? order : [...order].reverse()) {
      let sample = await measure(target, { connections: CONNECTIONS, seconds: SECONDS });
      for (let retry = 1; retry <= DISTURBED_RETRIES && sample.foreignCpu / sample.run.seconds > FOREIGN_LIMIT_CORES; retry++) {
        log(
          `round ${round} ${target.label}: disturbed (other programs used ${(sample.foreignCpu / sample.run.seconds).toFixed(2)} cores); again`,
        );
        repeated++;
        const again = await measure(target, { connections: CONNECTIONS, seconds: SECONDS });
        if (again.foreignCpu < sample.foreignCpu) sample = again;
      }
      samples.get(target.id)!.push(sample);
      log(
        `round ${round}/${ROUNDS} ${target.label}: ${thousands(sample.run.rps)} req/s, p50 ${ms(sample.run.p50)} ms, p99 ${ms(sample.run.p99)} ms`,
      );
    }
  }
  results.repeatedSamples = repeated;
  const byId = new Map(targets.map((target) => [target.id, summarise(target, samples.get(target.id)!)]));
  log(`counting Redis commands over exactly ${REDIS_COUNT_REQUESTS} requests per target`);
  for (const target of targets) Object.assign(byId.get(target.id)!, pick(await redisPerRequest(target, REDIS_COUNT_REQUESTS)));
  return byId;
}

function pick(counted: { perRequest: number; breakdown: string }): Pick<Scenario, 'redisPerRequest' | 'redisBreakdown'> {
  return { redisPerRequest: counted.perRequest, redisBreakdown: counted.breakdown };
}

// ---------------------------------------------------------------------------------------------
// Phase 2: logins, and /admin/me while 4 clients log in.

/** The login rows' users: argon2id ones only, so the legacy bcrypt hashes stay until the phase logs their owners in. */
const ARGON2_SEED_USERS = SEED_EMPLOYEES.filter((employee) => !LEGACY_BCRYPT_EMP_NOS.includes(employee.emp_no)).map(
  (employee) => employee.email,
);

async function loginPhase(context: Context, quiet: Scenario): Promise<{ legacy: Scenario; argon2: Scenario; during: Scenario }> {
  const app = context.apps.sqlite!;
  const loginTarget = (id: string, label: string): Target => ({
    id,
    label,
    urls: app.urls,
    server: app.processes,
    metricsUrl: app.urls[0]!,
  });
  const loginLoad = {
    connections: SIDE_CLIENTS,
    seconds: SIDE_SECONDS,
    requests: loginRequests(ARGON2_SEED_USERS, SEED_PASSWORD),
    timeout: 30,
  };
  log(`logins while the seed's legacy bcrypt hashes remain: ${SIDE_CLIENTS} clients for ${SIDE_SECONDS} s`);
  const legacyTarget = loginTarget('login-legacy', `app logins, ${SIDE_CLIENTS} clients, legacy bcrypt hashes remaining`);
  const legacy = summarise(legacyTarget, [await measure(legacyTarget, loginLoad)]);
  // Each legacy user logs in once, as they would over time: their hashes become argon2id.
  for (const employee of SEED_EMPLOYEES.filter((each) => LEGACY_BCRYPT_EMP_NOS.includes(each.emp_no)))
    await login(app.urls[0]!, employee.email, SEED_PASSWORD);
  log(`logins once no legacy hash is left (${SIDE_CLIENTS} clients, ${SIDE_SECONDS} s)`);
  const argon2Target = loginTarget('login', `app logins, ${SIDE_CLIENTS} clients, no legacy hash left`);
  const argon2 = summarise(argon2Target, [await measure(argon2Target, loginLoad)]);
  Object.assign(argon2, pick(await redisPerRequest(argon2Target, SIDE_CLIENTS * 4, loginLoad)));

  log(`/admin/me by cookie while ${SIDE_CLIENTS} clients log in (${SIDE_SECONDS} s)`);
  const duringTarget: Target = {
    ...appTargets(context)[0]!,
    id: 'cookie-during-logins',
    label: `app /admin/me by cookie while ${SIDE_CLIENTS} clients log in`,
  };
  await settle();
  const [sample, alongside] = await Promise.all([
    measure(duringTarget, { connections: CONNECTIONS, seconds: SIDE_SECONDS }, false),
    runLoad({ url: app.urls, ...loginLoad }),
  ]);
  const during = withoutSideCosts(summarise(duringTarget, [sample], `alongside ${alongside.rps.toFixed(1)} logins/s`));
  during.note = `${during.note}; ${ratio(during.rps / quiet.rps)} of its quiet req/s`;
  return { legacy, argon2, during: Object.assign(during, { sideRps: alongside.rps }) };
}

/** The side clients' Redis commands and CPU landed in a sample too: leave them out of the row. */
function withoutSideCosts(scenario: Scenario): Scenario {
  delete scenario.redisPerRequest;
  delete scenario.serverCpuUs;
  scenario.redisBreakdown = '';
  return scenario;
}

// ---------------------------------------------------------------------------------------------
// Phase 3: search latency per engine, and /admin/me while 4 clients search.

interface SearchFigures {
  engine: string;
  latency: Awaited<ReturnType<typeof sequentialSearches>>;
  quiet?: Scenario;
  during?: Scenario;
}

async function searchPhase(context: Context, sqliteQuiet: Scenario): Promise<SearchFigures[]> {
  const figures: SearchFigures[] = [];
  const searchHeaders = { ...JSON_ACCEPT, cookie: context.admin.cookie };
  for (const [engine, app] of Object.entries(context.apps)) {
    log(`${engine}: ${SEARCHES.length} searches in turn at one connection for ${SEARCH_LATENCY_SECONDS} s`);
    const latency = await sequentialSearches(app.urls[0]!, searchHeaders, SEARCH_LATENCY_SECONDS);
    const entry: SearchFigures = { engine, latency };
    figures.push(entry);
    if (engine === 'postgres') continue;
    const me: Target = {
      id: `cookie-${engine}`,
      label: `app /admin/me by cookie (${engine})`,
      urls: app.urls.map((url) => `${url}/admin/me`),
      headers: context.cookie,
      server: app.processes,
      metricsUrl: app.urls[0]!,
    };
    entry.quiet = engine === 'sqlite' ? sqliteQuiet : summarise(me, [await measure(me, { connections: CONNECTIONS, seconds: SECONDS })]);
    let index = 0;
    const searches: Request[] = [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: searchPath(SEARCHES[index++ % SEARCHES.length]!), headers: searchHeaders }),
      },
    ];
    log(`${engine}: /admin/me while ${SIDE_CLIENTS} clients search (${SIDE_SECONDS} s)`);
    await settle();
    const [sample, alongside] = await Promise.all([
      measure(
        {
          ...me,
          id: `cookie-during-searches-${engine}`,
          label: `app /admin/me by cookie while ${SIDE_CLIENTS} clients search (${engine}, ${context.dataset.size === 'full' ? 'full size' : 'small seed'})`,
        },
        { connections: CONNECTIONS, seconds: SIDE_SECONDS },
        false,
      ),
      runLoad({ url: app.urls, connections: SIDE_CLIENTS, seconds: SIDE_SECONDS, requests: searches }),
    ]);
    const during = withoutSideCosts(
      summarise(
        {
          ...me,
          id: `cookie-during-searches-${engine}`,
          label: `app /admin/me by cookie while ${SIDE_CLIENTS} clients search (${engine})`,
        },
        [sample],
      ),
    );
    during.note = `alongside ${alongside.rps.toFixed(0)} searches/s (p99 ${ms(alongside.p99)} ms); ${ratio(during.rps / entry.quiet.rps)} of its quiet req/s`;
    entry.during = during;
  }
  return figures;
}

// ---------------------------------------------------------------------------------------------
// Phase 4: memory and Redis commands with many live sessions.

async function memoryPhase(context: Context): Promise<Record<string, number | string>> {
  // What the heap holds after each full collection, beside the RSS: scripts/heap-after-gc.mjs.
  const heapFile = join(context.logDir, 'heap-after-gc.txt');
  const app = await startAppOn(context, 'app-memory', undefined, {
    nodeArgs: ['--import', join(ROOT, 'scripts', 'heap-after-gc.mjs')],
    env: { HEAP_AFTER_GC_FILE: heapFile },
  });
  const handle = createDatabase(undefined, { dataDir: context.dataDir });
  let empNos: number[];
  try {
    const { rows } = await sql<{ emp_no: number }>`select emp_no from employees where emp_no % 7 = 3 limit 20000`.execute(handle.db);
    empNos = rows.length ? rows.map((row) => Number(row.emp_no)) : SEED_EMPLOYEES.map((employee) => employee.emp_no);
  } finally {
    await handle.db.destroy();
  }
  const memoryBefore = await usedMemory(meter.redis.client);
  log(`memory: writing ${thousands(MEMORY_SESSIONS)} sessions with the app's own store`);
  const tokens = await seedSessions({
    redisUrl: meter.redis.url,
    keyPrefix: KEY_PREFIX,
    count: MEMORY_SESSIONS,
    empNos,
    idleTimeoutSeconds: IDLE_TIMEOUT_SECONDS,
    absoluteTimeoutSeconds: ABSOLUTE_TIMEOUT_SECONDS,
    lastSeenSecondsAgo: 90, // every session's first use is due an idle-expiry refresh, as in real life
    clientLabel: 'Firefox on Linux',
  });
  const bytesPerSession = Math.round(((await usedMemory(meter.redis.client)) - memoryBefore) / MEMORY_SESSIONS);
  let tokenIndex = 0;
  const requests: Request[] = [
    {
      method: 'GET',
      path: '/admin/me',
      setupRequest: (request) => ({ ...request, headers: { ...JSON_ACCEPT, cookie: `session=${tokens[tokenIndex++ % tokens.length]}` } }),
    },
  ];
  const counting: Target = {
    id: 'memory-count',
    label: 'app /admin/me, each session due a refresh',
    urls: app.urls,
    server: app.processes,
  };
  // The first uses of the first sessions: every one of these requests is due an idle-expiry refresh, the worst case.
  log(`memory: Redis round trips over ${REDIS_COUNT_REQUESTS} requests, each due a refresh`);
  const counted = await redisPerRequest(counting, REDIS_COUNT_REQUESTS, { requests });
  const pid = app.processes[0]!.child.pid!;
  const rss: Array<[seconds: number, bytes: number]> = [];
  const rssStart = performance.now();
  const startedAt = Date.now();
  const sampler = setInterval(() => rss.push([(performance.now() - rssStart) / 1000, treeRss(pid)]), 1000);
  log(`memory: /admin/me over them for ${MEMORY_SECONDS} s, RSS every second`);
  const target: Target = {
    id: 'memory',
    label: `app /admin/me over ${thousands(MEMORY_SESSIONS)} sessions`,
    urls: app.urls,
    server: app.processes,
    metricsUrl: app.urls[0]!,
  };
  let sample: Sample;
  try {
    sample = await measure(target, { connections: CONNECTIONS, seconds: MEMORY_SECONDS, requests });
  } finally {
    clearInterval(sampler);
  }
  const scenario = summarise(target, [sample]);
  const trend = rssTrend(rss);
  const heap = heapTrend(
    parseHeapAfterGc(existsSync(heapFile) ? readFileSync(heapFile, 'utf8') : '', startedAt),
    rss[rss.length - 1]?.[0] ?? MEMORY_SECONDS,
  );
  return {
    sessions: MEMORY_SESSIONS,
    bytesPerSession,
    requests: scenario.requests,
    rps: Math.round(scenario.rps),
    redisPerRequest: Number(counted.perRequest.toFixed(3)),
    redisBreakdown: counted.breakdown,
    // Over the timed run (commandstats, not exact at its edges): how many of its requests refreshed.
    redisTimedBreakdown: scenario.redisBreakdown ?? '',
    ...trend,
    rssWindowsMiB: trend.rssWindowsMiB.join(' '),
    ...heap,
    heapWindows: heap.heapWindowsMiB.length,
    heapWindowsMiB: heap.heapWindowsMiB.join(' '),
  };
}

// ---------------------------------------------------------------------------------------------
// Phase 5: the targets and the report.

interface Results {
  startedAt: string;
  machine: string;
  command: string;
  appEntry: string;
  dataset: string;
  scenarios: Scenario[];
  searches: SearchFigures[];
  memory: Record<string, number | string>;
  targets: TargetCheck[];
  loadAverageAtStart: number;
  loadAverageAtEnd: number;
  foreignAtStart: number;
  repeatedSamples: number;
}

interface Measured {
  byId: Map<string, Scenario>;
  logins: Awaited<ReturnType<typeof loginPhase>>;
  searches: SearchFigures[];
  memory: Record<string, number | string>;
}

function targetChecks({ byId, logins, searches, memory }: Measured, full: boolean): TargetCheck[] {
  const base = byId.get('baseline')!;
  const cookie = byId.get('cookie')!;
  const bearer = byId.get('bearer')!;
  // Ratios between throughput rows: round by round, then the median (pairedRatio, bench/lib/report.ts).
  const vs = (a: Scenario, b: Scenario) => ({ rps: pairedRatio(a, b, 'rps'), p99: pairedRatio(a, b, 'p99') });
  const toBase = vs(cookie, base);
  const checks: TargetCheck[] = [
    {
      target: "cookie: req/s ≥ 0.5× the baseline (median of the rounds' ratios)",
      measured: `${ratio(toBase.rps)} (medians ${thousands(cookie.rps)} vs ${thousands(base.rps)})`,
      verdict: verdict(toBase.rps >= 0.5),
    },
    {
      target: "cookie: p99 ≤ 2× the baseline p99 (median of the rounds' ratios)",
      measured: `${ratio(toBase.p99)} (medians ${ms(cookie.p99)} vs ${ms(base.p99)} ms)`,
      verdict: verdict(toBase.p99 <= 2),
    },
  ];
  for (const id of ['express', 'fastify']) {
    const peer = byId.get(id)!;
    const toPeer = vs(cookie, peer);
    checks.push({
      target: `cookie: ahead of ${peer.label.replace(' (peer)', '')} in req/s and p99 (median of the rounds' ratios)`,
      measured: `req/s ${ratio(toPeer.rps)}, p99 ${ratio(toPeer.p99)} of the peer's (medians ${thousands(cookie.rps)} vs ${thousands(peer.rps)} req/s; p99 ${ms(cookie.p99)} vs ${ms(peer.p99)} ms)`,
      verdict: verdict(toPeer.rps > 1 && toPeer.p99 < 1),
    });
  }
  const bearerToCookie = pairedRatio(bearer, cookie, 'rps');
  checks.push({
    target: "bearer: req/s ≥ 0.9× cookie (median of the rounds' ratios)",
    measured: `${ratio(bearerToCookie)} (medians ${thousands(bearer.rps)} vs ${thousands(cookie.rps)})`,
    verdict: verdict(bearerToCookie >= 0.9),
  });
  const kept = logins.during.rps / cookie.rps;
  checks.push({
    target: `/admin/me while ${SIDE_CLIENTS} clients log in: ≥ 0.5× its quiet req/s`,
    measured: `${ratio(kept)} (${thousands(logins.during.rps)} vs ${thousands(cookie.rps)}; p99 ${ms(logins.during.p99)} ms)`,
    verdict: verdict(kept >= 0.5),
  });
  checks.push({
    target: `logins/s ≥ 3× before this work (${LOGINS_PER_SECOND_BEFORE}/s)`,
    measured: `${logins.argon2.rps.toFixed(1)}/s (${ratio(logins.argon2.rps / LOGINS_PER_SECOND_BEFORE)}); ${logins.legacy.rps.toFixed(1)}/s while legacy bcrypt hashes remain`,
    verdict: verdict(logins.argon2.rps >= 3 * LOGINS_PER_SECOND_BEFORE),
  });
  // Every engine's targets get a row, also when its server did not answer (then its rows say so).
  for (const engine of ['sqlite', 'mysql', 'postgres'].filter((name) => !searches.some((figures) => figures.engine === name))) {
    if (engine !== 'postgres')
      checks.push({ target: `/admin/me while ${SIDE_CLIENTS} clients search (${engine})`, measured: '–', verdict: 'not measured' });
    checks.push({ target: `search first page p95 < 50 ms over HTTP (${engine})`, measured: '–', verdict: 'not measured' });
  }
  for (const figures of searches) {
    if (figures.during && figures.quiet) {
      const share = figures.during.rps / figures.quiet.rps;
      checks.push({
        target: `/admin/me while ${SIDE_CLIENTS} clients search (${figures.engine}${full ? ', full size' : ', SMALL SEED'}): ≥ 0.5× quiet, p99 < 100 ms`,
        measured: `${ratio(share)} (${thousands(figures.during.rps)} vs ${thousands(figures.quiet.rps)}), p99 ${ms(figures.during.p99)} ms`,
        verdict: full ? verdict(share >= 0.5 && figures.during.p99 < 100) : 'n/a',
      });
    }
    const { overall } = figures.latency;
    checks.push({
      target: `search first page p95 < 50 ms over HTTP (${figures.engine}${full ? ', 300,024 employees' : ', SMALL SEED'})`,
      measured: `${ms(overall.p95)} ms (p50 ${ms(overall.p50)}, p99 ${ms(overall.p99)}, ${overall.count} searches${Object.keys(figures.latency.statuses).length ? `; not 200: ${JSON.stringify(figures.latency.statuses)}` : ''})`,
      verdict: full ? verdict(overall.p95 < 50) : 'n/a',
    });
  }
  const perRequest = [Number(memory.redisPerRequest), cookie.redisPerRequest ?? NaN, bearer.redisPerRequest ?? NaN];
  checks.push({
    target: `Redis round trips (commands sent) per authenticated request ≤ 1.0, refreshes included (${thousands(Number(memory.sessions))} sessions)`,
    measured: `${perRequest[0]!.toFixed(3)} with every request due a refresh (${memory.redisBreakdown}); one session each: cookie ${perRequest[1]!.toFixed(3)}, bearer ${perRequest[2]!.toFixed(3)}`,
    verdict: verdict(perRequest.every((each) => each <= 1.0)),
  });
  // Both must hold: the heap after full collections is what a leak of objects grows; the RSS also
  // sees what lives outside the heap (buffers, SQLite, the allocator). Without two windows of full
  // collections (none came) the RSS alone is judged, and the line says so.
  const heapRead = Number(memory.heapWindows) >= 2;
  const rssOk = rssSteady(Number(memory.rssAtQuarterMiB), Number(memory.rssEndMiB), Number(memory.rssSlopeMiBPerMinute));
  const heapOk = heapRead && rssSteady(Number(memory.heapAtQuarterMiB), Number(memory.heapEndMiB), Number(memory.heapSlopeMiBPerMinute));
  checks.push({
    target: `memory steady with ${thousands(Number(memory.sessions))} live sessions: the RSS (lowest sample of each ${RSS_WINDOW_SECONDS} s) and the heap in use after full collections (median of each ${RSS_WINDOW_SECONDS} s), each over the last ${RSS_WINDOW_SECONDS} s ≤ ${RSS_GROWTH_BOUND * 100}% above the ${RSS_WINDOW_SECONDS} s from a quarter into the run, slope ≤ ${RSS_SLOPE_BOUND_MIB_PER_MINUTE} MiB/min (falling is steady)`,
    measured:
      `RSS ${memory.rssAtQuarterMiB} → ${memory.rssEndMiB} MiB (floors ${memory.rssWindowsMiB}; slope ${memory.rssSlopeMiBPerMinute} MiB/min); ` +
      (heapRead
        ? `heap after ${memory.heapCollections} full collections ${memory.heapAtQuarterMiB} → ${memory.heapEndMiB} MiB (medians ${memory.heapWindowsMiB}; slope ${memory.heapSlopeMiBPerMinute} MiB/min)`
        : 'heap after full collections: too few to judge, the RSS alone judged') +
      `; ${thousands(Number(memory.requests))} requests; ${memory.bytesPerSession} B of Redis per session`,
    verdict: quick ? 'n/a' : verdict(rssOk && (heapOk || !heapRead)),
  });
  checks.push({
    target: 'no security test loosened',
    measured: 'judged by the test suite (`npm test`: test/security, test/sessions), not by a benchmark',
    verdict: 'n/a',
  });
  return checks;
}

function report(results: Results): void {
  const scenarios = results.scenarios;
  const base = scenarios.find((s) => s.id === 'baseline');
  const table = throughputTable(scenarios, base, new Map(scenarios.map((s) => [s.id, s.note ?? ''])));
  const goals = targetsTable(results.targets);
  const details = [
    `Machine: ${results.machine}; load average ${results.loadAverageAtStart.toFixed(2)} at the start, ${results.loadAverageAtEnd.toFixed(2)} at the end; other programs ${results.foreignAtStart === undefined ? 'not checked' : `${results.foreignAtStart.toFixed(2)} cores busy when measuring began`}; ${results.repeatedSamples} disturbed sample(s) run again.`,
    `App: ${results.appEntry}; NODE_ENV=production, LOG_LEVEL=info, WORKERS=1. Data: ${results.dataset}.`,
    `Load: autocannon in the benchmark process, ${CONNECTIONS} connections, ${ROUNDS} round(s) of ${SECONDS} s per throughput row (median; ratios between rows round by round), ${SIDE_CLIENTS} side clients for ${SIDE_SECONDS} s; Redis commands counted over exactly ${REDIS_COUNT_REQUESTS} requests.`,
  ];
  const extras = scenarios.map(
    (s) =>
      `- ${s.label}: p95 ${ms(s.p95)} ms; Redis ${(s.redisCores ?? 0).toFixed(2)} cores, load generator ${(s.generatorCores ?? 0).toFixed(2)}, other programs ${(s.foreignCores ?? 0).toFixed(2)}` +
      (s.eventLoop ? `; event-loop delay p99 ${ms(s.eventLoop.p99)} ms, max ${ms(s.eventLoop.max)} ms` : '') +
      (s.redisBreakdown ? `; Redis per request: ${s.redisBreakdown}` : '') +
      (s.failures ? `; NOT 2xx: ${s.failures}` : ''),
  );
  const searchLines = results.searches.flatMap(({ engine, latency }) =>
    latency.perKind.map(
      (each) =>
        `| ${engine} | ${each.kind} | \`${each.example[0]}\` / \`${each.example[1]}\` | ${each.count} | ${ms(each.p50)} | ${ms(each.p95)} | ${ms(each.max)} |`,
    ),
  );
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
    'Search at one connection over HTTP, by engine and kind (ms):',
    '',
    '| engine | kind | e.g. (last / first) | count | p50 | p95 | max |',
    '|---|---|---|---:|---:|---:|---:|',
    ...searchLines,
    '',
  ].join('\n');
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.md'), markdown);
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    [
      '',
      ...details,
      '',
      renderText(table),
      '',
      renderText(goals),
      '',
      ...extras,
      '',
      `Written to ${join('bench', 'results', 'latest.md')} (and latest.json).`,
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  const results: Partial<Results> = {
    startedAt: new Date().toISOString(),
    machine: machineDescription(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    loadAverageAtStart: loadAverage(),
  };
  log(`${results.machine}; load average ${results.loadAverageAtStart!.toFixed(2)}`);
  const context = await setUp(results);
  const byId = await throughputPhase(context, results);
  const logins = await loginPhase(context, byId.get('cookie')!);
  const searches = await searchPhase(context, byId.get('cookie')!);
  const memory = await memoryPhase(context);
  const measured: Measured = { byId, logins, searches, memory };
  const bearer = byId.get('bearer')!;
  bearer.note = `${ratio(pairedRatio(bearer, byId.get('cookie')!, 'rps'))} of cookie`;
  const rows = [
    ...byId.values(),
    logins.during,
    ...searches.flatMap((each) => (each.during ? [each.during] : [])),
    logins.legacy,
    logins.argon2,
  ];
  report({
    ...(results as Results),
    loadAverageAtEnd: loadAverage(),
    scenarios: rows,
    searches,
    memory,
    targets: targetChecks(measured, context.dataset.size === 'full'),
  });
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
