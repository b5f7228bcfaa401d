/**
 * Several processes on one machine (WORKERS=N), with Node's own cluster module: the primary
 * prepares what all of them share (the generated secret, the migrated and seeded database), then
 * forks the workers, which all accept connections on the one port. Sessions live in the store, not
 * in a process, so any worker can serve any request.
 *
 * The primary restarts a worker that dies, unless workers keep dying at start (a bad deployment:
 * then it stops, rather than loop forever), and on SIGTERM/SIGINT passes the signal on and exits
 * when every worker has drained.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';

/** A worker that dies within this time of its start counts as a failed start. */
const EARLY_DEATH_MS = 10_000;
const MAX_EARLY_DEATHS = 5;

/** WORKERS=0 means one per core. */
export function workerCount(configured: number): number {
  return configured > 0 ? configured : availableParallelism();
}

export interface Supervisor {
  log: (message: string, fields?: Record<string, unknown>) => void;
}

/** In the primary: forks `count` workers and looks after them until a signal ends it all. */
export function superviseWorkers(count: number, { log }: Supervisor): void {
  let stopping = false;
  let earlyDeaths = 0;
  const startedAt = new Map<Worker, number>();

  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
  };

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? 0);
    startedAt.delete(worker);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log('all workers have stopped');
        process.exit(0);
      }
      return;
    }
    log('a worker stopped; starting another', { pid: worker.process.pid, code, signal, livedMs: lived });
    if (lived < EARLY_DEATH_MS && ++earlyDeaths >= MAX_EARLY_DEATHS) {
      log(`workers keep dying at start (${earlyDeaths} times): giving up`);
      process.exit(1);
    }
    fork();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log('stopping the workers', { signal });
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    });
  }

  log(`starting ${count} workers`, { workers: count });
  for (let i = 0; i < count; i++) fork();
}

export const isPrimary = () => cluster.isPrimary;
