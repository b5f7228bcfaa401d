/**
 * One scenario from start to end: its servers and the app, N logged-in clients, the fault, the
 * wait for recovery and for the topology to be whole, the checks of what held, and the stop of
 * everything it started (also when something failed on the way).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppEntry } from '../../bench/lib/app.js';
import { pollUntil } from '../../support/private-servers.js';
import { startAppUnderFault, type AppUnderFault } from './app.js';
import type { Cleanup } from './cleanup.js';
import { Driver, emptyTally, finalChecks, type FinalChecks, type Tally } from './clients.js';
import { connectionErrorCauses, type Person } from './http.js';
import type { Deployment, ScenarioDefinition, Timing } from './scenarios.js';

/** Sessions each churn client opens before the fault, to log out during it. */
const CHURN_POOL_SIZE = 3;

export interface ScenarioResult {
  name: string;
  title: string;
  clients: number;
  /** Answers to the main clients' "who am I" requests. */
  answers: Tally;
  /** From the first failed request's start to the last failed request's end; 0 without failures. */
  errorWindowSeconds: number;
  checks: FinalChecks;
  /** Logouts and logins the churn clients were told had succeeded during the fault. */
  acknowledged: { logouts: number; logins: number };
  reLogins: number;
  /** /ready probes that said 200 while every client request around them failed. */
  readyWhileFailing: number;
  readyProbes: number;
  /** Statuses of the logins and logouts made while the clients ran ("200 × 12, 503 × 30"). */
  loginAnswers: string;
  logoutAnswers: string;
  /** The commonest causes of connection errors ("ECONNRESET × 12"). */
  connectionErrorCauses: string[];
  /** App processes that exited unexpectedly, and worker deaths the primary logged beyond the ones the fault caused. */
  crashes: number;
  crashDetail: string | undefined;
  /** Seconds from the dependency being back until every client had a correct answer; undefined: not within the limit. */
  recoverySeconds: number | undefined;
  /** The topology was whole again (replica resynced, cluster ok) before the checks. */
  settled: boolean;
  notes: string[];
  /** Set when the scenario could not run to its end (set-up failed, a fault could not be injected). */
  error: string | undefined;
  durationSeconds: number;
}

export interface RunSettings {
  entry: AppEntry;
  timing: Timing;
  mainPeople: Person[];
  churnPeople: Person[];
  password: string;
  logDir: string;
  pauseMs: number;
  churnPauseMs: number;
  log: (line: string) => void;
}

/** True when the scenario shows something that must not happen, or an outage the app did not recover from. */
export function failed(result: ScenarioResult): boolean {
  return (
    result.error !== undefined ||
    result.answers.wrongIdentity + result.checks.wrongIdentity > 0 ||
    result.checks.logoutsUndone > 0 ||
    result.crashes > 0 ||
    result.recoverySeconds === undefined
  );
}

async function waitReady(url: string, withinMs: number): Promise<void> {
  const ok = await pollUntil(
    async () => (await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) })).status === 200,
    withinMs,
    200,
  );
  if (!ok) throw new Error(`the app's /ready did not answer 200 within ${withinMs / 1000} s before any fault`);
}

