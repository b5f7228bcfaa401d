/**
 * The one rule for acting on another person's account (their record, scopes, sessions, login):
 * "may manage". Pure: it judges two people as far as permissions go; the look-ups it needs (does
 * the employee exist, what do they hold) are the employees room's (employees/management.ts), and
 * the pages ask the same rule the services enforce.
 */
import { hasScopes } from './scopes.js';

/** Someone, as far as permissions go: their number and the scopes they hold (or a login carries). */
export interface ScopedPerson {
  empNo: number;
  scopes: readonly string[];
}

/** How an action treats a person acting on themself. */
export interface ManageOptions {
  /**
   * 'refused' (the default) for what would let someone raise or lock out themself: changing their
   * scopes, disabling their login, ending their sessions as an administrator (they have their own
   * routes for that). 'allowed' where the person already has that right over themself: updating
   * their record's details, which `user:write` (implied by `admin:write`) allows on their own.
   */
  self?: 'refused' | 'allowed';
}

/**
 * The one rule for every action on another person's account (their record, scopes, sessions,
 * login): the actor must hold every scope the person holds, so the grant system is no ladder
 * (an `admin:write` can neither edit, demote, disable nor log out a `super:*`), and acting on
 * oneself is governed by `options.self`.
 */
export function mayManage(actor: ScopedPerson, target: ScopedPerson, options: ManageOptions = {}): boolean {
  if (actor.empNo === target.empNo) return options.self === 'allowed';
  return hasScopes(actor.scopes, target.scopes);
}

/** Why an action on an employee would be refused: it is the actor's own account, or the employee holds scopes the actor lacks. */
export type ManageRefusal = 'own-account' | 'holds-more';

/** `mayManage` with its reason: why `actor` may not act on `target`, or undefined when they may. */
export function manageRefusalOf(actor: ScopedPerson, target: ScopedPerson, options: ManageOptions = {}): ManageRefusal | undefined {
  if (mayManage(actor, target, options)) return undefined;
  return actor.empNo === target.empNo ? 'own-account' : 'holds-more';
}
