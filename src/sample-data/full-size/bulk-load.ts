/**
 * Writes many rows fast, one way per engine, each the engine's own bulk path:
 * - PostgreSQL: `COPY ... FROM STDIN` (pg-copy-streams), the whole load in one transaction, with
 *   foreign keys and secondary indexes made again after the data rather than kept up row by row;
 * - MySQL/MariaDB: `LOAD DATA LOCAL INFILE` from a stream (multi-row INSERTs where the server
 *   refuses it), one transaction per table, with foreign-key and unique checks off for the session,
 *   as in mysqldump's output, which also lets InnoDB build an empty table's indexes in bulk;
 * - SQLite: one prepared INSERT run per row, all in one transaction, on a connection whose
 *   `synchronous` is OFF for the load only.
 *
 * These talk to the drivers directly, not through Kysely: COPY, LOAD DATA and better-sqlite3's
 * statements are below what a query builder offers, and a builder would cost more than the
 * database does at four million rows. Values are never pasted into SQL unescaped: the COPY/LOAD
 * DATA text format and mysql2's `escape` are the quoting rules of their engines.
 *
 * pg-copy-streams is the one dependency added for this: the pg driver has no COPY of its own, and
 * COPY is PostgreSQL's bulk path (several times the speed of multi-row INSERTs).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import SqliteDatabase from 'better-sqlite3';
import {
  createConnection,
  escape as mysqlEscape,
  type Connection as MysqlConnection,
  type ResultSetHeader,
  type RowDataPacket,
} from 'mysql2/promise';
import { Client as PgClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DatabaseTarget } from '../../database/connection.js';
import type { LoadProgress } from './progress.js';
import { refillEmployeeNamesSql } from '../../database/name-index.js';

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

interface DeferredDdl {
  table: string;
  name: string;
  /** Recreates it: `pg_get_constraintdef` / `pg_get_indexdef` output. */
  definition: string;
}

