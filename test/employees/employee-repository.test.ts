import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verify as argon2Verify } from '@node-rs/argon2';
import { isUniqueViolation } from '../../src/database/dialects.js';
import type { NewEmployeeRow } from '../../src/database/schema.js';
import { SEED_EMPLOYEES, SEED_PASSWORD } from '../../src/sample-data/seed.js';
import {
  findEmployeeByEmail,
  findEmployeeByNumber,
  findEmployeesByNamePatterns,
  findLoginState,
  insertEmployees,
  PUBLIC_EMPLOYEE_COLUMNS,
  setAccountDisabled,
  updateEmployeeDetails,
  updatePasswordHash,
  upgradePasswordHash,
} from '../../src/employees/employee-repository.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';

const BE_HAI = {
  emp_no: 500222,
  birth_date: '1978-12-09',
  first_name: 'Be Hai',
  last_name: 'Doe',
  gender: 'M',
  hire_date: '2022-11-01',
  email: 'behai_nguyen@hotmail.com',
} as const;

const GUENTER = {
  emp_no: 10399,
  birth_date: '1957-06-13',
  first_name: 'Guenter',
  last_name: 'Marchegay',
  gender: 'F',
  hire_date: '1985-05-07',
  email: 'guenter.marchegay.10399@gmail.com',
} as const;

function newEmployee(empNo: number, email: string): NewEmployeeRow {
  return {
    emp_no: empNo,
    birth_date: '1990-05-17',
    first_name: 'Test',
    last_name: 'Person',
    gender: 'F',
    hire_date: '2020-01-02',
    email,
    password: 'hash',
  };
}

