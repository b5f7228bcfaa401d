/**
 * MySQL/MariaDB's index for `%infix%` name searches. PostgreSQL has pg_trgm and SQLite's scans are
 * short enough on a search thread; MySQL has neither, and scanning 300,024 employees costs it 40 to
 * 130 ms whatever the pattern (docs/PERFORMANCE.md).
 *
 * `employee_names` holds every distinct last and first name. Names repeat: the full-size data has
 * 459 last and 454 first names for 300,024 people. A search first matches its patterns against these
 * few hundred rows; a rare pattern then reads only the employees with those names, through the
 * (last_name, first_name) and (first_name) indexes, and a pattern nobody matches ends there.
 *
 * The table has the employees' collation, so that its LIKE and `=` fold case (and accents) exactly
 * as the employees' own columns do. It must hold every name: `addEmployeeNames` runs with every
 * insert and update of the repository (in the caller's transaction), the bulk loader refills it, and
 * the migration fills it from what is there. A name no one has any more only costs a wasted look-up,
 * so nothing is removed.
 */
import { type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { dialectOf, skipDuplicateKeys } from './dialects.js';

export const EMPLOYEE_NAMES_TABLE = 'employee_names';
export const FIRST_NAME_INDEX = 'employees_first_name_idx';

/** Fills `employee_names` from `employees` (raw SQL: the loader runs it on its own connection). */
export const REFILL_EMPLOYEE_NAMES_SQL = [
  `delete from ${EMPLOYEE_NAMES_TABLE}`,
  `insert into ${EMPLOYEE_NAMES_TABLE} (kind, name) select distinct 'l', last_name from employees on duplicate key update name = name`,
  `insert into ${EMPLOYEE_NAMES_TABLE} (kind, name) select distinct 'f', first_name from employees on duplicate key update name = name`,
] as const;

/** Keeps `employee_names` in step with written employees; nothing on other engines. */
export async function addEmployeeNames(db: Kysely<Database>, people: ReadonlyArray<{ last_name: string; first_name: string }>): Promise<void> {
  const dialect = dialectOf(db);
  if (dialect !== 'mysql' || people.length === 0) return;
  const names = new Map<string, { kind: 'l' | 'f'; name: string }>();
  for (const { last_name, first_name } of people) {
    names.set(`l${last_name}`, { kind: 'l', name: last_name });
    names.set(`f${first_name}`, { kind: 'f', name: first_name });
  }
  await db.insertInto('employee_names').values([...names.values()]).$call(skipDuplicateKeys(dialect, 'name')).execute();
}
