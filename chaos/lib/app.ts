/**
 * The app under fault, as production runs it: the build `npm start` makes (or the sources through
 * tsx, for the test), one process on a free loopback port with NODE_ENV=production, configured only
 * through its environment, its JSON log going to a file. An exit this run did not ask for is a
 * crash; with WORKERS above one, the primary's log says when a worker died.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppEntry } from '../../bench/lib/app.js';
import { childPids, freePort, startProcess, type Owned } from '../../bench/lib/processes.js';
import type { Cleanup } from './cleanup.js';

export interface AppUnderFault {
  url: string;
  pid: number;
  logFile: string;
  workers: number;
  /** Set when the top-level process exited before `stop()` asked it to. */
  crash: { at: number; code: number | null; signal: string | null } | undefined;
  /** The worker processes (WORKERS above one), found from /proc by parent id. */
  workerPids(): number[];
  /** Processes that have logged that they listen (Fastify's "Server listening at ..."). */
  listeningPids(): number[];
  /** Worker deaths the primary logged so far ("SIGKILL after 20.1 s", "code 1 after 0.8 s"). */
  workerDeathsLogged(): string[];
  /** Why the process ended, from its log, shortened. */
  lastError(): string | undefined;
  stop(): Promise<void>;
}

export interface AppSettings {
  entry: AppEntry;
  workers: number;
  redisUrl: string;
  databaseUrl?: string;
  logDir: string;
  name: string;
}

function readLog(file: string): Array<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line): Array<Record<string, unknown>> => {
    try {
      const parsed: unknown = JSON.parse(line);
      return parsed && typeof parsed === 'object' ? [parsed as Record<string, unknown>] : [];
    } catch {
      // Node's own report of an uncaught error: its message line, not the stack frames.
      return /Error\b|^node:/.test(line) && !/^\s+at /.test(line) ? [{ level: 60, msg: line.trim() }] : [];
    }
  });
}

export async function startAppUnderFault(cleanup: Cleanup, settings: AppSettings): Promise<AppUnderFault> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'ep-chaos-app-'));
  cleanup.add(`data dir ${dataDir}`, async () => rmSync(dataDir, { recursive: true, force: true }));
  const logFile = join(settings.logDir, `${settings.name}.log`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    WORKERS: String(settings.workers),
    LOG_LEVEL: 'info', // the primary reports worker deaths at info
    DATA_DIR: dataDir,
    SEED_SAMPLE_DATA: 'true',
    REDIS_URL: settings.redisUrl,
    // Its clients log in with a password alone, in one request, administrators too: nobody is
    // asked for a second factor here (production requires one of admin:write and super:*).
    MFA_REQUIRED_SCOPES: '',
    SECRET_KEY: randomBytes(32).toString('hex'),
    ...(settings.databaseUrl ? { DATABASE_URL: settings.databaseUrl } : {}),
  };
  const owned: Owned = await startProcess({
    name: settings.name,
    command: process.execPath,
    args: settings.entry.args,
    env,
    cwd: dataDir, // no developer's .env is read
    logFile,
    port,
    readyWithinMs: 90_000,
  });
  const pid = owned.child.pid!;
  let stopping = false;
  const app: AppUnderFault = {
    url: `http://127.0.0.1:${port}`,
    pid,
    logFile,
    workers: settings.workers,
    crash: undefined,
    workerPids: () => childPids(pid),
    listeningPids: () => readLog(logFile).flatMap((line) => (String(line.msg).startsWith('Server listening') ? [Number(line.pid)] : [])),
    workerDeathsLogged: () =>
      readLog(logFile)
        .filter((line) => line.msg === 'a worker stopped; starting another')
        .map(
          (line) =>
            `${line.signal ? String(line.signal) : `code ${String(line.code)}`} after ${(Number(line.livedMs) / 1000).toFixed(1)} s`,
        ),
    lastError() {
      const lines = readLog(logFile);
      // The primary giving up on its workers, else a process's last words, else its last error.
      const gaveUp = lines.filter((line) => /giving up/.test(String(line.msg)));
      const fatal = lines.filter((line) => Number(line.level) >= 60 || line.msg === 'shutting down after an error');
      const last = gaveUp.at(-1) ?? fatal.at(-1) ?? lines.filter((line) => Number(line.level) >= 50).at(-1);
      if (!last) return undefined;
      const err = last.err as { message?: string } | undefined;
      return `${String(last.msg ?? '')}${err?.message ? `: ${err.message}` : ''}`.slice(0, 160);
    },
    async stop() {
      stopping = true;
      await owned.stop();
    },
  };
  owned.child.once('exit', (code, signal) => {
    if (!stopping) app.crash = { at: Date.now(), code, signal };
  });
  cleanup.add(`app ${settings.name} (pid ${pid}) :${port}`, () => app.stop());
  if (settings.workers > 1) {
    // The port listens as soon as the first worker does; wait for all of them.
    const deadline = Date.now() + 30_000;
    while (app.workerPids().length < settings.workers && Date.now() < deadline) await sleep(100);
  }
  return app;
}
