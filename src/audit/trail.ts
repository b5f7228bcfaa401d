/**
 * The audit trail's read side: the events a filter selects, newest first a page at a time (the
 * page and `GET /api/audit`), a person's own recent activity (My sessions), every event of a time
 * range in batches (`npm run admin -- audit export`), and the deletion of old events in batches
 * (retention.ts). Events leave this module in one shape, `AuditEventJson`, wherever they go.
 */
import type { Kysely, Selectable } from 'kysely';
import type { AuditEventsTable, Database } from '../database/schema.js';
import { AppError } from '../errors.js';
import type { AuditAction, AuditOutcome } from './events.js';

export const DEFAULT_AUDIT_PAGE_SIZE = 50;
export const MAX_AUDIT_PAGE_SIZE = 200;
/** How many of a person's own events My sessions shows. */
export const RECENT_ACTIVITY_SIZE = 10;
/** Rows per statement when exporting or pruning: each is short, so neither holds the table for long. */
export const AUDIT_BATCH_SIZE = 1000;

export interface AuditEventJson {
  id: number;
  occurred_at: string;
  action: string;
  outcome: string;
  /** More than 1 only on a row that counts several failed logins (audit/failed-logins.ts). */
  repeat_count: number;
  actor: { kind: string; emp_no: number | null; name: string | null; session_id: string | null };
  client: { address: string | null; label: string | null };
  target_emp_no: number | null;
  detail: Record<string, unknown> | null;
}

export interface AuditFilter {
  /** Events by this employee. */
  actor?: number;
  /** Events by this operator, or logins tried with this name. */
  actorName?: string;
  /** Events on this employee. */
  target?: number;
  action?: AuditAction;
  outcome?: AuditOutcome;
  /** From this time on, inclusive (any ISO 8601 date-time). */
  since?: string;
  /** Before this time, exclusive. */
  until?: string;
}

export interface AuditPageRequest extends AuditFilter {
  /** `next_cursor` of the page before: where this one goes on. */
  cursor?: string;
  limit?: number;
}

export interface AuditPage {
  events: AuditEventJson[];
  /** Pass as `cursor` for the next (older) page; null on the last. */
  next_cursor: string | null;
}

type AuditRow = Omit<Selectable<AuditEventsTable>, 'aggregate_key'>;

export function auditEventJson(row: AuditRow): AuditEventJson {
  return {
    id: Number(row.id),
    occurred_at: row.occurred_at,
    action: row.action,
    outcome: row.outcome,
    repeat_count: Number(row.repeat_count),
    actor: { kind: row.actor_kind, emp_no: row.actor_emp_no, name: row.actor_name, session_id: row.session_id },
    client: { address: row.client_address, label: row.client_label },
    target_emp_no: row.target_emp_no,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, unknown>),
  };
}

const EVENT_COLUMNS = [
  'id',
  'occurred_at',
  'action',
  'outcome',
  'repeat_count',
  'actor_kind',
  'actor_emp_no',
  'actor_name',
  'session_id',
  'client_address',
  'client_label',
  'target_emp_no',
  'detail',
] as const;

