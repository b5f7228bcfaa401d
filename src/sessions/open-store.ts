/**
 * The session room's factory: Redis when a URL is configured (sessions shared by every instance),
 * otherwise the embedded SQLite file (one instance, but sessions still survive a restart).
 */
import { preparePrivateDatabaseFile } from '../private-files.js';
import { RedisSessionStore } from './redis-store.js';
import { SqliteSessionStore } from './sqlite-store.js';
import type { SessionStoreBackend } from './store.js';

export interface OpenSessionStoreOptions {
  /** Set → Redis; unset or empty → SQLite at `sqlitePath`. */
  redisUrl?: string | undefined;
  keyPrefix: string;
  /** The SQLite file (made 0600, its directory created 0700 when missing), or ':memory:'. */
  sqlitePath: string;
  /** Receives background errors (Redis connection errors, SQLite sweep failures) for logging. */
  onError?: ((err: Error) => void) | undefined;
}

/** The embedded store's file name under DATA_DIR (the app and the admin command line share it). */
export const SESSIONS_SQLITE_FILE = 'sessions.sqlite';

export function openSessionStore(options: OpenSessionStoreOptions): SessionStoreBackend {
  const { redisUrl, keyPrefix, sqlitePath, onError } = options;
  if (redisUrl) {
    return new RedisSessionStore({ url: redisUrl, keyPrefix, onError });
  }
  // Session records are credentials: 0600 before better-sqlite3 creates the file (private-files.ts).
  if (sqlitePath !== ':memory:') preparePrivateDatabaseFile(sqlitePath);
  return new SqliteSessionStore({ path: sqlitePath, keyPrefix, onError });
}
