/**
 * The SessionStore contract, run against every store (see store-harness.ts).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { encodeSessionRecord } from '../../src/sessions/record-codec.js';
import { Redis } from 'ioredis';
import { SqliteSessionStore } from '../../src/sessions/sqlite-store.js';
import { SERVICE_URLS } from '../helpers/services.js';
import { SessionStoreUnavailableError, type SessionRecord } from '../../src/sessions/store.js';
import type { TouchRule } from '../../src/sessions/activity.js';
import { openHarness, randomId, sampleRecord, STORE_KINDS, storeGate, type StoreHarness } from './store-harness.js';

for (const kind of STORE_KINDS) {
  describe(`SessionStore contract (${kind})`, await storeGate(kind), () => {
    let h: StoreHarness;
    before(async () => {
      h = await openHarness(kind);
    });
    after(async () => {
      await h?.cleanup();
    });

    it('reports its kind', () => {
      assert.equal(h.store.kind, kind);
    });

    it('answers ping', async () => {
      await h.store.ping();
    });

    it('returns a created record unchanged', async () => {
      const id = randomId();
      const record = sampleRecord();
      assert.equal(await h.store.create(id, record, 60), true);
      assert.deepEqual(await h.store.get(id), record);
    });

    it('returns undefined for an id it never stored', async () => {
      assert.equal(await h.store.get(randomId()), undefined);
    });

    it('refuses to create over an existing id and keeps the first record', async () => {
      const id = randomId();
      const first = sampleRecord({ empNo: 1 });
      assert.equal(await h.store.create(id, first, 60), true);
      assert.equal(await h.store.create(id, sampleRecord({ empNo: 2 }), 60), false);
      assert.deepEqual(await h.store.get(id), first);
    });

    it('refuses to refresh an id that does not exist, and writes nothing', async () => {
      const id = randomId();
      assert.equal(await h.store.refresh(id, sampleRecord(), 60), false);
      assert.equal(await h.peek(id), undefined);
      assert.equal(await h.store.get(id), undefined);
    });

    it('does not resurrect a destroyed record on refresh', async () => {
      const id = randomId();
      const record = sampleRecord();
      await h.store.create(id, record, 60);
      assert.equal(await h.store.destroy(id), true);
      assert.equal(await h.store.refresh(id, { ...record, lastSeenAt: record.lastSeenAt + 1 }, 60), false);
      assert.equal(await h.peek(id), undefined);
    });

    it('rewrites a live record and its expiry on refresh', async () => {
      const id = randomId();
      const record = sampleRecord();
      await h.store.create(id, record, 5);
      const refreshed = { ...record, lastSeenAt: record.lastSeenAt + 30_000 };
      assert.equal(await h.store.refresh(id, refreshed, 600), true);
      assert.deepEqual(await h.store.get(id), refreshed);
      const entry = await h.peek(id);
      assert.ok(entry && entry.ttlMs > 590_000 && entry.ttlMs <= 600_000, `ttl ${entry?.ttlMs} ms`);
    });

    it('destroys a record once: true, then false', async () => {
      const id = randomId();
      await h.store.create(id, sampleRecord(), 60);
      assert.equal(await h.store.destroy(id), true);
      assert.equal(await h.store.destroy(id), false);
      assert.equal(await h.store.get(id), undefined);
    });

    it('stores under <keyPrefix><id> with the requested expiry', async () => {
      const id = randomId();
      await h.store.create(id, sampleRecord(), 1);
      const entry = await h.peek(id);
      assert.equal(entry?.key, `${h.keyPrefix}${id}`);
      assert.ok(entry.ttlMs > 0 && entry.ttlMs <= 1000, `ttl ${entry.ttlMs} ms`);
    });

    it('forgets a record when its expiry has passed, and then lets the id be created again', async () => {
      const id = randomId();
      await h.store.create(id, sampleRecord(), 1);
      await sleep(1100);
      assert.equal(await h.store.get(id), undefined);
      assert.equal(await h.store.refresh(id, sampleRecord(), 60), false);
      const next = sampleRecord({ empNo: 7 });
      assert.equal(await h.store.create(id, next, 60), true);
      assert.deepEqual(await h.store.get(id), next);
    });

    it('treats a corrupt stored value as absent instead of failing', async () => {
      for (const value of ['{not json', '"a string"', 'null', '{"h":"x","e":"10001","c":1,"s":1}']) {
        const id = randomId();
        await h.plant(id, value, 60_000);
        assert.equal(await h.store.get(id), undefined, value);
      }
    });

    it('keeps a session under 256 bytes (key + value) and stores no long field names', async () => {
      const id = randomId();
      const record = sampleRecord({ empNo: 2_147_483_647 });
      await h.store.create(id, record, 60);
      const entry = await h.peek(id);
      assert.ok(entry);
      const bytes = Buffer.byteLength(entry.key) + Buffer.byteLength(entry.value);
      assert.ok(bytes < 256, `${bytes} bytes`);
      assert.doesNotMatch(entry.value, /secretHash|lastSeenAt/);
    });

    it('rejects a ttl that is not a positive whole number of seconds', async () => {
      for (const ttl of [0, -1, 1.5, Number.NaN]) {
        await assert.rejects(h.store.create(randomId(), sampleRecord(), ttl), RangeError);
        await assert.rejects(h.store.refresh(randomId(), sampleRecord(), ttl), RangeError);
      }
    });

    it('keeps records across a reopen (restart or second instance)', async () => {
      const id = randomId();
      const record = sampleRecord();
      await h.store.create(id, record, 60);
      const reopened = await h.reopen();
      assert.deepEqual(await reopened.get(id), record);
    });

    it("lists one owner's live sessions, oldest first, and nobody else's", async () => {
      const owner = 700_000 + Math.floor(Math.random() * 100_000);
      const [older, newer, other, ended] = [randomId(), randomId(), randomId(), randomId()];
      await h.store.create(newer, sampleRecord({ empNo: owner, createdAt: 2_000 }), 60);
      await h.store.create(older, sampleRecord({ empNo: owner, createdAt: 1_000 }), 60);
      await h.store.create(other, sampleRecord({ empNo: owner + 1 }), 60);
      await h.store.create(ended, sampleRecord({ empNo: owner }), 60);
      await h.store.destroy(ended);
      const listed = await h.store.listByOwner(owner);
      assert.deepEqual(
        listed.map(({ id }) => id),
        [older, newer],
      );
      assert.equal(listed[0]!.record.empNo, owner);
      assert.deepEqual(await h.store.listByOwner(owner + 2), []);
    });

    it("ends every session of one owner and leaves the others'", async () => {
      const owner = 800_000 + Math.floor(Math.random() * 100_000);
      const mine = [randomId(), randomId()];
      const theirs = randomId();
      for (const id of mine) await h.store.create(id, sampleRecord({ empNo: owner }), 60);
      await h.store.create(theirs, sampleRecord({ empNo: owner + 1 }), 60);
      assert.equal(await h.store.destroyByOwner(owner), 2);
      for (const id of mine) assert.equal(await h.store.get(id), undefined);
      assert.ok(await h.store.get(theirs));
      assert.equal(await h.store.destroyByOwner(owner), 0);
    });

    it("ends an owner's sessions while more are being created, leaving none live and unlisted", async () => {
      const owner = 900_000 + Math.floor(Math.random() * 90_000);
      for (let round = 0; round < 10; round++) {
        const creates = Array.from({ length: 8 }, async (_, i) => {
          await sleep(i % 3);
          return h.store.create(randomId(), sampleRecord({ empNo: owner }), 60);
        });
        const ends = [h.store.destroyByOwner(owner), sleep(1).then(() => h.store.destroyByOwner(owner))];
        await Promise.all([...creates, ...ends]);
        const census = await h.census(owner);
        assert.deepEqual(census.unlisted, [], `round ${round}: live sessions the index does not list`);
        const listed = (await h.store.listByOwner(owner)).map(({ id }) => id);
        assert.deepEqual([...listed].sort(), [...census.live].sort(), `round ${round}: listing = what is live`);
        assert.equal(await h.store.destroyByOwner(owner), census.live.length);
        assert.deepEqual((await h.census(owner)).live, []);
      }
    });

    it("keeps an owner's generation until it is bumped, never repeats one, and keeps it across a reopen", async () => {
      const owner = 600_000 + Math.floor(Math.random() * 100_000);
      assert.equal(await h.store.generation(owner), '', 'never bumped');
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) {
        await h.store.bumpGeneration(owner, 60);
        seen.add(await h.store.generation(owner));
      }
      assert.equal(seen.size, 20);
      assert.ok(![...seen].includes(''));
      const last = await h.store.generation(owner);
      assert.equal(await (await h.reopen()).generation(owner), last);
      assert.equal(await h.store.generation(owner + 1), '', "another owner's is untouched");
      await assert.rejects(h.store.bumpGeneration(owner, 0), RangeError);
    });

    it('lists a session refreshed past its first expiry until its deadline, and forgets a generation after its ttl', async () => {
      const owner = 500_000 + Math.floor(Math.random() * 100_000);
      const id = randomId();
      const record = sampleRecord({ empNo: owner });
      await h.store.create(id, record, 1, Date.now() + 60_000);
      assert.equal(await h.store.refresh(id, { ...record, lastSeenAt: record.lastSeenAt + 1 }, 60), true);
      await h.store.bumpGeneration(owner, 1);
      await sleep(1100);
      assert.deepEqual(
        (await h.store.listByOwner(owner)).map((entry) => entry.id),
        [id],
      );
      assert.deepEqual(await h.census(owner), { live: [id], unlisted: [] });
      assert.equal(await h.store.generation(owner), '');
      assert.equal(await h.store.destroyByOwner(owner), 1);
    });

    describe('touch: the read and the activity write in one step', () => {
      const IDLE_MS = 600_000;
      const ABSOLUTE_MS = 3_600_000;
      const PENDING_MS = 300_000;
      const rule = (proof: TouchRule['proof'], now: number): TouchRule => ({
        proof,
        now,
        refreshAfterMs: 60_000,
        idleTimeoutMs: IDLE_MS,
        absoluteTimeoutMs: ABSOLUTE_MS,
        pendingTimeoutMs: PENDING_MS,
      });
      /** A record last seen `agoMs` ago, stored for a minute. */
      async function stored(agoMs: number, overrides: Partial<SessionRecord> = {}) {
        const id = randomId();
        const now = Date.now();
        const record = sampleRecord({ createdAt: now - agoMs, lastSeenAt: now - agoMs, ...overrides });
        await h.store.create(id, record, 60);
        return { id, record, now, entry: (await h.peek(id))! };
      }

      it('records activity when due: lastSeenAt and the expiry move, every other byte is kept, fields it does not know included', async () => {
        const { id, record, now, entry } = await stored(120_000);
        // A field of a later version, nested keys that look like ours, an empty array.
        const extended = `${entry.value.slice(0, -1)},"z":"later","x":{"s":1,"e":[]},"y":[]}`;
        await h.plant(id, extended, 60_000);
        const touched = await h.store.touch(id, rule({ secretHash: record.secretHash }, now));
        assert.deepEqual(touched, { ...record, lastSeenAt: now });
        const after = await h.peek(id);
        assert.equal(after?.value, extended.replace(`{"s":${record.lastSeenAt},`, `{"s":${now},`));
        assert.ok(after && after.ttlMs > IDLE_MS - 5_000 && after.ttlMs <= IDLE_MS, `ttl ${after?.ttlMs} ms`);
      });

      it('records activity for the owner a bearer token names', async () => {
        const { id, record, now } = await stored(120_000, { empNo: 4242 });
        assert.deepEqual(await h.store.touch(id, rule({ owner: 4242 }, now)), { ...record, lastSeenAt: now });
      });

      it('moves the expiry no further than the absolute deadline', async () => {
        const { id, record } = await stored(120_000, { createdAt: Date.now() - ABSOLUTE_MS + 30_000 });
        assert.ok(await h.store.touch(id, rule({ secretHash: record.secretHash }, Date.now())));
        const after = await h.peek(id);
        assert.ok(after && after.ttlMs <= 30_000 && after.ttlMs > 25_000, `ttl ${after?.ttlMs} ms`);
      });

      it('moves a login halfway through no further than its pending deadline, and keeps its marker', async () => {
        const { id, record, now } = await stored(120_000, { pending: 'verify', generation: '7', scopes: [] });
        assert.deepEqual(await h.store.touch(id, rule({ secretHash: record.secretHash }, now)), { ...record, lastSeenAt: now });
        const after = await h.peek(id);
        // Began 120 s ago, so 180 s are left of its 300; the idle timeout alone would give 600 s.
        assert.ok(after && after.ttlMs <= PENDING_MS - 120_000 && after.ttlMs > PENDING_MS - 130_000, `ttl ${after?.ttlMs} ms`);
      });

      it('writes nothing for a wrong secret, another owner, a recent activity, a past deadline or an earlier layout', async () => {
        const cases: Array<[string, number, Partial<SessionRecord>, (record: SessionRecord) => TouchRule['proof']]> = [
          ['wrong secret', 120_000, {}, () => ({ secretHash: sampleRecord().secretHash })],
          ['another owner', 120_000, { empNo: 4242 }, () => ({ owner: 4243 })],
          ['seen recently', 59_000, {}, (record) => ({ secretHash: record.secretHash })],
          ['idle too long', IDLE_MS, {}, (record) => ({ secretHash: record.secretHash })],
        ];
        for (const [label, agoMs, overrides, proof] of cases) {
          const { id, record, now, entry } = await stored(agoMs, overrides);
          assert.deepEqual(await h.store.touch(id, rule(proof(record), now)), record, label);
          const after = await h.peek(id);
          assert.equal(after?.value, entry.value, label);
          assert.ok(after && after.ttlMs <= entry.ttlMs, `${label}: expiry moved`);
        }
        const { id, record, now, entry } = await stored(120_000);
        const { s, ...rest } = JSON.parse(entry.value) as Record<string, unknown>;
        const earlier = JSON.stringify({ ...rest, s });
        await h.plant(id, earlier, 60_000);
        assert.deepEqual(await h.store.touch(id, rule({ secretHash: record.secretHash }, now)), record);
        assert.equal((await h.peek(id))?.value, earlier, 'an earlier layout is left for the caller to rewrite whole');
      });

      it('writes nothing for an id it does not hold, nor a corrupt value', async () => {
        const id = randomId();
        assert.equal(await h.store.touch(id, rule({ owner: 1 }, Date.now())), undefined);
        assert.equal(await h.peek(id), undefined);
        await h.plant(id, '{"s":1,"h":', 60_000);
        assert.equal(await h.store.touch(id, rule({ owner: 1 }, Date.now())), undefined);
        assert.equal((await h.peek(id))?.value, '{"s":1,"h":');
      });

      it('never brings back a record destroyed while touches race it (20 rounds)', async () => {
        for (let round = 0; round < 20; round++) {
          const { id, record, now } = await stored(120_000);
          const touches = Array.from({ length: 4 }, async (_, i) => {
            await sleep((round + i) % 3);
            return h.store.touch(id, rule({ secretHash: record.secretHash }, now));
          });
          const [destroyed] = await Promise.all([sleep(round % 2).then(() => h.store.destroy(id)), ...touches]);
          assert.equal(destroyed, true, `round ${round}`);
          assert.equal(await h.peek(id), undefined, `round ${round}: the destroyed record is back`);
        }
      });
    });

    it('counts atomically under concurrency, within a window', async () => {
      const name = `test:${randomId()}`;
      const states = await Promise.all(Array.from({ length: 50 }, () => h.store.increment(name, 60)));
      assert.deepEqual(
        states.map((state) => state.count).sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      assert.ok(states.every((state) => state.resetInSeconds > 0 && state.resetInSeconds <= 60));
      await h.store.decrement(name);
      assert.equal((await h.store.increment(name, 60)).count, 50);
      await h.store.resetCounter(name);
      assert.equal((await h.store.increment(name, 60)).count, 1);
    });

    it('starts a counter afresh once its window has passed, and never decrements below zero', async () => {
      const name = `test:${randomId()}`;
      await h.store.decrement(name);
      assert.equal((await h.store.increment(name, 1)).count, 1);
      await sleep(1100);
      assert.equal((await h.store.increment(name, 60)).count, 1);
    });

    it('gives a one-time value to exactly one of many racing takes, and never again', async () => {
      const name = `test:${randomId()}`;
      await h.store.putOnce(name, 'first', 60);
      await h.store.putOnce(name, 'second', 60);
      const taken = await Promise.all(Array.from({ length: 20 }, () => h.store.takeOnce(name)));
      assert.deepEqual(
        taken.filter((value) => value !== undefined),
        ['second'],
      );
      assert.equal(await h.store.takeOnce(name), undefined);
      assert.equal(await h.store.takeOnce(`test:${randomId()}`), undefined);
    });

    it('forgets a one-time value once its ttl has passed', async () => {
      const name = `test:${randomId()}`;
      await h.store.putOnce(name, 'value', 1);
      await sleep(1100);
      assert.equal(await h.store.takeOnce(name), undefined);
      await assert.rejects(h.store.putOnce(name, 'value', 0), RangeError);
    });

    it('throws SessionStoreUnavailableError once closed', async () => {
      const id = randomId();
      await h.store.create(id, sampleRecord(), 60);
      const closed = h.store;
      const live = await h.reopen();
      await assert.rejects(closed.get(id), SessionStoreUnavailableError);
      await assert.rejects(closed.ping(), SessionStoreUnavailableError);
      assert.ok(await live.get(id));
    });
  });
}

