/**
 * PostgreSQL only: the planner keeps 1000 entries of statistics (most common values and histogram)
 * for each name instead of the default 100, and they are gathered now.
 *
 * A search is `ILIKE` on both names, `ORDER BY emp_no LIMIT 51`. PostgreSQL either walks the primary
 * key until 51 rows match (cheap when matches are common) or takes the trigram indexes' matches and
 * sorts them (cheap when they are rare). It tells which from how many rows it expects a pattern to
 * match, judged against those entries: with 100, `%man%` and `%el` were expected to match 545 rows
 * together (230 do), so it walked the key through 70,000 rows (29 ms); with 1000 it expects 241 and
 * goes through the trigram indexes (3 ms). Measured on the full-size database (300,024 employees);
 * planning a search costs 0.3 to 1 ms either way (docs/PERFORMANCE.md, "What each change bought").
 * SQLite and MySQL/MariaDB plan these searches otherwise (`findEmployeesByNamePatterns`).
 *
 * Frozen history: see 2026_11_27_0001_employees.ts.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf } from '../dialects.js';

const NAME_STATISTICS_TARGET = 1000;

export const nameStatisticsMigration: Migration = {
  async up(db: Kysely<any>) {
    if (dialectOf(db) !== 'postgres') return;
    await setNameStatistics(db, NAME_STATISTICS_TARGET);
    // A table as large as the full-size one is sampled in about a second.
    await sql`analyze employees (last_name, first_name)`.execute(db);
  },

  async down(db: Kysely<any>) {
    if (dialectOf(db) !== 'postgres') return;
    // -1: back to the server's default_statistics_target, gathered at the next (auto)analyze.
    await setNameStatistics(db, -1);
  },
};

async function setNameStatistics(db: Kysely<any>, target: number): Promise<void> {
  await sql`alter table employees alter column last_name set statistics ${sql.lit(target)}, alter column first_name set statistics ${sql.lit(target)}`.execute(
    db,
  );
}
