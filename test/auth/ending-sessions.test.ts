/**
 * Ending sessions is final: logins in flight race every way of ending a person's sessions (an
 * administrator disabling the account or ending its sessions, the person changing their password or
 * ending all their own sessions, and the admin command line's `account disable`, `password set` and
 * `sessions end`), over repeated rounds, on each session store. After each round nothing of the
 * person may be live: no session in the backend (read behind the store's back), none unlisted by
 * the owner index, and no cookie or token of a login that answered 200 still accepted.
 *
 * Disabling and password changes must defeat every racing login, whenever it started: those rounds
 * start the ender from a login's time before the logins to twice it after. A plain end-all must defeat every login that began its password check before the end-all ran (a login
 * after it is a new login): those rounds fire the ender once all logins have read their generation
 * ticket (seen through `beginCreate`, wrapped to observe only), then after a delay that grows each
 * round, so that the ender lands at every stage of the logins (hashing, creating, confirming, done).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { runAdmin } from '../../src/cli/admin.js';
import { openSessions, SESSIONS_SQLITE_FILE, type OpenedSessions } from '../../src/cli/resources.js';
import { pipedSecretInput } from '../../src/cli/secret-input.js';
import { SEED_EMPLOYEES } from '../../src/sample-data/seed.js';
import { findPasswordHash, setAccountDisabled, updatePasswordHash } from '../../src/employees/employee-repository.js';
import { verifyPassword } from '../../src/identity/passwords.js';
import { Readable } from 'node:stream';
import { API, FORM, form, login, STORE_KINDS, useSuiteApp } from '../helpers/app.js';
import { serviceGate } from '../helpers/services.js';
import { sessionCensus, type CensusSource } from '../helpers/session-census.js';
import { INCORRECT } from '../helpers/messages.js';
import { SUPER } from '../helpers/people.js';

const ROUNDS = 5;
const CLI_ROUNDS = 2;
const LOGINS = 4;
/**
 * Four logins at once take about this many times one alone (two cores, two hashes each): the rounds
 * spread their ender over this many times one login's time (see `race`), so that it meets the logins
 * at every stage however fast the machine is.
 */
const SPREAD = 3;
const PASSWORD = 'password';

interface Person {
  username: string;
  empNo: number;
}

function seedPerson(empNo: number): Person {
  const employee = SEED_EMPLOYEES.find((candidate) => candidate.emp_no === empNo);
  if (!employee) throw new Error(`no seed employee ${empNo}`);
  return { username: employee.email, empNo };
}

type Outcome = { status: number; body?: unknown; cookie?: string; token?: string };

/** What a refused racing login answers, whole. */
const REFUSALS: Record<number, unknown> = {
  400: INCORRECT,
  409: {
    detail: 'All sessions of this account were ended while logging in; log in again',
    error: 'invalid_grant',
    error_description: 'All sessions of this account were ended while logging in; log in again',
  },
};

