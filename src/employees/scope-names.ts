/**
 * The OAuth2 scopes an employee can hold (the original series' APP_SCOPES, §5.1). Only the names
 * live here, so that storage (scope-repository.ts), the command line and the authorisation rules
 * (auth/scopes.ts: what each scope implies) share one list.
 */
export const SCOPE_NAMES = ['user:read', 'user:write', 'admin:read', 'admin:write', 'super:*'] as const;

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
