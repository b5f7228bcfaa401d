/**
 * The SQLite side connections (src/database/sqlite-reads.ts): the app's own database uses them for
 * the employee look-up and for searches, a transaction never does, and they read committed data only.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sqliteReadsOf } from '../../src/database/sqlite-reads.js';
import { findEmployeeByNumber, findEmployeesByNamePatterns, updateEmployeeDetails } from '../../src/employees/employee-repository.js';
import { useSuiteApp } from '../helpers/app.js';
import { U2 } from '../helpers/people.js';

describe('SQLite side connections', () => {
  const { app } = useSuiteApp();

  it("serve the app's database, and never a transaction on it", async () => {
    assert.ok(sqliteReadsOf(app.db), 'app.db (behind the schema gate) reads through them');
    await app.db.transaction().execute(async (trx) => {
      assert.equal(sqliteReadsOf(trx), undefined);
    });
  });

  it('read committed data only, while a transaction sees its own writes', async () => {
    const before = (await findEmployeeByNumber(app.db, U2.empNo))!;
    const { emp_no: _, email: __, ...details } = before;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = app.db.transaction().execute(async (trx) => {
      await updateEmployeeDetails(trx, U2.empNo, { ...details, last_name: 'Uncommitted' });
      assert.equal((await findEmployeeByNumber(trx, U2.empNo))?.last_name, 'Uncommitted');
      await held;
      throw new Error('roll back');
    });
    // Outside, while the transaction is open: the committed row, from the side connection and a search thread.
    assert.deepEqual(await findEmployeeByNumber(app.db, U2.empNo), before);
    const found = await findEmployeesByNamePatterns(app.db, { lastName: 'Uncommitted', firstName: '%', limit: 10, offset: 0 });
    assert.deepEqual(found, []);
    release();
    await assert.rejects(transaction, /roll back/);
    assert.deepEqual(await findEmployeeByNumber(app.db, U2.empNo), before);
  });
});
