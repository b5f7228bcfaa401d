/**
 * The rest of the sample database's schema (departments and each employee's history) and the
 * search indexes, on every engine.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { createDatabase } from '../../src/database/connection.js';
import type { Database } from '../../src/database/schema.js';
import { isUniqueViolation } from '../../src/database/dialects.js';
import { migrateToLatest } from '../../src/database/migrate.js';
import { searchEmployees } from '../../src/employees/employee-service.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';
import { SERVICE_URLS, serviceGate } from '../helpers/services.js';

const EMPLOYEE = {
  emp_no: 700001,
  birth_date: '1960-01-01',
  first_name: 'Hist',
  last_name: 'Ory',
  gender: 'M' as const,
  hire_date: '1990-01-01',
  email: 'hist.ory.700001@gmail.com',
  password: 'x',
};

for (const engine of ENGINES) {
  describe(`the history tables on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine, { seed: false });
      await testDb.db.insertInto('employees').values(EMPLOYEE).execute();
      await testDb.db.insertInto('departments').values({ dept_no: 'd001', dept_name: 'Marketing' }).execute();
    });
    after(() => testDb?.cleanup());

    it('creates departments, dept_emp, dept_manager, titles and salaries, only titles.to_date nullable', async () => {
      const tables = await testDb.db.introspection.getTables();
      const shape = Object.fromEntries(
        ['departments', 'dept_emp', 'dept_manager', 'titles', 'salaries'].map((name) => [
          name,
          tables
            .find((table) => table.name === name)
            ?.columns.map((column) => `${column.name}${column.isNullable ? '?' : ''}`)
            .sort(),
        ]),
      );
      assert.deepEqual(shape, {
        departments: ['dept_name', 'dept_no'],
        dept_emp: ['dept_no', 'emp_no', 'from_date', 'to_date'],
        dept_manager: ['dept_no', 'emp_no', 'from_date', 'to_date'],
        titles: ['emp_no', 'from_date', 'title', 'to_date?'],
        salaries: ['emp_no', 'from_date', 'salary', 'to_date'],
      });
    });

    it('stores history rows as given, dates as yyyy-mm-dd text and an open title without an end', async () => {
      const salary = { emp_no: EMPLOYEE.emp_no, salary: 60_117, from_date: '1990-01-01', to_date: '1991-01-01' };
      const title = { emp_no: EMPLOYEE.emp_no, title: 'Senior Engineer', from_date: '1990-01-01', to_date: null };
      const spell = { emp_no: EMPLOYEE.emp_no, dept_no: 'd001', from_date: '1990-01-01', to_date: '9999-01-01' };
      await testDb.db.insertInto('salaries').values(salary).execute();
      await testDb.db.insertInto('titles').values(title).execute();
      await testDb.db.insertInto('dept_emp').values(spell).execute();
      await testDb.db.insertInto('dept_manager').values(spell).execute();
      assert.deepEqual(await testDb.db.selectFrom('salaries').selectAll().execute(), [salary]);
      assert.deepEqual(await testDb.db.selectFrom('titles').selectAll().execute(), [title]);
      assert.deepEqual(await testDb.db.selectFrom('dept_emp').selectAll().execute(), [spell]);
      assert.deepEqual(await testDb.db.selectFrom('dept_manager').selectAll().execute(), [spell]);
    });

    it('refuses a second salary from the same day, and a second department with the same name', async () => {
      await assert.rejects(
        testDb.db
          .insertInto('salaries')
          .values({ emp_no: EMPLOYEE.emp_no, salary: 1, from_date: '1990-01-01', to_date: '1991-01-01' })
          .execute(),
        (error) => isUniqueViolation(error),
      );
      await assert.rejects(testDb.db.insertInto('departments').values({ dept_no: 'd002', dept_name: 'Marketing' }).execute(), (error) =>
        isUniqueViolation(error),
      );
    });

    it('refuses history of an unknown employee or department, an impossible date and a department number over 4 characters', async () => {
      const spell = { emp_no: EMPLOYEE.emp_no, dept_no: 'd001', from_date: '1990-01-01', to_date: '9999-01-01' };
      await assert.rejects(
        testDb.db
          .insertInto('dept_emp')
          .values({ ...spell, emp_no: 799_999 })
          .execute(),
      );
      await assert.rejects(
        testDb.db
          .insertInto('dept_manager')
          .values({ ...spell, emp_no: EMPLOYEE.emp_no, dept_no: 'd009' })
          .execute(),
      );
      await assert.rejects(
        testDb.db
          .insertInto('salaries')
          .values({ emp_no: EMPLOYEE.emp_no, salary: 1, from_date: '1991-02-30', to_date: '1992-01-01' })
          .execute(),
      );
      await assert.rejects(testDb.db.insertInto('departments').values({ dept_no: 'd0010', dept_name: 'Too long' }).execute());
    });

    it("deletes an employee's history with the employee, and a department's spells with the department", async () => {
      await testDb.db.insertInto('departments').values({ dept_no: 'd002', dept_name: 'Finance' }).execute();
      await testDb.db
        .insertInto('dept_emp')
        .values({ emp_no: EMPLOYEE.emp_no, dept_no: 'd002', from_date: '1995-01-01', to_date: '9999-01-01' })
        .execute();
      await testDb.db.deleteFrom('departments').where('dept_no', '=', 'd002').execute();
      assert.deepEqual(await testDb.db.selectFrom('dept_emp').select('dept_no').execute(), [{ dept_no: 'd001' }]);

      await testDb.db.deleteFrom('employees').where('emp_no', '=', EMPLOYEE.emp_no).execute();
      for (const table of ['dept_emp', 'dept_manager', 'titles', 'salaries'] as const) {
        assert.deepEqual(await testDb.db.selectFrom(table).select('emp_no').execute(), [], table);
      }
    });
  });

  describe(`the employee search indexes on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine);
    });
    after(() => testDb?.cleanup());

    it(
      engine === 'postgres'
        ? 'are trigram GIN indexes on each name'
        : engine === 'sqlite'
          ? 'are NOCASE indexes on the names'
          : 'are the (last_name, first_name) and (first_name) indexes',
      async () => {
        assert.deepEqual(await employeeIndexes(testDb), EXPECTED_INDEXES[engine]);
      },
    );

    if (engine === 'postgres') {
      it('keep 1000 entries of planner statistics on each name (how rare a pattern is decides the plan)', async () => {
        const { rows } = await sql<{ column: string; target: number }>`
          select attname as column, attstattarget::int as target from pg_attribute
          where attrelid = 'employees'::regclass and attname in ('last_name', 'first_name') order by attname`.execute(testDb.db);
        assert.deepEqual(rows, [
          { column: 'first_name', target: 1000 },
          { column: 'last_name', target: 1000 },
        ]);
      });
    }

    if (engine === 'sqlite') {
      it('serve a search with a literal prefix as a range of the NOCASE index', async () => {
        const { rows } = await sql<{
          detail: string;
        }>`explain query plan select emp_no from employees where last_name like ${'Gorn%'} escape '!' and first_name like ${'%'} escape '!' order by emp_no limit 51`.execute(
          testDb.db,
        );
        assert.match(
          rows.map((row) => row.detail).join(' | '),
          /USING (COVERING )?INDEX employees_name_nocase_idx \(last_name>\? AND last_name<\?\)/,
        );
        const found = await searchEmployees(testDb.db, { lastName: 'gorn%', firstName: '%' });
        assert.deepEqual(
          found.items.map((employee) => employee.emp_no),
          [12483, 496044],
        );
      });
    }
  });
}

const EXPECTED_INDEXES = {
  postgres: ['employees_first_name_trgm_idx', 'employees_last_name_trgm_idx'],
  sqlite: ['employees_first_name_nocase_idx', 'employees_name_nocase_idx'],
  mysql: ['employees_first_name_idx', 'employees_last_name_first_name_idx'],
};

/** The employees table's indexes that are not there for a key (the primary key, the unique email). */
async function employeeIndexes(testDb: TestDatabase): Promise<string[]> {
  const query = {
    postgres: sql<{
      name: string;
    }>`select indexname as name from pg_indexes where tablename = 'employees' and indexname not in ('employees_pkey', 'employees_email_unique')`,
    sqlite: sql<{
      name: string;
    }>`select name from sqlite_schema where type = 'index' and tbl_name = 'employees' and name not like 'sqlite_autoindex_%'`,
    mysql: sql<{
      name: string;
    }>`select distinct index_name as name from information_schema.statistics where table_schema = database() and table_name = 'employees' and index_name not in ('PRIMARY', 'employees_email_unique')`,
  }[testDb.dialect];
  const { rows } = await query.execute(testDb.db);
  return rows.map((row) => row.name).sort();
}

