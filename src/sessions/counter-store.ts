/**
 * Named counters with a fixed window, for the login throttle (auth/throttle.ts). Kept apart from
 * `SessionStore`, which is about sessions only; both are implemented by the same Redis and SQLite
 * stores, over the same connection, so the counters are shared by every app instance exactly as
 * the sessions are. Failures are thrown as `SessionStoreUnavailableError` (store.ts), like every
 * other call on the store.
 */

export interface CounterStore {
  /**
   * Adds one to a named counter, atomically, across every app instance sharing the store. The
   * counter is forgotten `windowSeconds` after its first increment (a fixed window).
   */
  increment(name: string, windowSeconds: number): Promise<CounterState>;
  /** Takes one off a counter (never below zero, never reviving an expired one). */
  decrement(name: string): Promise<void>;
  /** Forgets a counter. */
  resetCounter(name: string): Promise<void>;
}

export interface CounterState {
  count: number;
  /** Seconds until the counter's window ends. */
  resetInSeconds: number;
}
