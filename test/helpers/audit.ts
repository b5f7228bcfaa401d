/**
 * Reading the audit trail in tests: the events recorded since a point, as whole rows minus the two
 * columns a test cannot know (the id and the time), with `detail` parsed.
 */
import type { Kysely, Selectable } from 'kysely';
import type { AuditEventsTable, Database } from '../../src/database/schema.js';

/** A row as a test sees it: without the id and time it cannot know, and the slot key of failed logins; `detail` parsed. */
export type AuditRowSeen = Omit<Selectable<AuditEventsTable>, 'id' | 'occurred_at' | 'aggregate_key' | 'detail'> & { detail: unknown };

/** The id of the latest event, 0 when there is none: what `eventsAfter` counts from. */
export async function lastAuditId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** Every event after `afterId`, oldest first, without id and time. */
export async function eventsAfter(db: Kysely<Database>, afterId: number): Promise<AuditRowSeen[]> {
  const rows = await db.selectFrom('audit_events').selectAll().where('id', '>', afterId).orderBy('id').execute();
  return rows.map(({ id: _id, occurred_at: _at, aggregate_key: _key, detail, repeat_count, ...row }) => ({
    ...row,
    repeat_count: Number(repeat_count),
    detail: detail === null ? null : (JSON.parse(detail) as unknown),
  }));
}

/** The row of an action by an employee through a session, from a test client (`curl` at 127.0.0.1), as expected. */
export function byEmployee(
  empNo: number,
  sessionId: string,
  event: { action: string; target_emp_no: number | null; detail?: unknown; outcome?: string },
): AuditRowSeen {
  return {
    action: event.action,
    outcome: event.outcome ?? 'success',
    actor_kind: 'employee',
    actor_emp_no: empNo,
    actor_name: null,
    session_id: sessionId,
    client_address: '127.0.0.1',
    client_label: 'curl',
    target_emp_no: event.target_emp_no,
    repeat_count: 1,
    detail: event.detail ?? null,
  };
}
