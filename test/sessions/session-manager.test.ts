/**
 * The session manager over every store (see store-harness.ts). The clock is injected, so the
 * timeouts are tested by moving it rather than by sleeping.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parseSessionToken, SESSION_TOKEN_PATTERN, SessionManager, SessionsEndedError } from '../../src/sessions/session-manager.js';
import { SessionStoreUnavailableError, type SessionStore } from '../../src/sessions/store.js';
import { openHarness, randomId, STORE_KINDS, storeGate, type StoreHarness } from './store-harness.js';

const IDLE_TIMEOUT_SECONDS = 1800;
const ABSOLUTE_TIMEOUT_SECONDS = 7200;
/** min(60 s, idle / 10) for the timeouts above. */
const REFRESH_INTERVAL_MS = 60_000;
const EMP_NO = 10_001;

/**
 * Passes calls through to a real store and counts them; `beforeRefresh` and `afterCreate` inject a
 * concurrent event at that point, `failGeneration` makes generation reads fail as an outage would.
 */
class SpyStore implements SessionStore {
  calls = 0;
  beforeRefresh: (() => Promise<void>) | undefined;
  afterCreate: (() => Promise<void>) | undefined;
  failGeneration = false;
  constructor(private readonly inner: SessionStore) {}
  get kind() {
    return this.inner.kind;
  }
  get: SessionStore['get'] = (...args) => (this.calls++, this.inner.get(...args));
  touch: SessionStore['touch'] = (...args) => (this.calls++, this.inner.touch(...args));
  create: SessionStore['create'] = async (...args) => {
    this.calls++;
    const created = await this.inner.create(...args);
    await this.afterCreate?.();
    return created;
  };
  refresh: SessionStore['refresh'] = async (...args) => {
    this.calls++;
    await this.beforeRefresh?.();
    return this.inner.refresh(...args);
  };
  destroy: SessionStore['destroy'] = (...args) => (this.calls++, this.inner.destroy(...args));
  listByOwner: SessionStore['listByOwner'] = (...args) => (this.calls++, this.inner.listByOwner(...args));
  destroyByOwner: SessionStore['destroyByOwner'] = (...args) => (this.calls++, this.inner.destroyByOwner(...args));
  generation: SessionStore['generation'] = async (...args) => {
    this.calls++;
    if (this.failGeneration) throw new SessionStoreUnavailableError(new Error('connection lost'));
    return this.inner.generation(...args);
  };
  bumpGeneration: SessionStore['bumpGeneration'] = (...args) => (this.calls++, this.inner.bumpGeneration(...args));
  ping: SessionStore['ping'] = () => this.inner.ping();
  close: SessionStore['close'] = () => this.inner.close();
}

/** A stored value in the layout before lastSeenAt came first (record-codec.ts), as an earlier version wrote it. */
function earlierLayout(value: string): string {
  const { s, ...rest } = JSON.parse(value) as Record<string, unknown>;
  return JSON.stringify({ ...rest, s });
}

function withOtherSecret(token: string): string {
  const { id, secret } = parseSessionToken(token)!;
  const other = secret.startsWith('A') ? `B${secret.slice(1)}` : `A${secret.slice(1)}`;
  return `${id}.${other}`;
}

describe('SessionManager options', () => {
  const store = {} as SessionStore;
  const valid = { idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 3600 };

  it('refuses a timeout that is not a positive whole number, naming the option', () => {
    for (const bad of [0, -5, 1.5, Number.NaN]) {
      assert.throws(
        () => new SessionManager(store, { ...valid, idleTimeoutSeconds: bad }),
        /idleTimeoutSeconds must be a positive integer/,
      );
      assert.throws(
        () => new SessionManager(store, { ...valid, absoluteTimeoutSeconds: bad }),
        /absoluteTimeoutSeconds must be a positive integer/,
      );
    }
  });

  it('refuses an idle timeout longer than the absolute one', () => {
    assert.throws(
      () => new SessionManager(store, { idleTimeoutSeconds: 3601, absoluteTimeoutSeconds: 3600 }),
      /idleTimeoutSeconds \(3601\) must not exceed absoluteTimeoutSeconds \(3600\)/,
    );
  });
});

