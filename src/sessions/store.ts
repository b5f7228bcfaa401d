/**
 * The one interface every session store implements (Redis and the embedded SQLite store).
 *
 * A store keeps opaque records under `<keyPrefix><id>` with an expiry. It knows nothing about
 * cookies, employees or HTTP; the session manager decides what goes in a record and when.
 * Any failure to reach the backing server is thrown as `SessionStoreUnavailableError`, which the
 * HTTP layer answers with 503: a store outage must never look like "no session" (fail closed)
 * nor like a crash (500).
 *
 * The login throttle's counters are another interface, `CounterStore` (counter-store.ts), which the
 * same two stores implement over the same connection: `SessionStoreBackend` is both.
 */
import type { CounterStore } from './counter-store.js';
import type { TouchRule } from './activity.js';
import type { OneTimeStore } from './one-time-store.js';

/**
 * A session halfway through a login: the password was right, a further step is still owed
 * (`verify`: a second factor; `enrol`: set one up first). What the steps mean is the auth room's;
 * to this room a pending session is one that carries no scopes, lives briefly, and is only ever
 * turned into a full session by `SessionManager.completePending`.
 */
export type PendingStep = 'verify' | 'enrol';

export interface SessionRecord {
  /** SHA-256 of the session secret (base64url). Only the hash is stored: a leaked store cannot be replayed as cookies. */
  secretHash: string;
  /** The logged-in employee. */
  empNo: number;
  /** What this session may do (OAuth2 scope names), fixed at login. Opaque strings to the store. */
  scopes: string[];
  /** A short label of the client that logged in ("Firefox on Linux"), shown when listing sessions. */
  client?: string;
  /** Epoch milliseconds when the session was created (the absolute timeout counts from here). */
  createdAt: number;
  /** Epoch milliseconds of the last recorded activity (the idle timeout counts from here). */
  lastSeenAt: number;
  /** Set while the login still owes a step (see PendingStep); such a record has no scopes. */
  pending?: PendingStep;
  /**
   * A pending session's owner generation as its login read it (SessionManager.beginCreate): the
   * full session is created with it, so an end-all at any time since the password was checked ends
   * the login too.
   */
  generation?: string;
}

export interface SessionStore {
  readonly kind: 'redis' | 'sqlite';
  /** The record, or undefined when absent or expired. */
  get(id: string): Promise<SessionRecord | undefined>;
  /**
   * Reads the record and, in the same step (one round trip, atomic), records activity on it when
   * `rule` says it is due (activity.ts `activityWrite`): lastSeenAt becomes `rule.now` and the
   * expiry is moved, every other stored byte kept. Returns the record as it then stands, or
   * undefined when absent or expired. Never writes to a record that is gone (no session comes back
   * after a logout), nor to one that lacks the rule's proof. A record whose value cannot be
   * rewritten in place (an earlier layout, record-codec.ts) is returned unchanged; the caller sees
   * that its activity is still due and rewrites it with `refresh`.
   */
  touch(id: string, rule: TouchRule): Promise<SessionRecord | undefined>;
  /**
   * Stores a new record and adds it to its owner's index; false (and nothing written) when the id
   * is already taken. `deadlineMs` (epoch ms) is the latest the session can ever live, its absolute
   * timeout: the index keeps the id until then however often the record is refreshed. It defaults to
   * the first expiry, for a record that is never refreshed beyond it.
   */
  create(id: string, record: SessionRecord, ttlSeconds: number, deadlineMs?: number): Promise<boolean>;
  /**
   * Rewrites an existing record and its expiry; false (and nothing written) when it no longer exists.
   * Conditional on purpose: a request in flight must never resurrect a session a logout has ended.
   */
  refresh(id: string, record: SessionRecord, ttlSeconds: number): Promise<boolean>;
  /** Deletes the record; true when there was one. */
  destroy(id: string): Promise<boolean>;
  /** Every live session of one owner (an employee number), oldest first. */
  listByOwner(empNo: number): Promise<Array<{ id: string; record: SessionRecord }>>;
  /**
   * Ends every session of one owner; returns how many were live. Only ids listed in the owner's
   * index are removed from it, one by one: an id a concurrent `create` adds meanwhile stays listed.
   */
  destroyByOwner(empNo: number): Promise<number>;
  /**
   * The owner's generation: an opaque value that changes at every `bumpGeneration` and never comes
   * back to an earlier value ('' before the first bump, or once it has been forgotten). The session
   * manager uses it to make ending all of an owner's sessions final against a create in flight.
   */
  generation(empNo: number): Promise<string>;
  /** Gives the owner a new generation, remembered for `ttlSeconds`. */
  bumpGeneration(empNo: number, ttlSeconds: number): Promise<void>;
  /** Resolves when the backing server answers; throws SessionStoreUnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What `openSessionStore` gives: one connection serving the sessions, the throttle's counters and the one-time values. */
export type SessionStoreBackend = SessionStore & CounterStore & OneTimeStore;

export class SessionStoreUnavailableError extends Error {
  readonly code = 'SESSION_STORE_UNAVAILABLE';
  readonly statusCode = 503;
  constructor(cause: unknown) {
    super('The session store is unavailable', { cause });
    this.name = 'SessionStoreUnavailableError';
  }
}
