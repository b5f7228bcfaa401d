/**
 * Indexes for the employee search at full size (300,024 rows): partial names, case-insensitive,
 * usually with a leading `%` (`findEmployeesByNamePatterns`: LIKE/ILIKE ... ESCAPE '!', ORDER BY
 * emp_no, LIMIT). A B-tree cannot serve a leading `%`, so each engine gets what it can use; the
 * numbers behind each choice are in docs/PERFORMANCE.md ("Full-size data").
 *
 * - PostgreSQL: trigram GIN indexes (pg_trgm) on each name, which ILIKE uses for any pattern with
 *   three characters or more between wildcards (`%nas%`, `Gor%`). pg_trgm ships with PostgreSQL
 *   but is an extension: when it cannot be created here (not installed, no privilege), this
 *   migration still succeeds, warns, and leaves the search to scan (see below to add it later).
 *   The (last_name, first_name) B-tree goes: ILIKE never used it.
 * - SQLite: the same index with NOCASE names, which turns a pattern with a literal prefix
 *   (`Gornas%`) into a range scan, since SQLite's case-insensitive LIKE may only use a NOCASE
 *   index; it replaces the binary one, which LIKE never used. A leading `%` still scans the table.
 * - MySQL/MariaDB: nothing new. Its LIKE already uses (last_name, first_name) for a literal prefix,
 *   and InnoDB keeps the primary key in every secondary index, so that index already is the
 *   covering (last_name, first_name, emp_no); scanning it costs as much as scanning the table.
 *
 * Frozen history: see 2026_11_27_0001_employees.ts.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf } from '../dialects.js';

const NAME_INDEX = 'employees_last_name_first_name_idx';
const LAST_NAME_TRIGRAM_INDEX = 'employees_last_name_trgm_idx';
const FIRST_NAME_TRIGRAM_INDEX = 'employees_first_name_trgm_idx';
const NOCASE_NAME_INDEX = 'employees_name_nocase_idx';

export const employeeNameSearchIndexesMigration: Migration = {
  async up(db: Kysely<any>) {
    switch (dialectOf(db)) {
      case 'postgres':
        await createTrigramIndexesOnPostgres(db);
        return;
      case 'sqlite':
        await createNocaseNameIndexOnSqlite(db);
        return;
      case 'mysql':
        return;
    }
  },

  async down(db: Kysely<any>) {
    switch (dialectOf(db)) {
      case 'postgres':
        // The extension stays: something else may use it by now.
        await db.schema.dropIndex(LAST_NAME_TRIGRAM_INDEX).ifExists().execute();
        await db.schema.dropIndex(FIRST_NAME_TRIGRAM_INDEX).ifExists().execute();
        break;
      case 'sqlite':
        await db.schema.dropIndex(NOCASE_NAME_INDEX).execute();
        break;
      case 'mysql':
        return;
    }
    await db.schema.createIndex(NAME_INDEX).ifNotExists().on('employees').columns(['last_name', 'first_name']).execute();
  },
};

/**
 * pg_trgm's GIN indexes on both names, if the extension is there or can be created. To add them
 * later on a database where it could not: `CREATE EXTENSION pg_trgm;` then the two CREATE INDEX
 * statements below, by hand.
 */
async function createTrigramIndexesOnPostgres(db: Kysely<any>): Promise<void> {
  const schema = await ensurePgTrgm(db);
  if (schema === undefined) return;
  // Qualified by the extension's schema, which need not be on the search path (e.g. `extensions`).
  const operatorClass = sql`${sql.id(schema)}.gin_trgm_ops`;
  await sql`create index ${sql.id(LAST_NAME_TRIGRAM_INDEX)} on employees using gin (last_name ${operatorClass})`.execute(db);
  await sql`create index ${sql.id(FIRST_NAME_TRIGRAM_INDEX)} on employees using gin (first_name ${operatorClass})`.execute(db);
  await db.schema.dropIndex(NAME_INDEX).execute();
}

/**
 * The schema pg_trgm is installed in, creating it first if needed; undefined (with a warning)
 * when it is not available or cannot be created. Checks `pg_available_extensions` first, and
 * tries the CREATE under a savepoint, so that a refusal does not abort the migration's transaction.
 */
async function ensurePgTrgm(db: Kysely<any>): Promise<string | undefined> {
  const installedIn = async () =>
    (
      await sql<{
        schema: string;
      }>`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(
        db,
      )
    ).rows[0]?.schema;

  const installed = await installedIn();
  if (installed !== undefined) return installed;
  const { rows } = await sql`select 1 from pg_available_extensions where name = 'pg_trgm'`.execute(db);
  if (rows.length === 0) {
    warnSearchUnindexed('the pg_trgm extension is not installed on this server (Debian/Ubuntu: it comes with the postgresql package)');
    return undefined;
  }
  // The migrator runs each migration in a transaction on PostgreSQL; a failed statement would
  // abort it, unless it is rolled back to a savepoint.
  const guarded = db.isTransaction;
  try {
    if (guarded) await sql`savepoint create_pg_trgm`.execute(db);
    await sql`create extension if not exists pg_trgm`.execute(db);
    if (guarded) await sql`release savepoint create_pg_trgm`.execute(db);
  } catch (error) {
    if (guarded) await sql`rollback to savepoint create_pg_trgm`.execute(db);
    warnSearchUnindexed(`CREATE EXTENSION pg_trgm failed: ${(error as Error).message}`);
    return undefined;
  }
  return installedIn();
}

/** Migrations have no logger: a process warning reaches stderr (and any 'warning' listener). */
function warnSearchUnindexed(reason: string): void {
  process.emitWarning(
    `Employee search is not indexed for partial names: ${reason}. It still works, by scanning the table (slow at full size). See src/database/migrations/2026_12_01_0002_employee_name_search_indexes.ts.`,
    { code: 'EP_SEARCH_UNINDEXED' },
  );
}

/** NOCASE, as SQLite's case-insensitive LIKE needs of an index; emp_no last, for the ORDER BY. */
async function createNocaseNameIndexOnSqlite(db: Kysely<any>): Promise<void> {
  await sql`create index ${sql.id(NOCASE_NAME_INDEX)} on employees (last_name collate nocase, first_name collate nocase, emp_no)`.execute(
    db,
  );
  await db.schema.dropIndex(NAME_INDEX).execute();
}
