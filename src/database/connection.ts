/**
 * Turns DATABASE_URL into a Kysely instance for one of the three supported engines.
 *
 * This is the only file that knows the drivers (better-sqlite3, mysql2, pg). Everything above it
 * sees `Kysely<Database>` and a `DialectName`; the few places where SQL itself differs between
 * engines live in `dialects.ts`.
 */
import { dirname, join, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  MysqlDialect,
  PostgresDialect,
  SqliteDialect,
  type Dialect,
  type Driver,
  type SqliteDatabase as KyselySqliteDatabase,
} from 'kysely';
import { createPool } from 'mysql2';
import { Pool, TypeOverrides, types as pgTypes } from 'pg';
import type { Database, DialectName } from './schema.js';
import { ensurePrivateDirectory, preparePrivateDatabaseFile } from '../private-files.js';
import { registerSqliteReads, SqliteReads } from './sqlite-reads.js';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
  /** Engine and location, safe for logs: never a password (nor a user name). */
  describe: string;
}

export interface CreateDatabaseOptions {
  /** Where the default SQLite file lives when DATABASE_URL is not set. Created if missing. */
  dataDir: string;
  /**
   * Called when a pooled connection fails outside a query (server restart, network drop), whether
   * it sat idle in the pool or was checked out between two queries. The drivers emit these as
   * 'error' events, and an unhandled one ends the process; the broken connection is discarded
   * either way, so the default is to ignore it: the next query reconnects, or fails with its own
   * error where it is handled.
   */
  onConnectionError?: (error: Error) => void;
}

/** Connections per pool: plenty for one Node process, small enough to run several beside a default server (151 / 100 connections). */
const POOL_SIZE = 10;
/** An unreachable server must fail a request (and /ready) quickly, not hang it for the OS's TCP timeout. */
const CONNECT_TIMEOUT_MS = 5_000;
/** How long SQLite waits for another connection's write lock before answering SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

export const DEFAULT_SQLITE_FILE_NAME = 'employees.sqlite';

const ACCEPTED_SCHEMES = 'sqlite:<path>, sqlite::memory:, mysql://, mariadb://, postgres:// or postgresql://';

/** Which engine DATABASE_URL names, and where: the SQLite file, or the server URL. */
export type DatabaseTarget = { dialect: 'sqlite'; file: string } | { dialect: 'mysql'; url: URL } | { dialect: 'postgres'; url: URL };

/**
 * Builds the Kysely instance for `databaseUrl` (undefined: the SQLite file in `dataDir`).
 * Nothing connects yet: the pool (or the SQLite file) opens on first use, which `openDatabase`
 * makes happen at start by migrating. Close with `db.destroy()`.
 */
export function createDatabase(databaseUrl: string | undefined, options: CreateDatabaseOptions): DatabaseHandle {
  const target = parseDatabaseUrl(databaseUrl, options.dataDir);
  switch (target.dialect) {
    case 'sqlite': {
      // A file also gets side connections for hot look-ups and searches (sqlite-reads.ts); an
      // in-memory database is private to its one connection.
      const reads = target.file === ':memory:' ? undefined : new SqliteReads(target.file);
      const db = new Kysely<Database>({ dialect: sqliteDialect(target.file, reads) });
      if (reads) registerSqliteReads(db, reads);
      return { db, dialect: 'sqlite', describe: `sqlite ${target.file}` };
    }
    case 'mysql':
      return {
        db: new Kysely<Database>({ dialect: mysqlDialect(target.url, options.onConnectionError) }),
        dialect: 'mysql',
        describe: `mysql ${serverLocation(target.url, 3306)}`,
      };
    case 'postgres':
      return {
        db: new Kysely<Database>({ dialect: postgresDialect(target.url, options.onConnectionError) }),
        dialect: 'postgres',
        describe: `postgres ${serverLocation(target.url, 5432)}`,
      };
  }
}

export function parseDatabaseUrl(databaseUrl: string | undefined, dataDir: string): DatabaseTarget {
  if (databaseUrl === undefined || databaseUrl.trim() === '') {
    return { dialect: 'sqlite', file: join(resolve(dataDir), DEFAULT_SQLITE_FILE_NAME) };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(databaseUrl)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    // `sqlite:` is followed by a path, not by an authority: `sqlite:data/x.db` (relative to the
    // working directory), `sqlite:/abs/x.db`, or the URL-like `sqlite:///abs/x.db`.
    let path = databaseUrl.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === ':memory:') return { dialect: 'sqlite', file: ':memory:' };
    if (path === '') throw invalidDatabaseUrl('sqlite: needs a file path, e.g. sqlite:data/employees.sqlite');
    return { dialect: 'sqlite', file: resolve(path) };
  }
  if (scheme === 'mysql' || scheme === 'mariadb' || scheme === 'postgres' || scheme === 'postgresql') {
    let url: URL;
    try {
      url = new URL(databaseUrl);
    } catch {
      // Not echoing the value: it may hold a password.
      throw invalidDatabaseUrl(`it is not a valid ${scheme}:// URL`);
    }
    if (url.hostname === '') throw invalidDatabaseUrl(`a ${scheme}:// URL needs a host`);
    return scheme === 'mysql' || scheme === 'mariadb' ? { dialect: 'mysql', url } : { dialect: 'postgres', url };
  }
  throw invalidDatabaseUrl(scheme ? `the scheme "${scheme}:" is not supported` : 'it has no scheme');
}