for (const engine of ENGINES) {
  describe(`employee repository on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine);
    });
    after(() => testDb?.cleanup());

    describe('findEmployeeByEmail', () => {
      it('returns the whole row, password hash included, for login', async () => {
        const row = await findEmployeeByEmail(testDb.db, 'behai_nguyen@hotmail.com');
        assert.ok(row);
        const { password, disabled, ...rest } = row;
        assert.deepEqual(rest, BE_HAI);
        assert.equal(disabled, 0);
        assert.equal(await argon2Verify(password, SEED_PASSWORD), true);
      });

      it('ignores the case of the email', async () => {
        const row = await findEmployeeByEmail(testDb.db, 'Guenter.MARCHEGAY.10399@Gmail.COM');
        assert.equal(row?.emp_no, GUENTER.emp_no);
      });

      it('returns undefined for an unknown email', async () => {
        assert.equal(await findEmployeeByEmail(testDb.db, 'spider_man@hotmail.com'), undefined);
      });

      it('finds nothing for emails made of SQL metacharacters or wildcards', async () => {
        const attempts = [`x'or'1@gmail.com`, `' or '1'='1`, `behai_nguyen@hotmail.com' --`, '%@gmail.com', '_ehai_nguyen@hotmail.com'];
        const found = await Promise.all(attempts.map((email) => findEmployeeByEmail(testDb.db, email)));
        assert.deepEqual(
          found,
          attempts.map(() => undefined),
        );
      });
    });

    describe('findEmployeeByNumber', () => {
      it('returns the employee with dates as yyyy-mm-dd text', async () => {
        assert.deepEqual(await findEmployeeByNumber(testDb.db, 500222), BE_HAI);
        assert.deepEqual(await findEmployeeByNumber(testDb.db, 10399), GUENTER);
      });

      it('never returns a password key', async () => {
        const employee = await findEmployeeByNumber(testDb.db, 10001);
        assert.ok(employee);
        assert.equal('password' in employee, false);
        assert.deepEqual(Object.keys(employee).sort(), [...PUBLIC_EMPLOYEE_COLUMNS].sort());
      });

      it('returns undefined for an unknown number, and for numbers no employee can have, without a database error', async () => {
        const numbers = [499999, 0, -10001, 10001.5, 2 ** 31, Number.NaN, Number.MAX_SAFE_INTEGER + 2];
        const found = await Promise.all(numbers.map((empNo) => findEmployeeByNumber(testDb.db, empNo)));
        assert.deepEqual(
          found,
          numbers.map(() => undefined),
        );
      });
    });

    describe('updatePasswordHash', () => {
      it('replaces the stored hash and reports true', async () => {
        assert.equal(await updatePasswordHash(testDb.db, 10030, '$argon2id$replaced'), true);
        const row = await findEmployeeByEmail(testDb.db, 'elvis.demeyer.10030@gmail.com');
        assert.equal(row?.password, '$argon2id$replaced');
      });

      it('reports true when the new hash equals the stored one (found, though unchanged)', async () => {
        assert.equal(await updatePasswordHash(testDb.db, 10030, '$argon2id$replaced'), true);
      });

      it('reports false for an unknown employee, changing nothing', async () => {
        assert.deepEqual(
          [await updatePasswordHash(testDb.db, 499999, 'x'), await updatePasswordHash(testDb.db, 2 ** 31, 'x')],
          [false, false],
        );
        const count = await testDb.db.selectFrom('employees').select('emp_no').where('password', '=', 'x').execute();
        assert.deepEqual(count, []);
      });
    });

    describe('upgradePasswordHash and findLoginState', () => {
      it('rewrites the hash only while it is still the one expected, so a password changed meanwhile stays', async () => {
        await updatePasswordHash(testDb.db, 10029, '$2b$10$legacy');
        assert.equal(await upgradePasswordHash(testDb.db, 10029, '$2b$10$legacy', '$argon2id$upgraded'), true);
        assert.deepEqual(await findLoginState(testDb.db, 10029), { password: '$argon2id$upgraded', disabled: false });
        await updatePasswordHash(testDb.db, 10029, '$argon2id$changed-by-someone');
        assert.equal(await upgradePasswordHash(testDb.db, 10029, '$argon2id$upgraded', '$argon2id$stale'), false);
        assert.deepEqual(await findLoginState(testDb.db, 10029), { password: '$argon2id$changed-by-someone', disabled: false });
      });

      it('reads the disabled flag as a boolean, and nobody for an impossible or unknown number', async () => {
        await setAccountDisabled(testDb.db, 10029, true);
        assert.equal((await findLoginState(testDb.db, 10029))?.disabled, true);
        await setAccountDisabled(testDb.db, 10029, false);
        assert.deepEqual([await findLoginState(testDb.db, 499999), await findLoginState(testDb.db, 0)], [undefined, undefined]);
        assert.equal(await upgradePasswordHash(testDb.db, 2 ** 31, 'x', 'y'), false);
      });
    });

    describe('insertEmployees', () => {
      it('inserts the rows with their emails lower-cased', async () => {
        assert.equal(
          await insertEmployees(testDb.db, [
            newEmployee(600001, 'Test.Person.600001@Gmail.com'),
            newEmployee(600002, 'test.person.600002@gmail.com'),
          ]),
          2,
        );
        assert.deepEqual(await findEmployeeByNumber(testDb.db, 600001), {
          emp_no: 600001,
          birth_date: '1990-05-17',
          first_name: 'Test',
          last_name: 'Person',
          gender: 'F',
          hire_date: '2020-01-02',
          email: 'test.person.600001@gmail.com',
        });
      });

      it('inserts nothing for no rows', async () => {
        assert.equal(await insertEmployees(testDb.db, []), 0);
      });

      it('refuses an email that differs from a stored one only in case, keeping none of that statement', async () => {
        await assert.rejects(
          insertEmployees(testDb.db, [
            newEmployee(600003, 'test.person.600003@gmail.com'),
            newEmployee(600004, 'BEHAI_NGUYEN@hotmail.com'),
          ]),
          (error) => isUniqueViolation(error),
        );
        assert.deepEqual(await Promise.all([findEmployeeByNumber(testDb.db, 600003), findEmployeeByNumber(testDb.db, 600004)]), [
          undefined,
          undefined,
        ]);
      });

      it('left the sample employees as they were, plus the two inserted', async () => {
        const rows = await testDb.db.selectFrom('employees').select('emp_no').execute();
        assert.equal(rows.length, SEED_EMPLOYEES.length + 2);
      });
    });

    describe('findEmployeesByNamePatterns', () => {
      // A page of 1,000 makes MySQL and SQLite narrow by their name index (name-index.ts) even on the small seed.
      const search = async (lastName: string, firstName: string) =>
        (await findEmployeesByNamePatterns(testDb.db, { lastName, firstName, limit: 1000, offset: 0 })).map((employee) => employee.emp_no);

      it('finds an inserted name at once, and follows an update of it, whatever the case', async () => {
        await insertEmployees(testDb.db, [
          { ...newEmployee(600010, 'q.x.600010@example.com'), last_name: 'Qwyzzlekamp', first_name: 'Xantheqo' },
        ]);
        assert.deepEqual(await search('%yzzle%', '%'), [600010]);
        assert.deepEqual(await search('%YZZLE%', '%antheq%'), [600010]);
        assert.deepEqual(await search('%', 'xanTHEQO'), [600010]);
        assert.deepEqual(await search('%yzzle%', '%Georgi%'), []);

        const { emp_no: _, email: __, ...details } = GUENTER;
        assert.equal(await updateEmployeeDetails(testDb.db, 600010, { ...details, last_name: 'Brobdingnag' }), true);
        assert.deepEqual(await search('%yzzle%', '%'), []);
        assert.deepEqual(await search('%dingna%', 'guenter'), [600010]);
        assert.deepEqual(await search('%', 'guenter'), [GUENTER.emp_no, 600010]);
      });

      it('answers nobody for a pattern no name matches, and everyone for %', async () => {
        assert.deepEqual(await search('%qxq%', '%'), []);
        assert.equal((await search('%', '%')).length, SEED_EMPLOYEES.length + 3);
      });
    });
  });
}
