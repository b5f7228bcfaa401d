/**
 * Who needs a second factor, and what the second factors are. `MFA_REQUIRED_SCOPES` (config.ts)
 * names scopes; whoever holds one of them, directly or by implication (`super:*` implies
 * `admin:write`), must have a second factor before any page but enrolment.
 */
import { scopeClosure, splitScopeNames, isScopeName, type ScopeName } from '../scopes.js';

/** The kinds of second factor (passkeys: passkeys.ts in this folder). */
export type SecondFactorMethod = 'totp' | 'recovery_code' | 'passkey';

/** The scope names of an `MFA_REQUIRED_SCOPES` value (space or comma separated); throws on an unknown name. */
export function parseRequiredScopes(value: string): ScopeName[] {
  const names = splitScopeNames(value);
  const unknown = names.filter((name) => !isScopeName(name));
  if (unknown.length) throw new Error(`unknown scope ${unknown.join(', ')}`);
  return names as ScopeName[];
}

/** Whether someone granted `granted` must have a second factor. */
export function secondFactorRequired(granted: readonly string[], requiredScopes: readonly ScopeName[]): boolean {
  if (requiredScopes.length === 0) return false;
  const closure = scopeClosure(granted);
  return requiredScopes.some((scope) => closure.has(scope));
}
