/**
 * `npm run chaos [-- --quick] [-- --scenario NAME ...] [-- --clients N] [-- --max-minutes M] [-- --tsx] [-- --json FILE]`
 *
 * Fault injection on loopback: for each scenario, private servers (Redis alone, Sentinel, Cluster,
 * PostgreSQL, MariaDB) and the app as production runs it, N logged-in clients that check every
 * answer names them, one fault, then the checks of what held. Prints a table per scenario and a
 * summary; exits non-zero when any scenario shows a wrong identity, an undone logout, a crash, or
 * an outage the app did not recover from by itself. Everything it starts is stopped by its process
 * id at the end, on Ctrl-C, on an error and at the time limit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareEntry } from '../bench/lib/app.js';
import { SEED_PASSWORD } from '../src/sample-data/seed.js';
import { Cleanup } from './lib/cleanup.js';
import { chaosPeople } from './lib/people.js';
import { reasons, scenarioTable, summaryTable } from './lib/report.js';
import { failed, runScenario, type ScenarioResult } from './lib/runner.js';
import { FULL_TIMING, QUICK_TIMING, SCENARIOS } from './lib/scenarios.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = `usage: npm run chaos -- [--quick] [--scenario NAME]... [--clients N] [--churn N] [--max-minutes M] [--tsx] [--json FILE] [--keep-logs]
scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      clients: { type: 'string', default: '8' },
      churn: { type: 'string', default: '3' },
      'max-minutes': { type: 'string' },
      tsx: { type: 'boolean', default: false },
      json: { type: 'string' },
      'keep-logs': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const unknown = (values.scenario ?? []).filter((name) => !SCENARIOS.some((s) => s.name === name));
  const clients = Number(values.clients);
  const churn = Number(values.churn);
  const people = chaosPeople();
  if (
    unknown.length > 0 ||
    !Number.isInteger(clients) ||
    clients < 1 ||
    !Number.isInteger(churn) ||
    churn < 0 ||
    clients + churn > people.length
  ) {
    console.error(
      `${unknown.length ? `unknown scenario ${unknown.join(', ')}\n` : ''}--clients and --churn: at least 1 and 0, at most ${people.length} together\n${USAGE}`,
    );
    process.exit(64);
  }
  const maxMinutes = Number(values['max-minutes'] ?? (values.quick ? 6 : 12));
  if (!(maxMinutes > 0)) {
    console.error(`--max-minutes: a positive number\n${USAGE}`);
    process.exit(64);
  }
  const scenarios = values.scenario ? SCENARIOS.filter((s) => values.scenario!.includes(s.name)) : [...SCENARIOS];
  return { values, clients, churn, people, maxMinutes, scenarios };
}

async function main(): Promise<number> {
  const { values, clients, churn, people, maxMinutes, scenarios } = options();
  const runStartedAt = Date.now();
  const log = (line: string) => console.error(`[chaos ${((Date.now() - runStartedAt) / 1000).toFixed(1).padStart(5)} s] ${line}`);
  const cleanup = new Cleanup();
  const logDir = mkdtempSync(join(tmpdir(), 'ep-chaos-logs-'));
  const deadline = Date.now() + maxMinutes * 60_000;
  const stopEverything = async (code: number, why: string) => {
    log(`${why}: stopping everything this run started (app logs: ${logDir})`);
    await cleanup.stopAll(log);
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopEverything(130, signal));
  // The hard bound: a scenario that hangs past the limit (plus a grace period) does not keep the run going.
  setTimeout(() => void stopEverything(3, `the time limit (${maxMinutes} min) has passed`), maxMinutes * 60_000 + 90_000).unref();

  const entry = prepareEntry(ROOT, import.meta.resolve('tsx'), values.tsx, log);
  const timing = values.quick ? QUICK_TIMING : FULL_TIMING;
  log(
    `app: ${entry.note}; ${scenarios.length} scenarios, ${clients} clients (+${churn} logging in and out), ${values.quick ? 'quick' : 'full'} timing, at most ${maxMinutes} min`,
  );
  const results: ScenarioResult[] = [];
  const skipped: string[] = [];
  for (const scenario of scenarios) {
    if (Date.now() > deadline) {
      skipped.push(scenario.name);
      continue;
    }
    const result = await runScenario(scenario, cleanup, {
      entry,
      timing,
      mainPeople: people.slice(0, clients),
      churnPeople: people.slice(clients, clients + churn),
      password: SEED_PASSWORD,
      logDir,
      pauseMs: 25,
      churnPauseMs: 1000,
      log,
    });
    results.push(result);
    console.log(`\n${scenarioTable(result)}\n`);
  }

  console.log('## Summary\n');
  console.log(summaryTable(results));
  if (skipped.length) console.log(`\nNot run (time limit of ${maxMinutes} min reached): ${skipped.join(', ')}`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ timing, clients, churn, results, skipped }, null, 2)}\n`);
  const failures = results.filter(failed);
  for (const r of failures) console.log(`FAIL ${r.name}: ${reasons(r).join('; ')}`);
  if (failures.length > 0 || values['keep-logs']) console.log(`\nApp logs kept in ${logDir}`);
  else rmSync(logDir, { recursive: true, force: true });
  return failures.length > 0 || skipped.length > 0 ? 1 : 0;
}

const code = await main().catch((error: unknown) => {
  console.error(error);
  return 1;
});
process.exit(code);
