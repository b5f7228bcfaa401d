/**
 * MySQL/MariaDB and SQLite: the `employee_names` table of name-index.ts, filled from the employees
 * already there, and an index on first_name for searches narrowed by first name (SQLite's NOCASE,
 * as its case-insensitive LIKE needs). Nothing on PostgreSQL, whose trigram indexes serve any pattern.
 *
 * Frozen history: see 2026_11_27_0001_employees.ts.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf, portableTable } from '../dialects.js';
import { EMPLOYEE_NAMES_TABLE, hasNameIndex, refillEmployeeNamesSql } from '../name-index.js';

const FIRST_NAME_INDEX = 'employees_first_name_idx';
const FIRST_NAME_NOCASE_INDEX = 'employees_first_name_nocase_idx';

export const employeeNameIndexMigration: Migration = {
  async up(db: Kysely<any>) {
    const dialect = dialectOf(db);
    if (!hasNameIndex(dialect)) return;
    await db.schema
      .createTable(EMPLOYEE_NAMES_TABLE)
      .addColumn('kind', 'char(1)', (column) => column.notNull())
      // As long as the longer of the two name columns (last_name, varchar(16)); on SQLite, NOCASE
      // so that its primary key and comparisons ignore case as the search's LIKE does.
      .addColumn('name', 'varchar(16)', (column) =>
        dialect === 'sqlite' ? column.notNull().modifyEnd(sql`collate nocase`) : column.notNull(),
      )
      .addPrimaryKeyConstraint(`${EMPLOYEE_NAMES_TABLE}_pkey`, ['kind', 'name'])
      .$call(portableTable(dialect, EMPLOYEE_NAMES_TABLE, { dates: [], varchars: {} }))
      .execute();
    if (dialect === 'mysql') await db.schema.createIndex(FIRST_NAME_INDEX).on('employees').column('first_name').execute();
    else await sql`create index ${sql.id(FIRST_NAME_NOCASE_INDEX)} on employees (first_name collate nocase)`.execute(db);
    for (const statement of refillEmployeeNamesSql(dialect)) await sql.raw(statement).execute(db);
  },

  async down(db: Kysely<any>) {
    const dialect = dialectOf(db);
    if (!hasNameIndex(dialect)) return;
    if (dialect === 'mysql') await db.schema.dropIndex(FIRST_NAME_INDEX).on('employees').execute();
    else await db.schema.dropIndex(FIRST_NAME_NOCASE_INDEX).execute();
    await db.schema.dropTable(EMPLOYEE_NAMES_TABLE).execute();
  },
};
