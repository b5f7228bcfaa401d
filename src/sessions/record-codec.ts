/**
 * What every session store shares: the key prefix default, the TTL rule, and the one serialization
 * of a record, so that Redis and SQLite hold byte-for-byte the same value.
 *
 * Keys are single letters because a session is to stay under 256 bytes in Redis, key and value
 * (docs/PERFORMANCE.md, targets); a record encodes to about 98 bytes this way instead of about
 * 128 with the long names:
 *
 *   s → lastSeenAt   (epoch ms; "s" for "seen")
 *   h → secretHash   (SHA-256 of the secret, base64url, 43 chars)
 *   e → empNo
 *   c → createdAt    (epoch ms)
 *   g → scopes       (granted at login; omitted when empty)
 *   u → client       (a short user-agent label; omitted when unknown)
 *   p → pending      ('verify' | 'enrol' while a login still owes a step; omitted otherwise)
 *   t → generation   (a pending session's owner generation at login; omitted otherwise)
 *
 * `s` comes first, always: recording activity (`SessionStore.touch`, a Lua script on Redis) then
 * rewrites the digits after `{"s":` and copies every other byte as it is (`withLastSeenAt`), so it
 * never re-encodes a record and keeps any field it does not know (one a later version adds),
 * where decoding and encoding in Lua (cjson) would turn an empty array into `{}` and round large
 * numbers. A record of an earlier layout (`h` first) is rewritten whole by the manager instead.
 *
 * Decoding never throws: a value that is not a well-formed record (corrupt, truncated, written by
 * a different version) is treated as no session, which answers 401 rather than 500.
 */
import { randomBytes } from 'node:crypto';
import type { PendingStep, SessionRecord } from './store.js';

/** Every store keys a session as `<keyPrefix><id>`; this prefix is the default. */
export const DEFAULT_SESSION_KEY_PREFIX = 'starsessions.';

interface EncodedRecord {
  s: number;
  h: string;
  e: number;
  c: number;
  g?: string[];
  u?: string;
  p?: PendingStep;
  t?: string;
}

const PENDING_STEPS: readonly unknown[] = ['verify', 'enrol'] satisfies PendingStep[];

export function encodeSessionRecord(record: SessionRecord): string {
  const encoded: EncodedRecord = {
    s: record.lastSeenAt, // first: see withLastSeenAt
    h: record.secretHash,
    e: record.empNo,
    c: record.createdAt,
  };
  if (record.scopes.length) encoded.g = record.scopes;
  if (record.client) encoded.u = record.client;
  if (record.pending) encoded.p = record.pending;
  if (record.generation !== undefined) encoded.t = record.generation;
  return JSON.stringify(encoded);
}

export function decodeSessionRecord(value: string | null | undefined): SessionRecord | undefined {
  if (typeof value !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { h, e, c, s, g = [], u, p, t } = parsed as Partial<Record<keyof EncodedRecord, unknown>>;
  if (
    typeof h !== 'string' ||
    // A pending record never carries scopes: one that does is not a record this code wrote.
    (p !== undefined && (!PENDING_STEPS.includes(p) || (Array.isArray(g) && g.length > 0))) ||
    (t !== undefined && typeof t !== 'string') ||
    !Array.isArray(g) ||
    !g.every((scope) => typeof scope === 'string') ||
    !Number.isSafeInteger(e) ||
    !Number.isSafeInteger(c) ||
    !Number.isSafeInteger(s)
  ) {
    return undefined;
  }
  const record: SessionRecord = { secretHash: h, empNo: e as number, scopes: g, createdAt: c as number, lastSeenAt: s as number };
  if (typeof u === 'string') record.client = u;
  if (p !== undefined) record.pending = p as PendingStep;
  if (typeof t === 'string') record.generation = t;
  return record;
}

/** `{"s":<digits>,` at the very start: the top-level lastSeenAt, whatever the rest holds. */
const LEADING_LAST_SEEN = /^\{"s":(\d+),/;

/**
 * The stored value with lastSeenAt replaced and every other byte kept, or undefined when the value
 * does not start with the lastSeenAt it decodes to (an earlier layout, or a duplicated key), so
 * that it cannot be rewritten in place. TOUCH_SCRIPT in redis-store.ts does the same in Lua.
 */
export function withLastSeenAt(value: string, current: SessionRecord, lastSeenAt: number): string | undefined {
  const digits = LEADING_LAST_SEEN.exec(value)?.[1];
  if (digits === undefined || Number(digits) !== current.lastSeenAt) return undefined;
  return `{"s":${lastSeenAt}${value.slice(5 + digits.length)}`;
}

/**
 * A store's expiry is whole seconds (Redis `EX`). A bad value is a programming error, so it is a
 * RangeError here rather than a server error that the HTTP layer would turn into a misleading 503.
 */
export function assertTtlSeconds(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new RangeError(`ttlSeconds must be a positive integer, got ${String(ttlSeconds)}`);
  }
}

/** Decodes stored values, dropping any that are not well-formed records; oldest first. */
export function liveRecords(rows: Array<{ id: string; value: string | null }>): Array<{ id: string; record: SessionRecord }> {
  return rows
    .flatMap(({ id, value }) => {
      const record = decodeSessionRecord(value);
      return record ? [{ id, record }] : [];
    })
    .sort((a, b) => a.record.createdAt - b.record.createdAt);
}

/**
 * A fresh owner generation (see SessionStore.generation). Random rather than a counter: a store
 * forgets a generation after its TTL, and a counter starting again from 1 could repeat the value a
 * create in flight read before, which would hide the bump in between. 96 random bits never repeat.
 */
export function newGeneration(): string {
  return randomBytes(12).toString('base64url');
}
