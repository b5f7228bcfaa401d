/**
 * What a session is and how long it lives; the stores only keep the records.
 *
 * After lucia-auth's `auth_session.ts`:
 * - the cookie carries `<id>.<secret>`; the store keeps only SHA-256(secret), so a leaked store
 *   (backup, replica, `MONITOR`) cannot be replayed as cookies (OWASP ASVS 3.x, lucia);
 * - the secret is compared in constant time, so response timing does not reveal how much of a
 *   guessed secret matched;
 * - every sign-in gets a brand-new id, never a reused or client-supplied one (session fixation,
 *   OWASP ASVS 3.2.1);
 * - an idle and an absolute timeout, both enforced here from the record's own timestamps, not
 *   only by the store's TTL (OWASP ASVS 3.3);
 * - ending all of an owner's sessions is final, even against a session being created at that moment
 *   (see `endAllForEmployee` and `beginCreate`).
 *
 * This module knows nothing about HTTP or employees beyond the employee number it is given.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PendingStep, SessionRecord, SessionStore } from './store.js';
import { absoluteDeadline, sessionDeadline, storeTtlSeconds, type Timeouts, type TouchRule } from './activity.js';

/** 16 random bytes → 22 base64url characters: 128 bits, above ASVS 3.2.2's 64-bit minimum. */
const SESSION_ID_BYTES = 16;
const SESSION_SECRET_BYTES = 16;
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
export const SESSION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/;
/** Activity is written back at most this often, so that busy sessions do not cost a write per request. */
const LAST_SEEN_MAX_STALENESS_SECONDS = 60;
/** Keeps a record small: under 256 bytes a session in Redis (docs/PERFORMANCE.md, targets). */
const MAX_CLIENT_LABEL_LENGTH = 40;
/** A fresh 128-bit id colliding is astronomically unlikely; repeated collisions mean a broken RNG or store. */
const CREATE_MAX_ATTEMPTS = 3;
/**
 * How long the store remembers an owner's generation after ending all their sessions. It only has
 * to outlast a create in flight (tickets older than CREATE_TICKET_MAX_AGE_MS are refused), so a day
 * is ample, and an owner who is never ended costs no key at all.
 */
const GENERATION_TTL_SECONDS = 86_400;
/** A create confirmed this long after its ticket was read is refused: the generation may have been forgotten meanwhile. */
const CREATE_TICKET_MAX_AGE_MS = 10 * 60_000;
/**
 * A login halfway through (a pending session) ends this long after the password was checked,
 * however it is used: long enough to open an authenticator app or find a recovery code, short
 * enough that a password alone holds nothing for long. Under CREATE_TICKET_MAX_AGE_MS, because
 * completing it reuses the login's ticket.
 */
export const PENDING_SESSION_TIMEOUT_SECONDS = 300;

/**
 * The owner's generation as it was before the caller checked that the owner may have a session
 * (for a login: the account's password and status). From `beginCreate`, for `create`.
 */
export interface CreateTicket {
  readonly empNo: number;
  readonly generation: string;
  /** The manager's clock when the generation was read. */
  readonly readAt: number;
}

/** All of the owner's sessions were ended while this one was being created; it has been undone. */
export class SessionsEndedError extends Error {
  readonly code = 'SESSIONS_ENDED';
  constructor(readonly empNo: number) {
    super(`The sessions of ${empNo} were ended while a session was being created for them`);
    this.name = 'SessionsEndedError';
  }
}

export interface Session {
  id: string;
  empNo: number;
  scopes: string[];
  client?: string;
  createdAt: Date;
  lastSeenAt: Date;
  /** The earlier of the idle deadline (lastSeenAt + idle) and the absolute one (createdAt + absolute). */
  expiresAt: Date;
  /** Set on a login halfway through (no scopes; see PendingStep). */
  pending?: PendingStep;
}

export interface SessionManagerOptions {
  /** A session unused for this long ends. */
  idleTimeoutSeconds: number;
  /** A session ends this long after sign-in, however active. */
  absoluteTimeoutSeconds: number;
  /** Epoch milliseconds; injectable so that tests can move the clock instead of sleeping. */
  now?: () => number;
}

/**
 * Splits a cookie value into id and secret, or null when it does not have the exact shape.
 * Checking the shape first keeps junk (empty, oversized, non-ASCII) away from the store.
 */
