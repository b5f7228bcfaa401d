/**
 * Redis memory of the owner index (`<prefix>owned:<empNo>`, src/sessions/redis-store.ts) beside the
 * session records, through the real store and session manager: how much one session costs, how the
 * index grows with one person's live sessions, and that logins followed by logouts leave nothing.
 * docs/PERFORMANCE.md quotes these figures. Works under a private key prefix, deleted at the end.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 node --import tsx bench/owner-index.ts
 */
import { Redis } from 'ioredis';
import { RedisSessionStore } from '../src/sessions/redis-store.js';
import { SessionManager } from '../src/sessions/session-manager.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** As long as the default `starsessions.` prefix, so that key sizes match a real deployment. */
const prefix = `ep-b${process.pid.toString(36).padStart(8, '0').slice(-8)}.`;
const store = new RedisSessionStore({ url, keyPrefix: prefix });
const manager = new SessionManager(store, { idleTimeoutSeconds: 1800, absoluteTimeoutSeconds: 28_800 });
const raw = new Redis(url);
const bytes = async (key: string) => (await raw.memory('USAGE', key)) ?? 0;
const index = (empNo: number) => `${prefix}owned:${empNo}`;

try {
  const one = await manager.create(1, ['user:read'], 'Firefox on Linux');
  console.log(`one session: record ${await bytes(prefix + one.id)} B, index ${await bytes(index(1))} B`);

  for (let i = 0; i < 1000; i++) await manager.destroy((await manager.create(2, ['user:read'])).id);
  console.log(`1,000 logins and logouts of one person: index keys left ${await raw.exists(index(2))}`);

  for (const count of [10, 100, 1000]) {
    const empNo = 100 + count;
    for (let i = 0; i < count; i++) await manager.create(empNo, ['user:read']);
    console.log(`${count} live sessions of one person: index ${await bytes(index(empNo))} B, TTL ${await raw.ttl(index(empNo))} s`);
  }

  const people = 10_000;
  let total = 0;
  for (let empNo = 10_000; empNo < 10_000 + people; empNo++) await manager.create(empNo, ['user:read']);
  for (let empNo = 10_000; empNo < 10_000 + people; empNo++) total += await bytes(index(empNo));
  console.log(`${people} people with one session each: index ${(total / people).toFixed(0)} B per person`);
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await raw.del(...keys);
  } while (cursor !== '0');
  await store.close();
  raw.disconnect();
}