describe('RedisSessionStore owner index and generations', await storeGate('redis'), () => {
  let h: StoreHarness;
  let raw: Redis;
  before(async () => {
    h = await openHarness('redis');
    raw = new Redis(SERVICE_URLS.redis);
  });
  after(async () => {
    raw?.disconnect();
    await h?.cleanup();
  });
  const newOwner = () => 400_000 + Math.floor(Math.random() * 100_000);
  const indexKey = (owner: number) => `${h.keyPrefix}owned:${owner}`;

  it('indexes each session in a sorted set scored by its deadline, kept until the latest one; a refresh leaves it alone', async () => {
    const owner = newOwner();
    const [a, b] = [randomId(), randomId()];
    const now = Date.now();
    const record = sampleRecord({ empNo: owner });
    await h.store.create(a, record, 60, now + 100_000);
    await h.store.create(b, sampleRecord({ empNo: owner }), 60, now + 200_000);
    assert.deepEqual(await raw.zrange(indexKey(owner), 0, -1, 'WITHSCORES'), [a, String(now + 100_000), b, String(now + 200_000)]);
    assert.equal(await raw.pexpiretime(indexKey(owner)), now + 200_000);
    await h.store.refresh(a, { ...record, lastSeenAt: now + 5_000 }, 90);
    assert.deepEqual(await raw.zrange(indexKey(owner), 0, -1, 'WITHSCORES'), [a, String(now + 100_000), b, String(now + 200_000)]);
    assert.equal(await raw.pexpiretime(indexKey(owner)), now + 200_000);
  });

  it('drops entries past their deadline as the index is written, the id of a logout at once, and ids of expired sessions when it is read', async () => {
    const owner = newOwner();
    await raw.zadd(indexKey(owner), Date.now() - 1000, 'Stale0000000000000000a');
    const [kept, ended] = [randomId(), randomId()];
    await h.store.create(kept, sampleRecord({ empNo: owner }), 60);
    assert.equal(await raw.zscore(indexKey(owner), 'Stale0000000000000000a'), null);
    await h.store.create(ended, sampleRecord({ empNo: owner }), 60);
    await h.store.destroy(ended);
    assert.equal(await raw.zscore(indexKey(owner), ended), null, 'a logout takes its id out');
    const expired = randomId();
    await h.store.create(expired, sampleRecord({ empNo: owner }), 60);
    await raw.del(`${h.keyPrefix}${expired}`); // as its TTL would
    assert.deepEqual(
      (await h.store.listByOwner(owner)).map(({ id }) => id),
      [kept],
    );
    assert.deepEqual(await raw.zrange(indexKey(owner), 0, -1), [kept]);
    await h.store.destroy(kept);
    assert.equal(await raw.exists(indexKey(owner)), 0, 'the index goes with its last session');
  });

  it('removes a session it could not index, so that none lives unlisted', async () => {
    const owner = newOwner();
    await raw.set(indexKey(owner), 'not a sorted set');
    const id = randomId();
    await assert.rejects(h.store.create(id, sampleRecord({ empNo: owner }), 60), SessionStoreUnavailableError);
    assert.equal(await h.peek(id), undefined);
  });

  it('lists and ends the sessions an earlier version indexed in its plain set <prefix>owner:<empNo>', async () => {
    // What the previous release wrote at login: the record, and its id in a set per owner.
    const owner = newOwner();
    const legacyKey = `${h.keyPrefix}owner:${owner}`;
    const [old, gone] = [randomId(), randomId()];
    await raw.set(`${h.keyPrefix}${old}`, encodeSessionRecord(sampleRecord({ empNo: owner })), 'EX', 60);
    await raw.sadd(legacyKey, old, gone);
    const current = randomId();
    await h.store.create(current, sampleRecord({ empNo: owner }), 60);
    assert.deepEqual((await h.store.listByOwner(owner)).map(({ id }) => id).sort(), [current, old].sort());
    assert.deepEqual(await raw.smembers(legacyKey), [old], 'a dead legacy id is pruned when read');
    assert.equal(await h.store.destroyByOwner(owner), 2);
    assert.equal(await h.peek(old), undefined, "the earlier version's session has ended");
    assert.equal(await raw.exists(legacyKey), 0);
    await raw.set(legacyKey, 'another type');
    assert.deepEqual(await h.store.listByOwner(owner), [], 'a key of another type there is ignored');
    await raw.del(legacyKey);
  });

  it('keeps a generation under <prefix>gen:<empNo> with the ttl it was given', async () => {
    const owner = newOwner();
    await h.store.bumpGeneration(owner, 90);
    const key = `${h.keyPrefix}gen:${owner}`;
    assert.equal(await raw.get(key), await h.store.generation(owner));
    const ttl = await raw.ttl(key);
    assert.ok(ttl > 85 && ttl <= 90, `ttl ${ttl}`);
  });
});

describe('SqliteSessionStore', () => {
  let store: SqliteSessionStore;
  let h: StoreHarness;
  before(async () => {
    h = await openHarness('sqlite');
    store = h.store as SqliteSessionStore;
  });
  after(async () => {
    await h?.cleanup();
  });

  it('sweeps expired rows but keeps live ones', async () => {
    const expired = randomId();
    const live = randomId();
    await h.plant(expired, '{}', -1000);
    await store.create(live, sampleRecord(), 60);
    assert.ok(store.sweep() >= 1);
    assert.equal(await store.destroy(expired), false);
    assert.ok(await store.get(live));
  });

  it('does not count an expired row as a session when destroying it', async () => {
    const id = randomId();
    await h.plant(id, JSON.stringify({ h: 'x', e: 1, c: 1, s: 1 }), -1);
    assert.equal(await store.destroy(id), false);
  });

  it('works in memory', async () => {
    const memory = new SqliteSessionStore({ path: ':memory:' });
    try {
      const id = randomId();
      const record = sampleRecord();
      assert.equal(await memory.create(id, record, 60), true);
      assert.deepEqual(await memory.get(id), record);
    } finally {
      await memory.close();
    }
  });
});
