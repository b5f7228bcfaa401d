/**
 * Fills a database with the sample data: `npm run db:load -- --size full` (src/cli/db-load.ts).
 *
 * Migrates first, then refuses a database that already holds data unless told to replace it, in
 * which case it empties the sample tables (children first) before loading. `small` is what the
 * app's first start seeds (`seedIfEmpty`); `tiny` and `full` come from the generator and go in
 * through each engine's bulk path (`bulk-load.ts`).
 */
import { sql, type Kysely } from 'kysely';
import { createDatabase, parseDatabaseUrl } from '../../database/connection.js';
import { analyzeTables } from '../../database/dialects.js';
import { migrateToLatest } from '../../database/migrate.js';
import type { Database } from '../../database/schema.js';
import { hashSeedPassword, seedIfEmpty } from '../seed.js';
import { bulkLoad } from './bulk-load.js';
import { DATA_SIZES, SAMPLE_COLUMNS, SAMPLE_TABLES, SampleData, type GeneratedSize, type SampleTable } from './generate.js';
import { SILENT_PROGRESS, type LoadProgress } from './progress.js';

export type LoadSize = 'small' | GeneratedSize;
export const LOAD_SIZES: readonly LoadSize[] = ['small', ...(Object.keys(DATA_SIZES) as GeneratedSize[])];

export function isLoadSize(value: string): value is LoadSize {
  return (LOAD_SIZES as readonly string[]).includes(value);
}

/** The database already holds data, and replacing it was not asked for. */
export class DatabaseNotEmptyError extends Error {
  constructor(readonly tables: readonly string[]) {
    super(`The database already holds data (in ${tables.join(', ')})`);
    this.name = 'DatabaseNotEmptyError';
  }
}

export interface LoadOptions {
  size: LoadSize;
  /** Empty the sample tables first when they hold data (`--yes`); otherwise such a database is refused. */
  replace: boolean;
  /** Where the default SQLite file lives when DATABASE_URL is unset. */
  dataDir: string;
  /** The generator's seed (`DEFAULT_SEED` when unset). */
  seed?: number;
  progress?: LoadProgress;
}

export interface LoadSummary {
  size: LoadSize;
  /** Engine and location, safe for logs (never a password). */
  describe: string;
  /** Rows per table once loaded, in load order. */
  rows: Record<SampleTable, number>;
  seconds: number;
}

export async function loadSampleDatabase(databaseUrl: string | undefined, options: LoadOptions): Promise<LoadSummary> {
  const startedAt = performance.now();
  const progress = options.progress ?? SILENT_PROGRESS;
  const target = parseDatabaseUrl(databaseUrl, options.dataDir);
  const handle = createDatabase(databaseUrl, { dataDir: options.dataDir });
  try {
    await migrateToLatest(handle.db);
    const filled = await tablesWithRows(handle.db);
    if (filled.length > 0 && !options.replace) throw new DatabaseNotEmptyError(filled);
    // Children first, so that no foreign key is ever left pointing at a deleted row. The passkeys
    // point at employees too, and go every time: a new employee 10001 must not inherit the old one's
    // passkeys (and PostgreSQL truncates no table another one references, empty or not).
    const empty = [...PERSONAL_TABLES, ...(filled.length > 0 ? [...SAMPLE_TABLES].reverse() : [])];

    let rows: Record<SampleTable, number>;
    if (options.size === 'small') {
      await bulkLoad(target, { empty, tables: [] }, progress);
      await seedIfEmpty(handle.db);
      rows = await countRows(handle.db);
    } else {
      // One hash of `password` per algorithm, shared by every employee (see generate.ts): hashing
      // 300,024 passwords would take hours, and a real deployment resets them anyway.
      const data = new SampleData({ employees: DATA_SIZES[options.size], seed: options.seed, passwords: await hashSeedPassword() });
      const totals = data.countRows();
      const tables = SAMPLE_TABLES.map((table) => ({
        table,
        columns: SAMPLE_COLUMNS[table],
        total: totals[table],
        rows: () => data.rows(table),
      }));
      const written = await bulkLoad(target, { empty, tables }, progress);
      rows = Object.fromEntries(SAMPLE_TABLES.map((table) => [table, written[table] ?? 0])) as Record<SampleTable, number>;
      await analyzeTables(handle.db, SAMPLE_TABLES);
    }
    return { size: options.size, describe: handle.describe, rows, seconds: (performance.now() - startedAt) / 1000 };
  } finally {
    await handle.db.destroy();
  }
}

/** Tables of a person's own that reference `employees`: emptied whenever the employees are loaded. */
const PERSONAL_TABLES = ['passkeys'] as const;

async function tablesWithRows(db: Kysely<Database>): Promise<SampleTable[]> {
  const filled: SampleTable[] = [];
  for (const table of SAMPLE_TABLES) {
    const { rows } = await sql`select 1 from ${sql.table(table)} limit 1`.execute(db);
    if (rows.length > 0) filled.push(table);
  }
  return filled;
}

async function countRows(db: Kysely<Database>): Promise<Record<SampleTable, number>> {
  const counts = {} as Record<SampleTable, number>;
  for (const table of SAMPLE_TABLES) {
    const { rows } = await sql<{ count: number | string | bigint }>`select count(*) as count from ${sql.table(table)}`.execute(db);
    counts[table] = Number(rows[0]?.count ?? 0);
  }
  return counts;
}
