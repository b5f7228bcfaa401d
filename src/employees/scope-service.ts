/**
 * Administrators changing who may do what. The rules keep the grant system from being a ladder:
 * - the rule of every action on a person (`assertMayManage`): nobody changes their own scopes (no
 *   self-promotion, no locking oneself out by accident), and nobody touches someone holding a
 *   scope they lack (an `admin:write` cannot demote a `super:*`);
 * - nobody grants a scope they do not hold themself.
 * A change takes effect at the target's next login: sessions and tokens carry the scopes of theirs.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../database/schema.js';
import { inTransaction } from '../database/transaction.js';
import { forbidden, validationFailed } from '../errors.js';
import type { ScopedPerson } from '../identity/management.js';
import { getEmployee } from './employee-service.js';
import { assertMayManage } from './management.js';
import { findScopes, setScopes } from './scope-repository.js';
import { hasScopes, isScopeName, SCOPE_NAMES, type ScopeName } from '../identity/scopes.js';
import { recordAuditEvent, type AuditContext } from '../audit/events.js';

export type Actor = ScopedPerson;

export async function getEmployeeScopes(db: Kysely<Database>, empNo: number): Promise<string[]> {
  await getEmployee(db, empNo); // 404 for an unknown number
  return findScopes(db, empNo);
}

/** Replaces the employee's scopes with `requested`; returns the scopes now held. */
export async function changeEmployeeScopes(
  db: Kysely<Database>,
  actor: Actor,
  empNo: number,
  requested: readonly string[],
  context: AuditContext,
): Promise<string[]> {
  const unknown = requested.filter((scope) => !isScopeName(scope));
  if (unknown.length) {
    throw validationFailed([{ field: 'scopes', message: `Unknown scope ${unknown.join(', ')}; valid: ${SCOPE_NAMES.join(', ')}` }]);
  }
  const wanted = [...new Set(requested as ScopeName[])];
  return inTransaction(db, async (trx) => {
    await assertMayManage(trx, actor, empNo);
    if (!hasScopes(actor.scopes, wanted)) throw forbidden();
    return writeScopes(trx, empNo, (writer) => setScopes(writer, empNo, wanted), context);
  });
}

/**
 * Changes an employee's scopes with `write` and records the change (the scopes before and after)
 * in the same transaction; returns the scopes now held. The web form's and the command line's one
 * way to change scopes; who may is the caller's check.
 */
export async function writeScopes(
  db: Kysely<Database>,
  empNo: number,
  write: (trx: Kysely<Database>) => Promise<unknown>,
  context: AuditContext,
): Promise<string[]> {
  return inTransaction(db, async (trx) => {
    const before = await findScopes(trx, empNo);
    await write(trx);
    const after = await findScopes(trx, empNo);
    await recordAuditEvent(trx, { action: 'scopes.change', outcome: 'success', ...context, targetEmpNo: empNo, detail: { before, after } });
    return after;
  });
}
