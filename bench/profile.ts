/**
 * Where the app's time goes on the authenticated hot path: runs the built app under `--cpu-prof`
 * against a private Redis, drives one scenario, and prints the CPU profile summarised three ways:
 * by package (inclusive: time with that package anywhere on the stack), by function (inclusive),
 * and by function (self). The raw `.cpuprofile` is kept for Chrome DevTools.
 *
 *   node --import tsx bench/profile.ts [--scenario cookie|bearer|baseline|login] [--seconds 10] [--log-level info|warn] [--tsx] [--full]
 *
 * Small seed (a /admin/me reads one employee by primary key; the size of the table does not matter),
 * or with `--full` the full-size database `npm run bench` uses (loaded once, cached).
 * `login`: POST /auth/token by 4 clients, a different argon2id seed user each time, once the seed's
 * legacy bcrypt users have logged in (as `npm run bench`'s logins row); the CPU figure then counts
 * the hashing threads too, and the profile is the main thread's alone.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Request } from 'autocannon';
import { LEGACY_BCRYPT_EMAILS, SEED_EMPLOYEES, SEED_PASSWORD } from '../src/sample-data/seed.js';
import { login, loginRequests, prepareEntry, startApp } from './lib/app.js';
import { fullSizeDataset, installDataset } from './lib/dataset.js';
import { runLoad } from './lib/load.js';
import { exitOf, freePort, startProcess, treeCpuSeconds } from './lib/processes.js';
import { startPrivateRedis } from './lib/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'cookie' },
    seconds: { type: 'string', default: '10' },
    'log-level': { type: 'string', default: 'info' },
    connections: { type: 'string', default: '32' },
    tsx: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    top: { type: 'string', default: '30' },
  },
  strict: true,
});
const log = (line: string) => process.stderr.write(`[profile] ${line}\n`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function bucketOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native/V8)';
  if (url.startsWith('node:')) return 'node:' + (url.slice(5).split('/')[0] ?? '');
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return `app ${relative(ROOT, path)}`;
}

/**
 * Only the samples of the measured window: the profile covers the whole process (start-up,
 * warm-up, shutdown), and the load ran for `seconds` just before the shutdown.
 */
function summarise(profile: CpuProfile, top: number, windowSeconds: number, requests: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusiveFn = new Map<string, number>();
  const inclusivePkg = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const stamps: number[] = [];
  let clock = profile.startTime;
  for (const delta of profile.timeDeltas) stamps.push((clock += delta));
  // The load ended a moment before the profile did (SIGTERM, drain, exit): leave out the last 0.3 s.
  const windowEnd = profile.endTime - 300_000;
  const windowStart = windowEnd - windowSeconds * 1e6;
  profile.samples.forEach((leaf, index) => {
    const at = stamps[index]!;
    if (at < windowStart || at > windowEnd) return;
    const dt = (profile.timeDeltas[index] ?? 0) / 1000; // ms
    const leafNode = byId.get(leaf)!;
    if (leafNode.callFrame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    total += dt;
    const name = (node: ProfileNode) => {
      const { functionName, url, lineNumber } = node.callFrame;
      const bucket = bucketOf(url, functionName);
      return `${functionName || '(anonymous)'}  [${bucket}${url ? `:${lineNumber + 1}` : ''}]`;
    };
    self.set(name(leafNode), (self.get(name(leafNode)) ?? 0) + dt);
    const seenFn = new Set<string>();
    const seenPkg = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id)!;
      if (node.callFrame.functionName === '(root)') break;
      seenFn.add(name(node));
      seenPkg.add(bucketOf(node.callFrame.url, node.callFrame.functionName));
    }
    for (const fn of seenFn) inclusiveFn.set(fn, (inclusiveFn.get(fn) ?? 0) + dt);
    for (const pkg of seenPkg) inclusivePkg.set(pkg, (inclusivePkg.get(pkg) ?? 0) + dt);
  });
  const table = (title: string, map: Map<string, number>, count: number) =>
    [
      `${title} (ms, % of busy)`,
      ...[...map]
        .sort((a, b) => b[1] - a[1])
        .slice(0, count)
        .map(([key, ms]) => `${ms.toFixed(0).padStart(8)}  ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${key}`),
    ].join('\n');
  return [
    `measured window ${windowSeconds.toFixed(1)} s: main thread busy ${total.toFixed(0)} ms, idle ${idle.toFixed(0)} ms; ` +
      `${requests} requests → ${((total * 1000) / requests).toFixed(0)} µs of main-thread CPU per request (1% = ${((total * 10) / requests).toFixed(1)} µs)`,
    '',
    table('Inclusive by package / file', inclusivePkg, top),
    '',
    table('Inclusive by function', inclusiveFn, top),
    '',
    table('Self by function', self, top),
  ].join('\n');
}

