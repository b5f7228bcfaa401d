/**
 * The `employees` table of the MySQL "employees" sample database, plus the login columns the
 * original series added (email, password hash).
 *
 * Migrations are frozen history: never edit one that has run anywhere; add a new one instead.
 * They use `Kysely<any>` on purpose, since the table types in schema.ts describe only the latest state.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { assignedKeyColumnType, dateColumnType, dialectOf, portableTable } from '../dialects.js';

/** Declared once, so the column types and SQLite's emulated length checks cannot drift apart. */
const VARCHAR_LENGTHS = { first_name: 14, last_name: 16, email: 255, password: 255 } as const;

export const employeesMigration: Migration = {
  async up(db: Kysely<any>) {
    const dialect = dialectOf(db);
    const date = dateColumnType(dialect);
    await db.schema
      .createTable('employees')
      // Not auto-increment: the app allocates employee numbers (the sample data's are 10001..499999).
      // NOT NULL spelled out: SQLite lets NULL into a primary key that is not a rowid alias.
      .addColumn('emp_no', assignedKeyColumnType(dialect), (col) => col.primaryKey().notNull())
      .addColumn('birth_date', date, (col) => col.notNull())
      .addColumn('first_name', `varchar(${VARCHAR_LENGTHS.first_name})`, (col) => col.notNull())
      .addColumn('last_name', `varchar(${VARCHAR_LENGTHS.last_name})`, (col) => col.notNull())
      .addColumn('gender', 'char(1)', (col) => col.notNull())
      .addColumn('hire_date', date, (col) => col.notNull())
      // Stored lower-case by the repository, so a plain UNIQUE is case-insensitive in effect on every engine.
      .addColumn('email', `varchar(${VARCHAR_LENGTHS.email})`, (col) => col.notNull())
      .addColumn('password', `varchar(${VARCHAR_LENGTHS.password})`, (col) => col.notNull())
      .addUniqueConstraint('employees_email_unique', ['email'])
      .addCheckConstraint('employees_gender_check', sql`gender in ('M', 'F')`)
      .$call(portableTable(dialect, 'employees', { dates: ['birth_date', 'hire_date'], varchars: VARCHAR_LENGTHS }))
      .execute();

    // Employee search filters on last name, then first name.
    await db.schema.createIndex('employees_last_name_first_name_idx').on('employees').columns(['last_name', 'first_name']).execute();
  },

  async down(db: Kysely<any>) {
    await db.schema.dropTable('employees').execute();
  },
};
