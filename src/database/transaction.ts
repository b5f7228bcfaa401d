import type { Kysely, Transaction } from 'kysely';

/**
 * Runs `work` in a transaction: the caller's, when `db` already is one (Kysely cannot nest them),
 * else a new one, committed when `work` resolves and rolled back when it throws.
 */
export function inTransaction<DB, T>(db: Kysely<DB>, work: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute((trx: Transaction<DB>) => work(trx));
}
