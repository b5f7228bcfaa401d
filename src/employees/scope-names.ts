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