export function parseSessionToken(token: string | undefined | null): { id: string; secret: string } | null {
  if (typeof token !== 'string' || !SESSION_TOKEN_PATTERN.test(token)) return null;
  const [id, secret] = token.split('.') as [string, string];
  return { id, secret };
}

export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && SESSION_ID_PATTERN.test(id);
}

function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** `crypto.hash`, the one-shot form: 1.0 µs against createHash's 1.6 µs, on every cookie request. */
function hashSecret(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

function hashMatches(actual: Buffer, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'base64url');
  // timingSafeEqual throws on a length mismatch; a malformed stored hash simply never matches.
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function assertPositiveInteger(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`SessionManager option ${name} must be a positive integer, got ${String(value)}`);
  }
}

export class SessionManager {
  readonly idleTimeoutSeconds: number;
  readonly absoluteTimeoutSeconds: number;
  /** The same timeouts in milliseconds, as the stores' touch rule takes them (activity.ts). */
  private readonly timeouts: Timeouts;
  private readonly now: () => number;

  constructor(
    private readonly store: SessionStore,
    options: SessionManagerOptions,
  ) {
    assertPositiveInteger('idleTimeoutSeconds', options.idleTimeoutSeconds);
    assertPositiveInteger('absoluteTimeoutSeconds', options.absoluteTimeoutSeconds);
    if (options.idleTimeoutSeconds > options.absoluteTimeoutSeconds) {
      throw new RangeError(
        `SessionManager option idleTimeoutSeconds (${options.idleTimeoutSeconds}) must not exceed ` +
          `absoluteTimeoutSeconds (${options.absoluteTimeoutSeconds})`,
      );
    }
    this.idleTimeoutSeconds = options.idleTimeoutSeconds;
    this.absoluteTimeoutSeconds = options.absoluteTimeoutSeconds;
    this.timeouts = {
      idleTimeoutMs: options.idleTimeoutSeconds * 1000,
      absoluteTimeoutMs: options.absoluteTimeoutSeconds * 1000,
      pendingTimeoutMs: PENDING_SESSION_TIMEOUT_SECONDS * 1000,
    };
    this.now = options.now ?? Date.now;
  }

  /**
   * Step one of a create that must not outlive an end-all in progress (a login). Read this BEFORE
   * reading whatever decides that the owner may have a session, and pass it to `create`.
   *
   * Why this order is enough: `endAllForEmployee` first changes the generation, then lists and ends
   * the owner's sessions; `create` first stores and indexes the session, then reads the generation
   * again. If that second read still sees the ticket's value, the change came after it, so the
   * ender's listing, later still, finds the new session and ends it. If it sees another value, the
   * create undoes itself. And whatever the ender changed before its bump (a disabled flag, a new
   * password) is seen by the caller's check, which comes after the ticket. Each step is one ordinary
   * read or write of one key, so this holds on Redis Cluster, where no transaction spans the keys.
   */
  async beginCreate(empNo: number): Promise<CreateTicket> {
    return { empNo, generation: await this.store.generation(empNo), readAt: this.now() };
  }

  /**
   * Starts a new session; the token is what the client presents (cookie value). With a ticket from
   * `beginCreate`, throws SessionsEndedError (and leaves nothing behind) when the owner's sessions
   * were ended since the ticket was read.
   */
  async create(
    empNo: number,
    scopes: readonly string[] = [],
    client?: string,
    ticket?: CreateTicket,
  ): Promise<{ token: string; id: string; session: Session }> {
    return this.insert(empNo, scopes, client, ticket);
  }

  /**
   * Starts a login's pending session (no scopes, PENDING_SESSION_TIMEOUT_SECONDS at most), which
   * keeps the ticket's generation: `completePending` creates the full session with it, so ending
   * the owner's sessions at any moment after the ticket was read ends this login too.
   */
  async createPending(
    empNo: number,
    step: PendingStep,
    client: string | undefined,
    ticket: CreateTicket,
  ): Promise<{ token: string; id: string; session: Session }> {
    return this.insert(empNo, [], client, ticket, step);
  }

