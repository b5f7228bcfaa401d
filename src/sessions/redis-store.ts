/**
 * The Redis session store: one string key per session, `<keyPrefix><id>`, with a native TTL, so
 * that Redis itself forgets idle sessions and no sweeper is needed.
 *
 * Availability rules (the HTTP layer answers SessionStoreUnavailableError with 503):
 * - no offline queue: while Redis is down a command fails at once instead of piling up requests
 *   that would all replay, late, when it returns;
 * - a short connect and command timeout, so a hung Redis costs a request about a second, not minutes;
 * - reconnection never gives up (capped backoff), so the store recovers by itself when Redis returns;
 * - 'error' events go to `onError` and are otherwise swallowed: an outage must not crash the process.
 */
import { checkRedis, createRedisClient, type RedisClient } from './redis-client.js';
import {
  assertTtlSeconds,
  liveRecords,
  decodeSessionRecord,
  DEFAULT_SESSION_KEY_PREFIX,
  encodeSessionRecord,
  newGeneration,
} from './record-codec.js';
import type { CounterState, CounterStore } from './counter-store.js';
import type { OneTimeStore } from './one-time-store.js';
import { SessionStoreUnavailableError, type SessionRecord, type SessionStore } from './store.js';
import type { TouchRule } from './activity.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 1500;
const DEFAULT_COMMAND_TIMEOUT_MS = 1000;
const RECONNECT_FIRST_DELAY_MS = 100;
const RECONNECT_MAX_DELAY_MS = 2000;
const QUIT_TIMEOUT_MS = 1000;
/**
 * How long ioredis lets a socket end gracefully on disconnect before destroying it. Its timer is not
 * cleared when the socket was already gone (Redis down), so its 2 s default delays process exit.
 */
const DISCONNECT_TIMEOUT_MS = 200;

/**
 * INCR that starts the window on the first count, in one atomic script: two instances counting
 * at once never lose an increment, and a counter never lives without its expiry
 * (a read-modify-write here was Devise's CVE-2019-5421). Single key, so it runs on Redis Cluster.
 */
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;
/**
 * Adds a session id to its owner's index, a sorted set scored by each session's absolute deadline
 * (epoch ms, which a refresh never moves, so refreshes need no index write), drops the entries whose
 * deadline has passed (so the index holds at most the sessions opened within one absolute timeout),
 * and keeps the index key exactly as long as its latest deadline. One key, so it runs on Redis
 * Cluster; one script, so concurrent logins never overwrite each other's entries or expiry.
 * ARGV: deadline, id, now.
 */
const INDEX_ADD_SCRIPT = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], latest[2])
return 1`;
/**
 * `SessionStore.touch` in one round trip: reads the record and, when activity.ts `activityWrite`
 * says so, rewrites lastSeenAt and the expiry; returns the value as it then stands (nil if absent).
 * The same decision as activityWrite, in Lua; the contract tests hold both stores to it.
 * - One key, so it runs on Redis Cluster. Atomic: the GET and the SET see the same key, so a key a
 *   logout deleted is never written again (what SET XX guarantees the two-step refresh).
 * - It never re-encodes the record (record-codec.ts, withLastSeenAt): only the digits after a
 *   leading `{"s":` change, and only when they are the lastSeenAt the value decodes to; any other
 *   field, known or not, keeps its bytes. An earlier layout is returned untouched.
 * - cjson only reads; a value it cannot read is returned untouched (the caller's decoder refuses it).
 * ARGV: now, refreshAfterMs, idleTimeoutMs, absoluteTimeoutMs, proof kind ('h' secret hash or
 * 'e' owner), proof, pendingTimeoutMs (the absolute bound of a record with `p`, when sooner).
 */
const TOUCH_SCRIPT = `
local value = redis.call('GET', KEYS[1])
if not value then return false end
local ok, record = pcall(cjson.decode, value)
if not ok or type(record) ~= 'table' or type(record.s) ~= 'number' or type(record.c) ~= 'number' then return value end
if ARGV[5] == 'h' then
  if record.h ~= ARGV[6] then return value end
elseif record.e ~= tonumber(ARGV[6]) then return value end
local now, idle, absolute = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4])
if record.p ~= nil then absolute = math.min(absolute, tonumber(ARGV[7])) end
if now - record.s < tonumber(ARGV[2]) then return value end
if now >= math.min(record.s + idle, record.c + absolute) then return value end
local digits = string.match(value, '^{"s":(%d+),')
if not digits or tonumber(digits) ~= record.s then return value end
local touched = '{"s":' .. ARGV[1] .. string.sub(value, 6 + #digits)
local ttl = math.max(1, math.floor((math.min(now + idle, record.c + absolute) - now) / 1000))
redis.call('SET', KEYS[1], touched, 'EX', string.format('%d', ttl))
return touched`;

declare module 'ioredis' {
  interface RedisCommander {
    /** TOUCH_SCRIPT, defined on each client (ioredis sends EVALSHA, and EVAL when the server lacks it). */
    touchSession(key: string, ...args: Array<string | number>): Promise<string | null>;
  }
}

/** DECR that never goes below zero and never recreates an expired counter. */
const DECREMENT_SCRIPT = `
if redis.call('GET', KEYS[1]) and tonumber(redis.call('GET', KEYS[1])) > 0 then return redis.call('DECR', KEYS[1]) end
return 0`;

export interface RedisSessionStoreOptions {
  /** `redis://[user:password@]host:port[/db]`, `rediss://` for TLS, or a Sentinel or Cluster URL (redis-client.ts). */
  url: string;
  /** Prepended to every session id to form the Redis key. */
  keyPrefix?: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Receives connection errors (for a debug log); they are never thrown from here. */
  onError?: (err: Error) => void;
}

