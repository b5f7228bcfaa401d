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
import { Redis } from 'ioredis';
import {
  assertTtlSeconds,
  decodeSessionRecord,
  DEFAULT_SESSION_KEY_PREFIX,
  encodeSessionRecord,
} from './record-codec.js';
import { SessionStoreUnavailableError, type SessionRecord, type SessionStore } from './store.js';

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

export interface RedisSessionStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /** Prepended to every session id to form the Redis key. */
  keyPrefix?: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Receives connection errors (for a debug log); they are never thrown from here. */
  onError?: (err: Error) => void;
}

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis';
  readonly keyPrefix: string;
  /** The underlying connection, owned by this store (exposed for tests and health checks). */
  readonly client: Redis;
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
    this.client = new Redis(options.url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.connectTimeoutMs,
      commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
      retryStrategy: (attempt) =>
        Math.min(RECONNECT_FIRST_DELAY_MS * 2 ** (attempt - 1), RECONNECT_MAX_DELAY_MS),
    });
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

  /** Runs one command, turning every failure (refused, timed out, closed) into the 503 error. */
  private async command<T>(run: (client: Redis) => Promise<T>): Promise<T> {
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

  async create(id: string, record: SessionRecord, ttlSeconds: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    // NX: a new session must never overwrite another one, however unlikely the id collision.
    const reply = await this.command((redis) =>
      redis.set(this.key(id), encodeSessionRecord(record), 'EX', ttlSeconds, 'NX'),
    );
    return reply === 'OK';
  }

  async refresh(id: string, record: SessionRecord, ttlSeconds: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    // XX: only rewrite a key that still exists, so a request that read the session before a
    // concurrent logout cannot bring it back to life.
    const reply = await this.command((redis) =>
      redis.set(this.key(id), encodeSessionRecord(record), 'EX', ttlSeconds, 'XX'),
    );
    return reply === 'OK';
  }

  async destroy(id: string): Promise<boolean> {
    const deleted = await this.command((redis) => redis.del(this.key(id)));
    return deleted === 1;
  }

  async ping(): Promise<void> {
    await this.command((redis) => redis.ping());
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
