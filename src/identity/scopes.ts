/**
 * OAuth2 scopes: the names an employee can hold (the original series' APP_SCOPES), what each one
 * allows and implies, and the one permission check. Storage (employees/scope-repository.ts), the
 * command line, the pages and the authorisation rules all share this one list.
 *
 * The check is "required ⊆ closure(granted)": the order of grants never matters and an unknown
 * grant is simply ignored. (The original walked the grants in order and answered differently for
 * ['super:*', 'user:read'] than for ['user:read', 'super:*'].)
 */
export const SCOPE_NAMES = ['user:read', 'user:write', 'admin:read', 'admin:write', 'audit:read', 'super:*'] as const;

export type ScopeName = (typeof SCOPE_NAMES)[number];

export function isScopeName(value: string): value is ScopeName {
  return (SCOPE_NAMES as readonly string[]).includes(value);
}

/**
 * Scope names as a client or a person may write a list of them: an array (a JSON array, or a form
 * field repeated, one box ticked per name), and within each item names separated by spaces
 * (OAuth2's own `scope` syntax, RFC 6749 §3.3) or commas. Empty items are dropped; the names are
 * not checked here (`isScopeName`).
 */
export function splitScopeNames(value: string | readonly string[] | undefined): string[] {
  const items = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  return items.flatMap((item) => item.split(/[\s,]+/)).filter((name) => name !== '');
}

export const SCOPE_DESCRIPTIONS: Record<ScopeName, string> = {
  'user:read': 'Read your own information',
  'user:write': 'Update your own information',
  'admin:read': "Read other employees' information",
  'admin:write': "Update other employees' information and add employees",
  'audit:read': 'Read the audit trail: who did what, to whom, from where and when',
  'super:*': 'Everything',
};

/**
 * The original series' implication table, and `audit:read` (the audit trail), which only
 * `super:*` implies: reading who did what is a separate trust from changing records.
 */
const IMPLIES: Record<ScopeName, readonly ScopeName[]> = {
  'user:read': [],
  'user:write': ['user:read'],
  'admin:read': ['user:read'],
  'admin:write': ['user:read', 'user:write', 'admin:read'],
  'audit:read': [],
  'super:*': ['user:read', 'user:write', 'admin:read', 'admin:write', 'audit:read'],
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
