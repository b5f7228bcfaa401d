/**
 * The rest of the MySQL "employees" sample database (datacharmer/test_db's employees.sql):
 * departments, and every employee's department history, manager spells, titles and salaries, with
 * the sample's keys and foreign keys (an employee's or a department's history goes with it).
 *
 * Dates are DATE on MySQL and PostgreSQL and checked ISO text on SQLite, as in the employees
 * table (`dateColumnType`, `portableTable`). Frozen history: see 2026_11_27_0001_employees.ts.
 */
import type { CreateTableBuilder, Kysely, Migration } from 'kysely';
import type { DialectName } from '../schema.js';
import { dateColumnType, dialectOf, portableTable } from '../dialects.js';

const DEPT_NO_LENGTH = 4;
const DEPT_NAME_LENGTH = 40;
const TITLE_LENGTH = 50;

/** Child tables first, so that `down` can drop them in this order. */
const TABLES = ['salaries', 'titles', 'dept_manager', 'dept_emp', 'departments'] as const;

export const departmentsAndHistoryMigration: Migration = {
  async up(db: Kysely<any>) {
    const dialect = dialectOf(db);
    const date = dateColumnType(dialect);

    await db.schema
      .createTable('departments')
      // char(4) as in the sample; SQLite's length CHECK comes from portableTable.
      .addColumn('dept_no', `char(${DEPT_NO_LENGTH})`, (col) => col.primaryKey().notNull())
      .addColumn('dept_name', `varchar(${DEPT_NAME_LENGTH})`, (col) => col.notNull())
      .addUniqueConstraint('departments_dept_name_unique', ['dept_name'])
      .$call(portableTable(dialect, 'departments', { dates: [], varchars: { dept_no: DEPT_NO_LENGTH, dept_name: DEPT_NAME_LENGTH } }))
      .execute();

    // dept_emp and dept_manager have the same shape: who belonged to (or ran) which department, when.
    for (const table of ['dept_emp', 'dept_manager']) {
      await db.schema
        .createTable(table)
        // `integer`, the same type as employees.emp_no, which MySQL requires of a foreign key.
        .addColumn('emp_no', 'integer', (col) => col.notNull())
        .addColumn('dept_no', `char(${DEPT_NO_LENGTH})`, (col) => col.notNull())
        .addColumn('from_date', date, (col) => col.notNull())
        .addColumn('to_date', date, (col) => col.notNull())
        .addPrimaryKeyConstraint(`${table}_pkey`, ['emp_no', 'dept_no'])
        .$call(employeeForeignKey(table))
        .addForeignKeyConstraint(`${table}_dept_no_fkey`, ['dept_no'], 'departments', ['dept_no'], (fk) => fk.onDelete('cascade'))
        .$call(portableTable(dialect, table, { dates: ['from_date', 'to_date'], varchars: { dept_no: DEPT_NO_LENGTH } }))
        .execute();
      await indexForeignKeyColumn(db, dialect, table, 'dept_no');
    }

    await db.schema
      .createTable('titles')
      .addColumn('emp_no', 'integer', (col) => col.notNull())
      .addColumn('title', `varchar(${TITLE_LENGTH})`, (col) => col.notNull())
      .addColumn('from_date', date, (col) => col.notNull())
      // Nullable, as in the sample (an open-ended title); its rows all carry 9999-01-01 instead.
      .addColumn('to_date', date)
      .addPrimaryKeyConstraint('titles_pkey', ['emp_no', 'title', 'from_date'])
      .$call(employeeForeignKey('titles'))
      // SQLite's date CHECK uses `IS`, so a NULL to_date passes it, as on the other engines.
      .$call(portableTable(dialect, 'titles', { dates: ['from_date', 'to_date'], varchars: { title: TITLE_LENGTH } }))
      .execute();

    await db.schema
      .createTable('salaries')
      .addColumn('emp_no', 'integer', (col) => col.notNull())
      .addColumn('salary', 'integer', (col) => col.notNull())
      .addColumn('from_date', date, (col) => col.notNull())
      .addColumn('to_date', date, (col) => col.notNull())
      .addPrimaryKeyConstraint('salaries_pkey', ['emp_no', 'from_date'])
      .$call(employeeForeignKey('salaries'))
      .$call(portableTable(dialect, 'salaries', { dates: ['from_date', 'to_date'], varchars: {} }))
      .execute();
  },

  async down(db: Kysely<any>) {
    for (const table of TABLES) await db.schema.dropTable(table).execute();
  },
};

/** Every history row goes with its employee, as in the sample (`ON DELETE CASCADE`). */
function employeeForeignKey(table: string) {
  return (builder: CreateTableBuilder<any, any>): CreateTableBuilder<any, any> =>
    builder.addForeignKeyConstraint(`${table}_emp_no_fkey`, ['emp_no'], 'employees', ['emp_no'], (fk) => fk.onDelete('cascade'));
}

/**
 * An index on a foreign-key column that is not the first column of the primary key, so that
 * deleting a department (its cascade) and "who is in d005" do not scan the table. MySQL (InnoDB)
 * makes such an index by itself for every foreign key; a second one would only slow writes.
 */
async function indexForeignKeyColumn(db: Kysely<any>, dialect: DialectName, table: string, column: string): Promise<void> {
  if (dialect === 'mysql') return;
  await db.schema.createIndex(`${table}_${column}_idx`).on(table).column(column).execute();
}
