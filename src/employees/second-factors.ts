/**
 * Resetting a person's second factors, for the administrator's page and API (AuthService's second
 * factor side) and the admin command line alike: every factor removed and the removal audited in
 * one transaction, then every session of the person ended.
 *
 * Database first, sessions after: once the factors are gone no login can be asked for them, and
 * ending the sessions afterwards bumps the person's generation (SessionManager.endAllForEmployee),
 * which also undoes any login that was halfway through its second step with the old factor (its
 * pending session kept the generation of its password check).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../database/schema.js';
import { inTransaction } from '../database/transaction.js';
import { recordAuditEvent, type AuditActor, type AuditClient } from '../audit/events.js';
import type { SessionManager } from '../sessions/session-manager.js';
import { deleteSecondFactors } from './second-factor-repository.js';
import { deletePasskeysOf } from './passkey-repository.js';

export interface SecondFactorReset {
  /** Whether the person had a confirmed second factor. */
  hadFactor: boolean;
  /** How many of their sessions ended. */
  sessionsEnded: number;
}

export async function resetSecondFactors(
  db: Kysely<Database>,
  sessions: SessionManager,
  empNo: number,
  actor: AuditActor,
  client?: AuditClient,
): Promise<SecondFactorReset> {
  const hadFactor = await inTransaction(db, async (trx) => {
    const hadTotp = await deleteSecondFactors(trx, empNo);
    const passkeys = await deletePasskeysOf(trx, empNo);
    await recordAuditEvent(trx, {
      action: 'mfa.reset',
      outcome: 'success',
      actor,
      ...(client ? { client } : {}),
      targetEmpNo: empNo,
      detail: { methods: [...(hadTotp ? ['totp'] : []), ...(passkeys > 0 ? ['passkey'] : [])] },
    });
    return hadTotp || passkeys > 0;
  });
  return { hadFactor, sessionsEnded: await sessions.endAllForEmployee(empNo) };
}
