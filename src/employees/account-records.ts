/**
 * The employees table's account columns (password hash, disabled flag) as identity's account
 * actions write them (identity/account-actions.ts): the rule lives below this room, the queries here.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../database/schema.js';
import { inTransaction } from '../database/transaction.js';
import { recordAuditEvent } from '../audit/events.js';
import type { AccountRecords } from '../identity/account-actions.js';
import { setAccountDisabled, updatePasswordHash } from './employee-repository.js';

/** The writers on `db`; `inTransaction` hands out the same writers on a transaction of it. */
export function accountRecords(db: Kysely<Database>): AccountRecords {
  return {
    updatePasswordHash: (empNo, passwordHash) => updatePasswordHash(db, empNo, passwordHash),
    setAccountDisabled: (empNo, disabled) => setAccountDisabled(db, empNo, disabled),
    recordEvent: (event) => recordAuditEvent(db, event),
    inTransaction: (work) => inTransaction(db, (trx) => work(accountRecords(trx))),
  };
}
