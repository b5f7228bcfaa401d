/**
 * Where a login halfway through goes: the page of the step it owes, carrying the login page's
 * `next` (a same-origin path only, as everywhere: `safeNextPath`), so a deep link survives the
 * second step.
 */
import type { PendingStep } from '../sessions/store.js';
import { safeNextPath } from './notices.js';

/** The page of each step a pending session can owe. */
export const SECOND_STEP_PAGES: Record<PendingStep, string> = { verify: '/auth/mfa', enrol: '/auth/mfa/totp/enrol' };

/** The error codes (auth/plugin.ts `secondStepOwed`) that send a browser on to a step. */
export const STEP_BY_CODE: Record<string, PendingStep> = {
  SECOND_FACTOR_PENDING: 'verify',
  SECOND_FACTOR_ENROLMENT_PENDING: 'enrol',
};

export function secondStepUrl(step: PendingStep, next?: string): string {
  const path = safeNextPath(next);
  return path ? `${SECOND_STEP_PAGES[step]}?next=${encodeURIComponent(path)}` : SECOND_STEP_PAGES[step];
}
