/**
 * MySQL/MariaDB: the `employee_names` table of name-index.ts, filled from the employees already
 * there, and an index on first_name for searches that narrow by first name only. Nothing on the
 * other engines.
 *
 * Frozen history: see 2026_11_27_0001_employees.ts.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf, portableTable } from '../dialects.js';
import { EMPLOYEE_NAMES_TABLE, FIRST_NAME_INDEX, REFILL_EMPLOYEE_NAMES_SQL } from '../name-index.js';

export const employeeNameIndexMigration: Migration = {
  async up(db: Kysely<any>) {
    if (dialectOf(db) !== 'mysql') return;
    await db.schema
      .createTable(EMPLOYEE_NAMES_TABLE)
      .addColumn('kind', 'char(1)', (column) => column.notNull())
      // As long as the longer of the two name columns (last_name, varchar(16)).
      .addColumn('name', 'varchar(16)', (column) => column.notNull())
      .addPrimaryKeyConstraint(`${EMPLOYEE_NAMES_TABLE}_pkey`, ['kind', 'name'])
      .$call(portableTable('mysql', EMPLOYEE_NAMES_TABLE, { dates: [], varchars: {} }))
      .execute();
    await db.schema.createIndex(FIRST_NAME_INDEX).on('employees').column('first_name').execute();
    for (const statement of REFILL_EMPLOYEE_NAMES_SQL) await sql.raw(statement).execute(db);
  },

  async down(db: Kysely<any>) {
    if (dialectOf(db) !== 'mysql') return;
    await db.schema.dropIndex(FIRST_NAME_INDEX).on('employees').execute();
    await db.schema.dropTable(EMPLOYEE_NAMES_TABLE).execute();
  },
};
