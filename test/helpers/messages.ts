/**
 * The JSON bodies the app answers its expected failures with, each defined once, so that a test
 * asserts the whole body. Written out rather than imported from src/, so that a change of wording
 * shows up as a failing test.
 */
export const NOT_AUTHENTICATED = { detail: 'Not authenticated' };
export const INVALID_TOKEN = { detail: 'Could not validate credentials' };
/** A refused login: `error` and `error_description` are OAuth2's own fields (RFC 6749 §5.2), which Swagger UI shows. */
export const INCORRECT = {
  detail: 'Incorrect username or password',
  error: 'invalid_grant',
  error_description: 'Incorrect username or password',
};
export const NOT_ENOUGH_PERMISSIONS = { detail: 'Not enough permissions' };
export const CROSS_SITE_REFUSED = { detail: 'Cross-site request refused: this action must come from the application itself' };
export const STORE_UNAVAILABLE = { detail: 'The session store is unavailable; try again shortly' };
export const DATABASE_UNAVAILABLE = { detail: 'The database is unavailable; try again shortly' };

/** The second factor (src/auth/second-factor-service.ts, src/auth/plugin.ts). */
const oauth = (error: string, detail: string) => ({ detail, error, error_description: detail });
export const MFA_REQUIRED = oauth(
  'mfa_required',
  'This account has a second factor: send the current code of its authenticator app in the totp field',
);
export const MFA_ENROLMENT_REQUIRED = oauth(
  'mfa_enrolment_required',
  'This account must set up a second factor before it can log in here: log in once in a browser, which leads through it',
);
export const WRONG_SECOND_FACTOR = oauth('invalid_grant', 'Incorrect or already used second-factor code');
export const SECOND_FACTOR_OWED = { detail: 'Not authenticated: this login still owes its second factor' };
