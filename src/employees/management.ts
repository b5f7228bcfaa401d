/**
 * Whether an actor may act on an employee, with what that needs from the database: the employee
 * (404 when there is none) and the scopes they hold. The rule itself is `mayManage`
 * (identity/management.ts); every action on another person goes through here: updating their
 * record (employee-service.ts), changing their scopes (scope-service.ts), ending their sessions and
 * disabling their login (auth/auth-service.ts).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../database/schema.js';
import { forbidden, notFound } from '../errors.js';
import { mayManage, manageRefusalOf, type ManageOptions, type ManageRefusal, type ScopedPerson } from '../identity/management.js';
import { findEmployeeByNumber } from './employee-repository.js';
import { findScopes } from './scope-repository.js';

export type { ManageRefusal };

/**
 * The same rule as `assertMayManage`, asked rather than enforced: why `actor` may not act on
 * employee `empNo`, or undefined when they may (404 when there is no such employee). Pages ask it
 * to offer only the actions that will be allowed.
 */
export async function manageRefusal(
  db: Kysely<Database>,
  actor: ScopedPerson,
  empNo: number,
  options: ManageOptions = {},
): Promise<ManageRefusal | undefined> {
  if (!(await findEmployeeByNumber(db, empNo))) throw notFound(`No employee with number ${empNo}`);
  return manageRefusalOf(actor, { empNo, scopes: await findScopes(db, empNo) }, options);
}

/**
 * Throws 403 unless `actor` may manage employee `empNo`, and 404 when there is no such employee
 * (after the check of oneself, which needs no lookup). Returns the scopes the employee holds.
 */
export async function assertMayManage(
  db: Kysely<Database>,
  actor: ScopedPerson,
  empNo: number,
  options: ManageOptions = {},
): Promise<string[]> {
  if (actor.empNo === empNo && options.self !== 'allowed') throw forbidden();
  if (!(await findEmployeeByNumber(db, empNo))) throw notFound(`No employee with number ${empNo}`);
  const scopes = await findScopes(db, empNo);
  if (!mayManage(actor, { empNo, scopes }, options)) throw forbidden();
  return scopes;
}