function invalidDatabaseUrl(reason: string): Error {
  return new Error(`DATABASE_URL is invalid: ${reason}. Accepted: ${ACCEPTED_SCHEMES} (unset: SQLite in the data directory)`);
}

/** `host:port/database`, leaving out the user info (and so the password). */
function serverLocation(url: URL, defaultPort: number): string {
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return `${url.hostname}:${url.port || defaultPort}/${database || '(default database)'}`;
}

/** Kysely's SQLite dialect, whose `destroy()` also closes the side connections. */
class SqliteDialectWithReads extends SqliteDialect {
  constructor(
    config: ConstructorParameters<typeof SqliteDialect>[0],
    private readonly reads: SqliteReads | undefined,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const destroy = driver.destroy.bind(driver);
    driver.destroy = async () => {
      await this.reads?.close();
      await destroy();
    };
    return driver;
  }
}

function sqliteDialect(file: string, reads: SqliteReads | undefined): Dialect {
  if (file !== ':memory:') ensurePrivateDirectory(dirname(file));
  return new SqliteDialectWithReads(
    {
      // Opened on first use, like the server pools: a handle that is never queried holds no file.
      database: async () => {
        // 0600 before better-sqlite3 creates it with the umask's mode (private-files.ts).
        if (file !== ':memory:') preparePrivateDatabaseFile(file);
        const database = new SqliteDatabase(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
        // WAL lets readers carry on while one writer commits, which a web app's overlapping
        // requests need; SQLite leaves foreign keys off by default, for backward compatibility only.
        database.pragma('journal_mode = WAL');
        database.pragma('foreign_keys = ON');
        return reads ? endingSnapshots(database, reads) : database;
      },
    },
    reads,
  );
}

/**
 * The writer connection as Kysely sees it (its `SqliteDatabase` interface), whose every statement
 * first ends the side connections' shared snapshot (sqlite-reads.ts). Kysely prepares a statement
 * and runs it in one synchronous step, so no look-up can open a snapshot between the two: a
 * snapshot never spans a commit of this process (which would hold back the WAL checkpoint that
 * runs inside it), and a look-up after a commit, however soon, reads what it wrote.
 */
function endingSnapshots(database: SqliteDatabase.Database, reads: SqliteReads): KyselySqliteDatabase {
  return {
    close: () => database.close(),
    prepare: (sql) => {
      reads.endSnapshot();
      return database.prepare(sql);
    },
  };
}

function mysqlDialect(url: URL, onConnectionError: (error: Error) => void = () => {}): Dialect {
  return new MysqlDialect({
    pool: async () => {
      const pool = createPool({
        // mysql2 reads host, port, user, password, database and any ?option=value from the URL
        // itself (it ignores the scheme, so mariadb:// works too); the options below take precedence.
        uri: url.href,
        connectionLimit: POOL_SIZE,
        connectTimeout: CONNECT_TIMEOUT_MS,
        // DATE columns as the server's own 'yyyy-mm-dd' text. Otherwise mysql2 builds a JS Date at
        // local midnight, which serialises as the previous day in any time zone east of UTC.
        dateStrings: true,
      });
      // mysql2's own listener on each connection is a `once`: a second fatal error on the same
      // connection would be unhandled. A lasting listener makes every one reach the log instead.
      pool.on('connection', (connection) => connection.on('error', onConnectionError));
      return pool;
    },
    // Strict mode whatever the server's default: an impossible date such as 1978-02-30 must be an
    // error, as on PostgreSQL and SQLite, never a silently stored 0000-00-00.
    onCreateConnection: async (connection) => {
      await connection.executeQuery(CompiledQuery.raw(`SET SESSION sql_mode = 'TRADITIONAL,ONLY_FULL_GROUP_BY'`));
    },
  });
}

function postgresDialect(url: URL, onConnectionError: (error: Error) => void = () => {}): Dialect {
  return new PostgresDialect({
    pool: async () => {
      // DATE as the server's own 'yyyy-mm-dd' text, for the same reason as mysql2's dateStrings.
      // A per-pool parser set, so that no other pg user in the process is affected.
      const types = new TypeOverrides();
      types.setTypeParser(pgTypes.builtins.DATE, (value: string) => value);
      const pool = new Pool({
        connectionString: url.href,
        max: POOL_SIZE,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        types,
      });
      // pg-pool listens for errors only on idle clients and removes its listener at checkout, so
      // a connection that dies between two queries of a checked-out client (a server restart under
      // load) emitted an 'error' nobody heard, and the process exited. Every client gets a lasting
      // listener when it is created. The pool re-emits an idle client's error, already reported by
      // that listener, so its own event only needs a listener to be harmless.
      pool.on('connect', (client) => client.on('error', onConnectionError));
      pool.on('error', () => {});
      return pool;
    },
  });
}
