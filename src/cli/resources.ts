/**
 * The session store and manager as the server opens them (`buildApp`), from the same config
 * variables, so that the admin command lists and ends the very sessions the app serves.
 */
import { join } from 'node:path';
import type { Config } from '../config.js';
import { openSessionStore, type OpenSessionStoreOptions } from '../sessions/open-store.js';
import { SessionManager } from '../sessions/session-manager.js';
import type { SessionStore } from '../sessions/store.js';

/** The embedded store's file in DATA_DIR. The same name as `buildApp` uses (src/app.ts). */
export { SESSIONS_SQLITE_FILE } from '../sessions/open-store.js';
import { SESSIONS_SQLITE_FILE } from '../sessions/open-store.js';

/** `onError` receives the Redis client's connection errors (the server's log gets them; here they explain a failure). */
export function sessionStoreOptionsOf(config: Config, onError: (error: Error) => void = () => {}): OpenSessionStoreOptions {
  return {
    redisUrl: config.REDIS_URL,
    keyPrefix: config.SESSION_KEY_PREFIX,
    sqlitePath: join(config.DATA_DIR, SESSIONS_SQLITE_FILE),
    onError,
  };
}

export interface OpenedSessions {
  store: SessionStore;
  manager: SessionManager;
  /**
   * The last connection error of the Redis client, if any. A command refused while Redis is away
   * fails with "the session store is unavailable"; this says why (refused, unknown host, auth).
   */
  lastConnectionError(): Error | undefined;
}

export function openSessions(config: Config): OpenedSessions {
  let lastError: Error | undefined;
  const store = openSessionStore(sessionStoreOptionsOf(config, (error) => (lastError = error)));
  const manager = new SessionManager(store, {
    idleTimeoutSeconds: config.SESSION_IDLE_TIMEOUT_SECONDS,
    absoluteTimeoutSeconds: config.SESSION_ABSOLUTE_TIMEOUT_SECONDS,
  });
  return { store, manager, lastConnectionError: () => lastError };
}
