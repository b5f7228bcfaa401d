import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verify as argon2Verify } from '@node-rs/argon2';
import type { NewEmployeeRow } from '../../src/database/schema.js';
import { SEED_EMPLOYEES } from '../../src/sample-data/seed.js';
import { findEmployeeByEmail, insertEmployees, PUBLIC_EMPLOYEE_COLUMNS } from '../../src/employees/employee-repository.js';
import { createEmployee, getEmployee, saveOwnRecord, searchEmployees, updateEmployee } from '../../src/employees/employee-service.js';
import { findScopes } from '../../src/employees/scope-repository.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';

/** Who acts, for the audit trail (test/audit/ checks what it records). */
const BY = { actor: { kind: 'operator' as const, name: 'employee-service test' } };

const NIRANJAN = {
  emp_no: 12483,
  birth_date: '1959-10-19',
  first_name: 'Niranjan',
  last_name: 'Gornas',
  gender: 'M',
  hire_date: '1990-01-10',
  email: 'niranjan.gornas.12483@gmail.com',
};
const GOPALAKRISHNAN = {
  emp_no: 496044,
  birth_date: '1958-05-26',
  first_name: 'Gopalakrishnan',
  last_name: 'Gornas',
  gender: 'M',
  hire_date: '1988-10-27',
  email: 'gopalakrishnan.gornas.496044@gmail.com',
};
const BE_HAI = {
  emp_no: 500222,
  birth_date: '1978-12-09',
  first_name: 'Be Hai',
  last_name: 'Doe',
  gender: 'M',
  hire_date: '2022-11-01',
  email: 'behai_nguyen@hotmail.com',
};

/** Seeded scopes: kyoichi (10005) holds admin:read admin:write; mary (10011) holds super:*. */
const ADMIN = { empNo: 10005, scopes: ['admin:read', 'admin:write'] };
const SUPER_EMP_NO = 10011;

const DUPLICATE_EMAIL = {
  statusCode: 422,
  code: 'VALIDATION_FAILED',
  errors: [{ field: 'email', message: "Can't accept this email. Please specify another" }],
};

/** Rows whose names hold LIKE's special characters, to show they match only themselves. */
const ODD_NAMES: NewEmployeeRow[] = [
  ['Snake_Case', 'Under_score'],
  ['SnakeXCase', 'Underxscore'],
  ['Bang!', 'Esc!pe'],
  ['Back\\slash', 'Per%cent'],
].map(([last, first], index) => ({
  emp_no: 700001 + index,
  birth_date: '1990-01-01',
  first_name: first!,
  last_name: last!,
  gender: 'F',
  hire_date: '2015-06-01',
  email: `odd.${index}@example.com`,
  password: 'hash',
}));

const newForm = (email: string) => ({
  email,
  password: 'a long enough password',
  birthDate: '25/12/1971',
  firstName: 'New',
  lastName: 'Starter',
  gender: 'F',
  hireDate: '2024-09-02',
});

