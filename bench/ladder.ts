/**
 * What each layer of the app costs per authenticated request: bench/ladder-server.ts rebuilds
 * GET /admin/me from the app's own plugins one layer at a time, and this drives every rung (plus
 * the baseline, the bare Fastify route and the whole app) round-robin, printing requests/s, p99
 * and the server's CPU time per request, with each rung's increment over the one below.
 *
 *   node --import tsx bench/ladder.ts [--rounds 3] [--seconds 5] [--connections 32]
 *
 * Small seed; every server runs from the sources through tsx, the app included, so the rungs
 * differ only in what they load.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareEntry, startApp } from './lib/app.js';
import { runLoad } from './lib/load.js';
import { freePort, startProcess, treeCpuSeconds, type Owned } from './lib/processes.js';
import { redisCpuSeconds, startPrivateRedis } from './lib/redis.js';
import { seedSessions } from './lib/sessions.js';
import { renderMarkdown, renderText, type Table } from './lib/report.js';
import { machineBusySeconds, machineDescription, ownCpuSeconds } from './lib/system.js';
import { LADDER_LEVELS } from './ladder-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
  },
  strict: true,
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const log = (line: string) => process.stderr.write(`[ladder] ${line}\n`);

interface Rung {
  label: string;
  url: string;
  server: Owned[];
  rps: number[];
  p99: number[];
  cpuUs: number[];
  foreign: number[];
}

const work = mkdtempSync(join(tmpdir(), 'ep-ladder-'));
const dataDir = join(work, 'data');
mkdirSync(dataDir);
const stops: Array<() => Promise<void>> = [];
const redis = await startPrivateRedis();
stops.push(() => redis.stop());
try {
  const secretKey = randomBytes(32).toString('base64url');
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    REDIS_URL: redis.url,
    DATA_DIR: dataDir,
    SECRET_KEY: secretKey,
    SESSION_KEY_PREFIX: 'starsessions.',
  };
  const start = async (name: string, script: string, extra: Record<string, string>) => {
    const port = await freePort();
    const owned = await startProcess({
      name,
      command: process.execPath,
      args: ['--import', TSX_LOADER, join(ROOT, script)],
      env: { ...env, ...extra, BASELINE_PORT: String(port), FLOOR_PORT: String(port), LADDER_PORT: String(port) },
      cwd: dataDir,
      logFile: join(work, `${name}.log`),
      port,
      readyWithinMs: 60_000,
    });
    stops.push(() => owned.stop());
    return { owned, url: `http://127.0.0.1:${port}` };
  };

  const rungs: Rung[] = [];
  const add = (label: string, url: string, server: Owned[]) => rungs.push({ label, url, server, rps: [], p99: [], cpuUs: [], foreign: [] });
  const baseline = await start('baseline', 'bench/baseline.ts', {});
  add('baseline: node:http + one Redis GET', `${baseline.url}/`, [baseline.owned]);
  const floor = await start('floor', 'bench/fastify-floor.ts', {});
  add('0  Fastify route + one Redis GET', `${floor.url}/admin/me`, [floor.owned]);
  for (const level of Object.keys(LADDER_LEVELS).map(Number)) {
    const rung = await start(`level-${level}`, 'bench/ladder-server.ts', { LADDER_LEVEL: String(level) });
    add(`${level}  ${LADDER_LEVELS[level]}`, `${rung.url}/admin/me`, [rung.owned]);
  }
  const entry = prepareEntry(ROOT, TSX_LOADER, true, log);
  const app = await startApp({ name: 'app', entry, redisUrl: redis.url, dataDir, secretKey, logLevel: 'info', workers: 1, logDir: work });
  stops.push(() => app.stop());
  add('the app (src/server.ts, LOG_LEVEL=info)', `${app.urls[0]}/admin/me`, app.processes);

  const [token] = await seedSessions({
    redisUrl: redis.url,
    keyPrefix: 'starsessions.',
    count: 1,
    empNos: [10198],
    idleTimeoutSeconds: 1800,
    absoluteTimeoutSeconds: 28_800,
    lastSeenSecondsAgo: 0,
    clientLabel: 'Node.js',
  });
  const headers = { accept: 'application/json', cookie: `session=${token}` };
  for (const rung of rungs) {
    const response = await fetch(rung.url, { headers });
    if (response.status !== 200) throw new Error(`${rung.label}: ${response.status} ${await response.text()}`);
    await runLoad({ url: rung.url, connections: CONNECTIONS, seconds: 2, headers });
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const rung of rungs) {
      const pids = rung.server.map((owned) => owned.child.pid!);
      const cpu = pids.reduce((sum, pid) => sum + treeCpuSeconds(pid), 0);
      const busy = machineBusySeconds();
      const own = ownCpuSeconds();
      const redisCpu = await redisCpuSeconds(redis.client);
      const run = await runLoad({ url: rung.url, connections: CONNECTIONS, seconds: SECONDS, headers });
      const serverCpu = pids.reduce((sum, pid) => sum + treeCpuSeconds(pid), 0) - cpu;
      const redisUsed = (await redisCpuSeconds(redis.client)) - redisCpu;
      rung.rps.push(run.rps);
      rung.p99.push(run.p99);
      rung.cpuUs.push((serverCpu / run.requests) * 1e6);
      // The machine's busy time minus the load generator (this process), the server and Redis.
      rung.foreign.push(Math.max(0, (machineBusySeconds() - busy - (ownCpuSeconds() - own) - serverCpu - redisUsed) / run.seconds));
      log(
        `round ${round} ${rung.label}: ${run.rps.toFixed(0)} req/s, p99 ${run.p99.toFixed(2)} ms, ${rung.cpuUs.at(-1)!.toFixed(0)} µs/req`,
      );
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
  let previous: number | undefined;
  const table: Table = {
    header: ['rung', 'req/s', 'p99 ms', 'server CPU µs/req', 'added µs/req', 'other programs (cores)'],
    right: [false, true, true, true, true, true],
    rows: rungs.map((rung, index) => {
      const cpu = median(rung.cpuUs);
      const added = index >= 2 && previous !== undefined ? `+${(cpu - previous).toFixed(0)}` : '';
      previous = cpu;
      return [
        rung.label,
        Math.round(median(rung.rps)).toLocaleString('en-US'),
        median(rung.p99).toFixed(2),
        cpu.toFixed(0),
        added,
        median(rung.foreign).toFixed(2),
      ];
    }),
  };
  const header = `${machineDescription()}; ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, medians; small seed; all from sources via tsx.`;
  console.log(`${header}\n\n${renderText(table)}`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'ladder.md'), `${header}\n\n${renderMarkdown(table)}\n`);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
