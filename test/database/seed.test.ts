import { seedHistory } from '../../src/sample-data/seed-history.js';
import { DEPARTMENTS } from '../../src/database/departments.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verify as argon2Verify } from '@node-rs/argon2';
import { verify as bcryptVerify } from '@node-rs/bcrypt';
import {
  LEGACY_BCRYPT_EMAILS,
  LEGACY_BCRYPT_EMP_NOS,
  SEED_EMPLOYEES,
  SEED_PASSWORD,
  SEED_SCOPES,
  seedIfEmpty,
} from '../../src/sample-data/seed.js';
import { PUBLIC_EMPLOYEE_COLUMNS } from '../../src/employees/employee-repository.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';

describe('the sample employees', () => {
  it("include the original series' own user 500222", () => {
    assert.deepEqual(
      SEED_EMPLOYEES.find((employee) => employee.email === 'behai_nguyen@hotmail.com'),
      {
        emp_no: 500222,
        birth_date: '1978-12-09',
        first_name: 'Be Hai',
        last_name: 'Doe',
        gender: 'M',
        hire_date: '2022-11-01',
        email: 'behai_nguyen@hotmail.com',
      },
    );
  });

  it('include every user the original series logs in as', () => {
    const emails = new Set(SEED_EMPLOYEES.map((employee) => employee.email));
    const expected = [
      'pranav.furedi.10198@gmail.com',
      'moss.shanbhogue.10045@gmail.com',
      'kazuhisa.ranta.10199@gmail.com',
      'nidapan.samarati.262556@gmail.com',
      'kyoichi.maliniak.10005@gmail.com',
      'weijing.showalter.67000@gmail.com',
      'mary.sluis.10011@gmail.com',
      'heekeun.majewski.10153@gmail.com',
    ];
    assert.deepEqual(
      expected.filter((email) => !emails.has(email)),
      [],
    );
  });

  it('hold 30 to 50 rows with distinct numbers and emails', () => {
    assert.ok(SEED_EMPLOYEES.length >= 30 && SEED_EMPLOYEES.length <= 50, `${SEED_EMPLOYEES.length} rows`);
    assert.equal(new Set(SEED_EMPLOYEES.map((employee) => employee.emp_no)).size, SEED_EMPLOYEES.length);
    assert.equal(new Set(SEED_EMPLOYEES.map((employee) => employee.email)).size, SEED_EMPLOYEES.length);
  });

  it('have first.last.empno@gmail.com emails, lower-case and without spaces, except 500222', () => {
    const offFormula = SEED_EMPLOYEES.filter(
      (employee) =>
        employee.email !== `${employee.first_name}.${employee.last_name}.${employee.emp_no}@gmail.com`.toLowerCase().replaceAll(' ', ''),
    );
    assert.deepEqual(
      offFormula.map((employee) => employee.emp_no),
      [500222],
    );
  });

  it("carry the original series' scopes: six listed users as it listed them, user:read for everyone else", () => {
    const listed = {
      'moss.shanbhogue.10045@gmail.com': [],
      'behai_nguyen@hotmail.com': ['user:read', 'user:write'],
      'nidapan.samarati.262556@gmail.com': ['user:read'],
      'kyoichi.maliniak.10005@gmail.com': ['admin:read', 'admin:write'],
      'weijing.showalter.67000@gmail.com': ['admin:read'],
      'mary.sluis.10011@gmail.com': ['super:*'],
    };
    assert.deepEqual(
      SEED_SCOPES,
      Object.fromEntries(SEED_EMPLOYEES.map(({ email }) => [email, listed[email as keyof typeof listed] ?? ['user:read']])),
    );
  });

  it('name the legacy bcrypt users by email', () => {
    assert.deepEqual(LEGACY_BCRYPT_EMP_NOS, [10001, 10002, 10003, 10004]);
    assert.deepEqual(LEGACY_BCRYPT_EMAILS, [
      'georgi.facello.10001@gmail.com',
      'bezalel.simmel.10002@gmail.com',
      'parto.bamford.10003@gmail.com',
      'chirstian.koblick.10004@gmail.com',
    ]);
  });
});

