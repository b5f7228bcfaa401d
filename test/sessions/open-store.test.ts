import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSessionStore } from '../../src/sessions/open-store.js';
import { RedisSessionStore } from '../../src/sessions/redis-store.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-store.js';
import { randomId, sampleRecord } from './store-harness.js';

describe('openSessionStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ep-open-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('opens the SQLite file when no Redis URL is set, creating its directory', async () => {
    const sqlitePath = join(dir, 'nested', 'data', 'sessions.sqlite');
    const store = openSessionStore({ redisUrl: '', keyPrefix: 'ep:', sqlitePath });
    try {
      assert.ok(store instanceof SqliteSessionStore);
      assert.equal(store.kind, 'sqlite');
      assert.equal(await store.create(randomId(), sampleRecord(), 60), true);
      assert.ok(existsSync(sqlitePath));
    } finally {
      await store.close();
    }
  });

  it('opens Redis when a URL is set, and leaves the SQLite path alone', async () => {
    const sqlitePath = join(dir, 'unused', 'sessions.sqlite');
    const store = openSessionStore({ redisUrl: 'redis://127.0.0.1:1', keyPrefix: 'ep:', sqlitePath, onError: () => {} });
    try {
      assert.ok(store instanceof RedisSessionStore);
      assert.equal(store.kind, 'redis');
      assert.equal(store.keyPrefix, 'ep:');
      assert.equal(existsSync(join(dir, 'unused')), false);
    } finally {
      await store.close();
    }
  });
});
