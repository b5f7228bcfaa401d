/**
 * The real server process over a private PostgreSQL that goes away: started while it is down, and
 * stopped and started again under load. No outage ends the process; every request meanwhile is
 * answered 200 or 503 (never 500), and the app serves again by itself when the server returns.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pollUntil, startPrivatePostgres, type PrivatePostgres } from '../../support/private-servers.js';
import { spawnServer, type ServerProcess } from '../helpers/processes.js';
import { isReachable } from '../helpers/services.js';
import { U1 } from '../helpers/people.js';
import { DATABASE_UNAVAILABLE } from '../helpers/messages.js';

const LOGIN_BODY = new URLSearchParams({ username: U1.username, password: U1.password }).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
const RESTARTS = 5;

/** The private cluster needs the PostgreSQL binaries; the shared server being up says they are installed. */
const gate = (await isReachable('postgres')) || process.env.CI === 'true' ? {} : { skip: 'PostgreSQL is not installed here' };

async function ready(server: ServerProcess): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.baseUrl}/ready`);
  return { status: response.status, body: await response.json() };
}

async function login(server: ServerProcess): Promise<Response> {
  return fetch(`${server.baseUrl}/auth/token`, { method: 'POST', headers: FORM, body: LOGIN_BODY });
}

describe('the server over a private PostgreSQL that goes away', gate, () => {
  let postgres: PrivatePostgres;
  const servers: ServerProcess[] = [];

  before(async () => {
    postgres = await startPrivatePostgres();
    const client = new pg.Client({ connectionString: `${postgres.url}/postgres` });
    await client.connect();
    await client.query('create database late');
    await client.end();
  });
  after(async () => {
    for (const server of servers) await server.stop();
    await postgres?.stop();
  });

  it(
    'starts while PostgreSQL is down, serves 503 and says why, counts no login against the throttle, then migrates and serves once it is up',
    { timeout: 60_000 },
    async () => {
      await postgres.kill();
      const server = await spawnServer({ DATABASE_URL: `${postgres.url}/late` });
      servers.push(server);
      assert.ok(
        await pollUntil(async () => (await fetch(`${server.baseUrl}/health`)).status === 200, 30_000, 200),
        'up without its database',
      );
      assert.deepEqual(await ready(server), {
        status: 503,
        body: { status: 'unavailable', checks: { sessionStore: 'ok', database: 'unavailable' } },
      });
      // More attempts than LOGIN_MAX_FAILURES_PER_ACCOUNT (10): an attempt that met the outage is
      // given back to the throttle, so the outage locks nobody out once it is over.
      for (let attempt = 0; attempt < 12; attempt++) {
        const refused = await login(server);
        assert.equal(refused.status, 503);
        assert.deepEqual(await refused.json(), DATABASE_UNAVAILABLE);
      }
      assert.match(server.output(), /"level":40,.*database unavailable at start/, 'said so at warn level');

      await postgres.start();
      const started = Date.now();
      assert.ok(await pollUntil(async () => (await ready(server)).status === 200, 20_000, 200), 'ready without a restart');
      const loggedIn = await login(server);
      assert.equal(loggedIn.status, 200, 'migrated and seeded once the database answered');
      assert.equal(((await loggedIn.json()) as { token_type: string }).token_type, 'bearer');
      assert.equal(server.child.exitCode, null);
      console.log(`started without PostgreSQL: ready ${((Date.now() - started) / 1000).toFixed(1)} s after it came up`);
    },
  );

  it(
    `stays up through ${RESTARTS} PostgreSQL restarts under load, answering only 200 or 503, and serves after each`,
    { timeout: 90_000 },
    async () => {
      const server = await spawnServer({
        DATABASE_URL: `${postgres.url}/postgres`,
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000',
        LOGIN_MAX_FAILURES_PER_CLIENT: '1000',
      });
      servers.push(server);
      assert.ok(await pollUntil(async () => (await ready(server)).status === 200, 30_000, 200), server.output());
      const { access_token: token } = (await (await login(server)).json()) as { access_token: string };

      const statuses = new Map<number, number>();
      const unexpected: string[] = [];
      let running = true;
      const me = async () => {
        const response = await fetch(`${server.baseUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } });
        return { status: response.status, body: await response.text() };
      };
      const loginOnce = async () => {
        const response = await login(server);
        return { status: response.status, body: await response.text() };
      };
      // Eight clients at once: reads of the employee and logins (a read, a hash, a session), so
      // that connections are checked out of the pool at every moment the server goes away.
      const loops = Array.from({ length: 8 }, async (_, index) => {
        while (running) {
          const { status, body } = await (index < 6 ? me() : loginOnce()).catch((error: Error) => ({ status: 0, body: error.message }));
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 503) assert.deepEqual(JSON.parse(body), DATABASE_UNAVAILABLE);
          else if (status !== 200) unexpected.push(`${status} ${body}`);
        }
      });

      const windows: number[] = [];
      try {
        for (let restart = 0; restart < RESTARTS; restart++) {
          await sleep(500);
          await postgres.kill(); // immediate: every connection cut, idle or checked out
          const down = Date.now();
          const unavailableBefore = statuses.get(503) ?? 0;
          await sleep(1000);
          assert.equal(server.child.exitCode, null, `alive after stop ${restart + 1}: ${server.output().slice(-2000)}`);
          assert.ok((statuses.get(503) ?? 0) > unavailableBefore, 'requests meet 503 while PostgreSQL is down');
          await postgres.start();
          assert.ok(await pollUntil(async () => (await me()).status === 200, 10_000, 100), `serves again after restart ${restart + 1}`);
          windows.push((Date.now() - down) / 1000);
        }
      } finally {
        running = false;
        await Promise.all(loops);
      }
      assert.deepEqual(unexpected, [], 'only 200 and 503');
      assert.equal(server.child.exitCode, null, 'the process never exited');
      assert.ok((statuses.get(200) ?? 0) > 0);
      console.log(
        `PostgreSQL restarts: ${JSON.stringify(Object.fromEntries(statuses))}; error windows ${windows.map((w) => w.toFixed(1)).join(', ')} s`,
      );
    },
  );
});
