/**
 * The index for `%infix%` name searches on MySQL/MariaDB and SQLite. PostgreSQL has pg_trgm; the
 * other two have nothing that serves a leading `%`, and a rare pattern must scan all 300,024
 * employees to fill its first page: 40 to 130 ms on MySQL, 30 to 100 ms on SQLite
 * (docs/PERFORMANCE.md).
 *
 * `employee_names` holds every distinct last (`kind` 'l') and first ('f') name. Names repeat: the
 * full-size data has 459 last and 454 first names for 300,024 people. A search first matches its
 * patterns against these few hundred rows; a rare pattern then reads only the employees with those
 * names, through the name indexes, and a pattern nobody matches ends there.
 *
 * The names compare as the employees' own columns do (MySQL: the table has their collation; SQLite:
 * NOCASE, as its LIKE ignores ASCII case), so the table's LIKE and `=` find exactly the names the
 * employees' LIKE would. It must hold every name: `addEmployeeNames` runs with every insert and
 * update of the repository (in the caller's transaction), the bulk loader refills it, and the
 * migration fills it from what is there. A name no one has any more only costs a wasted look-up, so
 * nothing is removed.
 */
import { type Kysely } from 'kysely';
import type { Database, DialectName } from './schema.js';
import { dialectOf, skipDuplicateKeys } from './dialects.js';

export const EMPLOYEE_NAMES_TABLE = 'employee_names';

/** Whether this engine keeps `employee_names` (PostgreSQL does not need it). */
export function hasNameIndex(dialect: DialectName): dialect is 'mysql' | 'sqlite' {
  return dialect === 'mysql' || dialect === 'sqlite';
}

/** Statements that fill `employee_names` from `employees` (raw SQL: the loader runs them on its own connection). */
export function refillEmployeeNamesSql(dialect: 'mysql' | 'sqlite'): string[] {
  const insert = (kind: string, column: string) =>
    dialect === 'mysql'
      ? `insert into ${EMPLOYEE_NAMES_TABLE} (kind, name) select distinct '${kind}', ${column} from employees on duplicate key update name = name`
      : `insert or ignore into ${EMPLOYEE_NAMES_TABLE} (kind, name) select distinct '${kind}', ${column} from employees`;
  return [`delete from ${EMPLOYEE_NAMES_TABLE}`, insert('l', 'last_name'), insert('f', 'first_name')];
}

/** Keeps `employee_names` in step with written employees; nothing on PostgreSQL. */
export async function addEmployeeNames(
  db: Kysely<Database>,
  people: ReadonlyArray<{ last_name: string; first_name: string }>,
): Promise<void> {
  const dialect = dialectOf(db);
  if (!hasNameIndex(dialect) || people.length === 0) return;
  const names = new Map<string, { kind: 'l' | 'f'; name: string }>();
  for (const { last_name, first_name } of people) {
    names.set(`l${last_name}`, { kind: 'l', name: last_name });
    names.set(`f${first_name}`, { kind: 'f', name: first_name });
  }
  await db
    .insertInto('employee_names')
    .values([...names.values()])
    .$call(skipDuplicateKeys(dialect, 'name'))
    .execute();
}
