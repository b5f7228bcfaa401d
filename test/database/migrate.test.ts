import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDatabase } from '../../src/database/connection.js';
import { isUniqueViolation } from '../../src/database/dialects.js';
import { migrateToLatest } from '../../src/database/migrate.js';
import { MIGRATIONS } from '../../src/database/migrations/index.js';
import { exactEmailComparisonMigration } from '../../src/database/migrations/2026_12_02_0001_exact_email_comparison.js';
import { findEmployeeNumberByEmail } from '../../src/employees/employee-repository.js';
import type { NewEmployeeRow } from '../../src/database/schema.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';

/** A valid row; each test changes one thing about it. */
const VALID: NewEmployeeRow = {
  emp_no: 600001,
  birth_date: '1980-02-29',
  first_name: 'Valid',
  last_name: 'Row',
  gender: 'F',
  hire_date: '2005-07-01',
  email: 'valid.row.600001@gmail.com',
  password: '$argon2id$not-a-real-hash',
};

for (const engine of ENGINES) {
  describe(`migrations on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine, { seed: false });
    });
    after(() => testDb?.cleanup());

    const insert = (changes: Partial<NewEmployeeRow>) =>
      testDb.db
        .insertInto('employees')
        .values({ ...VALID, ...changes })
        .execute();

    it('creates the employees table with its nine columns, none of them nullable', async () => {
      const tables = await testDb.db.introspection.getTables();
      const employees = tables.find((table) => table.name === 'employees');
      assert.deepEqual(
        employees?.columns.map(({ name, isNullable }) => ({ name, isNullable })).sort((a, b) => a.name.localeCompare(b.name)),
        ['birth_date', 'disabled', 'email', 'emp_no', 'first_name', 'gender', 'hire_date', 'last_name', 'password'].map((name) => ({
          name,
          isNullable: false,
        })),
      );
    });

    it('creates the employee_scopes table with its two columns, neither nullable', async () => {
      const tables = await testDb.db.introspection.getTables();
      const scopes = tables.find((table) => table.name === 'employee_scopes');
      assert.deepEqual(
        scopes?.columns.map(({ name, isNullable }) => ({ name, isNullable })).sort((a, b) => a.name.localeCompare(b.name)),
        ['emp_no', 'scope'].map((name) => ({ name, isNullable: false })),
      );
    });

    it('records every migration once, and running them again changes nothing', async () => {
      await migrateToLatest(testDb.db);
      await migrateToLatest(testDb.db);
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(testDb.db);
      assert.deepEqual(
        rows,
        Object.keys(MIGRATIONS)
          .sort()
          .map((name) => ({ name })),
      );
    });

    it('accepts a valid row, a 29 February included', async () => {
      await insert({});
      const row = await testDb.db.selectFrom('employees').selectAll().where('emp_no', '=', VALID.emp_no).executeTakeFirst();
      assert.deepEqual(row, { ...VALID, disabled: 0 }, 'an account is enabled unless said otherwise');
    });

    it('refuses a second employee with the same email', async () => {
      await assert.rejects(insert({ emp_no: 600002 }), (error) => isUniqueViolation(error));
    });

    it('refuses a second employee with the same number', async () => {
      await assert.rejects(insert({ email: 'other.600001@gmail.com' }), (error) => isUniqueViolation(error));
    });

    it('refuses a row without an employee number, since the database never assigns one', async () => {
      const { emp_no: _omitted, ...withoutNumber } = VALID;
      await assert.rejects(
        testDb.db
          .insertInto('employees')
          .values({ ...withoutNumber, email: 'x.none@gmail.com' } as NewEmployeeRow)
          .execute(),
      );
    });

    it('refuses a gender other than M or F', async () => {
      await assert.rejects(insert({ emp_no: 600003, email: 'x.600003@gmail.com', gender: 'X' as 'M' }));
    });

    it('refuses an impossible date rather than storing something else', async () => {
      await assert.rejects(insert({ emp_no: 600004, email: 'x.600004@gmail.com', birth_date: '1978-02-30' }));
    });

    it('refuses a first name longer than its 14 characters', async () => {
      await assert.rejects(insert({ emp_no: 600005, email: 'x.600005@gmail.com', first_name: 'Abcdefghijklmno' }));
    });

    it('refuses a scope for an unknown employee, a second copy of a scope, and a scope name over 16 characters', async () => {
      const grant = (emp_no: number, scope: string) => testDb.db.insertInto('employee_scopes').values({ emp_no, scope }).execute();
      await grant(VALID.emp_no, 'user:read');
      await assert.rejects(grant(600099, 'user:read'));
      await assert.rejects(grant(VALID.emp_no, 'user:read'), (error) => isUniqueViolation(error));
      await assert.rejects(grant(VALID.emp_no, 'a'.repeat(17)));
    });

    it("deletes an employee's scopes with the employee", async () => {
      await insert({ emp_no: 600010, email: 'x.600010@gmail.com' });
      await testDb.db.insertInto('employee_scopes').values({ emp_no: 600010, scope: 'admin:read' }).execute();
      await testDb.db.deleteFrom('employees').where('emp_no', '=', 600010).execute();
      assert.deepEqual(await testDb.db.selectFrom('employee_scopes').select('emp_no').where('emp_no', '=', 600010).execute(), []);
    });

    it('left only the valid row behind', async () => {
      const rows = await testDb.db.selectFrom('employees').select('emp_no').execute();
      assert.deepEqual(rows, [{ emp_no: VALID.emp_no }]);
    });
  });

  describe(`exact email comparison on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine, { seed: false });
    });
    after(() => testDb?.cleanup());

    const row = (emp_no: number, email: string): NewEmployeeRow => ({ ...VALID, emp_no, email });
    const emails = async () =>
      (await testDb.db.selectFrom('employees').select(['emp_no', 'email']).orderBy('emp_no').execute()).map((r) => [r.emp_no, r.email]);

    it('normalises emails stored before (trim, NFKC, lower case), then finds only exact spellings', async () => {
      // Written past the repository, as rows from before the normalisation were.
      await testDb.db
        .insertInto('employees')
        .values([
          row(600010, ' ＭＩＸＥＤ.Case.600010@Example.COM '),
          row(600011, 'kyòichi.600011@example.com'),
          row(600012, '\u212Aelvin.600012@example.com'),
        ])
        .execute();
      await exactEmailComparisonMigration.up(testDb.db);
      assert.deepEqual(await emails(), [
        [600010, 'mixed.case.600010@example.com'],
        [600011, 'kyòichi.600011@example.com'],
        [600012, 'kelvin.600012@example.com'],
      ]);
      assert.equal(await findEmployeeNumberByEmail(testDb.db, 'kyoichi.600011@example.com'), undefined, 'an accent is not ignored');
      assert.equal(await findEmployeeNumberByEmail(testDb.db, 'KYÒICHI.600011@example.com'), 600011);
    });

    it('stops, naming both employees, when two stored emails become one', async () => {
      await testDb.db
        .insertInto('employees')
        .values([row(600020, 'same.600020@example.com'), row(600021, 'ＳＡＭＥ.600020@example.com')])
        .execute();
      await assert.rejects(exactEmailComparisonMigration.up(testDb.db), {
        message:
          'employees 600021 and 600020 both have the email same.600020@example.com once normalised; give one of them another email first',
      });
    });
  });

  describe(`a failing migration on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine, { seed: false });
    });
    after(() => testDb?.cleanup());

    it('is reported by name, with the database error as its cause', async () => {
      // A fresh database whose `employees` table already exists (not made by the migration).
      const { db } = createDatabase(testDb.url, { dataDir: tmpdir() });
      try {
        await sql`drop table kysely_migration`.execute(db);
        await assert.rejects(migrateToLatest(db), (error: Error) => {
          assert.match(error.message, /^Database migration "2026_11_27_0001_employees" failed: /);
          assert.ok(error.cause instanceof Error);
          return true;
        });
      } finally {
        await db.destroy();
      }
    });
  });
}
