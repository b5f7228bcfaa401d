/**
 * The few places where SQL differs between SQLite, MySQL/MariaDB and PostgreSQL, each behind a
 * named helper. Repositories and migrations call these instead of branching on the engine.
 */
import {
  MysqlAdapter,
  PostgresAdapter,
  SqliteAdapter,
  sql,
  type CreateTableBuilder,
  type Expression,
  type InsertQueryBuilder,
  type Kysely,
  type SqlBool,
} from 'kysely';
import type { DialectName } from './schema.js';

/**
 * Which engine a Kysely instance (or a transaction on one) talks to.
 *
 * Reads the dialect adapter through `getExecutor()`, which Kysely marks internal. It is the only
 * handle that also reaches the transaction a migration runs in, so it is used here and nowhere else;
 * `test/database/connection.test.ts` fails loudly should a Kysely upgrade change it.
 */
export function dialectOf(db: Kysely<any>): DialectName {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  if (adapter instanceof MysqlAdapter) return 'mysql';
  if (adapter instanceof PostgresAdapter) return 'postgres';
  throw new Error(`Unsupported Kysely dialect adapter: ${adapter.constructor.name}`);
}

/**
 * For a primary key the app assigns. On SQLite the exact type name INTEGER would make the column
 * an alias of the rowid, which fills in a number whenever none is given; INT4 has the same integer
 * affinity without that, so a missing number is an error there too.
 */
export function assignedKeyColumnType(dialect: DialectName): 'integer' | 'int4' {
  return dialect === 'sqlite' ? 'int4' : 'integer';
}

/** SQLite has no DATE type: it stores the ISO text as given (the CHECKs below keep it ISO). */
export function dateColumnType(dialect: DialectName): 'date' | 'text' {
  return dialect === 'sqlite' ? 'text' : 'date';
}

/**
 * Table options that make one CREATE TABLE behave the same on every engine; apply it with
 * `createTable(...).$call(portableTable(dialect, table, columns))`.
 *
 * - MySQL: utf8mb4, since a table otherwise takes the server's default character set, still
 *   latin1 on many installs (a Japanese or Greek name would not fit).
 * - SQLite accepts any text in any declared type, so CHECK constraints give it what DATE and
 *   VARCHAR(n) guarantee elsewhere: bad data fails on every engine, not only on two of them.
 *   `x IS date(x)`: date() returns NULL for text that is not a real date and normalises the rest,
 *   so only a valid 'yyyy-mm-dd' equals its own date(); `IS`, not `=`, as a NULL comparison would pass.
 */
export function portableTable(
  dialect: DialectName,
  table: string,
  columns: { dates: readonly string[]; varchars: Readonly<Record<string, number>> },
) {
  return (builder: CreateTableBuilder<any, any>): CreateTableBuilder<any, any> => {
    if (dialect === 'mysql') return builder.modifyEnd(sql`default character set utf8mb4`);
    if (dialect !== 'sqlite') return builder;
    for (const column of columns.dates) {
      builder = builder.addCheckConstraint(`${table}_${column}_iso_date`, sql`${sql.ref(column)} is date(${sql.ref(column)})`);
    }
    for (const [column, length] of Object.entries(columns.varchars)) {
      builder = builder.addCheckConstraint(`${table}_${column}_length`, sql`length(${sql.ref(column)}) <= ${sql.lit(length)}`);
    }
    return builder;
  };
}

/**
 * True when a write failed on a UNIQUE or PRIMARY KEY constraint (e.g. an email already taken),
 * whichever driver threw it: pg's SQLSTATE 23505, MySQL's ER_DUP_ENTRY (1062), SQLite's
 * SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY.
 */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  return (
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    errno === 1062 ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * True when the engine gave up on a transaction because of another one running beside it, so that
 * running it again is the fix: pg's serialization failure (40001) and deadlock (40P01), MySQL's
 * ER_LOCK_DEADLOCK (1213), and SQLite's SQLITE_BUSY_SNAPSHOT (a WAL reader that wanted to write
 * after another connection had committed).
 */
export function isTransactionConflict(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  return code === '40001' || code === '40P01' || code === 'ER_LOCK_DEADLOCK' || errno === 1213 || code === 'SQLITE_BUSY_SNAPSHOT';
}

