/**
 * Failed and throttled logins in the audit trail, without letting anyone fill the table: a failed
 * login changes nothing, so nothing but the trail's own size limits how many an attacker may cause.
 *
 * The rule: within one clock hour (FAILED_LOGIN_WINDOW_SECONDS), the first
 * FAILED_LOGIN_ROWS_PER_WINDOW attempts of one kind are a row each; every later one adds 1 to the
 * `repeat_count` of one more row, the window's aggregate. So a kind of attempt costs at most
 * FAILED_LOGIN_ROWS_PER_WINDOW + 1 rows an hour, and the sum of `repeat_count` is exactly the
 * number of attempts. The kinds:
 * - a wrong password (outcome `failure`): per attempted name and client address;
 * - a refusal by the throttle (`throttled`): per client address, whatever the name, since a
 *   throttled client may try any name at no cost (the throttle has already stopped checking).
 * The throttle (auth/throttle.ts) bounds how many wrong passwords one address can try per window,
 * and so how many names it can spread failures over.
 *
 * Which row an attempt takes is settled by the unique `aggregate_key` (`<kind>:<hour>:<slot>`),
 * not by a count read first, so that racing attempts never take one slot twice: an insert that
 * meets a taken slot tries the next, and the aggregate is one upsert that adds 1 atomically.
 * Written outside any transaction (there is no change to share one with), one statement each.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { dialectOf, incrementOnDuplicateKey, isUniqueViolation } from '../database/dialects.js';
import type { Database } from '../database/schema.js';
import { auditRow, type AuditClient } from './events.js';

/** Rows of their own per kind and window before the rest are counted in the window's aggregate row. */
export const FAILED_LOGIN_ROWS_PER_WINDOW = 5;
/** One clock hour: windows start on the hour (UTC). */
export const FAILED_LOGIN_WINDOW_SECONDS = 3600;

export interface FailedLogin {
  outcome: 'failure' | 'throttled';
  /** The name the login was tried with (normalised as stored emails are). */
  name: string;
  client: AuditClient;
  /** The employee the name belongs to, when it is one. */
  targetEmpNo?: number;
  at?: Date;
}

/** Records one failed or throttled login by the rule above. */
export async function recordFailedLogin(db: Kysely<Database>, attempt: FailedLogin): Promise<void> {
  const at = attempt.at ?? new Date();
  const windowMs = FAILED_LOGIN_WINDOW_SECONDS * 1000;
  const windowStart = Math.floor(at.getTime() / windowMs) * windowMs;
  const kind = keyOf(attempt, windowStart);
  const slots = Array.from({ length: FAILED_LOGIN_ROWS_PER_WINDOW }, (_, i) => `${kind}:${i + 1}`);
  const event = {
    action: 'login' as const,
    outcome: attempt.outcome,
    actor: { kind: 'anonymous' as const, name: attempt.name },
    client: attempt.client,
    ...(attempt.targetEmpNo === undefined ? {} : { targetEmpNo: attempt.targetEmpNo }),
    at,
  };
  for (;;) {
    const taken = new Set(
      (await db.selectFrom('audit_events').select('aggregate_key').where('aggregate_key', 'in', slots).execute()).map(
        (row) => row.aggregate_key,
      ),
    );
    const free = slots.find((slot) => !taken.has(slot));
    if (free === undefined) break;
    try {
      await db
        .insertInto('audit_events')
        .values({ ...auditRow(event), aggregate_key: free })
        .execute();
      return;
    } catch (error) {
      // Another attempt took that slot between the read and the insert: look again.
      if (!isUniqueViolation(error)) throw error;
    }
  }
  const window = { from: new Date(windowStart).toISOString(), to: new Date(windowStart + windowMs).toISOString() };
  await db
    .insertInto('audit_events')
    .values({
      ...auditRow({ ...event, detail: { aggregated: { ...window, per: attempt.outcome === 'failure' ? 'name and address' : 'address' } } }),
      aggregate_key: `${kind}:n`,
    })
    .$call(incrementOnDuplicateKey(dialectOf(db), 'audit_events', 'aggregate_key', 'repeat_count'))
    .execute();
}

/** `<outcome>:<hour>:<hash of what the kind is per>`: short and fixed-length, and no name or address in a key. */
function keyOf(attempt: FailedLogin, windowStart: number): string {
  const per = attempt.outcome === 'failure' ? `${attempt.name}\u0000${attempt.client.address ?? ''}` : (attempt.client.address ?? '');
  const hash = createHash('sha256').update(per).digest('base64url').slice(0, 32);
  return `login.${attempt.outcome}:${windowStart / 1000}:${hash}`;
}