for (const engine of ENGINES) {
  describe(`employee service on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine);
      await insertEmployees(testDb.db, ODD_NAMES);
    });
    after(() => testDb?.cleanup());

    const lastNamesOf = async (lastName: string, firstName = '%') =>
      (await searchEmployees(testDb.db, { lastName, firstName })).items.map((employee) => employee.last_name);
    const rowCount = async () => (await testDb.db.selectFrom('employees').select('emp_no').execute()).length;

    describe('searchEmployees', () => {
      it('finds %nas% / %An: both Gornases, by employee number, without passwords', async () => {
        assert.deepEqual(await searchEmployees(testDb.db, { lastName: '%nas%', firstName: '%An' }), {
          items: [NIRANJAN, GOPALAKRISHNAN],
          page: 1,
          size: 50,
          hasMore: false,
        });
      });

      it('ignores case in both the pattern and the data', async () => {
        assert.deepEqual(
          (await searchEmployees(testDb.db, { lastName: '%NAS%', firstName: '%an' })).items.map((employee) => employee.emp_no),
          [12483, 496044],
        );
      });

      it('matches _ literally: only % is a wildcard', async () => {
        assert.deepEqual(await lastNamesOf('Snake_Case%'), ['Snake_Case']);
        assert.deepEqual(await lastNamesOf('G_rnas%'), []);
        assert.deepEqual(await lastNamesOf('%', '%_%'), ['Snake_Case']);
      });

      it('matches the escape character and a backslash literally', async () => {
        assert.deepEqual(await lastNamesOf('%g!%'), ['Bang!']);
        assert.deepEqual(await lastNamesOf('%', 'Esc!pe%'), ['Bang!']);
        assert.deepEqual(await lastNamesOf('%k\\s%'), ['Back\\slash']);
        assert.deepEqual(await lastNamesOf('%', 'Esc!!pe%'), []);
      });

      it('finds nothing, and breaks nothing, for SQL metacharacters', async () => {
        const before = await rowCount();
        const attempts = [
          ["%' or '1'='1%", '%'],
          ["%';drop table%", "%';--%"],
          ['%" or ""="%', '%'],
          ["%') --%", "%' or 1=1#%"],
        ] as const;
        const found = await Promise.all(attempts.map(([lastName, firstName]) => lastNamesOf(lastName, firstName)));
        assert.deepEqual(
          found,
          attempts.map(() => []),
        );
        assert.equal(await rowCount(), before);
      });

      it('pages through every match in employee-number order, saying whether more follow', async () => {
        const everyone = (await searchEmployees(testDb.db, { lastName: '%', firstName: '%', size: 100 })).items.map(
          (employee) => employee.emp_no,
        );
        assert.equal(everyone.length, SEED_EMPLOYEES.length + ODD_NAMES.length);
        assert.deepEqual(
          everyone,
          [...everyone].sort((a, b) => a - b),
        );

        const pages = [];
        for (let page = 1; page <= Math.ceil(everyone.length / 10); page++) {
          const result = await searchEmployees(testDb.db, { lastName: '%', firstName: '%', page, size: 10 });
          pages.push({ page: result.page, size: result.size, count: result.items.length, hasMore: result.hasMore });
          assert.deepEqual(
            result.items.map((employee) => employee.emp_no),
            everyone.slice((page - 1) * 10, page * 10),
          );
        }
        assert.deepEqual(
          pages.map((page) => page.hasMore),
          pages.map((_, index) => index < pages.length - 1),
        );
        assert.deepEqual(await searchEmployees(testDb.db, { lastName: '%', firstName: '%', page: pages.length + 1, size: 10 }), {
          items: [],
          page: pages.length + 1,
          size: 10,
          hasMore: false,
        });
      });

      it('says there is no more when the last page is exactly full', async () => {
        const result = await searchEmployees(testDb.db, { lastName: '%nas%', firstName: '%an', size: 2 });
        assert.deepEqual([result.items.length, result.hasMore], [2, false]);
        const first = await searchEmployees(testDb.db, { lastName: '%nas%', firstName: '%an', size: 1 });
        assert.deepEqual([first.items, first.hasMore], [[NIRANJAN], true]);
      });

      it('refuses a page size over 100 rather than clamping it, and a page or size that is not a positive whole number', async () => {
        await assert.rejects(searchEmployees(testDb.db, { lastName: '%', firstName: '%', size: 101 }), {
          statusCode: 422,
          errors: [{ field: 'size', message: 'Size must be a whole number from 1 to 100' }],
        });
        await assert.rejects(searchEmployees(testDb.db, { lastName: '%', firstName: '%', page: 0, size: 2.5 }), {
          statusCode: 422,
          errors: [
            { field: 'page', message: 'Page must be a whole number from 1 to 1000000' },
            { field: 'size', message: 'Size must be a whole number from 1 to 100' },
          ],
        });
      });

      it('finds names containing a plain name, and any for a blank one', async () => {
        const plain = await searchEmployees(testDb.db, { lastName: 'gornas', firstName: '' });
        assert.deepEqual(
          plain.items.map((e) => e.emp_no),
          [12483, 496044],
        );
      });

      it('refuses names longer than their columns, together with a bad size', async () => {
        await assert.rejects(searchEmployees(testDb.db, { lastName: 'G'.repeat(17), firstName: 'A'.repeat(15), size: 500 }), {
          statusCode: 422,
          code: 'VALIDATION_FAILED',
          errors: [
            { field: 'lastName', message: 'Please enter at most 16 characters of the last name, not counting %. E.g. nas, or Gor%' },
            { field: 'firstName', message: 'Please enter at most 14 characters of the first name, not counting %. E.g. an, or %An' },
            { field: 'size', message: 'Size must be a whole number from 1 to 100' },
          ],
        });
      });
    });

    describe('getEmployee', () => {
      it('returns the employee without a password', async () => {
        assert.deepEqual(await getEmployee(testDb.db, 500222), BE_HAI);
      });

      it('answers 404 naming the number for an unknown employee', async () => {
        await assert.rejects(getEmployee(testDb.db, 499999), {
          statusCode: 404,
          code: 'NOT_FOUND',
          message: 'No employee with number 499999',
        });
      });
    });

    describe('updateEmployee', () => {
      it('writes the details, ignores email and password, and returns the updated employee', async () => {
        const hashBefore = (await findEmployeeByEmail(testDb.db, 'guenter.marchegay.10399@gmail.com'))?.password;
        const updated = await updateEmployee(
          testDb.db,
          ADMIN,
          {
            empNo: '10399',
            birthDate: '13/6/1957',
            firstName: 'Guenter',
            lastName: 'Marchegay',
            gender: 'M',
            hireDate: '11/8/2005',
            email: 'someone.else@gmail.com',
            password: 'a new password nobody asked for',
          },
          BY,
        );
        const expected = {
          emp_no: 10399,
          birth_date: '1957-06-13',
          first_name: 'Guenter',
          last_name: 'Marchegay',
          gender: 'M',
          hire_date: '2005-08-11',
          email: 'guenter.marchegay.10399@gmail.com',
        };
        assert.deepEqual(updated, expected);
        assert.deepEqual(await getEmployee(testDb.db, 10399), expected);
        const after = await findEmployeeByEmail(testDb.db, 'guenter.marchegay.10399@gmail.com');
        assert.equal(after?.password, hashBefore);
        assert.equal(await findEmployeeByEmail(testDb.db, 'someone.else@gmail.com'), undefined);
      });

      it('answers 404 for an unknown number, writing nothing (the original reported success)', async () => {
        const before = await rowCount();
        await assert.rejects(
          updateEmployee(
            testDb.db,
            ADMIN,
            {
              empNo: '499999',
              birthDate: '1/1/1960',
              firstName: 'No',
              lastName: 'One',
              gender: 'F',
              hireDate: '1/1/1990',
            },
            BY,
          ),
          { statusCode: 404, message: 'No employee with number 499999' },
        );
        assert.equal(await rowCount(), before);
      });

      it('answers 422 with every problem, writing nothing', async () => {
        await assert.rejects(
          updateEmployee(
            testDb.db,
            ADMIN,
            {
              empNo: '10399',
              birthDate: '1/1/1960',
              firstName: '',
              lastName: 'Marchegay',
              gender: 'X',
              hireDate: '1/1/1950',
            },
            BY,
          ),
          {
            statusCode: 422,
            errors: [
              { field: 'firstName', message: 'For first name, please enter between 1 and 14 characters' },
              { field: 'gender', message: 'Please select a gender' },
              { field: 'hireDate', message: 'Hire Date must be after Birth Date' },
            ],
          },
        );
        assert.equal((await getEmployee(testDb.db, 10399)).first_name, 'Guenter');
      });

      it('refuses an administrator the record of someone holding a scope they lack, writing nothing, even with invalid fields', async () => {
        const before = await getEmployee(testDb.db, SUPER_EMP_NO);
        const form = {
          empNo: String(SUPER_EMP_NO),
          birthDate: '7/11/1953',
          firstName: 'Demoted',
          lastName: 'Sluis',
          gender: 'F',
          hireDate: '22/1/1990',
        };
        await assert.rejects(updateEmployee(testDb.db, ADMIN, form, BY), { statusCode: 403, code: 'FORBIDDEN' });
        await assert.rejects(updateEmployee(testDb.db, ADMIN, { ...form, firstName: '' }, BY), { statusCode: 403, code: 'FORBIDDEN' });
        assert.deepEqual(await getEmployee(testDb.db, SUPER_EMP_NO), before);
        // super:* holds every scope, so it may.
        const updated = await updateEmployee(testDb.db, { empNo: 500222, scopes: ['super:*'] }, { ...form, firstName: 'Mary' }, BY);
        assert.equal(updated.first_name, 'Mary');
      });

      it("lets an administrator update their own record's details, as user:write allows", async () => {
        const own = await getEmployee(testDb.db, ADMIN.empNo);
        const updated = await updateEmployee(
          testDb.db,
          ADMIN,
          {
            empNo: String(ADMIN.empNo),
            birthDate: own.birth_date,
            firstName: own.first_name,
            lastName: 'Maliniak',
            gender: own.gender,
            hireDate: own.hire_date,
          },
          BY,
        );
        assert.deepEqual(updated, own);
      });

      it('reads the number strictly and looks nobody up for a number it refuses', async () => {
        for (const empNo of ['+10399', '10399.0', '0x40f', ' 10399', '1e4', '-1', '0', '2147483648']) {
          await assert.rejects(
            updateEmployee(
              testDb.db,
              ADMIN,
              {
                empNo,
                birthDate: '1/1/1960',
                firstName: 'X',
                lastName: 'Y',
                gender: 'F',
                hireDate: '1/1/1990',
              },
              BY,
            ),
            {
              statusCode: 422,
              errors: [{ field: 'empNo', message: 'Employee number must be a whole number from 1 to 2147483647, in digits only' }],
            },
            empNo,
          );
        }
      });
    });

    describe('saveOwnRecord', () => {
      const ownForm = { birthDate: '9/12/1978', firstName: 'Be Hai', lastName: 'Nguyen', gender: 'M', hireDate: '1/11/2022' };

      it("updates the actor's own record", async () => {
        assert.deepEqual(await saveOwnRecord(testDb.db, 500222, { ...ownForm, empNo: '500222' }, BY), { ...BE_HAI, last_name: 'Nguyen' });
      });

      it("refuses someone else's number with 403 before writing anything", async () => {
        const rowsBefore = await testDb.db.selectFrom('employees').selectAll().orderBy('emp_no').execute();
        await assert.rejects(saveOwnRecord(testDb.db, 500222, { ...ownForm, empNo: '10399', firstName: 'Hijacked' }, BY), {
          statusCode: 403,
          code: 'FORBIDDEN',
          message: 'Not enough permissions',
        });
        const rowsAfter = await testDb.db.selectFrom('employees').selectAll().orderBy('emp_no').execute();
        assert.deepEqual(rowsAfter, rowsBefore);
      });

      it("refuses someone else's number even when the rest of the form is invalid", async () => {
        await assert.rejects(saveOwnRecord(testDb.db, 500222, { empNo: '10399' }, BY), { statusCode: 403 });
      });

      it('never inserts: a blank number with an email and password is a missing number', async () => {
        const before = await rowCount();
        await assert.rejects(
          saveOwnRecord(
            testDb.db,
            500222,
            { ...ownForm, empNo: '', email: 'sneaky.new@gmail.com', password: 'a long enough password' },
            BY,
          ),
          { statusCode: 422, errors: [{ field: 'empNo', message: 'Missing employee number' }] },
        );
        await assert.rejects(saveOwnRecord(testDb.db, 500222, ownForm, BY), {
          statusCode: 422,
          errors: [{ field: 'empNo', message: 'Missing employee number' }],
        });
        assert.equal(await rowCount(), before);
      });
    });

    describe('createEmployee', () => {
      it('adds the employee with the next number, an argon2id hash and user:read, returning no password', async () => {
        const highest = (await testDb.db.selectFrom('employees').select('emp_no').orderBy('emp_no', 'desc').executeTakeFirstOrThrow())
          .emp_no;
        const created = await createEmployee(testDb.db, { ...newForm('New.Starter@Example.com'), empNo: '' }, BY);
        assert.deepEqual(created, {
          emp_no: highest + 1,
          birth_date: '1971-12-25',
          first_name: 'New',
          last_name: 'Starter',
          gender: 'F',
          hire_date: '2024-09-02',
          email: 'new.starter@example.com',
        });
        assert.deepEqual(Object.keys(created).sort(), [...PUBLIC_EMPLOYEE_COLUMNS].sort());
        assert.deepEqual(await findScopes(testDb.db, created.emp_no), ['user:read']);
        const row = await findEmployeeByEmail(testDb.db, 'new.starter@example.com');
        assert.match(row!.password, /^\$argon2id\$/);
        assert.equal(await argon2Verify(row!.password, 'a long enough password'), true);
      });

      it('refuses an email already taken, in any case, with the original message', async () => {
        const before = await rowCount();
        await assert.rejects(createEmployee(testDb.db, newForm('behai_nguyen@hotmail.com'), BY), DUPLICATE_EMAIL);
        await assert.rejects(createEmployee(testDb.db, newForm('BeHai_Nguyen@HOTMAIL.com'), BY), DUPLICATE_EMAIL);
        assert.equal(await rowCount(), before);
      });

      it('lets exactly one of two racing creates with the same email through, refusing the other as a duplicate', async () => {
        const results = await Promise.allSettled([
          createEmployee(testDb.db, newForm('twin@example.com'), BY),
          createEmployee(testDb.db, newForm('TWIN@example.com'), BY),
        ]);
        const fulfilled = results.filter((result) => result.status === 'fulfilled');
        const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
        assert.equal(fulfilled.length, 1);
        assert.equal(rejected.length, 1);
        assert.deepEqual(
          { statusCode: rejected[0]!.reason.statusCode, errors: rejected[0]!.reason.errors },
          { statusCode: DUPLICATE_EMAIL.statusCode, errors: DUPLICATE_EMAIL.errors },
        );
      });

      it('gives ten concurrent creates ten distinct numbers, each with user:read', async () => {
        const created = await Promise.all(
          Array.from({ length: 10 }, (_, index) => createEmployee(testDb.db, newForm(`concurrent.${index}@example.com`), BY)),
        );
        const numbers = created.map((employee) => employee.emp_no);
        assert.equal(new Set(numbers).size, 10);
        const stored = await testDb.db
          .selectFrom('employees')
          .select(['emp_no', 'email'])
          .where('email', 'like', 'concurrent.%')
          .orderBy('emp_no')
          .execute();
        assert.deepEqual(
          stored,
          created.map(({ emp_no, email }) => ({ emp_no, email })).sort((a, b) => a.emp_no - b.emp_no),
        );
        assert.deepEqual(
          await Promise.all(numbers.map((empNo) => findScopes(testDb.db, empNo))),
          numbers.map(() => ['user:read']),
        );
      });

      it('answers 422 with all seven problems for a blank form, writing nothing', async () => {
        const before = await rowCount();
        await assert.rejects(createEmployee(testDb.db, {}, BY), {
          statusCode: 422,
          errors: [
            { field: 'birthDate', message: 'For birth date, please enter a date in format dd/mm/yyyy. E.g. 25/2/1999' },
            { field: 'firstName', message: 'For first name, please enter between 1 and 14 characters' },
            { field: 'lastName', message: 'For last name, please enter between 1 and 16 characters' },
            { field: 'gender', message: 'Please select a gender' },
            { field: 'hireDate', message: 'For hire date, please enter a date in format dd/mm/yyyy. E.g. 25/2/2011' },
            { field: 'email', message: 'Please enter up to 255 characters' },
            { field: 'email', message: 'Please enter a valid email address' },
            { field: 'password', message: 'Please enter between 10 and 64 characters' },
          ],
        });
        assert.equal(await rowCount(), before);
      });
    });
  });
}
