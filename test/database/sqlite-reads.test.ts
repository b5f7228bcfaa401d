/**
 * The SQLite side connections (src/database/sqlite-reads.ts): the app's own database uses them for
 * the employee look-up and for searches, a transaction never does, and they read committed data only.
 * Look-ups share a snapshot while one I/O event is handled: never past a write of this process,
 * never past an I/O wait, and never stale for a request that arrives after a write, however many
 * requests race it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { DEFAULT_SQLITE_FILE_NAME } from '../../src/database/connection.js';
import { sqliteReadsOf } from '../../src/database/sqlite-reads.js';
import { findEmployeeByNumber, findEmployeesByNamePatterns, updateEmployeeDetails } from '../../src/employees/employee-repository.js';
import { API, login, useSuiteApp } from '../helpers/app.js';
import { U1, U2 } from '../helpers/people.js';

describe('SQLite side connections', () => {
  const { app, env } = useSuiteApp();

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

  it("see this process's own write at once, in the same turn of the event loop", async () => {
    const before = (await findEmployeeByNumber(app.db, U2.empNo))!;
    const { emp_no: _, email: __, ...details } = before;
    try {
      // No I/O between these: without the writer ending the shared snapshot, the second and third
      // look-ups would still read the row as it was at the first.
      assert.equal((await findEmployeeByNumber(app.db, U2.empNo))?.last_name, before.last_name);
      await updateEmployeeDetails(app.db, U2.empNo, { ...details, last_name: 'Autocommitted' });
      assert.equal((await findEmployeeByNumber(app.db, U2.empNo))?.last_name, 'Autocommitted');
      await app.db.transaction().execute((trx) => updateEmployeeDetails(trx, U2.empNo, { ...details, last_name: 'Transacted' }));
      assert.equal((await findEmployeeByNumber(app.db, U2.empNo))?.last_name, 'Transacted');
      // A transaction committed by hand (Kysely gives its connection back only later).
      const controlled = await app.db.startTransaction().execute();
      await updateEmployeeDetails(controlled, U2.empNo, { ...details, last_name: 'Controlled' });
      assert.equal((await findEmployeeByNumber(app.db, U2.empNo))?.last_name, 'Transacted', 'not before its commit');
      await controlled.commit().execute();
      assert.equal((await findEmployeeByNumber(app.db, U2.empNo))?.last_name, 'Controlled');
    } finally {
      await updateEmployeeDetails(app.db, U2.empNo, details);
    }
  });

  it("see another connection's commit (another process, the admin CLI) after the next I/O wait", async () => {
    const other = new SqliteDatabase(join(env.dataDir, DEFAULT_SQLITE_FILE_NAME), { timeout: 5_000 });
    const before = (await findEmployeeByNumber(app.db, U2.empNo))!;
    try {
      other.prepare('UPDATE employees SET last_name = ? WHERE emp_no = ?').run('Elsewhere', U2.empNo);
      await nextTurn();
      assert.equal((await findEmployeeByNumber(app.db, U2.empNo))?.last_name, 'Elsewhere');
    } finally {
      other.prepare('UPDATE employees SET last_name = ? WHERE emp_no = ?').run(before.last_name, U2.empNo);
      other.close();
    }
  });

  it('never answer a request made after a change with the row from before it, while 40 requests race the change', async () => {
    const { token } = await login(app, U1);
    const me = () => app.inject({ method: 'GET', url: '/api/me', headers: { ...API, authorization: `Bearer ${token}` } });
    const before = (await findEmployeeByNumber(app.db, U1.empNo))!;
    const { emp_no: _, email: __, ...details } = before;
    try {
      for (const name of ['Racing-A', 'Racing-B', 'Racing-C']) {
        let changed = false;
        const early = Array.from({ length: 20 }, () => me());
        const change = updateEmployeeDetails(app.db, U1.empNo, { ...details, last_name: name }).then(() => {
          changed = true;
        });
        // Asked in the same turns as the change: each sees the row before or after it, nothing else.
        const racing = Array.from({ length: 20 }, () => me().then((response) => ({ response, afterChange: changed })));
        await change;
        // Asked once the change is done: every one sees it.
        const late = await Promise.all(Array.from({ length: 20 }, () => me()));
        for (const response of [...(await Promise.all(early)), ...(await Promise.all(racing)).map((r) => r.response), ...late]) {
          assert.equal(response.statusCode, 200);
          assert.ok([name, before.last_name, 'Racing-A', 'Racing-B'].includes(response.json<{ last_name: string }>().last_name));
        }
        for (const response of late) assert.equal(response.json<{ last_name: string }>().last_name, name);
      }
    } finally {
      await updateEmployeeDetails(app.db, U1.empNo, details);
    }
  });
});