export class RedisSessionStore implements SessionStore, CounterStore, OneTimeStore {
  readonly kind = 'redis';
  readonly keyPrefix: string;
  /** The underlying connection, owned by this store (exposed for tests and health checks). */
  readonly client: RedisClient;
  /**
   * Settles when the first connection attempt ends either way. Commands issued before then wait
   * for it (bounded by the connect timeout), so a request arriving just after start-up is not
   * refused merely because the socket was still opening. Once the first attempt has settled,
   * commands fail fast while Redis is away.
   */
  private readonly firstAttempt: Promise<void>;
  private firstAttemptSettled = false;
  private readonly connectTimeoutMs: number;

  constructor(options: RedisSessionStoreOptions) {
    this.keyPrefix = options.keyPrefix ?? DEFAULT_SESSION_KEY_PREFIX;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const onError = options.onError;
    this.client = createRedisClient(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.connectTimeoutMs,
      commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(RECONNECT_FIRST_DELAY_MS * 2 ** (attempt - 1), RECONNECT_MAX_DELAY_MS),
    });
    this.client.defineCommand('touchSession', { numberOfKeys: 1, lua: TOUCH_SCRIPT });
    // Without a listener, ioredis reports every failed reconnect as an unhandled 'error' event.
    this.client.on('error', (err: Error) => onError?.(err));
    this.firstAttempt = new Promise<void>((resolve) => {
      const settle = () => {
        this.firstAttemptSettled = true;
        for (const event of ['ready', 'close', 'end'] as const) this.client.off(event, settle);
        resolve();
      };
      for (const event of ['ready', 'close', 'end'] as const) this.client.once(event, settle);
    });
  }

  private key(id: string): string {
    return this.keyPrefix + id;
  }

  /**
   * One owner's session ids, a sorted set scored by each session's absolute deadline (see
   * INDEX_ADD_SCRIPT). Kept beside the sessions, not in a MULTI with them: on Redis Cluster the keys
   * live on different nodes. It may hold ids whose session has ended (pruned when it is read), never
   * miss a live one: see `create`. (Named `owned:`, not the earlier set's `owner:`, so that a key of
   * the old type left by an earlier version is never mistaken for it.)
   */
  private ownerKey(empNo: number): string {
    return `${this.keyPrefix}owned:${empNo}`;
  }

  /**
   * The plain set of session ids an earlier version kept per owner. Its sessions live until their
   * absolute deadline (at most SESSION_ABSOLUTE_TIMEOUT_SECONDS after an upgrade), and ending someone's
   * sessions must end those too, so listings and end-alls read it beside the sorted index and take
   * ids out of it one by one; nothing adds to it any more, and it expires as it did before.
   */
  private legacyOwnerKey(empNo: number): string {
    return `${this.keyPrefix}owner:${empNo}`;
  }

  /** Takes ids out of the earlier version's set; a key of another type there is left alone. */
  private forgetLegacy(redis: RedisClient, empNo: number, ids: string[]): Promise<number> {
    return redis.srem(this.legacyOwnerKey(empNo), ...ids).catch(() => 0);
  }

  /** The ids indexed for an owner whose deadline has not passed, plus any an earlier version indexed. */
  private async indexedIds(empNo: number): Promise<string[]> {
    const [current, legacy] = await this.command((redis) =>
      Promise.all([
        redis.zrangebyscore(this.ownerKey(empNo), Date.now(), '+inf'),
        // A key of another type there is not ours to read: treated as no legacy ids.
        redis.smembers(this.legacyOwnerKey(empNo)).catch((error: unknown) => {
          if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return [] as string[];
          throw error;
        }),
      ]),
    );
    return legacy.length === 0 ? current : [...new Set([...current, ...legacy])];
  }

  /** The owner's generation (SessionStore.generation). */
  private generationKey(empNo: number): string {
    return `${this.keyPrefix}gen:${empNo}`;
  }

  private counterKey(name: string): string {
    return `${this.keyPrefix}count:${name}`;
  }

  private onceKey(name: string): string {
    return `${this.keyPrefix}once:${name}`;
  }

  /** Runs one command, turning every failure (refused, timed out, closed) into the 503 error. */
  private async command<T>(run: (client: RedisClient) => Promise<T>): Promise<T> {
    try {
      if (!this.firstAttemptSettled && this.client.status !== 'ready') {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          this.firstAttempt,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, this.connectTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
      }
      return await run(this.client);
    } catch (err) {
      throw new SessionStoreUnavailableError(err);
    }
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const value = await this.command((redis) => redis.get(this.key(id)));
    return decodeSessionRecord(value);
  }

  async touch(id: string, rule: TouchRule): Promise<SessionRecord | undefined> {
    if (!Number.isSafeInteger(rule.now)) throw new RangeError(`rule.now must be whole milliseconds, got ${String(rule.now)}`);
    const [kind, proof] = 'secretHash' in rule.proof ? ['h', rule.proof.secretHash] : ['e', rule.proof.owner];
    const value = await this.command((redis) =>
      redis.touchSession(
        this.key(id),
        rule.now,
        rule.refreshAfterMs,
        rule.idleTimeoutMs,
        rule.absoluteTimeoutMs,
        kind,
        proof,
        rule.pendingTimeoutMs,
      ),
    );
    return decodeSessionRecord(value);
  }

  async create(id: string, record: SessionRecord, ttlSeconds: number, deadlineMs?: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const now = Date.now();
    // NX: a new session must never overwrite another one, however unlikely the id collision.
    const reply = await this.command((redis) => redis.set(this.key(id), encodeSessionRecord(record), 'EX', ttlSeconds, 'NX'));
    if (reply !== 'OK') return false;
    // The record first, then the index: an id in the index then names a record that exists or has
    // ended for good, so a listing may prune ids whose record is gone without ever dropping one that
    // is about to appear. The session is indexed before it can be used all the same: nobody holds its
    // secret until this returns. If indexing fails the record goes too, so no live session is unlisted.
    const deadline = deadlineMs ?? now + ttlSeconds * 1000;
    try {
      await this.command((redis) => redis.eval(INDEX_ADD_SCRIPT, 1, this.ownerKey(record.empNo), deadline, id, now));
    } catch (error) {
      await this.client.del(this.key(id)).catch(() => undefined);
      throw error;
    }
    return true;
  }

  async refresh(id: string, record: SessionRecord, ttlSeconds: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    // XX: only rewrite a key that still exists, so a request that read the session before a
    // concurrent logout cannot bring it back to life.
    const reply = await this.command((redis) => redis.set(this.key(id), encodeSessionRecord(record), 'EX', ttlSeconds, 'XX'));
    return reply === 'OK';
  }

  async destroy(id: string): Promise<boolean> {
    // GETDEL (Redis 6.2): the record says whose index to take the id out of, so that logouts do not
    // leave dead ids behind until their deadline.
    const value = await this.command((redis) => redis.getdel(this.key(id)));
    if (value === null) return false;
    const owner = decodeSessionRecord(value)?.empNo;
    // The session has ended either way: a failure here leaves a dead id that the next listing prunes.
    if (owner !== undefined) await this.command((redis) => redis.zrem(this.ownerKey(owner), id)).catch(() => undefined);
    return true;
  }

  async listByOwner(empNo: number): Promise<Array<{ id: string; record: SessionRecord }>> {
    const ownerKey = this.ownerKey(empNo);
    const ids = await this.indexedIds(empNo);
    if (ids.length === 0) return [];
    // One GET per id rather than MGET: on Redis Cluster the keys sit on different nodes.
    const values = await this.command((redis) => Promise.all(ids.map((id) => redis.get(this.key(id)))));
    // Safe to prune: an indexed id whose record is gone has ended for good (see `create`).
    const gone = ids.filter((_, index) => values[index] === null);
    if (gone.length) await this.command((redis) => redis.zrem(ownerKey, ...gone).then(() => this.forgetLegacy(redis, empNo, gone)));
    return liveRecords(ids.map((id, index) => ({ id, value: values[index] ?? null }))).filter(({ record }) => record.empNo === empNo);
  }

  /**
   * Deletes each indexed session, then removes that one id from the index. Never the whole index at
   * once: an id a concurrent login adds after the read above must stay listed, for the next listing
   * or end-all to find (the session manager's generation check covers that login).
   */
  async destroyByOwner(empNo: number): Promise<number> {
    const ownerKey = this.ownerKey(empNo);
    const ids = await this.indexedIds(empNo);
    const deleted = await this.command((redis) =>
      Promise.all(
        ids.map(async (id) => {
          // The record before its entry: should the second step fail, a dead id is pruned later,
          // whereas the other order could leave a live session that no listing shows.
          const count = await redis.del(this.key(id));
          await redis.zrem(ownerKey, id);
          await this.forgetLegacy(redis, empNo, [id]);
          return count;
        }),
      ),
    );
    return deleted.filter((count) => count === 1).length;
  }

  async generation(empNo: number): Promise<string> {
    return (await this.command((redis) => redis.get(this.generationKey(empNo)))) ?? '';
  }

  async bumpGeneration(empNo: number, ttlSeconds: number): Promise<void> {
    assertTtlSeconds(ttlSeconds);
    // A plain SET of a fresh random value: no read-modify-write, one key, so Cluster-safe.
    await this.command((redis) => redis.set(this.generationKey(empNo), newGeneration(), 'EX', ttlSeconds));
  }

  async increment(name: string, windowSeconds: number): Promise<CounterState> {
    assertTtlSeconds(windowSeconds);
    const [count, ttl] = (await this.command((redis) => redis.eval(INCREMENT_SCRIPT, 1, this.counterKey(name), windowSeconds))) as [
      number,
      number,
    ];
    return { count, resetInSeconds: Math.max(1, ttl) };
  }

  async decrement(name: string): Promise<void> {
    await this.command((redis) => redis.eval(DECREMENT_SCRIPT, 1, this.counterKey(name)));
  }

  async resetCounter(name: string): Promise<void> {
    await this.command((redis) => redis.del(this.counterKey(name)));
  }

  async putOnce(name: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtlSeconds(ttlSeconds);
    await this.command((redis) => redis.set(this.onceKey(name), value, 'EX', ttlSeconds));
  }

  async takeOnce(name: string): Promise<string | undefined> {
    // GETDEL: the read and the delete are one command, so two takes can never both see the value.
    return (await this.command((redis) => redis.getdel(this.onceKey(name)))) ?? undefined;
  }

  async ping(): Promise<void> {
    await this.command((redis) => checkRedis(redis));
  }

  async close(): Promise<void> {
    const client = this.client;
    if (client.status === 'end') return;
    if (client.status === 'ready') {
      // QUIT lets replies in flight arrive; bounded so a hung server cannot hold up shutdown.
      let timer: NodeJS.Timeout | undefined;
      const quitInTime = await Promise.race([
        client.quit().then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), QUIT_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (quitInTime) return;
    }
    // Not connected (or QUIT failed): drop the socket and stop the reconnect loop.
    client.disconnect();
  }
}
