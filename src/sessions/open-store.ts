/**
 * The session room's factory: Redis when a URL is configured (sessions shared by every instance),
 * otherwise the embedded SQLite file (one instance, but sessions still survive a restart).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { RedisSessionStore } from './redis-store.js';
import { SqliteSessionStore } from './sqlite-store.js';
import type { SessionStore } from './store.js';

export interface OpenSessionStoreOptions {
  /** Set → Redis; unset or empty → SQLite at `sqlitePath`. */
  redisUrl?: string | undefined;
  keyPrefix: string;
  /** The SQLite file (its directory is created when missing), or ':memory:'. */
  sqlitePath: string;
  /** Receives background errors (Redis connection errors, SQLite sweep failures) for logging. */
  onError?: ((err: Error) => void) | undefined;
}

/** The embedded store's file name under DATA_DIR (the app and the admin command line share it). */
export const SESSIONS_SQLITE_FILE = 'sessions.sqlite';

export function openSessionStore(options: OpenSessionStoreOptions): SessionStore {
  const { redisUrl, keyPrefix, sqlitePath, onError } = options;
  if (redisUrl) {
    return new RedisSessionStore({ url: redisUrl, keyPrefix, onError });
  }
  if (sqlitePath !== ':memory:') mkdirSync(dirname(sqlitePath), { recursive: true });
  return new SqliteSessionStore({ path: sqlitePath, keyPrefix, onError });
}
