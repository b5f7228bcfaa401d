/**
 * One identity per person: an email is normalised once (trim, NFKC, lower case) and then compared
 * exactly on every engine, so the same spellings log in as the same person on SQLite, PostgreSQL
 * and MariaDB, accented look-alikes log in as nobody, and the login throttle counts every attempt
 * against the account it resolves to, however the address was spelt.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';
import { API, FORM, form, useSuiteApp } from '../helpers/app.js';
import { findEmployeeByEmail, findEmployeeNumberByEmail } from '../../src/employees/employee-repository.js';
import { LoginThrottle } from '../../src/auth/throttle.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-store.js';
import { INCORRECT } from '../helpers/messages.js';

const PASSWORD = 'password';
const LIMIT = 10;

/** Spellings NFKC and lower-casing fold into `local.rest`: each names that same person. */
function equivalentSpellings(email: string): string[] {
  const fullwidth = (text: string) =>
    [...text].map((c) => (/[a-z0-9@.]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c)).join('');
  return [
    email.toUpperCase(),
    `  ${email}\t`,
    fullwidth(email),
    email.replace('k', '\u212A'), // KELVIN SIGN, NFKC: K
    email.replace('@', '\uFF20'), // FULLWIDTH COMMERCIAL AT
  ];
}

/** Look-alikes that are other addresses: accents are letters of their own, not decorations. */
function accentedSpellings(email: string): string[] {
  return [email.replace('o', 'ò'), email.replace('o', 'ö'), email.replace('o', 'o\u0308'), email.replace('a', 'á')];
}

for (const engine of ENGINES) {
  describe(`one identity per email on ${engine}`, await gateFor(engine), () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase(engine, { seed: false });
    });
    const { app } = useSuiteApp({
      env: () => ({
        DATABASE_URL: database.url,
        LOGIN_MAX_FAILURES_PER_ACCOUNT: String(LIMIT),
        LOGIN_MAX_FAILURES_PER_CLIENT: '10000',
      }),
    });
    after(async () => {
      await database?.cleanup();
    });

    const token = (username: string, password: string) =>
      app.inject({ method: 'POST', url: '/auth/token', headers: { ...FORM, ...API }, payload: form({ username, password }) });

    async function whoIs(accessToken: string) {
      const me = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${accessToken}` } });
      const { username, emp_no } = me.json<{ username: string; emp_no: number }>();
      return { username, emp_no };
    }

    it('logs every NFKC-equivalent spelling in as the same person', async () => {
      const email = 'pranav.furedi.10198@gmail.com';
      for (const spelling of equivalentSpellings(email)) {
        const response = await token(spelling, PASSWORD);
        assert.equal(response.statusCode, 200, JSON.stringify(spelling));
        assert.deepEqual(await whoIs(response.json().access_token), { username: email, emp_no: 10198 }, JSON.stringify(spelling));
        assert.equal(await findEmployeeNumberByEmail(app.db, spelling), 10198);
      }
    });

    it('logs an accented spelling of a real email in as nobody, even with the right password', async () => {
      for (const spelling of accentedSpellings('kazuhito.cappelletti.10016@gmail.com')) {
        const response = await token(spelling, PASSWORD);
        assert.equal(response.statusCode, 400, spelling);
        assert.deepEqual(response.json(), INCORRECT);
        assert.equal(await findEmployeeByEmail(app.db, spelling), undefined);
      }
    });

    it('gives no other spelling fresh guesses once an account is throttled, and no look-alike resets it', async () => {
      const email = 'kyoichi.maliniak.10005@gmail.com';
      const spellings = equivalentSpellings(email);
      // The failures spread over the spellings: they all count against the one account.
      for (let i = 0; i < LIMIT; i++) {
        const response = await token(i % 2 === 0 ? email : spellings[i % spellings.length]!, `wrong guess ${i}`);
        assert.equal(response.statusCode, 400);
      }
      for (const spelling of [email, ...spellings]) {
        const response = await token(spelling, PASSWORD);
        assert.equal(response.statusCode, 429, JSON.stringify(spelling));
        assert.match(response.json().detail, /^Too many failed logins\. Try again in \d+ seconds$/);
      }
      for (const spelling of accentedSpellings(email)) {
        assert.deepEqual((await token(spelling, PASSWORD)).json(), INCORRECT, spelling);
      }
      assert.equal((await token(email, PASSWORD)).statusCode, 429, 'still throttled');
    });

    if (engine === 'mysql') {
      it('compares the email column exactly (utf8mb4_bin)', async () => {
        const { rows } = await sql<{ collation: string }>`
          select collation_name as collation from information_schema.columns
          where table_schema = database() and table_name = 'employees' and column_name = 'email'`.execute(app.db);
        assert.deepEqual(rows, [{ collation: 'utf8mb4_bin' }]);
      });
    }
  });
}

describe('the login throttle', () => {
  let store: SqliteSessionStore;
  before(() => {
    store = new SqliteSessionStore({ path: ':memory:', sweepIntervalMs: 60_000 });
  });
  after(async () => {
    await store?.close();
  });

  it('counts attempts against the employee a login resolved to, whatever the spelling', async () => {
    const throttle = new LoginThrottle(store, { maxFailuresPerAccount: 3, maxFailuresPerClient: 100, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) {
      await throttle.admit(`spelling-${i}@example.com`, '192.0.2.1');
      await throttle.admitEmployee(42);
    }
    await throttle.admit('spelling-3@example.com', '192.0.2.1');
    await assert.rejects(throttle.admitEmployee(42), { statusCode: 429, code: 'TOO_MANY_ATTEMPTS' });
    await throttle.admitEmployee(43); // another employee is not affected
    await throttle.succeeded('spelling-0@example.com', '192.0.2.1', 42);
    await throttle.admitEmployee(42);
  });
});