async function loadPostgres(url: URL, plan: BulkPlan, progress: LoadProgress): Promise<BulkResult> {
  const client = new PgClient({ connectionString: url.href });
  await client.connect();
  const written: BulkResult = {};
  const loaded = plan.tables.map((table) => table.table);
  try {
    // One transaction, DDL included: a failed load leaves the database exactly as it was.
    await client.query('begin');
    // The load owns the data: asynchronous commit is safe here (a crash loses the load, never
    // corrupts), and a large maintenance_work_mem speeds up the index builds and key checks below.
    await client.query(`set local synchronous_commit = off`);
    await client.query(`set local maintenance_work_mem = '256MB'`);
    // Truncating in this transaction also lets COPY write its rows already frozen (FREEZE), so
    // the first queries after the load do not rewrite every page to set hint bits.
    const truncated = [...new Set([...plan.empty, ...loaded])];
    if (truncated.length > 0) await client.query(`truncate ${truncated.map(quotePostgres).join(', ')}`);

    // As pg_restore does: foreign keys and secondary indexes are dropped for the load and made
    // again after it. A foreign key checked row by row costs a trigger per row, queued until the
    // statement ends (about 20 s for the salaries alone); added afterwards, it is checked by one
    // join. An index built once from sorted data beats one updated four hundred thousand times.
    const foreignKeys = loaded.length > 0 ? await postgresForeignKeys(client, loaded) : [];
    const indexes = loaded.length > 0 ? await postgresSecondaryIndexes(client, loaded) : [];
    for (const key of foreignKeys) await client.query(`alter table ${quotePostgres(key.table)} drop constraint ${quotePostgres(key.name)}`);
    for (const index of indexes) await client.query(`drop index ${quotePostgres(index.name)}`);

    for (const table of plan.tables) {
      progress.start(table.table, table.total);
      const columns = table.columns.map(quotePostgres).join(', ');
      const copy = client.query(copyFrom(`copy ${quotePostgres(table.table)} (${columns}) from stdin with (freeze)`));
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

    for (const index of indexes) await client.query(index.definition);
    for (const key of foreignKeys)
      await client.query(`alter table ${quotePostgres(key.table)} add constraint ${quotePostgres(key.name)} ${key.definition}`);
    await client.query('commit');
    return written;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

/** The foreign keys of `tables` (declared on them, wherever they point), in the current schema. */
async function postgresForeignKeys(client: PgClient, tables: readonly string[]): Promise<DeferredDdl[]> {
  const { rows } = await client.query<DeferredDdl>(
    `select c.relname as "table", k.conname as "name", pg_get_constraintdef(k.oid) as "definition"
       from pg_constraint k join pg_class c on c.oid = k.conrelid
      where k.contype = 'f' and c.relnamespace = current_schema()::regnamespace and c.relname = any($1)
      order by c.relname, k.conname`,
    [tables],
  );
  return rows;
}

/** Indexes of `tables` that back no constraint (primary keys and UNIQUE constraints stay). */
async function postgresSecondaryIndexes(client: PgClient, tables: readonly string[]): Promise<DeferredDdl[]> {
  const { rows } = await client.query<DeferredDdl>(
    `select t.relname as "table", i.relname as "name", pg_get_indexdef(x.indexrelid) as "definition"
       from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
      where t.relnamespace = current_schema()::regnamespace and t.relname = any($1)
        and not exists (select 1 from pg_constraint k where k.conindid = x.indexrelid)
      order by t.relname, i.relname`,
    [tables],
  );
  return rows;
}

function quotePostgres(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * One row in the tab-separated text format that PostgreSQL's COPY and MySQL's LOAD DATA both
 * read by default: `\N` for NULL, and backslash escapes for backslash, tab, newline and return.
 */
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

/** LOAD DATA sends its rows in chunks of this many characters. */
const LOAD_DATA_CHUNK_CHARS = 256 * 1024;
/** One INSERT carries about this many characters: far below max_allowed_packet (16 MB by default on MariaDB, 64 MB on MySQL 8). */
const INSERT_STATEMENT_CHARS = 1024 * 1024;
/**
 * The server will not take LOAD DATA LOCAL (`local_infile` off, MySQL 8's default; or a client
 * without the LOCAL_FILES flag): ER_NOT_ALLOWED_COMMAND (older servers), MySQL 8's
 * ER_CLIENT_LOCAL_FILES_DISABLED and ER_LOAD_INFILE_CAPABILITY_DISABLED, and MariaDB 10.6+'s
 * ER_LOAD_INFILE_CAPABILITY_DISABLED (4166).
 */
const LOCAL_INFILE_REFUSED = new Set([1148, 3948, 3950, 4166]);

async function loadMysql(url: URL, plan: BulkPlan, progress: LoadProgress): Promise<BulkResult> {
  const connection = await createConnection({ uri: url.href, charset: 'utf8mb4' });
  const written: BulkResult = {};
  let method: 'load-data' | 'insert' = 'load-data';
  try {
    // Strict, as the app's connections are (connection.ts): bad data fails rather than being bent.
    // Foreign-key and unique checks off for this session only, as in mysqldump's output: the
    // generator's rows are consistent by construction (its tests check them), and with both off
    // InnoDB builds the indexes of an empty table in bulk. Nothing else on the server changes.
    await connection.query(`set session sql_mode = 'TRADITIONAL,ONLY_FULL_GROUP_BY', foreign_key_checks = 0, unique_checks = 0`);
    // TRUNCATE (a drop and re-create of the table's storage) is instant where DELETE would write
    // undo for millions of rows; it commits by itself, so it comes before the load's transactions.
    // One transaction per table (InnoDB's bulk path works table by table): a load that fails part
    // way keeps the tables done so far, and `--yes` replaces them on the next run.
    for (const table of plan.empty) await connection.query(`truncate table ${quoteMysql(table)}`);
    for (const table of plan.tables) {
      progress.start(table.table, table.total);
      await connection.beginTransaction();
      let count: number;
      try {
        count = method === 'load-data' ? await mysqlLoadData(connection, table, progress) : await mysqlInsert(connection, table, progress);
      } catch (error) {
        if (method !== 'load-data' || !LOCAL_INFILE_REFUSED.has((error as { errno?: number }).errno ?? 0)) throw error;
        // Refused before a single row went in: the same rows again, as INSERTs, from here on.
        await connection.rollback();
        method = 'insert';
        await connection.beginTransaction();
        count = await mysqlInsert(connection, table, progress);
      }
      await connection.commit();
      written[table.table] = count;
      progress.finish();
    }
    // The search's name index (name-index.ts) follows the employees the load replaced.
    if (plan.tables.some(({ table }) => table === 'employees')) {
      for (const statement of refillEmployeeNamesSql('mysql')) await connection.query(statement);
    }
    return written;
  } catch (error) {
    await connection.rollback().catch(() => {});
    throw error;
  } finally {
    await connection.end();
  }
}

/**
 * LOAD DATA LOCAL: the fastest way into InnoDB, about twice the speed of multi-row INSERTs here.
 * With LOCAL the server cannot stop the client's stream, so it turns data errors into warnings
 * (as if IGNORE were given); a load that drew any warning, or lost a row, is therefore an error.
 */
async function mysqlLoadData(connection: MysqlConnection, table: TablePlan, progress: LoadProgress): Promise<number> {
  let count = 0;
  const data = function* () {
    for (const chunk of chunks(table, LOAD_DATA_CHUNK_CHARS, copyLine)) {
      // mysql2 copies each chunk into a packet with Buffer#copy: Buffers, not strings.
      yield Buffer.from(chunk.text);
      count += chunk.rows;
      progress.advance(chunk.rows);
    }
  };
  const [result] = await connection.query<ResultSetHeader>({
    sql: `load data local infile 'stream' into table ${quoteMysql(table.table)} character set utf8mb4 (${table.columns.map(quoteMysql).join(', ')})`,
    infileStreamFactory: () => Readable.from(data()),
  });
  if (result.warningStatus > 0 || result.affectedRows !== count) {
    const [warnings] = await connection.query<RowDataPacket[]>('show warnings limit 3');
    throw new Error(
      `LOAD DATA into ${table.table} took ${result.affectedRows} of ${count} rows with ${result.warningStatus} warnings: ${warnings.map((warning) => String(warning.Message)).join('; ')}`,
    );
  }
  return count;
}

/** Multi-row INSERTs; the next statement is built while the server runs the previous one. */
async function mysqlInsert(connection: MysqlConnection, table: TablePlan, progress: LoadProgress): Promise<number> {
  const prefix = `insert into ${quoteMysql(table.table)} (${table.columns.map(quoteMysql).join(', ')}) values `;
  let count = 0;
  let inFlight: Promise<unknown> | undefined;
  for (const batch of chunks(table, INSERT_STATEMENT_CHARS, mysqlTuple, ',')) {
    await inFlight;
    inFlight = connection.query(prefix + batch.text).then(() => {
      count += batch.rows;
      progress.advance(batch.rows);
    });
  }
  await inFlight;
  return count;
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
        const values = new Array<RowValue>(table.columns.length);
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
      // The search's name index (name-index.ts) follows the employees the load replaced.
      if (plan.tables.some(({ table }) => table === 'employees')) {
        for (const statement of refillEmployeeNamesSql('sqlite')) database.prepare(statement).run();
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
function* chunks(
  table: TablePlan,
  chunkChars: number,
  format: (row: Row, columns: readonly string[]) => string,
  separator = '',
): Generator<Chunk> {
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
