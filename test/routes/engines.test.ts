/**
 * The whole login round trip on every database engine, with sessions in Redis: what a deployment
 * on MySQL/MariaDB or PostgreSQL runs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';
import { serviceGate } from '../helpers/services.js';
import { LEGACY_BCRYPT_EMAILS, SEED_PASSWORD } from '../../src/sample-data/seed.js';
import { findEmployeeByEmail } from '../../src/employees/employee-repository.js';
import { FORM, form, login, useSuiteApp } from '../helpers/app.js';
import { U1, U1_ME, U2 } from '../helpers/people.js';

for (const engine of ENGINES) {
  const gate = (await gateFor(engine)).skip || (await serviceGate('redis')).skip;
  describe(`logging in on ${engine} with Redis sessions`, { skip: gate }, () => {
    let database: TestDatabase;
    before(async () => {
      // An empty database: the app itself migrates and seeds it at start, as on a first deployment.
      database = await createTestDatabase(engine, { seed: false });
    });
    const { app } = useSuiteApp({ store: 'redis', env: () => ({ DATABASE_URL: database.url }) });
    after(async () => {
      await database?.cleanup();
    });

    it('migrates and seeds an empty database at start, then logs in by cookie and by token', async () => {
      const { cookie, token } = await login(app);
      for (const credentials of [{ cookies: { session: cookie } }, { headers: { authorization: `Bearer ${token}` } }]) {
        const response = await app.inject({ method: 'GET', url: '/admin/me', ...credentials });
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), U1_ME);
      }
    });

    it('finds the login name whatever its case, and refuses a wrong password', async () => {
      await login(app, { username: U2.username.toUpperCase(), password: U2.password });
      const response = await app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: FORM,
        payload: form({ username: U1.username, password: 'Password' }),
      });
      assert.equal(response.statusCode, 400);
    });

    it('logs in a legacy bcrypt user and rewrites the hash as argon2id', async () => {
      const username = LEGACY_BCRYPT_EMAILS[0]!;
      assert.match((await findEmployeeByEmail(app.db, username))!.password, /^\$2[aby]\$/);
      await login(app, { username, password: SEED_PASSWORD });
      const upgraded = (await findEmployeeByEmail(app.db, username))!.password;
      assert.match(upgraded, /^\$argon2id\$/);
      await login(app, { username, password: SEED_PASSWORD }); // and the new hash verifies
    });

    it('reports the database ready', async () => {
      const response = await app.inject({ method: 'GET', url: '/ready' });
      assert.deepEqual(response.json(), { status: 'ready', checks: { sessionStore: 'ok', database: 'ok' } });
    });
  });
}
