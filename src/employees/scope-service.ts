/**
 * Administrators changing who may do what. The rules keep the grant system from being a ladder:
 * - nobody changes their own scopes (no self-promotion, no locking oneself out by accident);
 * - an administrator may only touch scopes inside their own closure: they can neither grant nor
 *   take away more than they hold (an `admin:write` cannot demote a `super:*`).
 * A change takes effect at the target's next login: sessions and tokens carry the scopes of theirs.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../database/schema.js';
import { inTransaction } from '../database/transaction.js';
import { forbidden, validationFailed } from '../errors.js';
import { hasScopes } from '../auth/scopes.js';
import { getEmployee } from './employee-service.js';
import { findScopes, setScopes } from './scope-repository.js';
import { isScopeName, SCOPE_NAMES, type ScopeName } from './scope-names.js';

export interface Actor {
  empNo: number;
  scopes: readonly string[];
}

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
): Promise<string[]> {
  const unknown = requested.filter((scope) => !isScopeName(scope));
  if (unknown.length) {
    throw validationFailed([{ field: 'scopes', message: `Unknown scope ${unknown.join(', ')}; valid: ${SCOPE_NAMES.join(', ')}` }]);
  }
  if (empNo === actor.empNo) throw forbidden();
  const wanted = [...new Set(requested as ScopeName[])];
  return inTransaction(db, async (trx) => {
    const current = await getEmployeeScopes(trx, empNo);
    if (!hasScopes(actor.scopes, [...current, ...wanted])) throw forbidden();
    await setScopes(trx, empNo, wanted);
    return findScopes(trx, empNo);
  });
}
