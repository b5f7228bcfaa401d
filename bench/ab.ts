/**
 * Two builds of the app side by side: is a change to the hot path faster? Starts both (each with
 * its own data folder) on one private Redis, logs the same seed user in to each, and drives
 * authenticated `GET /admin/me` at each in turn, A B A B..., printing requests/s, p99 and the
 * server's CPU time per request (user + system, from /proc) per round, and the medians. Taking
 * turns puts both under the same background load, so the comparison holds on a busy machine
 * where one figure alone would not.
 *
 *   node --import tsx bench/ab.ts --a <server.js> --b <server.js> [--scenario cookie|bearer]
 *                                 [--rounds 5] [--seconds 5] [--connections 32]
 *                                 [--a-node-args='...'] [--b-node-args='...']   (e.g. a V8 flag on one side)
 *
 * It prints the medians of each side and the median of the rounds' B ÷ A ratios (each round runs A and B
 * back to back, so a spell of noise on the machine hits both).
 *
 * To build the last commit beside the working tree:
 *   git worktree add /tmp/ab-a HEAD && ln -s "$PWD/node_modules" /tmp/ab-a/ && (cd /tmp/ab-a && npm run build)
 *   npm run build && node --import tsx bench/ab.ts --a /tmp/ab-a/dist/server.js --b dist/server.js
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SEED_PASSWORD } from '../src/sample-data/seed.js';
import { login, startApp, type RunningApp } from './lib/app.js';
import { runLoad } from './lib/load.js';
import { treeCpuSplit } from './lib/processes.js';
import { startPrivateRedis } from './lib/redis.js';

const { values: args } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    'a-node-args': { type: 'string', default: '' },
    'b-node-args': { type: 'string', default: '' },
    scenario: { type: 'string', default: 'cookie' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
  },
  strict: true,
});
if (!args.a || !args.b) {
  console.error(
    'Usage: node --import tsx bench/ab.ts --a <server.js> --b <server.js> [--scenario cookie|bearer] [--rounds N] [--seconds N]',
  );
  process.exit(64);
}
const log = (line: string) => process.stderr.write(`[ab] ${line}\n`);
const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

interface Side {
  label: string;
  app: RunningApp;
  headers: Record<string, string>;
  rounds: Array<{ rps: number; p99: number; cpuUs: number }>;
}

const work = mkdtempSync(join(tmpdir(), 'ep-ab-'));
const redis = await startPrivateRedis();
const stops: Array<() => Promise<void>> = [() => redis.stop()];
try {
  const sides: Side[] = [];
  for (const [label, server, nodeArgs] of [
    ['A', args.a, args['a-node-args']],
    ['B', args.b, args['b-node-args']],
  ] as const) {
    const dataDir = join(work, label);
    mkdirSync(dataDir);
    const app = await startApp({
      name: `app-${label}`,
      entry: { kind: 'dist', args: [resolve(server)], note: server },
      redisUrl: redis.url,
      dataDir,
      secretKey: randomBytes(32).toString('base64url'),
      logLevel: 'info',
      workers: 1,
      logDir: work,
      nodeArgs: nodeArgs.split(' ').filter(Boolean),
      // Each its own keys on the one Redis.
      extraEnv: { SESSION_KEY_PREFIX: `ab-${label}:` },
    });
    stops.push(() => app.stop());
    const me = await login(app.urls[0]!, 'pranav.furedi.10198@gmail.com', SEED_PASSWORD);
    const headers: Record<string, string> =
      args.scenario === 'bearer'
        ? { accept: 'application/json', authorization: `Bearer ${me.accessToken}` }
        : { accept: 'application/json', cookie: me.cookie };
    sides.push({ label, app, headers, rounds: [] });
  }
  const seconds = Number(args.seconds);
  const connections = Number(args.connections);
  for (const side of sides) await runLoad({ url: `${side.app.urls[0]}/admin/me`, connections, seconds: 2, headers: side.headers });
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const side of round % 2 === 1 ? sides : [...sides].reverse()) {
      const pid = side.app.processes[0]!.child.pid!;
      const before = treeCpuSplit(pid);
      const run = await runLoad({ url: `${side.app.urls[0]}/admin/me`, connections, seconds, headers: side.headers });
      const after = treeCpuSplit(pid);
      const perRequest = (seconds: number) => (seconds * 1e6) / Math.max(1, run.requests);
      const cpuUs = perRequest(after.user - before.user + after.system - before.system);
      const systemUs = perRequest(after.system - before.system);
      if (run.ok !== run.requests) throw new Error(`${side.label}: ${run.requests - run.ok} answers were not 2xx`);
      side.rounds.push({ rps: run.rps, p99: run.p99, cpuUs });
      log(
        `round ${round} ${side.label}: ${run.rps.toFixed(0)} req/s, p99 ${run.p99.toFixed(2)} ms, ` +
          `${cpuUs.toFixed(0)} µs CPU/request (${systemUs.toFixed(0)} of it in the kernel)`,
      );
    }
  }
  const [a, b] = sides.map((side) => ({
    rps: median(side.rounds.map((each) => each.rps)),
    p99: median(side.rounds.map((each) => each.p99)),
    cpuUs: median(side.rounds.map((each) => each.cpuUs)),
  }));
  console.log(`median A (${args.a}): ${a!.rps.toFixed(0)} req/s, p99 ${a!.p99.toFixed(2)} ms, ${a!.cpuUs.toFixed(0)} µs CPU/request`);
  console.log(`median B (${args.b}): ${b!.rps.toFixed(0)} req/s, p99 ${b!.p99.toFixed(2)} ms, ${b!.cpuUs.toFixed(0)} µs CPU/request`);
  console.log(`B ÷ A: req/s ${(b!.rps / a!.rps).toFixed(3)}×, CPU/request ${(b!.cpuUs / a!.cpuUs).toFixed(3)}×`);
  // Each round's two runs are next to each other in time, so their ratio cancels what the machine
  // did meanwhile better than the ratio of two medians does (the noise here comes in spells).
  const [ra, rb] = sides.map((side) => side.rounds);
  const paired = (of: (round: { rps: number; cpuUs: number; p99: number }) => number) =>
    median(ra!.map((round, i) => of(rb![i]!) / of(round))).toFixed(3);
  console.log(
    `B ÷ A, median of each round's pair: req/s ${paired((r) => r.rps)}×, CPU/request ${paired((r) => r.cpuUs)}×, p99 ${paired((r) => r.p99)}×`,
  );
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
