/**
 * One way to open, inspect and clean up each session store, so that the contract and manager
 * suites run the same tests against every kind (kysely's habit: one suite, a loop over backends).
 * `SESSION_STORE_KINDS=sqlite` (comma-separated) narrows the loop.
 *
 * Every harness works in its own corner: Redis keys under a random prefix (deleted in clean-up),
 * SQLite in a fresh temporary directory (removed in clean-up).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { RedisSessionStore } from '../../src/sessions/redis-store.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-store.js';
import type { SessionRecord, SessionStoreBackend } from '../../src/sessions/store.js';
import { SERVICE_URLS, serviceGate } from '../helpers/services.js';
import { sessionCensus, type SessionCensus } from '../helpers/session-census.js';

export type StoreKind = 'sqlite' | 'redis';

const ALL_KINDS: readonly StoreKind[] = ['sqlite', 'redis'];
export const STORE_KINDS: readonly StoreKind[] = process.env.SESSION_STORE_KINDS
  ? ALL_KINDS.filter((kind) => process.env.SESSION_STORE_KINDS?.split(',').includes(kind))
  : ALL_KINDS;

/** node:test options for a suite over this kind: Redis is skipped (or fails under CI) when absent. */
export function storeGate(kind: StoreKind): Promise<{ skip: string | false }> {
  return kind === 'redis' ? serviceGate('redis') : Promise.resolve({ skip: false });
}

export interface StoredEntry {
  key: string;
  value: string;
  /** Milliseconds until the store forgets it. */
  ttlMs: number;
}

export interface StoreHarness {
  readonly kind: StoreKind;
  readonly keyPrefix: string;
  /** The store under test; replaced by `reopen()`. */
  readonly store: SessionStoreBackend;
  /** Closes the store and opens a new one over the same data (a restart, or another instance). */
  reopen(): Promise<SessionStoreBackend>;
  /** The live entry exactly as the backend holds it, read behind the store's back. */
  peek(id: string): Promise<StoredEntry | undefined>;
  /** Writes an entry behind the store's back (corrupt values, already-expired rows). */
  plant(id: string, value: string, ttlMs: number): Promise<void>;
  /** One owner's live sessions as the backend holds them, and those the owner index misses. */
  census(empNo: number): Promise<SessionCensus>;
  cleanup(): Promise<void>;
}

export function randomKeyPrefix(): string {
  return `ep-test:${randomBytes(6).toString('hex')}:`;
}

export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

export function sampleRecord(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now();
  return {
    secretHash: randomBytes(32).toString('base64url'),
    empNo: 499_999,
    scopes: ['user:read', 'admin:write'],
    createdAt: now,
    lastSeenAt: now,
    ...overrides,
  };
}

export async function openHarness(kind: StoreKind): Promise<StoreHarness> {
  return kind === 'redis' ? openRedisHarness() : openSqliteHarness();
}

function openSqliteHarness(): StoreHarness {
  const keyPrefix = randomKeyPrefix();
  const dir = mkdtempSync(join(tmpdir(), 'ep-sessions-'));
  const path = join(dir, 'sessions.sqlite');
  const open = () => new SqliteSessionStore({ path, keyPrefix });
  let store = open();
  // A second connection to the same file, as an operator with the sqlite3 shell would see it.
  const raw = new Database(path);
  return {
    kind: 'sqlite',
    keyPrefix,
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = open();
      return store;
    },
    async peek(id) {
      const row = raw
        .prepare<[string], { key: string; data: string; expires_at: number }>('SELECT key, data, expires_at FROM sessions WHERE key = ?')
        .get(keyPrefix + id);
      if (!row || row.expires_at <= Date.now()) return undefined;
      return { key: row.key, value: row.data, ttlMs: row.expires_at - Date.now() };
    },
    async plant(id, value, ttlMs) {
      raw
        .prepare('INSERT OR REPLACE INTO sessions (key, data, expires_at) VALUES (?, ?, ?)')
        .run(keyPrefix + id, value, Date.now() + ttlMs);
    },
    census: (empNo) => sessionCensus({ sqlitePath: path, keyPrefix }, empNo),
    async cleanup() {
      await store.close();
      raw.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function openRedisHarness(): Promise<StoreHarness> {
  const keyPrefix = randomKeyPrefix();
  const url = SERVICE_URLS.redis;
  const open = () => new RedisSessionStore({ url, keyPrefix });
  let store = open();
  const raw = new Redis(url);
  return {
    kind: 'redis',
    keyPrefix,
    get store() {
      return store;
    },
    async reopen() {
      // Another client, as a second app instance would be; the first one is closed afterwards.
      const next = open();
      await store.close();
      store = next;
      return store;
    },
    async peek(id) {
      const key = keyPrefix + id;
      const [value, ttlMs] = await Promise.all([raw.get(key), raw.pttl(key)]);
      if (value === null) return undefined;
      return { key, value, ttlMs };
    },
    async plant(id, value, ttlMs) {
      if (ttlMs <= 0) return; // Redis cannot hold an expired key; absent is the equivalent.
      await raw.set(keyPrefix + id, value, 'PX', ttlMs);
    },
    census: (empNo) => sessionCensus({ redisUrl: url, keyPrefix }, empNo),
    async cleanup() {
      await store.close();
      let cursor = '0';
      do {
        const [next, keys] = await raw.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await raw.del(...keys);
      } while (cursor !== '0');
      await raw.quit();
    },
  };
}
