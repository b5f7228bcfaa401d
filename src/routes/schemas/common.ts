/** Error answers several routes share, each described once so the API document agrees with itself. */
import { errorRef } from '../../http/schemas.js';

const UNAUTHENTICATED = errorRef('Not authenticated, or the token is invalid, expired or revoked');
const UNAVAILABLE = errorRef('The session store or the database is unavailable');

/** A logged-in person's own account (sessions, password): a refusal there is the cross-site guard's. */
export const ACCOUNT_ERRORS = {
  401: UNAUTHENTICATED,
  403: errorRef('Cross-site request refused'),
  503: UNAVAILABLE,
};

/** A route behind a scope: a refusal is a missing permission. */
export const SCOPED_ERRORS = {
  401: UNAUTHENTICATED,
  403: errorRef('Not enough permissions'),
  503: UNAVAILABLE,
};