const work = mkdtempSync(join(tmpdir(), 'ep-profile-'));
const profileDir = join(work, 'profiles');
mkdirSync(join(work, 'data'), { recursive: true });
mkdirSync(profileDir);
const redis = await startPrivateRedis();
const stops: Array<() => Promise<void>> = [() => redis.stop()];
try {
  const entry = prepareEntry(ROOT, TSX_LOADER, args.tsx, log);
  if (args.full) installDataset(await fullSizeDataset(ROOT, TSX_LOADER, log), join(work, 'data'));
  const app = await startApp({
    name: 'app-profile',
    entry,
    redisUrl: redis.url,
    dataDir: join(work, 'data'),
    secretKey: randomBytes(32).toString('base64url'),
    logLevel: args['log-level'] === 'warn' ? 'warn' : 'info',
    workers: 1,
    logDir: work,
    nodeArgs: [`--cpu-prof`, `--cpu-prof-dir=${profileDir}`],
  });
  stops.push(() => app.stop());
  const me = await login(app.urls[0]!, 'pranav.furedi.10198@gmail.com', SEED_PASSWORD);
  let url = `${app.urls[0]}/admin/me`;
  let headers: Record<string, string> = { accept: 'application/json', cookie: me.cookie };
  let pid = app.processes[0]!.child.pid!;
  let baselineStop: (() => Promise<void>) | undefined;
  if (args.scenario === 'bearer') headers = { accept: 'application/json', authorization: `Bearer ${me.accessToken}` };
  if (args.scenario === 'baseline') {
    const port = await freePort();
    const owned = await startProcess({
      name: 'baseline',
      command: process.execPath,
      args: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--import', TSX_LOADER, join(ROOT, 'bench/baseline.ts')],
      env: { PATH: process.env.PATH, BASELINE_PORT: String(port), REDIS_URL: redis.url },
      port,
    });
    baselineStop = () => owned.stop();
    url = `http://127.0.0.1:${port}/`;
    pid = owned.child.pid!;
  }
  let connections = Number(args.connections);
  let requests: Request[] | undefined;
  if (args.scenario === 'login') {
    for (const email of LEGACY_BCRYPT_EMAILS) await login(app.urls[0]!, email, SEED_PASSWORD);
    url = `${app.urls[0]}/auth/token`;
    connections = 4;
    requests = loginRequests(
      SEED_EMPLOYEES.map((employee) => employee.email),
      SEED_PASSWORD,
    );
  }
  await runLoad({ url, connections, seconds: 2, headers, requests });
  const cpuBefore = treeCpuSeconds(pid);
  const run = await runLoad({ url, connections, seconds: Number(args.seconds), headers, requests });
  const cpu = treeCpuSeconds(pid) - cpuBefore;
  log(
    `${args.scenario}: ${run.rps.toFixed(0)} req/s, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms, ${((cpu / run.requests) * 1e6).toFixed(0)} µs CPU per request`,
  );
  // A clean exit writes the profile (SIGTERM: the app drains and exits; the baseline exits too).
  if (baselineStop) await baselineStop();
  else {
    app.processes[0]!.child.kill('SIGTERM');
    await exitOf(app.processes[0]!);
  }
  const files = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error('no profile was written');
  // One profile per thread (tsx's loader hooks run on a thread of their own), and with the baseline
  // none yet of the app: the busiest, i.e. largest, file is the main thread under load.
  const file = files.sort((a, b) => statSync(join(profileDir, b)).size - statSync(join(profileDir, a)).size)[0]!;
  const keep = join(ROOT, 'bench', 'results', `${args.scenario}-${args['log-level']}.cpuprofile`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  copyFileSync(join(profileDir, file), keep);
  // The window: the measured run minus its last half second (in flight when the profile's end was taken).
  const windowSeconds = Math.max(1, Number(args.seconds) - 1);
  console.log(
    summarise(
      JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile,
      Number(args.top),
      windowSeconds,
      Math.round(run.rps * windowSeconds),
    ),
  );
  console.log(`\nProfile kept in ${relative(ROOT, keep)} (open in Chrome DevTools → Performance).`);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