describe('the search index migration on PostgreSQL without the right to create pg_trgm', await serviceGate('postgres'), () => {
  const suffix = randomBytes(6).toString('hex');
  const role = `ep_test_role_${suffix}`;
  const database = `ep_test_${suffix}`;
  const admin = () => createDatabase(SERVICE_URLS.postgres, { dataDir: tmpdir() }).db;
  let trgm: 'installed' | 'not installed';

  before(async () => {
    const db = admin();
    try {
      // A role that may create tables but not extensions: pg_trgm is trusted, so it needs the
      // database's CREATE privilege, which this role lacks (as on many managed servers).
      await sql`create role ${sql.id(role)} login`.execute(db);
      await sql`create database ${sql.id(database)}`.execute(db);
    } finally {
      await db.destroy();
    }
    const url = new URL(SERVICE_URLS.postgres);
    url.pathname = `/${database}`;
    const onDatabase = createDatabase(url.href, { dataDir: tmpdir() }).db;
    try {
      await sql`grant create, usage on schema public to ${sql.id(role)}`.execute(onDatabase);
      trgm = await pgTrgmInstalled(onDatabase);
    } finally {
      await onDatabase.destroy();
    }
  });

  after(async () => {
    const db = admin();
    try {
      await sql`drop database if exists ${sql.id(database)} with (force)`.execute(db);
      await sql`drop role if exists ${sql.id(role)}`.execute(db);
    } finally {
      await db.destroy();
    }
  });

  it('still migrates, warns that the search is not indexed, and the search works by scanning', async (t) => {
    if (trgm === 'installed') {
      t.skip('pg_trgm is already installed in the template database, so nothing is refused');
      return;
    }
    const url = new URL(SERVICE_URLS.postgres);
    url.username = role;
    url.pathname = `/${database}`;
    const warnings: Error[] = [];
    const listen = (warning: Error) => warnings.push(warning);
    process.on('warning', listen);
    const { db } = createDatabase(url.href, { dataDir: tmpdir() });
    try {
      await migrateToLatest(db);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings
          .filter((warning) => (warning as { code?: string }).code === 'EP_SEARCH_UNINDEXED')
          .map((warning) => warning.message.split(':')[0]),
        ['Employee search is not indexed for partial names'],
      );
      const { rows } = await sql<{
        name: string;
      }>`select indexname as name from pg_indexes where tablename = 'employees' order by 1`.execute(db);
      assert.deepEqual(
        rows.map((row) => row.name),
        ['employees_email_unique', 'employees_last_name_first_name_idx', 'employees_pkey'],
      );
      await db.insertInto('employees').values(EMPLOYEE).execute();
      assert.deepEqual(
        (await searchEmployees(db, { lastName: '%or%', firstName: 'h%' })).items.map((employee) => employee.emp_no),
        [EMPLOYEE.emp_no],
      );
    } finally {
      process.off('warning', listen);
      await db.destroy();
    }
  });
});

/**
 * Whether a new database already carries pg_trgm: it does when template1 does, and then every new
 * database has it and nothing is refused. Asked of the new database itself, not of template1: a
 * connection to template1 makes every CREATE DATABASE on the server fail meanwhile ("source
 * database is being accessed by other users"), and test files run side by side create theirs.
 */
async function pgTrgmInstalled(db: Kysely<Database>): Promise<'installed' | 'not installed'> {
  const { rows } = await sql`select 1 from pg_extension where extname = 'pg_trgm'`.execute(db);
  return rows.length > 0 ? 'installed' : 'not installed';
}
