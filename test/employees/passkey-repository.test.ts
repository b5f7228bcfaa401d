import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  countPasskeys,
  deletePasskey,
  deletePasskeysOf,
  findPasskey,
  findPasskeys,
  insertPasskey,
  recordPasskeyUse,
  renamePasskey,
} from '../../src/employees/passkey-repository.js';
import { isUniqueViolation } from '../../src/database/dialects.js';
import type { PasskeyCredential } from '../../src/identity/second-factor/passkeys.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';
import { U1, U2, UX } from '../helpers/people.js';

function passkey(empNo: number, credentialId: string, overrides: Partial<PasskeyCredential> = {}): Omit<PasskeyCredential, 'lastUsedAt'> {
  return {
    credentialId,
    empNo,
    publicKey: 'pQECAyYgASFYIBx',
    signCount: 0,
    transports: ['internal', 'hybrid'],
    name: 'Laptop',
    createdAt: '2026-12-03T10:00:00.000Z',
    ...overrides,
  };
}

for (const engine of ENGINES) {
  describe(`passkey repository on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine);
    });
    after(() => testDb?.cleanup());

    it("stores passkeys and lists only the person's own, oldest first, with every field as stored", async () => {
      await insertPasskey(testDb.db, passkey(U1.empNo, 'bbbb', { createdAt: '2026-12-03T11:00:00.000Z', name: 'Phone', transports: [] }));
      await insertPasskey(testDb.db, passkey(U1.empNo, 'aaaa', { signCount: 4_294_967_295 }));
      await insertPasskey(testDb.db, passkey(U2.empNo, 'cccc'));
      assert.deepEqual(await findPasskeys(testDb.db, U1.empNo), [
        { ...passkey(U1.empNo, 'aaaa', { signCount: 4_294_967_295 }), lastUsedAt: null },
        { ...passkey(U1.empNo, 'bbbb', { createdAt: '2026-12-03T11:00:00.000Z', name: 'Phone', transports: [] }), lastUsedAt: null },
      ]);
      assert.deepEqual(await Promise.all([U1, U2, UX].map((person) => countPasskeys(testDb.db, person.empNo))), [2, 1, 0]);
      assert.deepEqual(await findPasskeys(testDb.db, 0), []);
    });

    it('tells credential ids apart by case (base64url), and refuses one already registered, to anyone', async () => {
      await insertPasskey(testDb.db, passkey(UX.empNo, 'AAAA'));
      assert.equal((await findPasskey(testDb.db, UX.empNo, 'AAAA'))?.credentialId, 'AAAA');
      assert.equal(await findPasskey(testDb.db, UX.empNo, 'aaaa'), undefined);
      await assert.rejects(insertPasskey(testDb.db, passkey(UX.empNo, 'aaaa')), (error) => isUniqueViolation(error));
      await assert.rejects(insertPasskey(testDb.db, passkey(U2.empNo, 'AAAA')), (error) => isUniqueViolation(error));
      assert.equal(await deletePasskey(testDb.db, UX.empNo, 'AAAA'), true);
    });

    it("finds, renames and removes nobody else's passkey by its id", async () => {
      assert.equal(await findPasskey(testDb.db, U2.empNo, 'aaaa'), undefined);
      assert.equal(await renamePasskey(testDb.db, U2.empNo, 'aaaa', 'Mine now'), false);
      assert.equal(await deletePasskey(testDb.db, U2.empNo, 'aaaa'), false);
      assert.equal(await recordPasskeyUse(testDb.db, U2.empNo, 'aaaa', 5, new Date()), false);
      assert.equal((await findPasskey(testDb.db, U1.empNo, 'aaaa'))?.name, 'Laptop');
      assert.equal(await renamePasskey(testDb.db, U1.empNo, 'aaaa', 'Work laptop'), true);
      assert.equal(await renamePasskey(testDb.db, U1.empNo, 'aaaa', 'Work laptop'), true);
      assert.equal((await findPasskey(testDb.db, U1.empNo, 'aaaa'))?.name, 'Work laptop');
    });

    it('records a use only with a counter above the stored one, or 0 staying 0', async () => {
      const at = new Date('2026-12-03T12:00:00.000Z');
      assert.equal(await recordPasskeyUse(testDb.db, U1.empNo, 'bbbb', 0, at), true);
      assert.equal(await recordPasskeyUse(testDb.db, U1.empNo, 'bbbb', 7, at), true);
      assert.equal(await recordPasskeyUse(testDb.db, U1.empNo, 'bbbb', 7, at), false);
      assert.equal(await recordPasskeyUse(testDb.db, U1.empNo, 'bbbb', 6, at), false);
      assert.equal(await recordPasskeyUse(testDb.db, U1.empNo, 'bbbb', 0, at), false);
      const stored = await findPasskey(testDb.db, U1.empNo, 'bbbb');
      assert.deepEqual([stored?.signCount, stored?.lastUsedAt], [7, '2026-12-03T12:00:00.000Z']);
    });

    it('lets exactly one of many uses racing with the same counter through', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => recordPasskeyUse(testDb.db, U1.empNo, 'bbbb', 8, new Date())));
      assert.equal(results.filter(Boolean).length, 1);
    });

    it("removes one passkey, then all of a person's, and none of anyone else's", async () => {
      assert.equal(await deletePasskey(testDb.db, U1.empNo, 'aaaa'), true);
      assert.equal(await deletePasskey(testDb.db, U1.empNo, 'aaaa'), false);
      await insertPasskey(testDb.db, passkey(U1.empNo, 'dddd'));
      assert.equal(await deletePasskeysOf(testDb.db, U1.empNo), 2);
      assert.deepEqual(await findPasskeys(testDb.db, U1.empNo), []);
      assert.equal(await countPasskeys(testDb.db, U2.empNo), 1);
    });

    it("removes an employee's passkeys with the employee, and refuses one for an unknown employee", async () => {
      await assert.rejects(insertPasskey(testDb.db, passkey(499_999, 'eeee')));
      await testDb.db.deleteFrom('employees').where('emp_no', '=', U2.empNo).execute();
      assert.deepEqual(await testDb.db.selectFrom('passkeys').selectAll().where('emp_no', '=', U2.empNo).execute(), []);
    });
  });
}
