/**
 * The load test: a few hundred concurrent logged-in clients keep GET /api/me busy over
 * real loopback sockets, while some of them log out and the (private, persistence-off) Redis is
 * killed and restarted, losing every session. Counted: answers naming someone other than the
 * client's own person (must be 0), and sessions lost before the restart other than by a
 * deliberate logout (must be 0). After the restart clients see 401 (never another identity) and
 * log in again.
 *
 * Bounded for a 2-core CI machine: 300 clients for about 10 s. 60 of them log in through
 * POST /auth/token; the other 240 sessions are opened with `app.sessions.create`, the very call a
 * login makes once the password is checked, because each password check costs ~50 ms of CPU on
 * purpose (argon2id plus the equal-work bcrypt) and 300 of them would use up the time budget.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceGate } from '../helpers/services.js';
import { useSuiteApp } from '../helpers/app.js';
import { startPrivateRedis, type PrivateRedis } from '../../support/private-servers.js';
import { LEGACY_BCRYPT_EMP_NOS, SEED_EMPLOYEES, SEED_SCOPES } from '../../src/sample-data/seed.js';
import { portOf } from './support.js';

const CLIENTS = 300;
const HTTP_LOGINS = 60;
const LOGOUTS = 30;
const LOGOUT_AT_MS = 2000;
const RESTART_AT_MS = 4000;
const RUN_MS = 10_000;
/** Re-logins after the restart at most this many at a time, as people trickle back. */
const RELOGIN_CONCURRENCY = 6;

interface Client {
  empNo: number;
  username: string;
  cookie: string;
  loggedOut: boolean;
  /** Set when the client re-logged in after the restart. */
  relogged: boolean;
}

