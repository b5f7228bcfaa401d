/**
 * Writes many rows fast, one way per engine, each the engine's own bulk path:
 * - PostgreSQL: `COPY ... FROM STDIN` (pg-copy-streams), the whole load in one transaction;
 * - MySQL/MariaDB: multi-row INSERTs of about a megabyte each, one transaction per table, with
 *   foreign-key and unique checks off for the session (as mysqldump's output does), which also lets
 *   InnoDB build an empty table's indexes in bulk instead of row by row;
 * - SQLite: one prepared INSERT run per row, all in one transaction, on a connection whose
 *   `synchronous` is OFF for the load only.
 *
 * These talk to the driver directly, not through Kysely: COPY and better-sqlite3's statements
 * are below what a query builder offers, and a builder would cost more than the database does at
 * four million rows. Values are never pasted into SQL unescaped: COPY's text format and mysql2's
 * `escape` are the quoting rules of their engines.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import SqliteDatabase from 'better-sqlite3';
import { createConnection, escape as mysqlEscape } from 'mysql2/promise';
import { Client as PgClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DatabaseTarget } from '../connection.js';
import type { LoadProgress } from './progress.js';

export type RowValue = string | number | null;
export type Row = Readonly<Record<string, RowValue>>;

export interface TablePlan {
  table: string;
  columns: readonly string[];
  total: number;
  rows: () => Iterable<Row>;
}

export interface BulkPlan {
  /** Tables to empty first, children before parents (and all of them on PostgreSQL, in one TRUNCATE). */
  empty: readonly string[];
  /** Tables to fill, parents before children. */
  tables: readonly TablePlan[];
}

/** Rows written per table. */
export type BulkResult = Record<string, number>;

/** Empties, then fills, the tables of `plan` in the database `target` names. */
export function bulkLoad(target: DatabaseTarget, plan: BulkPlan, progress: LoadProgress): Promise<BulkResult> {
  switch (target.dialect) {
    case 'postgres':
      return loadPostgres(target.url, plan, progress);
    case 'mysql':
      return loadMysql(target.url, plan, progress);
    case 'sqlite':
      return Promise.resolve(loadSqlite(target.file, plan, progress));
  }
}

/** Rows per progress report: often enough for a smooth bar, rarely enough to cost nothing. */
const PROGRESS_EVERY_ROWS = 10_000;

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/** COPY data is sent in chunks of about this many characters. */
const COPY_CHUNK_CHARS = 256 * 1024;