for (const store of STORE_KINDS) {
  describe(`ending sessions is final, with the ${store} store`, await serviceGate(...(store === 'redis' ? ['redis' as const] : [])), () => {
    // Failed logins are the point here: no throttling. Idle 10 s, so a refresh is due after 1 s.
    const { app, env } = useSuiteApp({
      store,
      env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_CLIENT: '100000', SESSION_IDLE_TIMEOUT_SECONDS: '10' },
    });
    let cli: OpenedSessions;
    let admin: { cookie: string };
    let census: CensusSource;
    /** How long the last single login took, in ms (measured, not assumed). */
    let loginMs = 100;
    /** How many generation tickets each person's logins have read so far. */
    const ticketsRead = new Map<number, number>();

    before(() => {
      // Observes, changes nothing: the real ticket is read and returned.
      const beginCreate = app.sessions.beginCreate.bind(app.sessions);
      app.sessions.beginCreate = async (empNo) => {
        const ticket = await beginCreate(empNo);
        ticketsRead.set(empNo, (ticketsRead.get(empNo) ?? 0) + 1);
        return ticket;
      };
      // The command line opens its own connection to the same store, as `npm run admin` would.
      cli = openSessions(env.config);
      census = env.config.REDIS_URL
        ? { redisUrl: env.config.REDIS_URL, keyPrefix: env.keyPrefix }
        : { sqlitePath: join(env.dataDir, SESSIONS_SQLITE_FILE), keyPrefix: env.keyPrefix };
    });
    beforeEach(async () => {
      // Each test's own: the idle timeout (10 s) would end one shared across the whole suite.
      const started = performance.now();
      admin = await login(app, SUPER); // super:*, who may disable anyone else and end their sessions
      loginMs = performance.now() - started;
    });
    after(async () => {
      await cli?.store.close();
    });

    const me = (credentials: { cookie?: string; token?: string }) =>
      app.inject({
        method: 'GET',
        url: '/api/me',
        ...(credentials.cookie ? { cookies: { session: credentials.cookie } } : {}),
        ...(credentials.token ? { headers: { authorization: `Bearer ${credentials.token}` } } : {}),
      });

    async function tryLogin(person: Person, password: string): Promise<Outcome> {
      const response = await app.inject({
        method: 'POST',
        url: '/auth/token',
        headers: { ...FORM, ...API },
        payload: form({ username: person.username, password }),
      });
      if (response.statusCode !== 200) return { status: response.statusCode, body: response.json() };
      const cookie = response.cookies.find((c) => c.name === 'session')?.value;
      return { status: 200, ...(cookie ? { cookie } : {}), token: response.json<{ access_token: string }>().access_token };
    }

    async function waitForTickets(empNo: number, count: number): Promise<void> {
      const deadline = Date.now() + 10_000;
      while ((ticketsRead.get(empNo) ?? 0) < count) {
        if (Date.now() > deadline) throw new Error(`only ${ticketsRead.get(empNo) ?? 0} of ${count} tickets were read`);
        await sleep(1);
      }
    }

    async function adminCommand(argv: string[], secret = ''): Promise<{ code: number; stderr: string }> {
      const stderr: string[] = [];
      const code = await runAdmin(argv, {
        db: app.db,
        sessions: cli.manager,
        secrets: pipedSecretInput(Readable.from([Buffer.from(secret)])),
        config: env.config,
        stdout: { write: () => true },
        stderr: { write: (text: string) => stderr.push(text) },
      });
      return { code, stderr: stderr.join('') };
    }

    interface Race {
      person: Person;
      rounds: number;
      /** The statuses a racing login may end with. */
      allowed: number[];
      /** true: fire once every login has read its ticket (end-all); false: fire on the clock alone. */
      afterTickets: boolean;
      /** Run before the logins of a round start; returns the password the logins use. */
      prepare(round: number): Promise<string>;
      end(round: number): Promise<void>;
      /** Run once every login of the round has answered and the sessions were checked. */
      settle?(round: number): Promise<void>;
    }

    /** Runs the rounds; reports how the logins ended (200 then ended, 400, 409), to show the ender met them at every stage. */
    async function race(t: TestContext, spec: Race): Promise<void> {
      const statuses: number[] = [];
      for (let round = 0; round < spec.rounds; round++) {
        const password = await spec.prepare(round);
        const ticketsBefore = ticketsRead.get(spec.person.empNo) ?? 0;
        // From one login's time before the logins (clock rounds only) to SPREAD - 1 times it after.
        const offsetMs = ((round / Math.max(1, spec.rounds - 1)) * SPREAD - (spec.afterTickets ? 0 : 1)) * loginMs;
        let ending: Promise<void> | undefined;
        if (offsetMs < 0) {
          ending = spec.end(round);
          await sleep(-offsetMs | 0);
        }
        const logins = Array.from({ length: LOGINS }, () => tryLogin(spec.person, password));
        if (spec.afterTickets) await waitForTickets(spec.person.empNo, ticketsBefore + LOGINS);
        if (!ending) {
          await sleep(offsetMs | 0);
          ending = spec.end(round);
        }
        await ending;
        const outcomes = await Promise.all(logins);
        for (const outcome of outcomes) {
          statuses.push(outcome.status);
          assert.ok(spec.allowed.includes(outcome.status), `round ${round}: a login answered ${outcome.status}`);
          if (outcome.status !== 200) {
            assert.deepEqual(outcome.body, REFUSALS[outcome.status], `round ${round}`);
            continue;
          }
          assert.equal((await me({ cookie: outcome.cookie! })).statusCode, 401, `round ${round}: a cookie still works`);
          assert.equal((await me({ token: outcome.token! })).statusCode, 401, `round ${round}: a token still works`);
        }
        assert.deepEqual(await sessionCensus(census, spec.person.empNo), { live: [], unlisted: [] }, `round ${round}: sessions left`);
        await spec.settle?.(round);
      }
      const tally = new Map<number, number>();
      for (const status of statuses) tally.set(status, (tally.get(status) ?? 0) + 1);
      t.diagnostic(`${spec.person.username}: logins answered ${[...tally].map(([status, n]) => `${n} × ${status}`).join(', ')}`);
    }

    /** A legacy bcrypt hash of `password` again, so every round also races the argon2id upgrade of a login. */
    async function legacyPassword(person: Person): Promise<void> {
      await updatePasswordHash(app.db, person.empNo, await bcryptHash(PASSWORD, 10));
    }

    /** The password the person has after a round: the new one, never the old one a racing login's upgrade wrote back. */
    async function assertPasswordIs(person: Person, expected: string): Promise<void> {
      const hash = (await findPasswordHash(app.db, person.empNo))!;
      assert.equal(await verifyPassword(hash, expected), true, 'the new password is in force');
      assert.equal(await verifyPassword(hash, PASSWORD), false, 'the old password is not back');
    }

    it(`an administrator disabling the account defeats ${LOGINS} racing logins, ${ROUNDS} rounds`, async (t) => {
      const person = seedPerson(10013);
      await race(t, {
        person,
        rounds: ROUNDS,
        allowed: [200, 400],
        afterTickets: false,
        prepare: async () => PASSWORD,
        async end() {
          const response = await app.inject({
            method: 'POST',
            url: `/emp/account/${person.empNo}`,
            headers: API,
            cookies: { session: admin.cookie },
            payload: { disabled: true },
          });
          assert.equal(response.statusCode, 200, response.body);
        },
        async settle() {
          await setAccountDisabled(app.db, person.empNo, false);
        },
      });
    });

    it(`changing one's own password defeats ${LOGINS} racing logins with the old one, ${ROUNDS} rounds`, async (t) => {
      const person = seedPerson(10008);
      let current = PASSWORD;
      let own = { cookie: '' };
      await race(t, {
        person,
        rounds: ROUNDS,
        allowed: [200, 400],
        afterTickets: false,
        async prepare() {
          own = await login(app, { username: person.username, password: current });
          return current;
        },
        async end(round) {
          const response = await app.inject({
            method: 'POST',
            url: '/auth/password',
            headers: { ...FORM, ...API },
            cookies: { session: own.cookie },
            payload: form({ current_password: current, new_password: `a new password ${round}` }),
          });
          assert.equal(response.statusCode, 200, response.body);
          current = `a new password ${round}`;
        },
      });
    });

    it(`an administrator ending the sessions defeats ${LOGINS} logins already checking the password, ${ROUNDS} rounds`, async (t) => {
      const person = seedPerson(10014);
      await race(t, {
        person,
        rounds: ROUNDS,
        allowed: [200, 409],
        afterTickets: true,
        prepare: async () => PASSWORD,
        async end() {
          const response = await app.inject({
            method: 'POST',
            url: `/emp/sessions/${person.empNo}/end-all`,
            headers: API,
            cookies: { session: admin.cookie },
          });
          assert.equal(response.statusCode, 200, response.body);
        },
      });
    });

    it(`ending all one's own sessions defeats ${LOGINS} logins already checking the password, ${ROUNDS} rounds`, async (t) => {
      const person = seedPerson(10015);
      let own = { cookie: '' };
      await race(t, {
        person,
        rounds: ROUNDS,
        allowed: [200, 409],
        afterTickets: true,
        async prepare() {
          own = await login(app, { username: person.username, password: PASSWORD });
          return PASSWORD;
        },
        async end() {
          const response = await app.inject({
            method: 'POST',
            url: '/auth/sessions/end-all',
            headers: API,
            cookies: { session: own.cookie },
          });
          assert.equal(response.statusCode, 200, response.body);
        },
      });
    });

    it(`the command line's account disable, password set (over a legacy hash being upgraded) and sessions end defeat ${LOGINS} racing logins, ${CLI_ROUNDS} rounds each`, async (t) => {
      const disabled = seedPerson(10016);
      await race(t, {
        person: disabled,
        rounds: CLI_ROUNDS,
        allowed: [200, 400],
        afterTickets: false,
        prepare: async () => PASSWORD,
        end: async () => assert.equal((await adminCommand(['account', 'disable', disabled.username])).code, 0),
        settle: async () => assert.equal((await adminCommand(['account', 'enable', disabled.username])).code, 0),
      });
      const changed = seedPerson(10002);
      await race(t, {
        person: changed,
        rounds: CLI_ROUNDS,
        allowed: [200, 400],
        afterTickets: false,
        async prepare() {
          await legacyPassword(changed);
          return PASSWORD;
        },
        end: async (round) =>
          assert.deepEqual(await adminCommand(['password', 'set', changed.username], `set by the cli ${round}\n`), { code: 0, stderr: '' }),
        settle: (round) => assertPasswordIs(changed, `set by the cli ${round}`),
      });
      const ended = seedPerson(10017);
      await race(t, {
        person: ended,
        rounds: CLI_ROUNDS,
        allowed: [200, 409],
        afterTickets: true,
        prepare: async () => PASSWORD,
        end: async () => assert.equal((await adminCommand(['sessions', 'end', ended.username])).code, 0),
      });
    });

    it("neither ends nor prolongs someone else's session named in My sessions", async () => {
      const theirs = await login(app, { username: seedPerson(10018).username, password: PASSWORD });
      const mine = await login(app, { username: seedPerson(10019).username, password: PASSWORD });
      const id = theirs.cookie.split('.')[0]!;
      await sleep(1100); // past min(60 s, idle / 10) = 1 s: a read that counted as activity would now write
      const before = await app.sessionStore.get(id);
      const response = await app.inject({
        method: 'POST',
        url: `/auth/sessions/${id}/end`,
        headers: API,
        cookies: { session: mine.cookie },
      });
      assert.equal(response.statusCode, 404);
      assert.deepEqual(response.json(), { detail: 'No such session' });
      // A refresh would have written a later lastSeenAt (and with it a later expiry).
      assert.deepEqual(await app.sessionStore.get(id), before, 'lastSeenAt unchanged');
      assert.equal((await me({ cookie: theirs.cookie })).statusCode, 200, 'and it was not ended');
    });
  });
}
