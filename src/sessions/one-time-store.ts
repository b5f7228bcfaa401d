/**
 * Values that may be taken once, for a short while: the WebAuthn challenges of a ceremony under
 * way (auth/passkey-service.ts). Kept in the session store, beside the sessions, so that every app
 * instance sees the challenge another one issued, and apart from the session record, so that taking
 * a challenge is one atomic step (Redis GETDEL, SQLite DELETE ... RETURNING): of two requests racing
 * with the same challenge, exactly one gets it. Failures are thrown as `SessionStoreUnavailableError`
 * (store.ts), like every other call on the store.
 */

export interface OneTimeStore {
  /** Keeps `value` under `name` for `ttlSeconds`, replacing whatever was there. */
  putOnce(name: string, value: string, ttlSeconds: number): Promise<void>;
  /** The value under `name`, removed in the same step; undefined when absent, expired or already taken. */
  takeOnce(name: string): Promise<string | undefined>;
}