async function loadPostgres(url: URL, plan: BulkPlan, progress: LoadProgress): Promise<BulkResult> {
  const client = new PgClient({ connectionString: url.href });
  await client.connect();
  const written: BulkResult = {};
  try {
    // One transaction: a failed load leaves the database as it was.
    await client.query('begin');
    // The load owns the data: asynchronous commit is safe here (a crash loses the load, never
    // corrupts), and saves a WAL flush wait at the end.
    await client.query('set local synchronous_commit = off');
    if (plan.empty.length > 0) await client.query(`truncate ${plan.empty.map(quotePostgres).join(', ')}`);
    for (const table of plan.tables) {
      progress.start(table.table, table.total);
      const copy = client.query(copyFrom(`copy ${quotePostgres(table.table)} (${table.columns.map(quotePostgres).join(', ')}) from stdin`));
      let count = 0;
      const data = function* () {
        for (const chunk of chunks(table, COPY_CHUNK_CHARS, copyLine)) {
          yield chunk.text;
          count += chunk.rows;
          progress.advance(chunk.rows);
        }
      };
      await pipeline(Readable.from(data()), copy);
      written[table.table] = count;
      progress.finish();
    }
    await client.query('commit');
    return written;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

function quotePostgres(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** One row in COPY's text format: tab-separated, `\N` for NULL, backslash escapes. */
function copyLine(row: Row, columns: readonly string[]): string {
  let line = '';
  for (let index = 0; index < columns.length; index++) {
    const value = row[columns[index]!];
    const text = value === null || value === undefined ? '\\N' : typeof value === 'number' ? String(value) : escapeCopyText(value);
    line += index === 0 ? text : `\t${text}`;
  }
  return `${line}\n`;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
function escapeCopyText(text: string): string {
  if (!COPY_SPECIAL.test(text)) return text;
  return text.replace(/[\\\t\n\r]/g, (character) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[character]!);
}

// ---------------------------------------------------------------------------------------------
// MySQL / MariaDB

/** One INSERT carries about this many characters: far below max_allowed_packet (16 MB by default on MariaDB, 64 MB on MySQL 8). */
const INSERT_STATEMENT_CHARS = 1024 * 1024;

async function loadMysql(url: URL, plan: BulkPlan, progress: LoadProgress): Promise<BulkResult> {
  const connection = await createConnection({ uri: url.href, charset: 'utf8mb4' });
  const written: BulkResult = {};
  try {
    // Strict, as the app's connections are (connection.ts): bad data fails rather than being bent.
    // Foreign-key and unique checks off for this session only, as in mysqldump's output: the
    // generator's rows are consistent by construction (its tests check them), and with both off
    // InnoDB builds the indexes of an empty table in bulk. Nothing else on the server changes.
    await connection.query(`set session sql_mode = 'TRADITIONAL,ONLY_FULL_GROUP_BY', foreign_key_checks = 0, unique_checks = 0`);
    // TRUNCATE (a drop and re-create of the table's storage) is instant where DELETE would write
    // undo for millions of rows; it commits by itself, so it comes before the load's transactions.
    for (const table of plan.empty) await connection.query(`truncate table ${quoteMysql(table)}`);
    for (const table of plan.tables) {
      progress.start(table.table, table.total);
      await connection.beginTransaction();
      const prefix = `insert into ${quoteMysql(table.table)} (${table.columns.map(quoteMysql).join(', ')}) values `;
      let count = 0;
      // The next statement is built while the server runs the previous one: two cores, both busy.
      let inFlight: Promise<unknown> | undefined;
      for (const batch of chunks(table, INSERT_STATEMENT_CHARS, mysqlTuple, ',')) {
        await inFlight;
        inFlight = connection.query(prefix + batch.text).then(() => {
          count += batch.rows;
          progress.advance(batch.rows);
        });
      }
      await inFlight;
      await connection.commit();
      written[table.table] = count;
      progress.finish();
    }
    return written;
  } catch (error) {
    await connection.rollback().catch(() => {});
    throw error;
  } finally {
    await connection.end();
  }
}

function quoteMysql(identifier: string): string {
  return `\`${identifier.replaceAll('`', '``')}\``;
}

function mysqlTuple(row: Row, columns: readonly string[]): string {
  let tuple = '(';
  for (let index = 0; index < columns.length; index++) {
    const value = row[columns[index]!];
    if (index > 0) tuple += ',';
    tuple += typeof value === 'number' ? String(value) : mysqlEscape(value ?? null);
  }
  return `${tuple})`;
}

// ---------------------------------------------------------------------------------------------
// SQLite

/** How long to wait for another connection's lock (the app's own setting, connection.ts). */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

function loadSqlite(file: string, plan: BulkPlan, progress: LoadProgress): BulkResult {
  const database = new SqliteDatabase(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  const written: BulkResult = {};
  try {
    // WAL as the app uses it; `synchronous = OFF` and a large page cache for this connection
    // only: they end with it, and a crash during the load loses the load, nothing before it.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = OFF');
    database.pragma('cache_size = -262144'); // KiB: 256 MiB, so that index pages stay in memory
    database.pragma('foreign_keys = ON');
    const load = database.transaction(() => {
      for (const table of plan.empty) database.prepare(`delete from ${quoteSqlite(table)}`).run();
      for (const table of plan.tables) {
        progress.start(table.table, table.total);
        const insert = database.prepare(
          `insert into ${quoteSqlite(table.table)} (${table.columns.map(quoteSqlite).join(', ')}) values (${table.columns.map(() => '?').join(', ')})`,
        );
        const values: RowValue[] = new Array(table.columns.length);
        let count = 0;
        for (const row of table.rows()) {
          for (let index = 0; index < table.columns.length; index++) values[index] = row[table.columns[index]!] ?? null;
          insert.run(values);
          if (++count % PROGRESS_EVERY_ROWS === 0) progress.advance(PROGRESS_EVERY_ROWS);
        }
        progress.advance(count % PROGRESS_EVERY_ROWS);
        written[table.table] = count;
        progress.finish();
      }
    });
    load();
    // Folds the WAL back into the database file now, rather than on the app's first writes.
    database.pragma('wal_checkpoint(TRUNCATE)');
    return written;
  } finally {
    database.close();
  }
}

function quoteSqlite(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

// ---------------------------------------------------------------------------------------------

interface Chunk {
  text: string;
  rows: number;
}

/**
 * A table's rows as text chunks of about `chunkChars` characters, `separator` between rows: COPY
 * data, or an INSERT's VALUES list. Only one chunk is in memory at a time.
 */
function* chunks(table: TablePlan, chunkChars: number, format: (row: Row, columns: readonly string[]) => string, separator = ''): Generator<Chunk> {
  let text = '';
  let rows = 0;
  for (const row of table.rows()) {
    text += rows === 0 ? format(row, table.columns) : separator + format(row, table.columns);
    rows++;
    if (text.length >= chunkChars) {
      yield { text, rows };
      text = '';
      rows = 0;
    }
  }
  if (rows > 0) yield { text, rows };
}
