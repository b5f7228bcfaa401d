/**
 * A Redis outage must answer fast with SessionStoreUnavailableError (the HTTP layer's 503), never
 * hang a request or crash the process, and the store must recover by itself when Redis returns.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisSessionStore } from '../../src/sessions/redis-store.js';
import { SessionStoreUnavailableError } from '../../src/sessions/store.js';
import { serviceGate } from '../helpers/services.js';
import { pollUntil, startPrivateRedis, type PrivateRedis } from '../../support/private-servers.js';
import { randomId, randomKeyPrefix, sampleRecord } from './store-harness.js';

const UNAVAILABLE_WITHIN_MS = 2500;
const CLOSE_WITHIN_MS = 1500;
const RECOVER_WITHIN_MS = 10_000;

async function elapsedMs(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

describe('RedisSessionStore when Redis cannot be reached', () => {
  let store: RedisSessionStore;
  const errors: Error[] = [];
  before(() => {
    // Port 1 (tcpmux) is closed on any sane machine: connections are refused at once.
    store = new RedisSessionStore({
      url: 'redis://127.0.0.1:1',
      keyPrefix: randomKeyPrefix(),
      onError: (err) => errors.push(err),
    });
  });
  after(async () => {
    await store.close();
  });

  it('fails get, create, refresh, destroy and ping with SessionStoreUnavailableError, quickly', async () => {
    const id = randomId();
    const calls = {
      get: () => store.get(id),
      create: () => store.create(id, sampleRecord(), 60),
      refresh: () => store.refresh(id, sampleRecord(), 60),
      destroy: () => store.destroy(id),
      ping: () => store.ping(),
    };
    for (const [name, call] of Object.entries(calls)) {
      const ms = await elapsedMs(() => assert.rejects(call(), SessionStoreUnavailableError, name));
      assert.ok(ms < UNAVAILABLE_WITHIN_MS, `${name} took ${Math.round(ms)} ms`);
    }
  });

  it('reports connection errors to onError instead of throwing them', () => {
    assert.ok(errors.length > 0);
  });

  it('closes without hanging', async () => {
    const ms = await elapsedMs(() => store.close());
    assert.ok(ms < CLOSE_WITHIN_MS, `close took ${Math.round(ms)} ms`);
  });
});

describe('RedisSessionStore across a Redis restart', await serviceGate('redis'), () => {
  let server: PrivateRedis;
  let store: RedisSessionStore;

  before(async () => {
    server = await startPrivateRedis();
    store = new RedisSessionStore({ url: server.url, keyPrefix: randomKeyPrefix() });
  });
  after(async () => {
    await store?.close();
    await server?.stop();
  });

  it('serves a command issued right after construction, before the connection is ready', async () => {
    const fresh = new RedisSessionStore({ url: server.url, keyPrefix: randomKeyPrefix() });
    try {
      assert.notEqual(fresh.client.status, 'ready');
      assert.equal(await fresh.get(randomId()), undefined);
    } finally {
      await fresh.close();
    }
  });

  it('serves sessions while the server is up', async () => {
    await store.ping();
    const id = randomId();
    const record = sampleRecord();
    assert.equal(await store.create(id, record, 60), true);
    assert.deepEqual(await store.get(id), record);
  });

  it('answers SessionStoreUnavailableError quickly while the server hangs', async (t) => {
    const pid = server.process?.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGSTOP');
    t.after(() => process.kill(pid, 'SIGCONT'));
    const ms = await elapsedMs(() => assert.rejects(store.get(randomId()), SessionStoreUnavailableError));
    assert.ok(ms < UNAVAILABLE_WITHIN_MS, `get took ${Math.round(ms)} ms`);
  });

  it('answers SessionStoreUnavailableError quickly once the server dies', async () => {
    await server.kill();
    const ms = await elapsedMs(() => assert.rejects(store.get(randomId()), SessionStoreUnavailableError));
    assert.ok(ms < UNAVAILABLE_WITHIN_MS, `get took ${Math.round(ms)} ms`);
    await assert.rejects(store.create(randomId(), sampleRecord(), 60), SessionStoreUnavailableError);
  });

  it('recovers by itself when the server comes back on the same port', async () => {
    await server.start();
    const recovered = await pollUntil(
      () =>
        store.ping().then(
          () => true,
          () => false,
        ),
      RECOVER_WITHIN_MS,
    );
    assert.ok(recovered, `no recovery within ${RECOVER_WITHIN_MS} ms`);
    const id = randomId();
    const record = sampleRecord();
    assert.equal(await store.create(id, record, 60), true);
    assert.deepEqual(await store.get(id), record);
  });
});
