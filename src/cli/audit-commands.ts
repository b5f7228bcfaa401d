/**
 * `audit export|prune`: the audit trail out as JSON lines (one event per line, in the API's shape,
 * oldest first, read a batch at a time so that a year of events never sits in memory), and the
 * deletion of the events older than AUDIT_RETENTION_DAYS (which the server also does hourly).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { auditEventBatches, parseAuditTime } from '../audit/trail.js';
import { pruneAuditTrail } from '../audit/retention.js';
import { PRIVATE_FILE_MODE } from '../private-files.js';
import { count, EXIT, operatorContext, required, type AdminIo } from './io.js';

export type AuditCommand = { kind: 'audit'; verb: 'export'; since: Date; until?: Date; output?: string } | { kind: 'audit'; verb: 'prune' };

const DURATION = /^(\d{1,6})([mhdw])$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export const AUDIT_TIME_HELP =
  'an ISO 8601 date or date-time (UTC unless an offset is given), or a duration back from now: 30m, 12h, 7d, 4w';

/** `--since`/`--until`: an ISO date or date-time, or a duration before `now` (`7d`); undefined when neither. */
export function parseAuditBound(text: string, now: Date): Date | undefined {
  const duration = DURATION.exec(text.trim());
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]!]!);
  return parseAuditTime(text.trim());
}

export async function runAuditCommand(command: AuditCommand, io: AdminIo): Promise<number> {
  return command.verb === 'export' ? exportEvents(command, io) : prune(io);
}

async function exportEvents(command: Extract<AuditCommand, { verb: 'export' }>, io: AdminIo): Promise<number> {
  const db = required(io, 'db');
  // The trail names people and addresses: a file of it is private to its owner, like the database's own.
  const file = command.output === undefined ? undefined : createWriteStream(command.output, { mode: PRIVATE_FILE_MODE });
  let exported = 0;
  try {
    if (file) await once(file, 'open');
    const range = { since: command.since.toISOString(), ...(command.until ? { until: command.until.toISOString() } : {}) };
    for await (const batch of auditEventBatches(db, range)) {
      const lines = batch.map((event) => `${JSON.stringify(event)}\n`).join('');
      if (file) await writeWaiting(file, lines);
      else io.stdout.write(lines);
      exported += batch.length;
    }
  } finally {
    if (file) await new Promise((resolve) => file.end(resolve));
  }
  // With --output, stdout says what was done; without, stdout is the data and the summary goes to stderr.
  const summary = `Exported ${count(exported, 'audit event')}${command.output === undefined ? '' : ` to ${command.output}`}.\n`;
  (file ? io.stdout : io.stderr).write(summary);
  return EXIT.OK;
}

/** Writes and, when the stream's buffer is full, waits for it to drain: memory stays at one batch. */
async function writeWaiting(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function prune(io: AdminIo): Promise<number> {
  const days = required(io, 'config').AUDIT_RETENTION_DAYS;
  if (days === 0) {
    io.stdout.write('AUDIT_RETENTION_DAYS is 0: the audit trail is kept forever; nothing was deleted.\n');
    return EXIT.OK;
  }
  const { deleted, cutoff } = await pruneAuditTrail(required(io, 'db'), days, operatorContext(io));
  io.stdout.write(`Deleted ${count(deleted, 'audit event')} from before ${cutoff!.toISOString()} (AUDIT_RETENTION_DAYS=${days}).\n`);
  return EXIT.OK;
}
