/**
 * A password change is throttled like a login (its current password is a guess), and like a login
 * it gives back what an attempt counted when the attempt met a database or session-store outage:
 * an outage proves nothing about the password, so it must not lock the person out once it is over.
 * Checked through AuthService itself over the SQLite seed, with the outage injected at the read of
 * the password hash (database) and at the per-employee count (session store).
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KyselyPlugin } from 'kysely';
import pino from 'pino';
import { openDatabase, type OpenedDatabase } from '../../src/database/open.js';
import { seedIfEmpty } from '../../src/sample-data/seed.js';
import { AuthService } from '../../src/auth/auth-service.js';
import { AccessTokens } from '../../src/auth/tokens.js';
import { LoginThrottle } from '../../src/auth/throttle.js';
import { SessionManager } from '../../src/sessions/session-manager.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-store.js';
import { SessionStoreUnavailableError } from '../../src/sessions/store.js';
import type { CounterStore } from '../../src/sessions/counter-store.js';
import { U2, USER_READ, UX, type Person } from '../helpers/people.js';

const LIMIT = 3;
const CLIENT = { address: '192.0.2.7' };
const WRONG = { statusCode: 422, code: 'VALIDATION_FAILED' };

describe('a password change that meets an outage', () => {
  let work: string;
  let database: OpenedDatabase;
  let store: SqliteSessionStore;
  let auth: AuthService;
  let outage: 'database' | 'store' | undefined;

  /** The database "goes away" for reads of password hashes, as a dropped connection answers. */
  const databaseOutage: KyselyPlugin = {
    transformQuery({ node }) {
      if (outage === 'database' && node.kind === 'SelectQueryNode' && JSON.stringify(node).includes('"password"')) {
        throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      }
      return node;
    },
    transformResult: async ({ result }) => result,
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ep-password-throttle-'));
    database = await openDatabase(undefined, { dataDir: work, seed: seedIfEmpty });
    store = new SqliteSessionStore({ path: ':memory:', sweepIntervalMs: 60_000 });
    // The per-employee count is the store call that fails: the account and client counts are already taken by then.
    const counters: CounterStore = {
      increment: (name, windowSeconds) =>
        outage === 'store' && name.startsWith('login:employee:')
          ? Promise.reject(new SessionStoreUnavailableError(new Error('connection lost')))
          : store.increment(name, windowSeconds),
      decrement: (name) => store.decrement(name),
      resetCounter: (name) => store.resetCounter(name),
    };
    const throttle = new LoginThrottle(counters, { maxFailuresPerAccount: LIMIT, maxFailuresPerClient: 100, windowSeconds: 60 });
    const sessions = new SessionManager(store, { idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 3600 });
    const tokens = new AccessTokens('k'.repeat(43), 600);
    auth = new AuthService(database.db.withPlugin(databaseOutage), sessions, tokens, throttle, pino({ level: 'silent' }));
  });
  beforeEach(() => {
    outage = undefined;
  });
  after(async () => {
    await store?.close();
    await database?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Each test changes the password of its own person, so that none inherits another's counts. */
  const change = (person: Person, current: string) =>
    auth.changePassword(
      { empNo: person.empNo, scopes: ['user:read'], sessionId: 'a'.repeat(22), via: 'session' },
      current,
      'a new long password',
      CLIENT,
    );

  for (const [kind, person] of [
    ['database', U2],
    ['store', USER_READ],
  ] as const) {
    it(`gives the counts back when the ${kind} is away, so that more than the limit of such attempts locks nobody out`, async () => {
      outage = kind;
      for (let attempt = 0; attempt < LIMIT + 2; attempt++) {
        await assert.rejects(change(person, 'not it'), (error: Error) => {
          assert.ok(kind === 'database' ? /ECONNRESET/.test(error.message) : error instanceof SessionStoreUnavailableError, error.message);
          return true;
        });
      }
      outage = undefined;
      // Had the outage counted, the account would be over its limit now: 429, not "wrong password".
      await assert.rejects(change(person, 'not it'), WRONG);
    });
  }

  it('still counts wrong passwords: over the limit, the next attempt is refused', async () => {
    for (let attempt = 0; attempt < LIMIT; attempt++) await assert.rejects(change(UX, 'not it'), WRONG);
    await assert.rejects(change(UX, UX.password), { statusCode: 429, code: 'TOO_MANY_ATTEMPTS' });
  });
});