  /**
   * Ends the pending session `id` and creates its full session (a new id and secret: ASVS 3.2.1,
   * as at any sign-in) with `scopes`. Null when `id` names no live pending session of `owner`;
   * of two calls racing for one pending session, exactly one gets its full session (the one whose
   * delete removed the record). Throws SessionsEndedError when the owner's sessions were ended
   * since the login read its ticket.
   */
  async completePending(
    id: string,
    owner: number,
    scopes: readonly string[],
  ): Promise<{ token: string; id: string; session: Session } | null> {
    if (!isSessionId(id)) return null;
    const record = await this.store.get(id);
    if (!record?.pending || record.generation === undefined || record.empNo !== owner || this.now() >= this.expiresAt(record)) {
      return null;
    }
    if (!(await this.store.destroy(id))) return null;
    const ticket: CreateTicket = { empNo: owner, generation: record.generation, readAt: record.createdAt };
    return this.insert(owner, scopes, record.client, ticket);
  }

  private async insert(
    empNo: number,
    scopes: readonly string[],
    client: string | undefined,
    ticket: CreateTicket | undefined,
    pending?: PendingStep,
  ): Promise<{ token: string; id: string; session: Session }> {
    // The codec reads back only safe integers; refuse here rather than write a record that reads as absent.
    if (!Number.isSafeInteger(empNo)) throw new TypeError(`empNo must be an integer, got ${String(empNo)}`);
    if (ticket && ticket.empNo !== empNo) throw new TypeError(`The ticket is for ${ticket.empNo}, not ${empNo}`);
    const now = this.now();
    const secret = randomToken(SESSION_SECRET_BYTES);
    const record: SessionRecord = {
      secretHash: hashSecret(secret).toString('base64url'),
      empNo,
      scopes: [...scopes],
      ...(client ? { client: client.slice(0, MAX_CLIENT_LABEL_LENGTH) } : {}),
      createdAt: now,
      lastSeenAt: now,
      ...(pending && ticket ? { pending, generation: ticket.generation } : {}),
    };
    const deadlineMs = absoluteDeadline(record, this.timeouts);
    for (let attempt = 1; attempt <= CREATE_MAX_ATTEMPTS; attempt++) {
      const id = randomToken(SESSION_ID_BYTES);
      if (await this.store.create(id, record, this.ttlSeconds(record, now), deadlineMs)) {
        if (ticket) await this.confirmTicket(id, ticket);
        return { token: `${id}.${secret}`, id, session: this.toSession(id, record) };
      }
    }
    throw new Error(`Could not allocate a free session id in ${CREATE_MAX_ATTEMPTS} attempts`);
  }

  /**
   * The second read of the generation (see `beginCreate`); undoes the new session unless it still
   * matches. Should the store fail here, the session is undone as far as the store allows and the
   * error thrown: its secret never leaves this process, so a record left behind cannot be used.
   */
  private async confirmTicket(id: string, ticket: CreateTicket): Promise<void> {
    let current: string;
    try {
      current = await this.store.generation(ticket.empNo);
    } catch (error) {
      await this.store.destroy(id).catch(() => undefined);
      throw error;
    }
    if (current === ticket.generation && this.now() - ticket.readAt <= CREATE_TICKET_MAX_AGE_MS) return;
    await this.store.destroy(id);
    throw new SessionsEndedError(ticket.empNo);
  }

  /**
   * The live session the token names, or null (malformed, unknown, wrong secret, expired, ended).
   * One store call: the store records the activity too when it is due (`SessionStore.touch`), but
   * only for the right secret; the constant-time comparison here is what decides.
   */
  async validateToken(token: string | undefined): Promise<Session | null> {
    const parsed = parseSessionToken(token);
    if (!parsed) return null;
    const hash = hashSecret(parsed.secret);
    const now = this.now();
    const record = await this.store.touch(parsed.id, this.touchRule({ secretHash: hash.toString('base64url') }, now));
    if (!record || !hashMatches(hash, record.secretHash)) return null;
    return this.keepAlive(parsed.id, record, now);
  }

  /**
   * The live session with this id, held by `owner`, or null. No secret is checked: only for callers
   * that already hold proof the id was issued to the client, such as the `sid` claim of a JWT we
   * signed. The owner is checked before the session counts as used, so that naming someone else's
   * session never prolongs it.
   */
  async validateId(id: string, owner: number): Promise<Session | null> {
    if (!isSessionId(id)) return null;
    const now = this.now();
    const record = await this.store.touch(id, this.touchRule({ owner }, now));
    // No token is ever issued for a pending session; should one name it, it is not honoured.
    if (!record || record.empNo !== owner || record.pending) return null;
    return this.keepAlive(id, record, now);
  }

