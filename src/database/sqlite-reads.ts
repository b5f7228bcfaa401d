/**
 * Reads that must not go through Kysely's single SQLite connection, for two reasons measured in
 * docs/PERFORMANCE.md:
 * - the hot look-ups (an employee by number, on every `/admin/me`): Kysely's SQLite driver compiles
 *   every statement again (`prepare()` per query, plus its async connection mutex), ~40 µs a
 *   request; a statement prepared once on a read-only connection costs ~5 µs;
 * - searches: better-sqlite3 is synchronous, so a 35 ms table scan on the event loop stalls every
 *   other request of the process. Searches run on worker threads (piscina), each with its own
 *   read-only connection, and the event loop only waits for the answer.
 *
 * Both read committed data through their own connections (WAL lets readers run beside the writer),
 * so they are used only on the root database, never inside a transaction, whose reads must see its
 * own writes: a transaction is a different Kysely instance and finds no `SqliteReads` here.
 *
 * The hot look-ups share one read transaction while the event loop handles one I/O event (a
 * batch of Redis replies wakes many requests at once): in autocommit mode every read opens and
 * closes its own, and that (two `fcntl` locks and a look at the WAL index) is three quarters of an
 * indexed read's ~6.5 µs; inside one it costs ~1.7 µs. The shared snapshot ends with
 * `process.nextTick`, which Node runs before it goes back to the event loop for more I/O, so it
 * never outlives an I/O wait: it starts after every request it serves had arrived, and a write
 * committed before a request arrived is always seen. This process's own statements end it too
 * (`endSnapshot`, called by the writer connection before each one, connection.ts), so a request
 * reads what it has just committed, and no snapshot spans a commit's checkpoint.
 */
import { availableParallelism } from 'node:os';
import SqliteDatabase, { type Statement } from 'better-sqlite3';
import { Piscina } from 'piscina';
import type { CompiledQuery, Kysely } from 'kysely';
import type { SearchTask } from './sqlite-search-worker.js';

/** How long a connection waits for the writer's lock before SQLITE_BUSY (readers rarely need it in WAL). */
const BUSY_TIMEOUT_MS = 5_000;
/** A search thread beyond the first is ended after this long idle; the next search starts one again (~30 ms). */
const SEARCH_THREAD_IDLE_MS = 60_000;
/**
 * Search threads: every core but one, which stays with the event loop (and so with everyone
 * else's requests); at least one.
 */
export const SEARCH_THREADS = Math.max(1, availableParallelism() - 1);

const WORKER_FILE = new URL(`./sqlite-search-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export class SqliteReads {
  #connection: SqliteDatabase.Database | undefined;
  readonly #statements = new Map<string, Statement>();
  #begin: Statement | undefined;
  #commit: Statement | undefined;
  #inSnapshot = false;
  readonly #endSnapshotSoon = () => this.endSnapshot();
  #pool: Piscina<SearchTask, unknown[]> | undefined;
  #closed = false;

  constructor(readonly file: string) {}

  /**
   * The first row of a query the caller compiles once (`sql` is its memo key and its text), on a
   * read-only connection of this thread. Synchronous, as an indexed look-up takes microseconds.
   */
  one<T>(sql: string, parameters: readonly unknown[]): T | undefined {
    this.#assertOpen();
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#open().prepare(sql);
      this.#statements.set(sql, statement);
    }
    if (!this.#inSnapshot) {
      this.#begin!.run();
      this.#inSnapshot = true;
      process.nextTick(this.#endSnapshotSoon);
    }
    return statement.get(...parameters) as T | undefined;
  }

  #open(): SqliteDatabase.Database {
    if (!this.#connection) {
      this.#connection = new SqliteDatabase(this.file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
      this.#begin = this.#connection.prepare('BEGIN');
      this.#commit = this.#connection.prepare('COMMIT');
    }
    return this.#connection;
  }

  /** Ends the shared read transaction, if one is open: the next look-up sees the latest commit. */
  endSnapshot(): void {
    if (!this.#inSnapshot) return;
    this.#inSnapshot = false;
    // A read-only transaction has nothing to commit; COMMIT only lets go of its snapshot. Should
    // it fail, the connection is dropped, so that no later read can find an old snapshot open.
    try {
      this.#commit!.run();
    } catch {
      this.#drop();
    }
  }

  #drop(): void {
    this.#statements.clear();
    this.#connection?.close();
    this.#connection = undefined;
  }

  /** Every row of a (possibly slow) query, run on a search thread. */
  async all<T>(query: CompiledQuery): Promise<T[]> {
    this.#assertOpen();
    const pool = this.warm();
    return (await pool.run({ file: this.file, sql: query.sql, parameters: [...query.parameters] })) as T[];
  }

  /**
   * Starts the search threads' pool (one thread at once, kept while it lives), so that a server has
   * it ready before its first search rather than growing by a thread (and ~30 ms) then.
   */
  warm(): Piscina<SearchTask, unknown[]> {
    this.#pool ??= new Piscina<SearchTask, unknown[]>({
      filename: WORKER_FILE.href,
      minThreads: 1,
      maxThreads: SEARCH_THREADS,
      idleTimeout: SEARCH_THREAD_IDLE_MS,
    });
    return this.#pool;
  }

  /** As Kysely does after `destroy()`: a use after close is a bug, never a silent reopen. */
  #assertOpen(): void {
    if (this.#closed) throw new Error('the SQLite database has been closed');
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#inSnapshot = false;
    this.#drop();
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.destroy();
  }
}

/** What the repositories use: `SqliteReads`, or a guarded view of it. */
export type SqliteReader = Pick<SqliteReads, 'one' | 'all'>;

/** Starts the search threads of an SQLite database now (the app, at start); nothing on other engines. */
export function warmSqliteReads(db: Kysely<any>): void {
  const reads = readsByDatabase.get(db);
  if (reads instanceof SqliteReads) reads.warm();
}

const readsByDatabase = new WeakMap<Kysely<any>, SqliteReader>();

export function registerSqliteReads(db: Kysely<any>, reads: SqliteReader): void {
  readsByDatabase.set(db, reads);
}

/**
 * Lets `to`, an instance derived from `from` (`withPlugin`), use `from`'s side connections, each
 * read first passing `guard`: a Kysely plugin that refuses queries (the schema gate) must refuse
 * these reads too, since they never pass through Kysely.
 */
export function shareSqliteReads(from: Kysely<any>, to: Kysely<any>, guard: () => void): void {
  const reads = readsByDatabase.get(from);
  if (!reads) return;
  registerSqliteReads(to, {
    one: (sql, parameters) => {
      guard();
      return reads.one(sql, parameters);
    },
    all: async (query) => {
      guard();
      return reads.all(query);
    },
  });
}

/** The side connections of a root SQLite database; undefined for other engines and for transactions. */
export function sqliteReadsOf(db: Kysely<any>): SqliteReader | undefined {
  return readsByDatabase.get(db);
}
