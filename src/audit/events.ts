/**
 * The audit trail's write side: who did what, to whom, from where, with what outcome. Services
 * call `recordAuditEvent` with the same Kysely handle (usually the transaction) as the change it
 * records, so that a change and its event commit or roll back together: no change without its
 * event, no event for a change that was undone. Events are appended, never edited.
 *
 * Never put a password, a hash, a session secret, a TOTP secret or a recovery code into `detail`:
 * `recordAuditEvent` refuses the keys that would hold one.
 */
import type { Insertable, Kysely } from 'kysely';
import type { AuditEventsTable, Database } from '../database/schema.js';

/** Every action the trail records; the names are the API's too (GET /api/audit?action=...). */
export const AUDIT_ACTIONS = [
  'login',
  'logout',
  'session.end',
  'sessions.end_all',
  'password.change',
  'account.disable',
  'account.enable',
  'scopes.change',
  'employee.create',
  'employee.update',
  'mfa.enrol',
  'mfa.remove',
  'mfa.reset',
  'mfa.verify',
  'audit.prune',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** `success`; `failure` (wrong password or code); `refused` (not allowed); `throttled` (too many tries). */
export const AUDIT_OUTCOMES = ['success', 'failure', 'refused', 'throttled'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * Who acted: an employee through a session, an operator at the admin command line, someone not yet
 * known (a login, by the name tried), or the app itself (`system`: the retention pruner).
 */
export type AuditActor =
  | { kind: 'employee'; empNo: number; sessionId?: string }
  | { kind: 'operator'; name: string }
  | { kind: 'anonymous'; name?: string }
  | { kind: 'system'; name: string };

export const AUDIT_ACTOR_KINDS = ['employee', 'operator', 'anonymous', 'system'] as const;

/** Where the request came from (an operator's command line has none). */
export interface AuditClient {
  address?: string;
  label?: string;
}

/**
 * Who is acting and from where, as the caller knows it: the routes hand it down from the request's
 * principal and client, the command line from the operator. A value, so that no service needs HTTP.
 */
export interface AuditContext {
  actor: AuditActor;
  client?: AuditClient;
}

/** The actor of a request made through an employee's session (or a bearer token naming one). */
export function employeeActor(person: { empNo: number; sessionId?: string }): AuditActor {
  return person.sessionId === undefined
    ? { kind: 'employee', empNo: person.empNo }
    : { kind: 'employee', empNo: person.empNo, sessionId: person.sessionId };
}

export interface AuditEventInput {
  action: AuditAction;
  outcome: AuditOutcome;
  actor: AuditActor;
  client?: AuditClient;
  targetEmpNo?: number;
  /** Particulars, as JSON: `{ before, after }` for record changes, `{ scopes }`, `{ method }`, ... */
  detail?: Record<string, unknown>;
  /** The time it happened; now when not given (tests pin it). */
  at?: Date;
}

const SECRET_KEYS = /pass(word)?|hash|secret|token|code|totp/i;

/** Throws when `detail` holds a key that could carry a secret, at any depth: a programming error, caught by tests. */
function assertNoSecrets(value: unknown, path = 'detail'): void {
  if (typeof value !== 'object' || value === null) return;
  for (const [key, inner] of Object.entries(value)) {
    if (SECRET_KEYS.test(key)) throw new Error(`${path}.${key} looks like a secret; the audit trail never stores one`);
    assertNoSecrets(inner, `${path}.${key}`);
  }
}

/** `value` cut to `length` characters (the column's width), or null. */
function clip(value: string | undefined, length: number): string | null {
  return value === undefined ? null : value.slice(0, length);
}

/**
 * Appends one event through `db`: pass the transaction of the change it records, so both commit
 * or neither does.
 */
export async function recordAuditEvent(db: Kysely<Database>, event: AuditEventInput): Promise<void> {
  await db.insertInto('audit_events').values(auditRow(event)).execute();
}

/** The row of an event (the secret check included): `recordAuditEvent`'s, and the failed-login writer's. */
export function auditRow(event: AuditEventInput): Insertable<AuditEventsTable> {
  if (event.detail) assertNoSecrets(event.detail);
  const { actor } = event;
  return {
    occurred_at: (event.at ?? new Date()).toISOString(),
    action: event.action,
    outcome: event.outcome,
    actor_kind: actor.kind,
    actor_emp_no: actor.kind === 'employee' ? actor.empNo : null,
    actor_name: actor.kind === 'employee' ? null : clip(actor.name, 254),
    session_id: actor.kind === 'employee' ? clip(actor.sessionId, 32) : null,
    client_address: clip(event.client?.address, 64),
    client_label: clip(event.client?.label, 200),
    target_emp_no: event.targetEmpNo ?? null,
    detail: event.detail ? JSON.stringify(event.detail) : null,
  };
}
