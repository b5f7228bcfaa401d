/**
 * The embedded session store, used when no Redis is configured: one SQLite file, so sessions
 * survive a restart of a single-process deployment without running another server.
 *
 * Same keys (`<keyPrefix><id>`) and the same encoded value as the Redis store. SQLite has no TTL,
 * so every read and conditional write compares `expires_at` with the clock (an expired row is
 * absent even before the sweep deletes it), and a sweep on open and on an interval keeps the file
 * from growing with abandoned sessions.
 *
 * better-sqlite3 is synchronous; each call is a single indexed statement on a local file, so it is
 * run inline. The methods are still `async` so that every failure, even a synchronous one, reaches
 * the caller as a rejected promise, as the SessionStore contract promises.
 */
import Database from 'better-sqlite3';
import {
  assertTtlSeconds,
  decodeSessionRecord,
  DEFAULT_SESSION_KEY_PREFIX,
  encodeSessionRecord,
} from './record-codec.js';
import { SessionStoreUnavailableError, type SessionRecord, type SessionStore } from './store.js';

const DEFAULT_SWEEP_INTERVAL_MS = 5 * 60_000;
/** How long a statement waits for another connection's write lock before failing. */
const BUSY_TIMEOUT_MS = 2000;

export interface SqliteSessionStoreOptions {
  /** The database file (its directory must exist), or ':memory:'. */
  path: string;
  keyPrefix?: string;
  sweepIntervalMs?: number;
  /** Receives errors of the background sweep, which has no caller to throw to. */
  onError?: (err: Error) => void;
}

export class SqliteSessionStore implements SessionStore {
  readonly kind = 'sqlite';
  readonly keyPrefix: string;
  private readonly db: Database.Database;
  private readonly statements: {
    get: Database.Statement<[key: string, now: number], { data: string }>;
    create: Database.Statement<[key: string, data: string, expiresAt: number, now: number]>;
    refresh: Database.Statement<[data: string, expiresAt: number, key: string, now: number]>;
    destroy: Database.Statement<[key: string], { expires_at: number }>;
    sweep: Database.Statement<[now: number]>;
  };
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(options: SqliteSessionStoreOptions) {
    this.keyPrefix = options.keyPrefix ?? DEFAULT_SESSION_KEY_PREFIX;
    try {
      this.db = new Database(options.path, { timeout: BUSY_TIMEOUT_MS });
      // WAL: readers never wait for the writer, and each write is one append instead of two syncs.
      this.db.pragma('journal_mode = WAL');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS sessions (
          key TEXT PRIMARY KEY,
          data TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
      `);
      this.statements = {
        get: this.db.prepare('SELECT data FROM sessions WHERE key = ? AND expires_at > ?'),
        // A leftover expired row may be replaced; a live one never is (same rule as Redis NX).
        create: this.db.prepare(`
          INSERT INTO sessions (key, data, expires_at) VALUES (?, ?, ?)
          ON CONFLICT (key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at
          WHERE sessions.expires_at <= ?
        `),
        // Only a live row is rewritten (same rule as Redis XX): no resurrection after logout.
        refresh: this.db.prepare(
          'UPDATE sessions SET data = ?, expires_at = ? WHERE key = ? AND expires_at > ?',
        ),
        destroy: this.db.prepare('DELETE FROM sessions WHERE key = ? RETURNING expires_at'),
        sweep: this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
      };
      this.statements.sweep.run(Date.now());
    } catch (err) {
      throw new SessionStoreUnavailableError(err);
    }
    const onError = options.onError;
    this.sweepTimer = setInterval(() => {
      try {
        this.sweep();
      } catch (err) {
        onError?.(err as Error);
      }
    }, options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
    // The sweep is housekeeping: it must not keep the process alive on its own.
    this.sweepTimer.unref();
  }

  private key(id: string): string {
    return this.keyPrefix + id;
  }

  /** Runs one statement, turning every failure (closed, locked, disk) into the 503 error. */
  private run<T>(statement: () => T): T {
    try {
      return statement();
    } catch (err) {
      throw new SessionStoreUnavailableError(err);
    }
  }

  /** Deletes expired rows now; returns how many. */
  sweep(): number {
    return this.run(() => this.statements.sweep.run(Date.now()).changes);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const row = this.run(() => this.statements.get.get(this.key(id), Date.now()));
    return decodeSessionRecord(row?.data);
  }

  async create(id: string, record: SessionRecord, ttlSeconds: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const now = Date.now();
    return this.run(
      () =>
        this.statements.create.run(
          this.key(id),
          encodeSessionRecord(record),
          now + ttlSeconds * 1000,
          now,
        ).changes === 1,
    );
  }

  async refresh(id: string, record: SessionRecord, ttlSeconds: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const now = Date.now();
    return this.run(
      () =>
        this.statements.refresh.run(
          encodeSessionRecord(record),
          now + ttlSeconds * 1000,
          this.key(id),
          now,
        ).changes === 1,
    );
  }

  async destroy(id: string): Promise<boolean> {
    return this.run(() => {
      const deleted = this.statements.destroy.get(this.key(id));
      // An expired row is already "absent" to readers, so removing it does not count as ending a session.
      return deleted !== undefined && deleted.expires_at > Date.now();
    });
  }

  async ping(): Promise<void> {
    return this.run(() => {
      this.db.prepare('SELECT 1').get();
    });
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    if (this.db.open) this.db.close();
  }
}