/**
 * Makes an INSERT skip the rows whose primary key or unique key is already there, and fail on any
 * other error; apply it with `insertInto(...).values(...).$call(skipDuplicateKeys(dialect, column))`.
 *
 * PostgreSQL and SQLite: `ON CONFLICT DO NOTHING`. MySQL has no such clause; its `INSERT IGNORE`
 * would also turn a foreign-key failure into a warning, so it gets `ON DUPLICATE KEY UPDATE
 * column = column` instead: a no-op update of one of the key's own columns.
 */
export function skipDuplicateKeys(dialect: DialectName, keyColumn: string) {
  return <DB, TB extends keyof DB, O>(builder: InsertQueryBuilder<DB, TB, O>): InsertQueryBuilder<DB, TB, O> =>
    dialect === 'mysql'
      ? builder.onDuplicateKeyUpdate({ [keyColumn]: sql.ref(keyColumn) } as Parameters<typeof builder.onDuplicateKeyUpdate>[0])
      : builder.onConflict((conflict) => conflict.doNothing());
}

/**
 * The escape character of every LIKE pattern built here. Not backslash: MySQL reads a backslash
 * in a string as an escape of its own, and PostgreSQL and SQLite do not, so `ESCAPE '\'` would mean
 * different things; `!` means the same on all three.
 */
const LIKE_ESCAPE = '!';

/** `text` as a LIKE pattern that matches exactly that text: `%`, `_` and the escape character lose their meaning. */
export function escapeLikeLiteral(text: string): string {
  return text.replace(/[%_!]/g, (character) => `${LIKE_ESCAPE}${character}`);
}

/**
 * `column LIKE pattern ESCAPE '!'`, case-insensitive on every engine (`pattern` escaped with
 * `escapeLikeLiteral` where it must match literally):
 * - PostgreSQL: `ILIKE`, since its LIKE is case-sensitive;
 * - MySQL/MariaDB: `LIKE`, which follows the column's collation: utf8mb4's default, a `_ci`
 *   (case-insensitive) one, in tables made by our migrations (`portableTable`);
 * - SQLite: `LIKE`, case-insensitive for ASCII letters only (`é` does not match `É`), unless
 *   `PRAGMA case_sensitive_like` is on, which we never turn on.
 */
export function caseInsensitiveLike(dialect: DialectName, column: string, pattern: string): Expression<SqlBool> {
  const operator = dialect === 'postgres' ? sql`ilike` : sql`like`;
  return sql<SqlBool>`${sql.ref(column)} ${operator} ${pattern} escape ${sql.lit(LIKE_ESCAPE)}`;
}

/**
 * Refreshes the planner's statistics for `tables` after a bulk load, so that the first queries are
 * planned on the real row counts: PostgreSQL's and MySQL's `ANALYZE [TABLE]`, and SQLite's
 * `ANALYZE`, which (unlike the others) never runs by itself.
 */
export async function analyzeTables(db: Kysely<any>, tables: readonly string[]): Promise<void> {
  if (tables.length === 0) return;
  const list = sql.join(tables.map((table) => sql.table(table)));
  switch (dialectOf(db)) {
    case 'postgres':
      await sql`analyze ${list}`.execute(db);
      return;
    case 'mysql':
      await sql`analyze table ${list}`.execute(db);
      return;
    case 'sqlite':
      for (const table of tables) await sql`analyze ${sql.table(table)}`.execute(db);
      return;
  }
}

/**
 * Makes an INSERT add one to `counterColumn` of the row already holding its unique `keyColumn`
 * instead of failing: `ON CONFLICT (key) DO UPDATE` on PostgreSQL and SQLite, `ON DUPLICATE KEY
 * UPDATE` on MySQL. One statement, so concurrent writers never lose an increment.
 */
export function incrementOnDuplicateKey(dialect: DialectName, table: string, keyColumn: string, counterColumn: string) {
  return <DB, TB extends keyof DB, O>(builder: InsertQueryBuilder<DB, TB, O>): InsertQueryBuilder<DB, TB, O> => {
    type Updates = Parameters<typeof builder.onDuplicateKeyUpdate>[0];
    if (dialect === 'mysql') return builder.onDuplicateKeyUpdate({ [counterColumn]: sql`${sql.ref(counterColumn)} + 1` } as Updates);
    return builder.onConflict((conflict) =>
      conflict.column(keyColumn as never).doUpdateSet({ [counterColumn]: sql`${sql.ref(`${table}.${counterColumn}`)} + 1` } as never),
    );
  };
}
