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
  liveRecords,
  decodeSessionRecord,
  DEFAULT_SESSION_KEY_PREFIX,
  encodeSessionRecord,
  newGeneration,
  withLastSeenAt,
} from './record-codec.js';
import { activityWrite, type TouchRule } from './activity.js';
import type { CounterState, CounterStore } from './counter-store.js';
import type { OneTimeStore } from './one-time-store.js';
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

export class SqliteSessionStore implements SessionStore, CounterStore, OneTimeStore {
  readonly kind = 'sqlite';
  readonly keyPrefix: string;
  private readonly db: Database.Database;
  private readonly statements: {
    get: Database.Statement<[key: string, now: number], { data: string }>;
    create: Database.Statement<[key: string, data: string, expiresAt: number, owner: number, now: number]>;
    refresh: Database.Statement<[data: string, expiresAt: number, key: string, now: number]>;
    destroy: Database.Statement<[key: string], { expires_at: number }>;
    sweep: Database.Statement<[now: number]>;
    listByOwner: Database.Statement<[owner: number, now: number], { key: string; data: string }>;
    destroyByOwner: Database.Statement<[owner: number, now: number]>;
    increment: Database.Statement<[{ name: string; expiresAt: number; now: number }], { count: number; expires_at: number }>;
    decrement: Database.Statement<[name: string, now: number]>;
    resetCounter: Database.Statement<[name: string]>;
    sweepCounters: Database.Statement<[now: number]>;
    generation: Database.Statement<[owner: number, now: number], { generation: string }>;
    bumpGeneration: Database.Statement<[owner: number, generation: string, expiresAt: number]>;
    sweepGenerations: Database.Statement<[now: number]>;
    putOnce: Database.Statement<[name: string, value: string, expiresAt: number]>;
    takeOnce: Database.Statement<[name: string], { value: string; expires_at: number }>;
    sweepOnce: Database.Statement<[now: number]>;
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
        CREATE TABLE IF NOT EXISTS counters (
          name TEXT PRIMARY KEY,
          count INTEGER NOT NULL,
          expires_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS owner_generations (
          owner INTEGER PRIMARY KEY,
          generation TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS one_time_values (
          name TEXT PRIMARY KEY,
          value TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        );
      `);
      // The owner column came after the first release: add it to a file made before.
      const columns = this.db.prepare('PRAGMA table_info(sessions)').all() as Array<{ name: string }>;
      if (!columns.some((column) => column.name === 'owner')) this.db.exec('ALTER TABLE sessions ADD COLUMN owner INTEGER');
      this.db.exec('CREATE INDEX IF NOT EXISTS sessions_owner ON sessions (owner)');
      this.statements = {
        get: this.db.prepare('SELECT data FROM sessions WHERE key = ? AND expires_at > ?'),
        // A leftover expired row may be replaced; a live one never is (same rule as Redis NX).
        create: this.db.prepare(`
          INSERT INTO sessions (key, data, expires_at, owner) VALUES (?, ?, ?, ?)
          ON CONFLICT (key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, owner = excluded.owner
          WHERE sessions.expires_at <= ?
        `),
        // Only a live row is rewritten (same rule as Redis XX): no resurrection after logout.
        refresh: this.db.prepare('UPDATE sessions SET data = ?, expires_at = ? WHERE key = ? AND expires_at > ?'),
        destroy: this.db.prepare('DELETE FROM sessions WHERE key = ? RETURNING expires_at'),
        sweep: this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
        listByOwner: this.db.prepare('SELECT key, data FROM sessions WHERE owner = ? AND expires_at > ?'),
        destroyByOwner: this.db.prepare('DELETE FROM sessions WHERE owner = ? AND expires_at > ?'),
        // One statement, so concurrent increments (other processes included) never lose a count.
        increment: this.db.prepare(`
          INSERT INTO counters (name, count, expires_at) VALUES (@name, 1, @expiresAt)
          ON CONFLICT (name) DO UPDATE SET
            count = CASE WHEN counters.expires_at <= @now THEN 1 ELSE counters.count + 1 END,
            expires_at = CASE WHEN counters.expires_at <= @now THEN excluded.expires_at ELSE counters.expires_at END
          RETURNING count, expires_at
        `),
        decrement: this.db.prepare('UPDATE counters SET count = count - 1 WHERE name = ? AND count > 0 AND expires_at > ?'),
        resetCounter: this.db.prepare('DELETE FROM counters WHERE name = ?'),
        sweepCounters: this.db.prepare('DELETE FROM counters WHERE expires_at <= ?'),
        generation: this.db.prepare('SELECT generation FROM owner_generations WHERE owner = ? AND expires_at > ?'),
        bumpGeneration: this.db.prepare(`
          INSERT INTO owner_generations (owner, generation, expires_at) VALUES (?, ?, ?)
          ON CONFLICT (owner) DO UPDATE SET generation = excluded.generation, expires_at = excluded.expires_at
        `),
        sweepGenerations: this.db.prepare('DELETE FROM owner_generations WHERE expires_at <= ?'),
        putOnce: this.db.prepare(`
          INSERT INTO one_time_values (name, value, expires_at) VALUES (?, ?, ?)
          ON CONFLICT (name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
        `),
        // One statement reads and deletes: two takes of the same name can never both get the value.
        takeOnce: this.db.prepare('DELETE FROM one_time_values WHERE name = ? RETURNING value, expires_at'),
        sweepOnce: this.db.prepare('DELETE FROM one_time_values WHERE expires_at <= ?'),
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
    return this.run(() => {
      const now = Date.now();
      this.statements.sweepCounters.run(now);
      this.statements.sweepGenerations.run(now);
      this.statements.sweepOnce.run(now);
      return this.statements.sweep.run(now).changes;
    });
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const row = this.run(() => this.statements.get.get(this.key(id), Date.now()));
    return decodeSessionRecord(row?.data);
  }

  /**
   * The read and the conditional write run back to back with nothing awaited between them, so no
   * other request of this process comes in between; another process's logout in between makes the
   * write (live rows only, as `refresh`) change nothing, and the session reads as ended.
   */
  async touch(id: string, rule: TouchRule): Promise<SessionRecord | undefined> {
    return this.run(() => {
      const key = this.key(id);
      const now = Date.now();
      const value = this.statements.get.get(key, now)?.data;
      const record = decodeSessionRecord(value);
      if (!record || value === undefined) return undefined;
      const ttlSeconds = activityWrite(record, rule);
      if (ttlSeconds === undefined) return record;
      const touched = withLastSeenAt(value, record, rule.now);
      if (touched === undefined) return record;
      if (this.statements.refresh.run(touched, now + ttlSeconds * 1000, key, now).changes === 0) return undefined;
      return { ...record, lastSeenAt: rule.now };
    });
  }

  /** The `owner` column is the index: written in the same statement as the record, so never behind it. */
  async create(id: string, record: SessionRecord, ttlSeconds: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const now = Date.now();
    return this.run(
      () => this.statements.create.run(this.key(id), encodeSessionRecord(record), now + ttlSeconds * 1000, record.empNo, now).changes === 1,
    );
  }

  async refresh(id: string, record: SessionRecord, ttlSeconds: number): Promise<boolean> {
    assertTtlSeconds(ttlSeconds);
    const now = Date.now();
    return this.run(
      () => this.statements.refresh.run(encodeSessionRecord(record), now + ttlSeconds * 1000, this.key(id), now).changes === 1,
    );
  }

  async destroy(id: string): Promise<boolean> {
    return this.run(() => {
      const deleted = this.statements.destroy.get(this.key(id));
      // An expired row is already "absent" to readers, so removing it does not count as ending a session.
      return deleted !== undefined && deleted.expires_at > Date.now();
    });
  }

  async listByOwner(empNo: number): Promise<Array<{ id: string; record: SessionRecord }>> {
    const rows = this.run(() => this.statements.listByOwner.all(empNo, Date.now()));
    return liveRecords(rows.map((row) => ({ id: row.key.slice(this.keyPrefix.length), value: row.data })));
  }

  async destroyByOwner(empNo: number): Promise<number> {
    return this.run(() => this.statements.destroyByOwner.run(empNo, Date.now()).changes);
  }

  async generation(empNo: number): Promise<string> {
    return this.run(() => this.statements.generation.get(empNo, Date.now())?.generation ?? '');
  }

  async bumpGeneration(empNo: number, ttlSeconds: number): Promise<void> {
    assertTtlSeconds(ttlSeconds);
    this.run(() => this.statements.bumpGeneration.run(empNo, newGeneration(), Date.now() + ttlSeconds * 1000));
  }

  async increment(name: string, windowSeconds: number): Promise<CounterState> {
    assertTtlSeconds(windowSeconds);
    const now = Date.now();
    const row = this.run(() => this.statements.increment.get({ name, expiresAt: now + windowSeconds * 1000, now }))!;
    return { count: row.count, resetInSeconds: Math.max(1, Math.ceil((row.expires_at - now) / 1000)) };
  }

  async decrement(name: string): Promise<void> {
    this.run(() => this.statements.decrement.run(name, Date.now()));
  }

  async resetCounter(name: string): Promise<void> {
    this.run(() => this.statements.resetCounter.run(name));
  }

  async putOnce(name: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtlSeconds(ttlSeconds);
    this.run(() => this.statements.putOnce.run(name, value, Date.now() + ttlSeconds * 1000));
  }

  async takeOnce(name: string): Promise<string | undefined> {
    const row = this.run(() => this.statements.takeOnce.get(name));
    // An expired row is absent to readers; taking it only removes it early.
    return row !== undefined && row.expires_at > Date.now() ? row.value : undefined;
  }

  /** Live sessions now (the metrics gauge): one count over the expiry index. */
  async countLive(): Promise<number> {
    return this.run(() => (this.db.prepare('SELECT count(*) AS n FROM sessions WHERE expires_at > ?').get(Date.now()) as { n: number }).n);
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
