/**
 * Retention: events older than AUDIT_RETENTION_DAYS are deleted, in batches (trail.ts), by
 * `npm run admin -- audit prune` and by the app itself once an hour. One process prunes: the
 * cluster's primary, or the one process when there is no cluster (server.ts); workers never do, so
 * that N workers do not race each other over the same rows. A pruning that deleted anything is
 * itself an event (`audit.prune`), so that a gap in the trail always has its explanation.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../database/schema.js';
import { recordAuditEvent, type AuditContext } from './events.js';
import { deleteAuditEventsBefore } from './trail.js';

const DAY_MS = 86_400_000;
export const AUDIT_PRUNE_INTERVAL_MS = 3_600_000;
/** The first pruning after a start waits this long, so that it never competes with the start itself. */
export const AUDIT_PRUNE_FIRST_DELAY_MS = 60_000;

/** The app's own actor for what it does by itself. */
export const RETENTION_ACTOR: AuditContext = { actor: { kind: 'system', name: 'audit retention' } };

/**
 * Deletes the events older than `retentionDays` (0: keeps everything, deletes nothing) and records
 * the pruning when it deleted any. Returns how many were deleted.
 */
export async function pruneAuditTrail(
  db: Kysely<Database>,
  retentionDays: number,
  context: AuditContext,
  now: Date = new Date(),
): Promise<{ deleted: number; cutoff: Date | undefined }> {
  if (retentionDays === 0) return { deleted: 0, cutoff: undefined };
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  const deleted = await deleteAuditEventsBefore(db, cutoff);
  if (deleted > 0) {
    await recordAuditEvent(db, {
      action: 'audit.prune',
      outcome: 'success',
      ...context,
      detail: { deleted, before: cutoff.toISOString(), retention_days: retentionDays },
    });
  }
  return { deleted, cutoff };
}

export interface PruneLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface PruneSchedule {
  /** Stops the timer and waits for a pruning under way. */
  stop(): Promise<void>;
}

/** Runs `work` on a database: the app's own handle, or one the cluster primary opens for the turn and closes. */
export type WithDatabase = (work: (db: Kysely<Database>) => Promise<void>) => Promise<void>;

/**
 * Prunes now and then (first after `firstDelayMs`, then every `intervalMs`) until stopped. A
 * failure (the database away) is logged and tried again at the next turn. The timer does not keep
 * the process alive. `database` is a handle, or a function that lends one for each turn.
 */
export function scheduleAuditPruning(
  database: Kysely<Database> | WithDatabase,
  options: { retentionDays: number; log: PruneLog; intervalMs?: number; firstDelayMs?: number },
): PruneSchedule {
  const withDatabase: WithDatabase = typeof database === 'function' ? database : (work) => work(database);
  const { retentionDays, log, intervalMs = AUDIT_PRUNE_INTERVAL_MS, firstDelayMs = AUDIT_PRUNE_FIRST_DELAY_MS } = options;
  let stopped = retentionDays === 0;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const turn = () => {
    running = withDatabase(async (db) => {
      const { deleted, cutoff } = await pruneAuditTrail(db, retentionDays, RETENTION_ACTOR);
      if (deleted > 0) log.info({ deleted, before: cutoff?.toISOString() }, 'pruned old audit events');
    })
      .catch((error: unknown) => log.warn({ err: error }, 'could not prune the audit trail; trying again later'))
      .finally(() => {
        running = undefined;
        if (!stopped) schedule(intervalMs);
      });
  };
  const schedule = (delayMs: number) => {
    timer = setTimeout(turn, delayMs);
    timer.unref();
  };
  if (!stopped) schedule(firstDelayMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
