/**
 * OAuth2 scopes: what each one allows, what each one implies, and the one permission check.
 *
 * The check is "required ⊆ closure(granted)": the order of grants never matters and an unknown
 * grant is simply ignored. (The original walked the grants in order and answered differently for
 * ['super:*', 'user:read'] than for ['user:read', 'super:*']: bug 9 of its behaviour notes.)
 */
import { isScopeName, SCOPE_NAMES, type ScopeName } from '../employees/scope-names.js';

export { isScopeName, SCOPE_NAMES, type ScopeName };

export const SCOPE_DESCRIPTIONS: Record<ScopeName, string> = {
  'user:read': 'Read your own information',
  'user:write': 'Update your own information',
  'admin:read': "Read other employees' information",
  'admin:write': "Update other employees' information and add employees",
  'super:*': 'Everything',
};

/** The original series' implication table. */
const IMPLIES: Record<ScopeName, readonly ScopeName[]> = {
  'user:read': [],
  'user:write': ['user:read'],
  'admin:read': ['user:read'],
  'admin:write': ['user:read', 'user:write', 'admin:read'],
  'super:*': ['user:read', 'user:write', 'admin:read', 'admin:write'],
};

/** Every scope the grants give, directly or by implication. */
export function scopeClosure(granted: Iterable<string>): Set<ScopeName> {
  const closure = new Set<ScopeName>();
  for (const scope of granted) {
    if (!isScopeName(scope)) continue;
    closure.add(scope);
    for (const implied of IMPLIES[scope]) closure.add(implied);
  }
  return closure;
}

export function hasScopes(granted: Iterable<string>, required: Iterable<string>): boolean {
  const closure = scopeClosure(granted);
  for (const scope of required) if (!closure.has(scope as ScopeName)) return false;
  return true;
}

/**
 * The scopes a login carries: all that are granted, or, when the client asked for some (the OAuth2
 * `scope` field, space-separated), those of them the grants cover. Never more than granted.
 */
export function narrowScopes(granted: readonly string[], requested: string | undefined): string[] {
  const asked = (requested ?? '').split(' ').filter(Boolean);
  if (asked.length === 0) return [...granted];
  const closure = scopeClosure(granted);
  return [...new Set(asked)].filter((scope): scope is ScopeName => closure.has(scope as ScopeName));
}

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
