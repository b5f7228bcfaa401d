/**
 * Every query on the `employee_scopes` table: which OAuth2 scopes an employee holds. Each function
 * takes the database (or a transaction) first, like the employee repository.
 *
 * Writers take `ScopeName`s only, so nothing but a known name is ever stored; readers return the
 * stored text as it is (`string`), since a row written by hand may hold anything.
 */
import type { Kysely } from 'kysely';
import { dialectOf, skipDuplicateKeys } from '../database/dialects.js';
import type { Database } from '../database/schema.js';
import { inTransaction } from '../database/transaction.js';
import { isPossibleEmpNo } from './employee-repository.js';
import type { ScopeName } from '../identity/scopes.js';

export interface ScopeGrant {
  emp_no: number;
  scope: ScopeName;
}

/** Rows per INSERT: 2 bound values each, far below every engine's parameter limit. */
const INSERT_BATCH_SIZE = 500;

/**
 * The employee's scopes, sorted in JavaScript (by UTF-16 code unit) so that the order is the same
 * on every engine whatever its collation; empty for an unknown employee.
 */
export async function findScopes(db: Kysely<Database>, empNo: number): Promise<string[]> {
  if (!isPossibleEmpNo(empNo)) return [];
  const rows = await db.selectFrom('employee_scopes').select('scope').where('emp_no', '=', empNo).execute();
  return rows.map((row) => row.scope).sort();
}

/**
 * Gives the employee these scopes (and keeps the ones they have). Idempotent: a scope already held
 * is skipped, also when two grants race. Throws the driver's foreign-key error for an unknown employee.
 */
export async function grantScopes(db: Kysely<Database>, empNo: number, scopes: readonly ScopeName[]): Promise<void> {
  await grantScopesInBulk(
    db,
    unique(scopes).map((scope) => ({ emp_no: empNo, scope })),
  );
}

/** `grantScopes` for many employees at once (the seed), in statements of up to INSERT_BATCH_SIZE rows. */
export async function grantScopesInBulk(db: Kysely<Database>, grants: readonly ScopeGrant[]): Promise<void> {
  const dialect = dialectOf(db);
  for (let start = 0; start < grants.length; start += INSERT_BATCH_SIZE) {
    const batch = grants.slice(start, start + INSERT_BATCH_SIZE);
    await db.insertInto('employee_scopes').values(batch).$call(skipDuplicateKeys(dialect, 'scope')).execute();
  }
}

/** Takes these scopes away; returns how many the employee actually held. */
export async function revokeScopes(db: Kysely<Database>, empNo: number, scopes: readonly ScopeName[]): Promise<number> {
  if (scopes.length === 0 || !isPossibleEmpNo(empNo)) return 0;
  const result = await db.deleteFrom('employee_scopes').where('emp_no', '=', empNo).where('scope', 'in', unique(scopes)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Makes `scopes` exactly the employee's scopes (none, for an empty list), all or nothing: in the
 * caller's transaction, or in one of its own.
 */
export async function setScopes(db: Kysely<Database>, empNo: number, scopes: readonly ScopeName[]): Promise<void> {
  const wanted = unique(scopes);
  await inTransaction(db, async (trx) => {
    let removal = trx.deleteFrom('employee_scopes').where('emp_no', '=', empNo);
    if (wanted.length > 0) removal = removal.where('scope', 'not in', wanted);
    await removal.execute();
    await grantScopes(trx, empNo, wanted);
  });
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
