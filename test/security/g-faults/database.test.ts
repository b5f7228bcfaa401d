/**
 * Checklist group G, SQL database faults (G-04): a private PostgreSQL cluster stopped and restarted,
 * the shared MariaDB's connections killed, an SQLite file locked by another writer.
 *
 * The other fault kinds are beside this file; docs/SECURITY.md lists them by checklist id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import Database from 'better-sqlite3';
import { serviceGate } from '../../helpers/services.js';
import { FORM, form, login, useSuiteApp } from '../../helpers/app.js';
import { createTestDatabase, gateFor, type TestDatabase } from '../../helpers/databases.js';
import { pollUntil, startPrivatePostgres, type PrivatePostgres } from '../../../support/private-servers.js';
import { me, RECOVERY_MS, timed } from '../support.js';
import { ADMIN, credentials, U1, U2 } from '../../helpers/people.js';
import { DATABASE_UNAVAILABLE } from '../../helpers/messages.js';

const redisGate = await serviceGate('redis');
const mysqlGate = await gateFor('mysql');

describe('G-04 the SQL database goes down or restarts', () => {
  describe('a private PostgreSQL cluster, stopped and restarted', redisGate, () => {
    let postgres: PrivatePostgres | undefined;
    before(async () => {
      postgres = await startPrivatePostgres();
    });
    const { app } = useSuiteApp({
      store: 'redis',
      env: () => ({ DATABASE_URL: `${postgres!.url}/postgres`, LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' }),
      tolerateCloseErrors: true, // the tests stop this PostgreSQL
    });
    after(async () => {
      await postgres?.stop();
    });

    it('G-04 answers 503 quickly while PostgreSQL is down, logs nobody in, stays up, and recovers within 5 s', async () => {
      const session = await login(app, U1);
      const adminSession = await login(app, ADMIN);
      await postgres!.kill(); // immediate: idle pooled connections die under the pool (57P01-like)
      await sleep(200);
      for (let round = 0; round < 3; round++) {
        for (const [label, run] of [
          ['my info', () => me(app, { cookie: session.cookie })],
          ['search', () => app.inject({ method: 'GET', url: '/api/emp/search/%25a%25/%25', cookies: { session: adminSession.cookie } })],
          ['login', () => app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form(credentials(U2)) })],
        ] as const) {
          const { value, ms } = await timed(run);
          assert.equal(value.statusCode, 503, `${label}: ${value.statusCode} ${value.body}`);
          assert.deepEqual(value.json(), DATABASE_UNAVAILABLE);
          assert.ok(ms < 6000, `${label}: ${ms.toFixed(0)} ms (connect timeout 5 s)`);
        }
        const ready = await app.inject({ method: 'GET', url: '/ready' });
        assert.equal(ready.statusCode, 503);
        assert.deepEqual(ready.json(), { status: 'unavailable', checks: { sessionStore: 'ok', database: 'unavailable' } });
        assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      }
      await postgres!.start();
      const back = await pollUntil(async () => (await me(app, { cookie: session.cookie })).statusCode === 200, RECOVERY_MS, 200);
      assert.ok(back, 'recovered within 5 s, no restart of the app');
      assert.equal(
        (
          await app.inject({
            method: 'POST',
            url: '/auth/token',
            headers: FORM,
            payload: form({ username: U2.username, password: 'wrong' }),
          })
        ).statusCode,
        400,
        'a login still checks the password',
      );
    });

    it('G-04 survives its idle connections being terminated (pg_terminate_backend) and answers the next request', async () => {
      const session = await login(app, U1);
      assert.equal((await me(app, { cookie: session.cookie })).statusCode, 200);
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and datname = 'postgres' and backend_type = 'client backend'`
        .execute(app.db)
        .catch(() => undefined);
      await sleep(100);
      const statuses: number[] = [];
      const back = await pollUntil(
        async () => {
          const status = (await me(app, { cookie: session.cookie })).statusCode;
          statuses.push(status);
          return status === 200;
        },
        RECOVERY_MS,
        100,
      );
      assert.ok(back, `statuses: ${statuses.join(',')}`);
      for (const status of statuses) assert.ok(status === 200 || status === 503, `${status}`);
    });
  });

  describe('the shared MariaDB, its connections killed', mysqlGate, () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase('mysql', { seed: false });
    });
    const { app } = useSuiteApp({ store: 'redis', env: () => ({ DATABASE_URL: database.url }), tolerateCloseErrors: true });
    after(async () => {
      await database?.cleanup();
    });

    it("G-04 answers only 200 or 503 when MariaDB kills the pool's connections, and is back within 5 s", async () => {
      const session = await login(app, U1);
      await Promise.all(Array.from({ length: 5 }, () => me(app, { cookie: session.cookie }))); // several pooled connections
      const dbName = new URL(database.url).pathname.slice(1);
      const { rows } = await sql<{ id: number }>`select id from information_schema.processlist where db = ${dbName}`.execute(database.db);
      for (const { id } of rows) await sql`kill ${sql.lit(Number(id))}`.execute(database.db).catch(() => undefined);
      const statuses: number[] = [];
      const back = await pollUntil(
        async () => {
          const responses = await Promise.all(Array.from({ length: 3 }, () => me(app, { cookie: session.cookie })));
          statuses.push(...responses.map((response) => response.statusCode));
          return responses.every((response) => response.statusCode === 200);
        },
        RECOVERY_MS,
        100,
      );
      assert.ok(back, `statuses: ${statuses.join(',')}`);
      for (const status of statuses) assert.ok(status === 200 || status === 503, `${status}`);
    });
  });

  describe('the embedded SQLite file, locked by another process', () => {
    const { app, env } = useSuiteApp();

    it('G-04 answers a write 503 after the busy timeout while another writer holds the file, and writes again after', async () => {
      // An open SQLite file cannot "go down" under its process (chmod does not reach an open
      // descriptor); a writer that will not let go is the outage it can have.
      const session = await login(app, ADMIN);
      const locker = new Database(join(env.dataDir, 'employees.sqlite'));
      locker.exec('BEGIN EXCLUSIVE');
      const update = () =>
        app.inject({
          method: 'POST',
          url: '/api/emp/admin-save',
          headers: FORM,
          cookies: { session: session.cookie },
          payload: form({
            empNo: '10001',
            birthDate: '02/09/1953',
            firstName: 'Georgi',
            lastName: 'Facello',
            gender: 'M',
            hireDate: '26/06/1986',
          }),
        });
      try {
        const { value, ms } = await timed(update);
        assert.equal(value.statusCode, 503, value.body);
        assert.deepEqual(value.json(), DATABASE_UNAVAILABLE);
        assert.ok(ms < 7000, `${ms.toFixed(0)} ms`);
      } finally {
        locker.exec('ROLLBACK');
        locker.close();
      }
      assert.equal((await update()).statusCode, 200);
    });
  });
});
