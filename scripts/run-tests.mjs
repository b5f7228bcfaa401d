#!/usr/bin/env node
/**
 * Runs the test suite with Node's own test runner.
 *
 * Why a script: on Node 20, `node --test` does not expand globs itself, and with no file list it
 * finds no `.ts` files and exits 0 having run nothing. This lists the files, runs them, and fails
 * when no test ran at all, so a green run always means tests passed.
 *
 * Two runs, one after the other, so that the whole suite fits the time the project allows on a
 * 2-core machine: first every file that does not mind a neighbour, two files at a time (each file
 * is its own process, with its own database, key prefix, data folder and private servers); then
 * the files in ALONE, one at a time with nothing beside them. Each run is node:test's runner with
 * the spec reporter (scripts/run-in-order.mjs, which starts the files in the order given). Both runs
 * always happen; the script exits with the first failing run's code, and each run must have run tests.
 *
 * Usage: npm test [-- <file or folder>...]   (default: every test/**\/*.test.ts)
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Files whose assertions are about time, or that load both cores on purpose: next to another test
 * file, a neighbour's burst of CPU would land on some of their measurements and not on others, and
 * turn a sound bound into a flaky one. They run after the others, one at a time, as they always did.
 */
const ALONE = [
  // Equal login timing: the medians of interleaved cases within 25% of each other (C-02, legacy hashes).
  'test/security/c-authentication.test.ts',
  'test/auth/legacy-hashes.test.ts',
  // Bursts beyond the hashing capacity and 300 clients over sockets: both cores busy by design,
  // with bounds on /health's p99, on a burst's length, and on the event loop's lag (fuzz).
  'test/security/g-faults/saturation.test.ts',
  'test/security/load.test.ts',
  'test/security/fuzz.test.ts',
  // Outages answered within a bound (2 s, 2.5 s, 6 s, a baseline + 500 ms), a 10 s shutdown
  // deadline hit within 9 to 12.5 s, idle/absolute session timeouts of 2 s and 4 s, and a quiet
  // server's log line flushed within 2.5 s.
  'test/security/g-faults/database.test.ts',
  'test/security/g-faults/input.test.ts',
  'test/security/g-faults/redis.test.ts',
  'test/security/g-faults/second-step.test.ts',
  'test/security/g-faults/shutdown.test.ts',
  'test/security/g-faults/socket.test.ts',
  'test/security/b-lifecycle.test.ts',
  'test/sessions/redis-outage.test.ts',
  'test/observability/stdout.test.ts',
  // The chaos and benchmark tools, run short: they time outages and count answers per second.
  'test/chaos/chaos.test.ts',
  'test/bench/bench.test.ts',
];

/**
 * The longest of the other files (tens of seconds, measured), started first: two at a time, a long
 * file left for the end would run on alone while the other core idles. Only the order changes.
 */
const LONGEST_FIRST = [
  'test/sessions/redis-topologies.test.ts',
  'test/browser/portal.test.ts',
  'test/auth/ending-sessions.test.ts',
  'test/database/outage.test.ts',
  'test/cluster.test.ts',
  'test/cli/admin.test.ts',
  'test/browser/login-flows.test.ts',
];

/** How many files the first run keeps going at once: one per core of the standard machine. */
const CONCURRENCY = 2;

function testFiles(path) {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((entry) => {
      const full = join(path, entry.name);
      if (entry.isDirectory()) return testFiles(full);
      return entry.name.endsWith('.test.ts') ? [full] : [];
    })
    .sort();
}

/** A file as the lists above name it: relative to the project root, with forward slashes. */
const projectPath = (file) => relative(PROJECT_ROOT, resolve(file)).split(sep).join('/');

// A renamed or deleted file must not silently drop out of its list (and so out of running alone).
const unknown = [...ALONE, ...LONGEST_FIRST].filter((file) => !existsSync(join(PROJECT_ROOT, file)));
if (unknown.length) {
  console.error(`run-tests: scripts/run-tests.mjs names files that do not exist: ${unknown.join(', ')}`);
  process.exit(1);
}

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['test']).flatMap(testFiles);
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

const rank = (file) => {
  const index = LONGEST_FIRST.indexOf(projectPath(file));
  return index === -1 ? LONGEST_FIRST.length : index;
};
const runs = [
  {
    name: `side by side, ${CONCURRENCY} at a time`,
    concurrency: CONCURRENCY,
    files: files.filter((file) => !ALONE.includes(projectPath(file))).sort((a, b) => rank(a) - rank(b)),
  },
  { name: 'alone, one at a time', concurrency: 1, files: files.filter((file) => ALONE.includes(projectPath(file))) },
].filter((run) => run.files.length > 0);

/** Runs one list of files; resolves to the runner's exit code and how many tests it reported. */
function runFiles({ concurrency, files: list }) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'run-in-order.mjs'), String(concurrency), ...list],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    output += chunk.toString();
    if (output.length > 1_000_000) output = output.slice(-100_000);
  });
  return new Promise((done) => {
    child.on('close', (code, signal) => {
      const ran = /^\S*\s*tests (\d+)\s*$/m.exec(output);
      done({ code: code ?? (signal ? 1 : 0), tests: ran ? Number(ran[1]) : 0 });
    });
  });
}

const plural = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;
let exitCode = 0;
let total = 0;
const summary = [];
for (const run of runs) {
  if (runs.length > 1) console.log(`\nrun-tests: ${plural(run.files.length, 'file')}, ${run.name}\n`);
  const { code, tests } = await runFiles(run);
  summary.push(
    `${tests} in ${plural(run.files.length, 'file')} ${run.name.split(',')[0]}${code === 0 ? '' : ` (failed, exit code ${code})`}`,
  );
  if (code === 0 && tests === 0) {
    console.error(`run-tests: the runner exited 0 but ran no test (${run.name})`);
    exitCode ||= 1;
  }
  exitCode ||= code;
  total += tests;
}
if (runs.length > 1) console.log(`\nrun-tests: ${plural(total, 'test')}: ${summary.join('; ')}`);
process.exit(exitCode);
