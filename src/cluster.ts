/**
 * Several processes on one machine (WORKERS=N), with Node's own cluster module: the primary
 * prepares what all of them share (the generated secret, the migrated and seeded database), then
 * forks the workers, which all accept connections on the one port. Sessions live in the store, not
 * in a process, so any worker can serve any request.
 *
 * The primary restarts every worker that dies, for as long as it runs: a worker that dies soon
 * after its start is restarted after a growing delay (up to 30 s), never abandoned, since the
 * usual cause is a dependency that is away for a while, and nobody should have to start the
 * service again once it is back. On SIGTERM/SIGINT it passes the signal on and exits when every
 * worker has drained.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';

/** A worker that dies within this time of its start counts as a failed start. */
const EARLY_DEATH_MS = 10_000;
const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;

/** WORKERS=0 means one per core. */
export function workerCount(configured: number): number {
  return configured > 0 ? configured : availableParallelism();
}

/** The primary's log (a pino logger fits). */
export interface SupervisorLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface Supervision {
  /** Stops every worker (SIGTERM) and exits with `code` once they are gone. */
  stop(code: number): void;
}

/** How long to wait before starting a worker again after `earlyDeaths` failed starts in a row. */
export function restartDelayMs(earlyDeaths: number): number {
  return earlyDeaths === 0 ? 0 : Math.min(FIRST_RESTART_DELAY_MS * 2 ** (earlyDeaths - 1), MAX_RESTART_DELAY_MS);
}

/** In the primary: forks `count` workers and looks after them until a signal (or `stop`) ends it all. */
export function superviseWorkers(count: number, log: SupervisorLog): Supervision {
  let stopping = false;
  let exitCode = 0;
  let earlyDeaths = 0;
  const startedAt = new Map<Worker, number>();
  const pendingForks = new Set<NodeJS.Timeout>();
  const living = () => Object.keys(cluster.workers ?? {}).length;

  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
  };
  const exitWhenDrained = () => {
    if (living() > 0) return;
    log.info({ code: exitCode }, 'all workers have stopped');
    process.exit(exitCode);
  };

  cluster.on('exit', (worker, code, signal) => {
    const livedMs = Date.now() - (startedAt.get(worker) ?? 0);
    startedAt.delete(worker);
    if (stopping) return exitWhenDrained();
    earlyDeaths = livedMs < EARLY_DEATH_MS ? earlyDeaths + 1 : 0;
    const delayMs = restartDelayMs(earlyDeaths);
    log.warn(
      { pid: worker.process.pid, code, signal, livedMs, earlyDeaths, restartInMs: delayMs },
      earlyDeaths > 1
        ? `workers keep dying at start (${earlyDeaths} in a row); starting another later`
        : 'a worker stopped; starting another',
    );
    const timer = setTimeout(() => {
      pendingForks.delete(timer);
      if (!stopping) fork();
    }, delayMs);
    pendingForks.add(timer);
  });

  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const timer of pendingForks) clearTimeout(timer);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    exitWhenDrained();
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      log.info({ signal }, 'stopping the workers');
      stop(0);
    });
  }

  log.info({ workers: count }, `starting ${count} workers`);
  for (let i = 0; i < count; i++) fork();
  return { stop };
}

export const isPrimary = () => cluster.isPrimary;