  /**
   * Every live session of one employee, oldest first. A login halfway through is not listed: it is
   * not a session anyone can use yet, it ends within minutes, and an end-all ends it all the same.
   */
  async listForEmployee(empNo: number): Promise<Session[]> {
    const now = this.now();
    return (await this.store.listByOwner(empNo))
      .filter(({ record }) => !record.pending && now < this.expiresAt(record))
      .map(({ id, record }) => this.toSession(id, record));
  }

  /**
   * Ends every session of one employee (and with them their tokens); returns how many. Final: a
   * create in flight with a ticket read before this call either is ended here or undoes itself
   * (see `beginCreate`). The generation changes first, so a store failure after it can only make
   * such a create fail, never let one through.
   */
  async endAllForEmployee(empNo: number): Promise<number> {
    await this.store.bumpGeneration(empNo, GENERATION_TTL_SECONDS);
    return this.store.destroyByOwner(empNo);
  }

  /** Ends the session; true when there was one. */
  async destroy(id: string): Promise<boolean> {
    if (!isSessionId(id)) return false;
    return this.store.destroy(id);
  }

  /**
   * Ends the session if it is live and held by `owner`; true when it did. Looks without counting
   * as activity: naming someone else's session must neither end nor prolong it.
   */
  async destroyOwned(id: string, owner: number): Promise<boolean> {
    if (!isSessionId(id)) return false;
    const record = await this.store.get(id);
    if (!record || record.empNo !== owner || this.now() >= this.expiresAt(record)) return false;
    return this.store.destroy(id);
  }

  private touchRule(proof: TouchRule['proof'], now: number): TouchRule {
    return {
      proof,
      now,
      refreshAfterMs: this.refreshIntervalMs(),
      ...this.timeouts,
    };
  }

  /**
   * Enforces both timeouts on a record `touch` returned. Its activity is recorded already when it
   * was due, unless the store could not rewrite it in place (a record of an earlier layout): then
   * it is rewritten whole here, once, in the current layout.
   */
  private async keepAlive(id: string, record: SessionRecord, now: number): Promise<Session | null> {
    if (now >= this.expiresAt(record)) {
      // The store's TTL normally removes such a record first; this covers clock skew and the
      // SQLite sweep's lag. The answer is "no session" either way, so a failed clean-up is moot.
      await this.store.destroy(id).catch(() => undefined);
      return null;
    }
    if (now - record.lastSeenAt < this.refreshIntervalMs()) {
      return this.toSession(id, record);
    }
    const refreshed: SessionRecord = { ...record, lastSeenAt: now };
    // Conditional write: if a logout removed the record since we read it, the session stays ended.
    if (!(await this.store.refresh(id, refreshed, this.ttlSeconds(refreshed, now)))) return null;
    return this.toSession(id, refreshed);
  }

  /** min(60 s, idle / 10): frequent enough that the idle timeout is honoured within 10%. */
  private refreshIntervalMs(): number {
    return Math.min(LAST_SEEN_MAX_STALENESS_SECONDS * 1000, (this.idleTimeoutSeconds * 1000) / 10);
  }

  /** The same rule the stores apply when they record activity (activity.ts `sessionDeadline`). */
  private expiresAt(record: SessionRecord): number {
    return sessionDeadline(record, this.timeouts);
  }

  /** The store forgets the record by the session's own deadline (activity.ts `storeTtlSeconds`). */
  private ttlSeconds(record: SessionRecord, now: number): number {
    return storeTtlSeconds(this.expiresAt(record), now);
  }

  private toSession(id: string, record: SessionRecord): Session {
    return {
      id,
      empNo: record.empNo,
      scopes: record.scopes,
      ...(record.client ? { client: record.client } : {}),
      createdAt: new Date(record.createdAt),
      lastSeenAt: new Date(record.lastSeenAt),
      expiresAt: new Date(this.expiresAt(record)),
      ...(record.pending ? { pending: record.pending } : {}),
    };
  }
}
