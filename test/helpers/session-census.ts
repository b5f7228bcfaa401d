/**
 * A count of one person's sessions taken behind the store's back, straight from the backend: the
 * live session records that name them, and which of those their owner index lists. "Unlisted" is
 * a live session no listing shows and no end-all ends, which must never exist.
 *
 * Redis: every `<prefix><22-character id>` key holding a record of that person, against the sorted
 * set `<prefix>owned:<empNo>` (src/sessions/redis-store.ts). SQLite: every live row whose record
 * names that person, against the rows whose `owner` column does.
 */
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';

export interface SessionCensus {
  /** Ids of the person's live session records. */
  live: string[];
  /** Those of `live` that the owner index does not list. */
  unlisted: string[];
}

export type CensusSource = { keyPrefix: string } & ({ redisUrl: string } | { sqlitePath: string });

const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

function ownerOf(value: string | null): number | undefined {
  try {
    return (JSON.parse(value ?? 'null') as { e?: number } | null)?.e;
  } catch {
    return undefined;
  }
}

export async function sessionCensus(source: CensusSource, empNo: number): Promise<SessionCensus> {
  return 'redisUrl' in source
    ? redisCensus(source.redisUrl, source.keyPrefix, empNo)
    : sqliteCensus(source.sqlitePath, source.keyPrefix, empNo);
}

async function redisCensus(url: string, keyPrefix: string, empNo: number): Promise<SessionCensus> {
  const redis = new Redis(url);
  try {
    const live: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      const ids = keys.map((key) => key.slice(keyPrefix.length)).filter((id) => SESSION_ID.test(id));
      const values = await Promise.all(ids.map((id) => redis.get(keyPrefix + id)));
      ids.forEach((id, index) => {
        if (ownerOf(values[index] ?? null) === empNo) live.push(id);
      });
    } while (cursor !== '0');
    const scores = await Promise.all(live.map((id) => redis.zscore(`${keyPrefix}owned:${empNo}`, id)));
    return { live, unlisted: live.filter((_, index) => scores[index] === null) };
  } finally {
    redis.disconnect();
  }
}

function sqliteCensus(path: string, keyPrefix: string, empNo: number): SessionCensus {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare<[string, string, number], { key: string; data: string; owner: number | null }>(
        'SELECT key, data, owner FROM sessions WHERE substr(key, 1, length(?)) = ? AND expires_at > ?',
      )
      .all(keyPrefix, keyPrefix, Date.now());
    const mine = rows.filter((row) => ownerOf(row.data) === empNo);
    return {
      live: mine.map((row) => row.key.slice(keyPrefix.length)),
      unlisted: mine.filter((row) => row.owner !== empNo).map((row) => row.key.slice(keyPrefix.length)),
    };
  } finally {
    db.close();
  }
}