const byCount = (counts: Map<string, number>) =>
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${status} × ${n}`)
    .join(', ') || 'none';

function crashesOf(app: AppUnderFault | undefined, deployment: Deployment | undefined): { count: number; detail: string | undefined } {
  if (!app) return { count: 0, detail: undefined };
  const deaths = app.workerDeathsLogged();
  const unexpectedDeaths = Math.max(0, deaths.length - (deployment?.deliberateWorkerKills ?? 0));
  const count = (app.crash ? 1 : 0) + unexpectedDeaths;
  if (count === 0) return { count, detail: undefined };
  const parts = [
    ...(app.crash ? [`the app exited (code ${app.crash.code}, signal ${app.crash.signal})`] : []),
    ...(unexpectedDeaths
      ? [
          `${unexpectedDeaths} unexpected worker death(s); the primary logged worker exits: ${deaths.join(', ')} (${deployment?.deliberateWorkerKills ?? 0} killed by the scenario)`,
        ]
      : []),
  ];
  const reason = app.crash ? app.lastError() : undefined;
  return { count, detail: `${parts.join('; ')}${reason ? `; last error: ${reason}` : ''}; log: ${app.logFile}` };
}

/** Every client answered correctly since `since`, within `withinMs`; an app that has exited will not, so no waiting then. */
async function recovered(driver: Driver, app: AppUnderFault, since: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline && !app.crash) {
    if (driver.allCorrectSince(since)) return true;
    await sleep(100);
  }
  return driver.allCorrectSince(since);
}

/** Drives the clients through the fault; returns when the checks are done. */
async function drive(
  driver: Driver,
  deployment: Deployment,
  app: AppUnderFault,
  settings: RunSettings,
  result: ScenarioResult,
): Promise<void> {
  const { timing, log } = settings;
  await driver.logInAll(settings.mainPeople);
  await driver.prepareChurn(settings.churnPeople, CHURN_POOL_SIZE);
  driver.startMain();
  try {
    await sleep(timing.baselineMs);
    driver.startChurn(settings.churnPeople);
    log('  injecting the fault');
    try {
      await deployment.inject(app);
    } catch (error) {
      result.error = `the fault: ${(error as Error).message}`;
    }
    const restoredAt = Date.now();
    log('  dependency back; waiting for every client to be answered correctly');
    if (await recovered(driver, app, restoredAt, timing.recoveryLimitMs)) {
      result.recoverySeconds = Math.max(...driver.main.map((client) => client.lastCorrectStartedAt - restoredAt), 0) / 1000;
    }
    result.settled = await deployment.settle();
    log(`  ${result.settled ? 'settled' : 'did NOT settle'}; checking what held`);
    await sleep(timing.afterMs);
  } finally {
    await driver.stopChurnClients();
    await driver.stopMainClients();
  }
  result.checks = await finalChecks(driver, app.url);
}

export async function runScenario(definition: ScenarioDefinition, cleanup: Cleanup, settings: RunSettings): Promise<ScenarioResult> {
  const startedAt = Date.now();
  const result: ScenarioResult = {
    name: definition.name,
    title: definition.title(settings.timing),
    clients: settings.mainPeople.length,
    answers: emptyTally(),
    errorWindowSeconds: 0,
    checks: {
      sessionsLost: 0,
      logoutsUndone: 0,
      loginsLost: 0,
      wrongIdentity: 0,
      undecided: 0,
      checked: { sessions: 0, logouts: 0, logins: 0 },
    },
    acknowledged: { logouts: 0, logins: 0 },
    reLogins: 0,
    readyWhileFailing: 0,
    readyProbes: 0,
    connectionErrorCauses: [],
    loginAnswers: '',
    logoutAnswers: '',
    crashes: 0,
    crashDetail: undefined,
    recoverySeconds: undefined,
    settled: false,
    notes: [],
    error: undefined,
    durationSeconds: 0,
  };
  let deployment: Deployment | undefined;
  let app: AppUnderFault | undefined;
  let driver: Driver | undefined;
  connectionErrorCauses.clear();
  try {
    settings.log(`${definition.name}: starting the servers and the app`);
    deployment = await definition.prepare(cleanup, settings.timing);
    result.notes = deployment.notes;
    app = await startAppUnderFault(cleanup, {
      entry: settings.entry,
      workers: deployment.workers,
      redisUrl: deployment.redisUrl,
      ...(deployment.databaseUrl ? { databaseUrl: deployment.databaseUrl } : {}),
      logDir: settings.logDir,
      name: definition.name,
    });
    await waitReady(app.url, 60_000);
    settings.log('  app ready; logging the clients in');
    const url = app.url;
    driver = new Driver({ url: () => url, password: settings.password, pauseMs: settings.pauseMs, churnPauseMs: settings.churnPauseMs });
    await drive(driver, deployment, app, settings, result);
  } catch (error) {
    result.error ??= (error as Error).message;
  } finally {
    if (driver) {
      result.answers = driver.tally;
      result.errorWindowSeconds = driver.firstErrorAt === undefined ? 0 : (driver.lastErrorAt! - driver.firstErrorAt) / 1000;
      result.acknowledged = { logouts: driver.acknowledgedLogouts.length, logins: driver.acknowledgedLogins.length };
      result.reLogins = driver.reLogins;
      result.loginAnswers = byCount(driver.loginAnswers);
      result.logoutAnswers = byCount(driver.logoutAnswers);
      result.readyWhileFailing = driver.readyWhileFailing();
      result.readyProbes = driver.readiness.length;
      result.connectionErrorCauses = [...connectionErrorCauses]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([cause, n]) => `${cause} × ${n}`);
    }
    const crashes = crashesOf(app, deployment);
    result.crashes = crashes.count;
    result.crashDetail = crashes.detail;
    settings.log('  stopping what it started');
    await cleanup.stopAll(settings.log);
    result.durationSeconds = (Date.now() - startedAt) / 1000;
  }
  return result;
}