/** The cursor is the last id shown, wrapped so that clients treat it as a token and not a number to compute with. */
function encodeCursor(id: number): string {
  return Buffer.from(`a1:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^a1:(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString());
  const id = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(id))
    throw new AppError(400, 'INVALID_CURSOR', 'cursor is not one this API gave out: pass next_cursor as it came');
  return id;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * A time as the filters take it: an ISO 8601 date (`2026-11-29`, midnight UTC) or date-time, with
 * or without seconds and offset (`2026-11-29T14:00`, read as UTC, not as the server's zone).
 * Undefined when it is not one.
 */
export function parseAuditTime(text: string): Date | undefined {
  if (!ISO_TIME.test(text)) return undefined;
  const zoned = text.length > 10 && !/(Z|[+-]\d{2}:\d{2})$/.test(text) ? `${text}Z` : text;
  const time = new Date(zoned);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

export const AUDIT_TIME_RULE =
  'must be an ISO 8601 date or date-time, e.g. 2026-11-29 or 2026-11-29T14:00:00Z (UTC unless an offset is given)';

/** A filter's time as stored (UTC, milliseconds), so that text comparison is time comparison on every engine. */
export function storedTime(text: string): string {
  const time = parseAuditTime(text);
  if (!time) throw new AppError(422, 'VALIDATION_FAILED', `Invalid time ${text}: ${AUDIT_TIME_RULE}`);
  return time.toISOString();
}

/** The events `request` selects, newest first, `limit` at a time. */
export async function listAuditEvents(db: Kysely<Database>, request: AuditPageRequest): Promise<AuditPage> {
  const limit = request.limit ?? DEFAULT_AUDIT_PAGE_SIZE;
  const before = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
  const rows = await db
    .selectFrom('audit_events')
    .select(EVENT_COLUMNS)
    .$if(request.actor !== undefined, (query) => query.where('actor_emp_no', '=', request.actor!))
    .$if(request.actorName !== undefined, (query) => query.where('actor_name', '=', request.actorName!))
    .$if(request.target !== undefined, (query) => query.where('target_emp_no', '=', request.target!))
    .$if(request.action !== undefined, (query) => query.where('action', '=', request.action!))
    .$if(request.outcome !== undefined, (query) => query.where('outcome', '=', request.outcome!))
    .$if(request.since !== undefined, (query) => query.where('occurred_at', '>=', storedTime(request.since!)))
    .$if(request.until !== undefined, (query) => query.where('occurred_at', '<', storedTime(request.until!)))
    .$if(before !== undefined, (query) => query.where('id', '<', before!))
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const events = rows.slice(0, limit).map(auditEventJson);
  return { events, next_cursor: rows.length > limit ? encodeCursor(events[events.length - 1]!.id) : null };
}

/**
 * The person's own account's latest events: what they did and what was done to it (a failed login
 * tried with their name included). Two indexed reads merged, rather than one OR that no index serves.
 */
export async function recentActivity(db: Kysely<Database>, empNo: number, size = RECENT_ACTIVITY_SIZE): Promise<AuditEventJson[]> {
  const latest = (column: 'actor_emp_no' | 'target_emp_no') =>
    db.selectFrom('audit_events').select(EVENT_COLUMNS).where(column, '=', empNo).orderBy('id', 'desc').limit(size).execute();
  const byId = new Map<number, AuditRow>();
  for (const row of [...(await latest('actor_emp_no')), ...(await latest('target_emp_no'))]) byId.set(Number(row.id), row);
  return [...byId.values()]
    .sort((a, b) => Number(b.id) - Number(a.id))
    .slice(0, size)
    .map(auditEventJson);
}

/**
 * Every event from `since` (inclusive) to `until` (exclusive), oldest first, `batchSize` rows per
 * query: an export of a year holds one batch in memory, not the year.
 */
export async function* auditEventBatches(
  db: Kysely<Database>,
  range: { since: string; until?: string },
  batchSize = AUDIT_BATCH_SIZE,
): AsyncGenerator<AuditEventJson[]> {
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('audit_events')
      .select(EVENT_COLUMNS)
      .where('occurred_at', '>=', storedTime(range.since))
      .$if(range.until !== undefined, (query) => query.where('occurred_at', '<', storedTime(range.until!)))
      .where('id', '>', after)
      .orderBy('id', 'asc')
      .limit(batchSize)
      .execute();
    if (rows.length > 0) yield rows.map(auditEventJson);
    if (rows.length < batchSize) return;
    after = Number(rows[rows.length - 1]!.id);
  }
}

/**
 * Deletes every event that happened before `cutoff`, `batchSize` rows per statement (a select of
 * ids, then a delete of those: MySQL takes no LIMIT in an IN subquery), so that no statement
 * locks the table for long. Returns how many were deleted.
 */
export async function deleteAuditEventsBefore(db: Kysely<Database>, cutoff: Date, batchSize = AUDIT_BATCH_SIZE): Promise<number> {
  const before = cutoff.toISOString();
  let deleted = 0;
  for (;;) {
    const ids = (
      await db.selectFrom('audit_events').select('id').where('occurred_at', '<', before).orderBy('id').limit(batchSize).execute()
    ).map((row) => row.id);
    if (ids.length === 0) return deleted;
    const result = await db.deleteFrom('audit_events').where('id', 'in', ids).executeTakeFirst();
    deleted += Number(result.numDeletedRows);
    if (ids.length < batchSize) return deleted;
  }
}
