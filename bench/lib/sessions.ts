/**
 * Many live sessions at once, written the way the app writes them: through the app's own
 * RedisSessionStore and SessionManager (so the records, keys, owner index and expiries are exactly
 * the app's), without a login each (argon2 would take an hour for 100,000).
 */
import { RedisSessionStore } from '../../src/sessions/redis-store.js';
import { SessionManager } from '../../src/sessions/session-manager.js';

export interface SeedSessionsOptions {
  redisUrl: string;
  keyPrefix: string;
  count: number;
  /** Employees to spread the sessions over (they must exist, or /admin/me answers 401). */
  empNos: readonly number[];
  idleTimeoutSeconds: number;
  absoluteTimeoutSeconds: number;
  /** Pretend the sessions were last seen this long ago, so that their first use is due a refresh. */
  lastSeenSecondsAgo: number;
  clientLabel: string;
}

/** Creates the sessions and returns their cookie values (`<id>.<secret>`). */
export async function seedSessions(options: SeedSessionsOptions): Promise<string[]> {
  const store = new RedisSessionStore({ url: options.redisUrl, keyPrefix: options.keyPrefix });
  const offset = options.lastSeenSecondsAgo * 1000;
  const manager = new SessionManager(store, {
    idleTimeoutSeconds: options.idleTimeoutSeconds,
    absoluteTimeoutSeconds: options.absoluteTimeoutSeconds,
    now: () => Date.now() - offset,
  });
  const tokens: string[] = new Array<string>(options.count);
  const concurrency = 256;
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < options.count) {
          const index = next++;
          const empNo = options.empNos[index % options.empNos.length]!;
          const { token } = await manager.create(empNo, ['user:read'], options.clientLabel);
          tokens[index] = token;
        }
      }),
    );
  } finally {
    await store.close();
  }
  return tokens;
}
