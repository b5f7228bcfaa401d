import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewEmployeeRow } from '../../src/database/schema.js';
import { SEED_EMPLOYEES, SEED_SCOPES } from '../../src/sample-data/seed.js';
import { insertEmployees } from '../../src/employees/employee-repository.js';
import { findScopes, grantScopes, revokeScopes, setScopes } from '../../src/employees/scope-repository.js';
import { SCOPE_NAMES } from '../../src/identity/scopes.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';

/** Employees with no seed scopes of interest, so each test owns one. */
const ELVIS = 10030;
const OTMAR = 10029;
const DOMENICK = 10028;

function newEmployee(empNo: number): NewEmployeeRow {
  return {
    emp_no: empNo,
    birth_date: '1990-05-17',
    first_name: 'Test',
    last_name: 'Person',
    gender: 'F',
    hire_date: '2020-01-02',
    email: `test.${empNo}@gmail.com`,
    password: 'hash',
  };
}

describe('scope names', () => {
  it("are the original series' five, in its order, and audit:read before super:*", () => {
    assert.deepEqual(SCOPE_NAMES, ['user:read', 'user:write', 'admin:read', 'admin:write', 'audit:read', 'super:*']);
  });
});

for (const engine of ENGINES) {
  describe(`scope repository on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine);
    });
    after(() => testDb?.cleanup());

    it("finds every sample employee's seed scopes, sorted", async () => {
      const found = await Promise.all(
        SEED_EMPLOYEES.map(async (employee) => [employee.email, await findScopes(testDb.db, employee.emp_no)]),
      );
      assert.deepEqual(
        Object.fromEntries(found),
        Object.fromEntries(Object.entries(SEED_SCOPES).map(([email, scopes]) => [email, [...scopes].sort()])),
      );
    });

    it('finds no scopes for an unknown employee, nor for a number no employee can have', async () => {
      assert.deepEqual(await Promise.all([499999, 0, 2 ** 31].map((empNo) => findScopes(testDb.db, empNo))), [[], [], []]);
    });

    it('grants scopes, keeping those already held, and granting again changes nothing', async () => {
      await grantScopes(testDb.db, ELVIS, ['user:write', 'admin:read']);
      await grantScopes(testDb.db, ELVIS, ['user:write', 'user:read', 'user:write']);
      assert.deepEqual(await findScopes(testDb.db, ELVIS), ['admin:read', 'user:read', 'user:write']);
    });

    it('lets the same grant race with itself without an error', async () => {
      await Promise.all(Array.from({ length: 5 }, () => grantScopes(testDb.db, OTMAR, ['admin:write', 'super:*'])));
      assert.deepEqual(await findScopes(testDb.db, OTMAR), ['admin:write', 'super:*', 'user:read']);
    });

    it('grants nothing for an empty list', async () => {
      await grantScopes(testDb.db, ELVIS, []);
      assert.deepEqual(await findScopes(testDb.db, ELVIS), ['admin:read', 'user:read', 'user:write']);
    });

    it('refuses a grant to an unknown employee (the foreign key), storing nothing', async () => {
      await assert.rejects(grantScopes(testDb.db, 499999, ['user:read']));
      assert.deepEqual(await findScopes(testDb.db, 499999), []);
    });

    it('revokes scopes and counts only those that were held', async () => {
      assert.equal(await revokeScopes(testDb.db, ELVIS, ['user:write', 'admin:write', 'user:write']), 1);
      assert.equal(await revokeScopes(testDb.db, ELVIS, ['user:write']), 0);
      assert.equal(await revokeScopes(testDb.db, ELVIS, []), 0);
      assert.deepEqual(await findScopes(testDb.db, ELVIS), ['admin:read', 'user:read']);
    });

    it('sets exactly the given scopes, idempotently, and none for an empty list', async () => {
      await setScopes(testDb.db, DOMENICK, ['super:*', 'admin:read']);
      await setScopes(testDb.db, DOMENICK, ['super:*', 'admin:read']);
      assert.deepEqual(await findScopes(testDb.db, DOMENICK), ['admin:read', 'super:*']);
      await setScopes(testDb.db, DOMENICK, ['user:write']);
      assert.deepEqual(await findScopes(testDb.db, DOMENICK), ['user:write']);
      await setScopes(testDb.db, DOMENICK, []);
      assert.deepEqual(await findScopes(testDb.db, DOMENICK), []);
    });

    it("sets scopes inside a caller's transaction, undone with it", async () => {
      await assert.rejects(
        testDb.db.transaction().execute(async (trx) => {
          await setScopes(trx, OTMAR, ['user:read']);
          assert.deepEqual(await findScopes(trx, OTMAR), ['user:read']);
          throw new Error('roll back');
        }),
        { message: 'roll back' },
      );
      assert.deepEqual(await findScopes(testDb.db, OTMAR), ['admin:write', 'super:*', 'user:read']);
    });

    it('refuses to set the scopes of an unknown employee', async () => {
      await assert.rejects(setScopes(testDb.db, 499999, ['user:read']));
      assert.deepEqual(await findScopes(testDb.db, 499999), []);
    });

    it("deletes an employee's scopes with the employee", async () => {
      await insertEmployees(testDb.db, [newEmployee(700001)]);
      await grantScopes(testDb.db, 700001, ['user:read', 'admin:read']);
      await testDb.db.deleteFrom('employees').where('emp_no', '=', 700001).execute();
      const rows = await testDb.db.selectFrom('employee_scopes').selectAll().where('emp_no', '=', 700001).execute();
      assert.deepEqual(rows, []);
    });
  });
}
