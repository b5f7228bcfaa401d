/**
 * When a session counts as used and when its activity is written back: the session manager's
 * rules, shared with the stores so that a store can read a record, check it and record activity on
 * it in one step (`SessionStore.touch`: one Redis round trip per request, refreshes included).
 *
 * The Redis store runs the same decision in Lua (TOUCH_SCRIPT in redis-store.ts); the contract
 * tests (test/sessions/store.test.ts) hold both stores to it.
 */
import type { SessionRecord } from './store.js';

/** What `SessionStore.touch` checks, and when it writes. */
export interface TouchRule {
  /**
   * The record counts as used only when it holds this proof: the hash of the secret a cookie
   * presented, or the owner a signed bearer token names. Anything else reads without writing, so
   * that a wrong secret or someone else's session id never prolongs a session.
   */
  proof: { secretHash: string } | { owner: number };
  /** The manager's clock, epoch milliseconds (a whole number). */
  now: number;
  /** lastSeenAt is rewritten to `now` once it is at least this old. */
  refreshAfterMs: number;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  /**
   * A login halfway through (a record with `pending`) ends this long after it began, whatever its
   * activity, when that is sooner than the absolute timeout: its refreshes never keep it in the
   * store past that.
   */
  pendingTimeoutMs: number;
}

/** The session timeouts of a TouchRule, in milliseconds. */
export type Timeouts = Pick<TouchRule, 'idleTimeoutMs' | 'absoluteTimeoutMs' | 'pendingTimeoutMs'>;

/**
 * createdAt + the absolute timeout, or + the pending timeout for a login halfway through when that
 * is sooner, epoch ms: the deadline no activity moves.
 */
export function absoluteDeadline(record: Pick<SessionRecord, 'createdAt' | 'pending'>, timeouts: Timeouts): number {
  const absoluteMs = record.pending ? Math.min(timeouts.pendingTimeoutMs, timeouts.absoluteTimeoutMs) : timeouts.absoluteTimeoutMs;
  return record.createdAt + absoluteMs;
}

/** The earlier of the idle deadline (lastSeenAt + idle) and the absolute one, epoch ms. */
export function sessionDeadline(record: Pick<SessionRecord, 'createdAt' | 'lastSeenAt' | 'pending'>, timeouts: Timeouts): number {
  return Math.min(record.lastSeenAt + timeouts.idleTimeoutMs, absoluteDeadline(record, timeouts));
}

/**
 * The store forgets the record by the session's own deadline, rounded down to whole seconds but at
 * least 1 s because that is the smallest Redis EX; the manager's checks stay authoritative.
 */
export function storeTtlSeconds(deadlineMs: number, now: number): number {
  return Math.max(1, Math.floor((deadlineMs - now) / 1000));
}

/**
 * The store TTL (seconds) of the write `touch` is to make with lastSeenAt = rule.now, or undefined
 * when nothing is to be written: wrong proof, activity recorded recently enough, or already past its
 * deadline (the manager then ends it).
 */
export function activityWrite(record: SessionRecord, rule: TouchRule): number | undefined {
  // Only a gate for the write, so a plain comparison: the manager's constant-time one decides
  // whether the request is authenticated (and these are SHA-256 digests, not the secret).
  const proven = 'secretHash' in rule.proof ? record.secretHash === rule.proof.secretHash : record.empNo === rule.proof.owner;
  if (!proven || rule.now - record.lastSeenAt < rule.refreshAfterMs) return undefined;
  if (rule.now >= sessionDeadline(record, rule)) return undefined;
  return storeTtlSeconds(sessionDeadline({ ...record, lastSeenAt: rule.now }, rule), rule.now);
}
