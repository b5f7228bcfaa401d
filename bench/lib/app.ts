/**
 * The app under test, started as production starts it: compiled once (`npm run build`, the build
 * `npm start` runs) and run with `node dist/server.js`, NODE_ENV=production, its own port, the
 * private Redis, a temporary DATA_DIR, a SECRET_KEY, and its JSON log lines going to a file as
 * they would go to a log collector. (`--tsx` runs `src/server.ts` through tsx instead.)
 *
 * WORKERS: when server.ts runs a cluster for WORKERS=N, the app is one primary with N workers on
 * one port. When it does not (yet), "N processes" means N separate app processes on N ports,
 * driven together (autocannon spreads its connections over the URLs): the same work, without the
 * cluster module's connection hand-off.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request } from 'autocannon';
import { childPids, freePort, startProcess, type Owned } from './processes.js';

export interface AppEntry {
  kind: 'dist' | 'tsx';
  args: string[];
  note: string;
}

/** Builds with `npm run build` (tsc → dist/) and returns how to start the result; tsx when asked or when the build fails. */
export function prepareEntry(root: string, tsxLoader: string, preferTsx: boolean, log: (line: string) => void): AppEntry {
  const tsx: AppEntry = {
    kind: 'tsx',
    args: ['--import', tsxLoader, join(root, 'src/server.ts')],
    note: 'node --import tsx src/server.ts',
  };
  if (preferTsx) return tsx;
  log('building the app (npm run build)...');
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  const server = join(root, 'dist/server.js');
  if (build.status === 0 && existsSync(server)) {
    return { kind: 'dist', args: [server], note: 'npm run build, then node dist/server.js (as npm start)' };
  }
  log(
    `warning: npm run build failed (exit ${build.status}); running the sources with tsx instead:\n${(build.stdout + build.stderr).slice(-1500)}`,
  );
  return { ...tsx, note: `${tsx.note} (npm run build failed)` };
}

export interface AppOptions {
  name: string;
  entry: AppEntry;
  redisUrl: string;
  dataDir: string;
  secretKey: string;
  logLevel: 'info' | 'warn';
  /** Processes; see the module comment. */
  workers: number;
  logDir: string;
  extraEnv?: Record<string, string>;
  /** Node options before the entry (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export interface RunningApp {
  name: string;
  /** One URL per listening port. */
  urls: string[];
  /** Top-level processes (one, or N without cluster support); workers are their children. */
  processes: Owned[];
  /** 'single', 'cluster' (server.ts forked WORKERS workers) or 'separate' (N processes, N ports). */
  mode: 'single' | 'cluster' | 'separate';
  logLevel: string;
  stop(): Promise<void>;
}

function appEnv(options: AppOptions, port: number, workers: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    WORKERS: String(workers),
    LOG_LEVEL: options.logLevel,
    DATA_DIR: options.dataDir,
    REDIS_URL: options.redisUrl,
    // It measures password logins (administrators' too), as the peers it is compared with have
    // them: nobody is asked for a second factor (production requires one of admin:write and super:*).
    MFA_REQUIRED_SCOPES: '',
    SECRET_KEY: options.secretKey,
    ...options.extraEnv,
  };
  return env;
}

async function startOne(options: AppOptions, index: number, workers: number): Promise<{ owned: Owned; url: string }> {
  const port = await freePort();
  const owned = await startProcess({
    name: `${options.name}#${index}`,
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), ...options.entry.args],
    env: appEnv(options, port, workers),
    cwd: options.dataDir, // no developer's .env is read
    logFile: join(options.logDir, `${options.name}-${index}.log`),
    port,
    readyWithinMs: 120_000, // a first start migrates (and on a new full-size file, builds indexes)
  });
  return { owned, url: `http://127.0.0.1:${port}` };
}

export async function startApp(options: AppOptions): Promise<RunningApp> {
  const stopAll = (processes: Owned[]) => async () => {
    await Promise.all(processes.map((each) => each.stop()));
  };
  if (options.workers <= 1) {
    const { owned, url } = await startOne(options, 0, 1);
    return { name: options.name, urls: [url], processes: [owned], mode: 'single', logLevel: options.logLevel, stop: stopAll([owned]) };
  }
  // Does server.ts honour WORKERS? Then the primary forks that many workers.
  const first = await startOne(options, 0, options.workers);
  const deadline = Date.now() + 5_000;
  while (childPids(first.owned.child.pid!).length < options.workers && Date.now() < deadline) await sleep(100);
  if (childPids(first.owned.child.pid!).length >= options.workers) {
    return {
      name: options.name,
      urls: [first.url],
      processes: [first.owned],
      mode: 'cluster',
      logLevel: options.logLevel,
      stop: stopAll([first.owned]),
    };
  }
  await first.owned.stop();
  const started: Array<{ owned: Owned; url: string }> = [];
  try {
    for (let index = 0; index < options.workers; index++) started.push(await startOne(options, index, 1));
  } catch (error) {
    await Promise.all(started.map(({ owned }) => owned.stop()));
    throw error;
  }
  const processes = started.map(({ owned }) => owned);
  return {
    name: options.name,
    urls: started.map(({ url }) => url),
    processes,
    mode: 'separate',
    logLevel: options.logLevel,
    stop: stopAll(processes),
  };
}

export interface Login {
  cookie: string;
  /** The `<id>.<secret>` cookie value. */
  sessionToken: string;
  sessionId: string;
  accessToken: string;
}

/**
 * autocannon requests that log in through POST /auth/token (a form body, as `login` sends), one
 * user after another from `usernames`, round and round: the load of the logins rows.
 */
export function loginRequests(usernames: readonly string[], password: string): Request[] {
  let index = 0;
  return [
    {
      method: 'POST',
      path: '/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      setupRequest: (request) => ({
        ...request,
        body: new URLSearchParams({ username: usernames[index++ % usernames.length]!, password }).toString(),
      }),
    },
  ];
}

/** Logs in through POST /auth/token, as an API client does. */
export async function login(url: string, username: string, password: string): Promise<Login> {
  const response = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ username, password }).toString(),
  });
  const body = (await response.json()) as { access_token?: string; detail?: string };
  if (response.status !== 200 || !body.access_token)
    throw new Error(`login as ${username} answered ${response.status}: ${JSON.stringify(body)}`);
  const session = response.headers
    .getSetCookie()
    .map((line) => /^session=([^;]+)/.exec(line)?.[1])
    .find((value) => value);
  if (!session) throw new Error(`login as ${username} set no session cookie`);
  return { cookie: `session=${session}`, sessionToken: session, sessionId: session.split('.')[0]!, accessToken: body.access_token };
}

/** The event-loop delay the app's /metrics reports (prom-client resets it on every scrape). */
export async function eventLoopLag(url: string): Promise<{ p99: number; max: number } | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const read = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'm').exec(text)?.[1]);
    const p99 = read('nodejs_eventloop_lag_p99_seconds') * 1000;
    const max = read('nodejs_eventloop_lag_max_seconds') * 1000;
    return Number.isFinite(p99) ? { p99, max } : undefined;
  } catch {
    return undefined;
  }
}