describe('load: 300 logged-in clients, logouts and a Redis restart', await serviceGate('redis'), () => {
  let redis: PrivateRedis;
  let base: string;
  before(async () => {
    redis = await startPrivateRedis();
  });
  // Many clients share one person here, so simultaneous logins of one account must not trip
  // the per-account throttle (it counts attempts until they succeed).
  const { app } = useSuiteApp({
    store: 'redis',
    env: () => ({ REDIS_URL: redis.url, LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_CLIENT: '100000' }),
    tolerateCloseErrors: true, // the test restarts this Redis
  });
  before(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${portOf(app)}`;
  });
  after(async () => {
    await redis?.stop();
  });

  async function httpLogin(username: string): Promise<{ status: number; cookie?: string }> {
    const response = await fetch(`${base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password: 'password' }),
    });
    await response.arrayBuffer();
    const cookie = /^session=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
    return { status: response.status, ...(cookie ? { cookie } : {}) };
  }

  it('mixes up no identity and loses no session but the logged-out and the restarted ones', async (t) => {
    const people = SEED_EMPLOYEES.filter(
      (employee) => !LEGACY_BCRYPT_EMP_NOS.includes(employee.emp_no) && JSON.stringify(SEED_SCOPES[employee.email]) === '["user:read"]',
    );
    assert.ok(people.length >= 20, `${people.length} people`);
    const clients: Client[] = [];
    for (let batch = 0; batch < CLIENTS; batch += 10) {
      const opened = await Promise.all(
        Array.from({ length: 10 }, async (_, j) => {
          const person = people[(batch + j) % people.length]!;
          let cookie: string;
          if (batch + j < HTTP_LOGINS) {
            const result = await httpLogin(person.email);
            assert.equal(result.status, 200);
            cookie = result.cookie!;
          } else {
            cookie = (await app.sessions.create(person.emp_no, ['user:read'], 'load test')).token;
          }
          return { empNo: person.emp_no, username: person.email, cookie, loggedOut: false, relogged: false };
        }),
      );
      clients.push(...opened);
    }

    const counts = {
      requests: 0,
      ok: 0,
      mixedUp: 0,
      lostBeforeRestart: 0,
      afterLogout: 0,
      afterRestart401: 0,
      outage503: 0,
      unexpected: 0,
      relogins: 0,
      reloginFailures: 0,
    };
    const unexpected: string[] = [];
    let phase: 'before' | 'restarting' | 'after' = 'before';
    let relogging = 0;
    const started = Date.now();

    async function run(client: Client): Promise<void> {
      while (Date.now() - started < RUN_MS) {
        const askedIn = phase;
        let status: number;
        let body: { emp_no?: number };
        try {
          const response = await fetch(`${base}/api/me`, { headers: { cookie: `session=${client.cookie}` } });
          status = response.status;
          body = (await response.json()) as { emp_no?: number };
        } catch (error) {
          counts.unexpected++;
          unexpected.push(`fetch failed: ${(error as Error).message}`);
          await sleep(50);
          continue;
        }
        counts.requests++;
        if (status === 200) {
          counts.ok++;
          if (body.emp_no !== client.empNo) counts.mixedUp++;
          await sleep(5); // a moment's thought between clicks keeps 300 clients from starving the timers
        } else if (status === 401) {
          if (client.loggedOut) {
            counts.afterLogout++;
            return; // a person who logged out is done
          }
          if (askedIn === 'before' && phase === 'before') {
            counts.lostBeforeRestart++;
            return;
          }
          counts.afterRestart401++;
          while (relogging >= RELOGIN_CONCURRENCY) await sleep(20);
          if (Date.now() - started >= RUN_MS) return;
          relogging++;
          try {
            const result = await httpLogin(client.username);
            if (result.status === 200 && result.cookie) {
              client.cookie = result.cookie;
              client.relogged = true;
              counts.relogins++;
            } else {
              counts.reloginFailures++; // 503 while Redis is still coming back
              await sleep(100);
            }
          } finally {
            relogging--;
          }
        } else if (status === 503 && phase !== 'before') {
          counts.outage503++;
          await sleep(50);
        } else {
          counts.unexpected++;
          unexpected.push(`${status} in phase ${phase}`);
        }
      }
    }

    const choreography = (async () => {
      await sleep(LOGOUT_AT_MS);
      await Promise.all(
        clients.slice(0, LOGOUTS).map(async (client) => {
          client.loggedOut = true;
          // Through inject: the same route, without queueing behind 300 busy sockets of this process.
          const response = await app.inject({ method: 'POST', url: '/api/logout', cookies: { session: client.cookie } });
          assert.deepEqual(response.json(), { message: 'You have been logged out' });
        }),
      );
      await sleep(RESTART_AT_MS - LOGOUT_AT_MS);
      phase = 'restarting';
      await redis.kill();
      await sleep(300);
      await redis.start();
      phase = 'after';
    })();
    await Promise.all([...clients.map(run), choreography]);

    // Everyone still in, re-logged in after the restart, is themself and no one else.
    for (const client of clients.filter((c) => c.relogged && !c.loggedOut)) {
      const response = await fetch(`${base}/api/me`, { headers: { cookie: `session=${client.cookie}` } });
      const body = (await response.json()) as { emp_no?: number };
      if (response.status === 200 && body.emp_no !== client.empNo) counts.mixedUp++;
    }
    const summary = JSON.stringify(counts);
    t.diagnostic(summary);
    assert.equal(counts.mixedUp, 0, `mixed-up identities: ${summary}`);
    assert.equal(counts.lostBeforeRestart, 0, `sessions lost before the restart: ${summary}`);
    assert.equal(counts.unexpected, 0, `unexpected answers: ${unexpected.slice(0, 5).join('; ')} ${summary}`);
    assert.ok(counts.requests > 3000, `a busy run: ${summary}`);
    assert.ok(counts.afterLogout >= LOGOUTS / 2, `logged-out clients saw 401: ${summary}`);
    assert.ok(counts.afterRestart401 > 0 && counts.relogins >= 20, `after the restart: 401, then new logins: ${summary}`);
  });
});