describe('parseSessionToken', () => {
  it('splits a well-formed token into id and secret', () => {
    const id = randomId();
    const secret = randomId();
    assert.deepEqual(parseSessionToken(`${id}.${secret}`), { id, secret });
  });

  it('refuses anything else', () => {
    const id = randomId();
    for (const token of [undefined, null, '', '.', id, `${id}.`, `${id}.${id}.${id}`, `${id}.${id} `, `${id}.${id}\n`]) {
      assert.equal(parseSessionToken(token), null, JSON.stringify(token));
    }
  });
});

for (const kind of STORE_KINDS) {
  describe(`SessionManager (${kind})`, await storeGate(kind), () => {
    let h: StoreHarness;
    let spy: SpyStore;
    let clockMs: number;
    let manager: SessionManager;

    before(async () => {
      h = await openHarness(kind);
    });
    after(async () => {
      await h?.cleanup();
    });
    beforeEach(() => {
      spy = new SpyStore(h.store);
      clockMs = Date.now();
      manager = new SessionManager(spy, {
        idleTimeoutSeconds: IDLE_TIMEOUT_SECONDS,
        absoluteTimeoutSeconds: ABSOLUTE_TIMEOUT_SECONDS,
        now: () => clockMs,
      });
    });

    it('issues a token of the form <id>.<secret>, 22 base64url characters each', async () => {
      const { token, id, session } = await manager.create(EMP_NO, ['user:read', 'user:write']);
      assert.match(token, SESSION_TOKEN_PATTERN);
      assert.equal(token.split('.')[0], id);
      assert.deepEqual(session, {
        id,
        empNo: EMP_NO,
        scopes: ['user:read', 'user:write'],
        createdAt: new Date(clockMs),
        lastSeenAt: new Date(clockMs),
        expiresAt: new Date(clockMs + IDLE_TIMEOUT_SECONDS * 1000),
      });
    });

    it('keeps the scopes granted at login', async () => {
      const { token } = await manager.create(EMP_NO, ['admin:read']);
      assert.deepEqual((await manager.validateToken(token))?.scopes, ['admin:read']);
      const { token: none } = await manager.create(EMP_NO);
      assert.deepEqual((await manager.validateToken(none))?.scopes, []);
    });

    it('refuses an employee number that is not an integer, writing nothing', async () => {
      spy.calls = 0;
      await assert.rejects(manager.create(Number.NaN), TypeError);
      await assert.rejects(manager.create(1.5), TypeError);
      assert.equal(spy.calls, 0);
    });

    it('gives every sign-in a fresh id and secret', async () => {
      const created = await Promise.all(Array.from({ length: 20 }, () => manager.create(EMP_NO)));
      const secrets = created.map(({ token }) => parseSessionToken(token)!.secret);
      assert.equal(new Set(created.map(({ id }) => id)).size, 20);
      assert.equal(new Set(secrets).size, 20);
    });

    it('stores only a hash of the secret, in under 256 bytes', async () => {
      const { token, id } = await manager.create(EMP_NO);
      const entry = await h.peek(id);
      assert.ok(entry);
      assert.ok(!entry.value.includes(parseSessionToken(token)!.secret), 'raw secret stored');
      assert.ok(!entry.value.includes(token));
      assert.ok(Buffer.byteLength(entry.key) + Buffer.byteLength(entry.value) < 256);
      assert.ok(entry.ttlMs > (IDLE_TIMEOUT_SECONDS - 5) * 1000 && entry.ttlMs <= IDLE_TIMEOUT_SECONDS * 1000);
    });

    it('accepts the token it issued', async () => {
      const { token, session } = await manager.create(EMP_NO);
      assert.deepEqual(await manager.validateToken(token), session);
    });

    it('rejects the right id with a wrong secret, and the real token still works', async () => {
      const { token, session } = await manager.create(EMP_NO);
      assert.equal(await manager.validateToken(withOtherSecret(token)), null);
      assert.deepEqual(await manager.validateToken(token), session);
    });

    it('rejects malformed tokens without asking the store', async () => {
      const { token } = await manager.create(EMP_NO);
      spy.calls = 0;
      const malformed = [
        undefined,
        '',
        'abc',
        'x'.repeat(5000),
        `${token}x`,
        `${token}.${randomId()}`,
        `${token.slice(0, 22)}.${'é'.repeat(22)}`,
        `${'é'.repeat(22)}.${token.slice(23)}`,
        token.replace('.', ':'),
        ` ${token}`,
      ];
      for (const candidate of malformed) {
        assert.equal(await manager.validateToken(candidate), null, String(candidate).slice(0, 60));
      }
      assert.equal(spy.calls, 0);
    });

    it('rejects a well-formed token that it never issued', async () => {
      assert.equal(await manager.validateToken(`${randomId()}.${randomId()}`), null);
    });

    it('ends a session unused for the idle timeout, and deletes it', async () => {
      const { token, id } = await manager.create(EMP_NO);
      clockMs += IDLE_TIMEOUT_SECONDS * 1000 - 1;
      assert.ok(await manager.validateToken(token), 'still alive just before the idle deadline');
      clockMs += IDLE_TIMEOUT_SECONDS * 1000;
      assert.equal(await manager.validateToken(token), null);
      assert.equal(await h.store.get(id), undefined);
    });

    it('ends an active session at the absolute timeout', async () => {
      const { token, id } = await manager.create(EMP_NO);
      const createdAt = clockMs;
      const absoluteDeadline = createdAt + ABSOLUTE_TIMEOUT_SECONDS * 1000;
      for (let t = 1_000_000; t < ABSOLUTE_TIMEOUT_SECONDS * 1000; t += 1_000_000) {
        clockMs = createdAt + t;
        const session = await manager.validateToken(token);
        assert.ok(session, `alive at +${t / 1000} s`);
        assert.deepEqual(session.lastSeenAt, new Date(clockMs));
      }
      // Last activity at +7000 s: the idle deadline (+8800 s) is past the absolute one.
      const session = await manager.validateToken(token);
      assert.deepEqual(session?.expiresAt, new Date(absoluteDeadline));
      const entry = await h.peek(id);
      assert.ok(entry && entry.ttlMs <= 200_000, 'the store forgets it by the absolute deadline');
      clockMs = absoluteDeadline;
      assert.equal(await manager.validateToken(token), null);
      assert.equal(await h.store.get(id), undefined);
    });

    it('records activity only when the last record is older than the refresh interval, in one store call either way', async () => {
      const { token, id } = await manager.create(EMP_NO);
      const createdAt = clockMs;

      clockMs = createdAt + REFRESH_INTERVAL_MS / 2;
      spy.calls = 0;
      const early = await manager.validateToken(token);
      assert.deepEqual(early?.lastSeenAt, new Date(createdAt));
      assert.equal((await h.store.get(id))?.lastSeenAt, createdAt);
      assert.equal(spy.calls, 1, 'one call, and nothing written');

      clockMs = createdAt + REFRESH_INTERVAL_MS + 1;
      spy.calls = 0;
      const due = await manager.validateToken(token);
      assert.equal(spy.calls, 1, 'read and refresh in one call');
      assert.deepEqual(due?.lastSeenAt, new Date(clockMs));
      assert.deepEqual(due?.expiresAt, new Date(clockMs + IDLE_TIMEOUT_SECONDS * 1000));
      assert.equal((await h.store.get(id))?.lastSeenAt, clockMs);
      const entry = await h.peek(id);
      assert.ok(entry && entry.ttlMs > (IDLE_TIMEOUT_SECONDS - 5) * 1000, `ttl ${entry?.ttlMs} ms`);
    });

    it('does not bring back a session ended while requests were validating it (20 rounds, a refresh due each time)', async () => {
      for (let round = 0; round < 20; round++) {
        const { token, id } = await manager.create(EMP_NO);
        clockMs += REFRESH_INTERVAL_MS + 1;
        const validations = Array.from({ length: 3 }, async (_, i) => {
          await sleep((round + i) % 3);
          return manager.validateToken(token);
        });
        const [, ...sessions] = await Promise.all([sleep(round % 2).then(() => manager.destroy(id)), ...validations]);
        assert.equal(await h.peek(id), undefined, `round ${round}: the ended session is back`);
        assert.equal(await manager.validateToken(token), null, `round ${round}`);
        for (const session of sessions) if (session) assert.equal(session.id, id);
      }
    });

    it('rewrites a record of the earlier layout whole once, and not after a logout in between', async () => {
      const { token, id } = await manager.create(EMP_NO);
      const entry = await h.peek(id);
      await h.plant(id, earlierLayout(entry!.value), entry!.ttlMs);
      clockMs += REFRESH_INTERVAL_MS + 1;
      const due = await manager.validateToken(token);
      assert.deepEqual(due?.lastSeenAt, new Date(clockMs));
      assert.match((await h.peek(id))!.value, /^\{"s":/, 'now in the current layout');

      const { token: other, id: otherId } = await manager.create(EMP_NO);
      const otherEntry = await h.peek(otherId);
      await h.plant(otherId, earlierLayout(otherEntry!.value), otherEntry!.ttlMs);
      clockMs += REFRESH_INTERVAL_MS + 1;
      spy.beforeRefresh = async () => {
        await h.store.destroy(otherId); // a logout in another request, between the read and the rewrite
      };
      assert.equal(await manager.validateToken(other), null);
      assert.equal(await h.peek(otherId), undefined);
    });

    it('ends a session on destroy: true once, then false', async () => {
      const { token, id } = await manager.create(EMP_NO);
      assert.equal(await manager.destroy(id), true);
      assert.equal(await manager.validateToken(token), null);
      assert.equal(await manager.destroy(id), false);
    });

    it('does not ask the store to destroy a malformed id', async () => {
      spy.calls = 0;
      assert.equal(await manager.destroy('../../etc'), false);
      assert.equal(await manager.destroy('*'), false);
      assert.equal(spy.calls, 0);
    });

    it('validates a session by id alone, with the same timeouts', async () => {
      const { id, session } = await manager.create(EMP_NO);
      assert.deepEqual(await manager.validateId(id, EMP_NO), session);
      assert.equal(await manager.validateId(randomId(), EMP_NO), null);
      clockMs += IDLE_TIMEOUT_SECONDS * 1000;
      assert.equal(await manager.validateId(id, EMP_NO), null);
      assert.equal(await h.store.get(id), undefined);
    });

    describe("ending all of an owner's sessions while one is being created", () => {
      let owner: number;
      beforeEach(() => {
        owner = 300_000 + Math.floor(Math.random() * 100_000);
      });
      /** What the backend holds for the owner: nothing may be live, let alone unlisted. */
      const assertNothingLeft = async () => {
        assert.deepEqual(await h.census(owner), { live: [], unlisted: [] });
        assert.deepEqual(await manager.listForEmployee(owner), []);
      };

      it('creates with a ticket when nothing ended them meanwhile', async () => {
        const ticket = await manager.beginCreate(owner);
        const { token, id } = await manager.create(owner, [], undefined, ticket);
        assert.equal((await manager.validateToken(token))?.id, id);
        assert.deepEqual(
          (await manager.listForEmployee(owner)).map((session) => session.id),
          [id],
        );
      });

      it('undoes the create when the end-all came after the ticket, before the session was stored', async () => {
        const ticket = await manager.beginCreate(owner);
        assert.equal(await manager.endAllForEmployee(owner), 0);
        await assert.rejects(manager.create(owner, [], undefined, ticket), SessionsEndedError);
        await assertNothingLeft();
      });

      it('undoes the create when the end-all ran while the session was being stored', async () => {
        const ticket = await manager.beginCreate(owner);
        spy.afterCreate = async () => {
          spy.afterCreate = undefined;
          // Its listing may or may not see the new session; either way it must not survive.
          await manager.endAllForEmployee(owner);
        };
        await assert.rejects(manager.create(owner, [], undefined, ticket), SessionsEndedError);
        await assertNothingLeft();
      });

      it('ends, by its listing, a session created and confirmed before the end-all', async () => {
        const { token } = await manager.create(owner, [], undefined, await manager.beginCreate(owner));
        assert.equal(await manager.endAllForEmployee(owner), 1);
        assert.equal(await manager.validateToken(token), null);
        await assertNothingLeft();
      });

      it('never lets a session survive 10 rounds of 4 creates racing an end-all', async () => {
        for (let round = 0; round < 10; round++) {
          const tickets = await Promise.all(Array.from({ length: 4 }, () => manager.beginCreate(owner)));
          const creates = tickets.map(async (ticket, i) => {
            await new Promise((resolve) => setTimeout(resolve, (round + i) % 3));
            return manager.create(owner, [], undefined, ticket).then(
              ({ token }) => token,
              (error: unknown) => error,
            );
          });
          await new Promise((resolve) => setTimeout(resolve, round % 3));
          await manager.endAllForEmployee(owner);
          for (const outcome of await Promise.all(creates)) {
            if (typeof outcome === 'string') assert.equal(await manager.validateToken(outcome), null, `round ${round}`);
            else assert.ok(outcome instanceof SessionsEndedError, `round ${round}: ${String(outcome)}`);
          }
          await assertNothingLeft();
        }
      });

      it('refuses a ticket of another owner, and one older than ten minutes', async () => {
        await assert.rejects(manager.create(owner + 1, [], undefined, await manager.beginCreate(owner)), TypeError);
        const ticket = await manager.beginCreate(owner);
        clockMs += 10 * 60_000 + 1;
        await assert.rejects(manager.create(owner, [], undefined, ticket), SessionsEndedError);
        await assertNothingLeft();
      });

      it('undoes the create and fails when the generation cannot be read again', async () => {
        const ticket = await manager.beginCreate(owner);
        spy.failGeneration = true;
        await assert.rejects(manager.create(owner, [], undefined, ticket), SessionStoreUnavailableError);
        await assertNothingLeft();
      });
    });

    it("looks at someone else's session without ending or prolonging it, and ends one's own", async () => {
      const { token, id } = await manager.create(EMP_NO);
      clockMs += REFRESH_INTERVAL_MS + 1; // a refresh is due: any read that counted as activity would write
      const before = await h.peek(id);
      assert.equal(await manager.destroyOwned(id, EMP_NO + 1), false);
      assert.equal(await manager.validateId(id, EMP_NO + 1), null);
      const after = await h.peek(id);
      assert.equal(after?.value, before?.value, 'lastSeenAt unchanged');
      assert.ok(after && before && after.ttlMs <= before.ttlMs, 'expiry not extended');
      assert.equal(await manager.destroyOwned(id, EMP_NO), true);
      assert.equal(await manager.validateToken(token), null);
      assert.equal(await manager.destroyOwned(id, EMP_NO), false);
      assert.equal(await manager.destroyOwned('../../etc', EMP_NO), false);
    });

    it('refuses a malformed id without asking the store', async () => {
      const { token, id } = await manager.create(EMP_NO);
      spy.calls = 0;
      for (const candidate of ['', 'abc', 'x'.repeat(5000), token, `${id}*`, id.slice(1), 'é'.repeat(22)]) {
        assert.equal(await manager.validateId(candidate, EMP_NO), null, candidate.slice(0, 60));
      }
      assert.equal(spy.calls, 0);
    });
  });
}
