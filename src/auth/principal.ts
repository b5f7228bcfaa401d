/** Who is asking: a logged-in person, or one halfway through a login; and where a login comes from. */
import type { PendingStep } from '../sessions/store.js';

export interface Principal {
  empNo: number;
  /** The scopes granted at login (narrowed to what the client asked for). */
  scopes: string[];
  /** The public id of the session behind this request (a bearer token names one too). */
  sessionId: string;
  via: 'session' | 'bearer';
}

/**
 * Someone whose password was right and whose login still owes a step (`verify`: prove a second
 * factor; `enrol`: set one up). Not a Principal on purpose: no route guarded by `requireUser`
 * accepts one, and it has no scopes to check. Only the second-factor routes ask for it
 * (`app.requirePending`). Only ever from a `session` cookie: no token is issued for it.
 */
export interface PendingPrincipal {
  empNo: number;
  sessionId: string;
  step: PendingStep;
}

/** Where a request comes from: the address for throttling and the audit trail, a label for "My sessions" and the trail. */
export interface LoginClient {
  address: string;
  label?: string;
}
