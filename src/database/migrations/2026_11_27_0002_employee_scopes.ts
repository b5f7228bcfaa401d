/**
 * Which OAuth2 scopes each employee holds: one row per (employee, scope). The original series
 * hard-coded them in a dictionary, so changing a grant took a release; a table lets an administrator change them
 * (`npm run admin -- scopes ...`) without a release.
 *
 * No CHECK on the scope names: the list of valid names (identity/scopes.ts) may grow, and
 * a migration is frozen history. Writers take only known names (the `ScopeName` type), and the
 * authorisation rules ignore a stored name they do not know.
 *
 * Employees who already exist (a database from before this migration) get `user:read`, the
 * original's default for anyone it did not list, so nobody loses access to their own record.
 * On a new database the table is empty here and the seed fills it.
 */
import type { Kysely, Migration } from 'kysely';
import { dialectOf, portableTable } from '../dialects.js';

export const employeeScopesMigration: Migration = {
  async up(db: Kysely<any>) {
    const dialect = dialectOf(db);
    await db.schema
      .createTable('employee_scopes')
      // The same type as employees.emp_no, which MySQL requires of a foreign key.
      .addColumn('emp_no', 'integer', (col) => col.notNull())
      .addColumn('scope', 'varchar(16)', (col) => col.notNull())
      .addPrimaryKeyConstraint('employee_scopes_pkey', ['emp_no', 'scope'])
      // An employee's scopes go with the employee. All three engines enforce this (SQLite because
      // the connection turns foreign keys on).
      .addForeignKeyConstraint('employee_scopes_emp_no_fkey', ['emp_no'], 'employees', ['emp_no'], (fk) => fk.onDelete('cascade'))
      .$call(portableTable(dialect, 'employee_scopes', { dates: [], varchars: { scope: 16 } }))
      .execute();
    await db
      .insertInto('employee_scopes')
      .columns(['emp_no', 'scope'])
      .expression((eb) => eb.selectFrom('employees').select(['emp_no', eb.val('user:read').as('scope')]))
      .execute();
  },

  async down(db: Kysely<any>) {
    await db.schema.dropTable('employee_scopes').execute();
  },
};