for (const engine of ENGINES) {
  describe(`seeding on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine, { seed: false });
    });
    after(() => testDb?.cleanup());

    it('inserts every sample employee into an empty table', async () => {
      assert.deepEqual(await seedIfEmpty(testDb.db), { inserted: SEED_EMPLOYEES.length });
    });

    it('grants every sample employee their seed scopes', async () => {
      const rows = await testDb.db
        .selectFrom('employee_scopes')
        .innerJoin('employees', 'employees.emp_no', 'employee_scopes.emp_no')
        .select(['employees.email', 'employee_scopes.scope'])
        .execute();
      const granted: Record<string, string[]> = Object.fromEntries(SEED_EMPLOYEES.map(({ email }) => [email, []]));
      for (const { email, scope } of rows) granted[email]!.push(scope);
      assert.deepEqual(
        Object.fromEntries(Object.entries(granted).map(([email, scopes]) => [email, scopes.sort()])),
        Object.fromEntries(Object.entries(SEED_SCOPES).map(([email, scopes]) => [email, [...scopes].sort()])),
      );
    });

    it('inserts nothing the second time', async () => {
      assert.deepEqual(await seedIfEmpty(testDb.db), { inserted: 0 });
    });

    it('gives every sample employee a current department, title and salary, and every department a manager', async () => {
      const history = seedHistory(SEED_EMPLOYEES);
      assert.deepEqual(seedHistory(SEED_EMPLOYEES), history, 'the same rows every time');
      const current = <T extends { emp_no: number; to_date: string | null }>(rows: T[]) =>
        new Set(rows.filter((row) => row.to_date === '9999-01-01').map((row) => row.emp_no));
      const everyone = SEED_EMPLOYEES.map((e) => e.emp_no).sort((a, b) => a - b);
      for (const table of ['dept_emp', 'titles', 'salaries'] as const) {
        const rows = await testDb.db.selectFrom(table).selectAll().execute();
        assert.deepEqual(
          [...current(rows as never[])].sort((a, b) => a - b),
          everyone,
          table,
        );
      }
      const managers = await testDb.db.selectFrom('dept_manager').select(['dept_no', 'emp_no']).orderBy('dept_no').execute();
      assert.deepEqual(
        managers,
        DEPARTMENTS.map((d, i) => ({ dept_no: d.dept_no, emp_no: 10001 + i })),
      );
      const salaries = await testDb.db
        .selectFrom('salaries')
        .select(['emp_no', 'salary', 'from_date', 'to_date'])
        .orderBy('emp_no')
        .orderBy('from_date')
        .execute();
      assert.deepEqual(
        salaries.map((row) => ({ ...row, salary: Number(row.salary) })),
        [...history.salaries].sort((a, b) => a.emp_no - b.emp_no || a.from_date.localeCompare(b.from_date)),
      );
      const behai = await testDb.db.selectFrom('dept_emp').select('dept_no').where('emp_no', '=', 500222).execute();
      assert.deepEqual(behai, [{ dept_no: 'd005' }]);
    });

    it('stores each sample employee exactly as listed, dates as yyyy-mm-dd text', async () => {
      const rows = await testDb.db.selectFrom('employees').select(PUBLIC_EMPLOYEE_COLUMNS).orderBy('emp_no').execute();
      assert.deepEqual(
        rows,
        [...SEED_EMPLOYEES].sort((a, b) => a.emp_no - b.emp_no),
      );
    });

    it('gives the legacy users one bcrypt hash and everyone else one argon2id hash, both of the seed password', async () => {
      const rows = await testDb.db.selectFrom('employees').select(['emp_no', 'password']).execute();
      const bcryptHashes = new Set(rows.filter((row) => LEGACY_BCRYPT_EMP_NOS.includes(row.emp_no)).map((row) => row.password));
      const argon2Hashes = new Set(rows.filter((row) => !LEGACY_BCRYPT_EMP_NOS.includes(row.emp_no)).map((row) => row.password));
      assert.deepEqual([bcryptHashes.size, argon2Hashes.size], [1, 1]);

      const [bcryptHash] = bcryptHashes;
      const [argon2Hash] = argon2Hashes;
      assert.match(bcryptHash!, /^\$2[aby]\$10\$/);
      assert.match(argon2Hash!, /^\$argon2id\$/);
      assert.deepEqual(
        [
          await bcryptVerify(SEED_PASSWORD, bcryptHash!),
          await argon2Verify(argon2Hash!, SEED_PASSWORD),
          await argon2Verify(argon2Hash!, 'Password'),
        ],
        [true, true, false],
      );
    });
  });
}

for (const engine of ENGINES) {
  describe(`seeding concurrently on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine, { seed: false });
    });
    after(() => testDb?.cleanup());

    it('inserts the sample employees once when two app instances start together', async () => {
      const results = await Promise.all([seedIfEmpty(testDb.db), seedIfEmpty(testDb.db)]);
      assert.deepEqual(
        results.map((result) => result.inserted).sort((a, b) => a - b),
        [0, SEED_EMPLOYEES.length],
      );
      const rows = await testDb.db.selectFrom('employees').select('emp_no').execute();
      assert.equal(rows.length, SEED_EMPLOYEES.length);
      const grants = await testDb.db.selectFrom('employee_scopes').select('emp_no').execute();
      assert.equal(grants.length, Object.values(SEED_SCOPES).flat().length);
    });
  });

  describe(`seeding behind another writer on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine, { seed: false });
    });
    after(() => testDb?.cleanup());

    it('gives way, inserting nothing, when another instance commits a sample row first', async () => {
      const [first] = SEED_EMPLOYEES;
      let seeding: Promise<{ inserted: number }> | undefined;
      await testDb.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('employees')
          .values({ ...first!, password: 'x' })
          .execute();
        // Starts while the row is not yet committed: the seed sees an empty table, then collides.
        seeding = seedIfEmpty(testDb.db);
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      assert.deepEqual(await seeding, { inserted: 0 });
      const rows = await testDb.db.selectFrom('employees').select('emp_no').execute();
      assert.deepEqual(rows, [{ emp_no: first!.emp_no }]);
      // The seed's scopes went with its employees: one transaction.
      assert.deepEqual(await testDb.db.selectFrom('employee_scopes').selectAll().execute(), []);
    });
  });
}
