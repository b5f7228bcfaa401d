/**
 * What an error page tells a person: what happened, what would be needed, and (in the template)
 * where to go from here. The JSON face of the same error keeps its `detail`; this is the page's.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Failure } from '../http/errors.js';
import { redirectToLogin, type LoginNotice } from './notices.js';
import { secondStepUrl, STEP_BY_CODE } from './second-factor.js';

export interface ErrorPage {
  heading: string;
  explanation: string;
  /** The scopes the refused action needs, when the refusal named them. */
  needs: string[];
}

const BY_STATUS: Record<number, { heading: string; explanation: string }> = {
  400: { heading: 'That request could not be understood', explanation: 'Something in the request was not in the form this page expects.' },
  403: { heading: 'You are not allowed to do this', explanation: 'Your login does not have the permission this needs.' },
  404: { heading: 'Not found', explanation: 'There is nothing at this address.' },
  422: { heading: 'Some of what was sent is not valid', explanation: 'Please check the values below and try again.' },
  429: { heading: 'Too many attempts', explanation: 'Please wait a little and try again.' },
  503: { heading: 'Temporarily unavailable', explanation: 'A service the portal needs is not answering. Please try again in a moment.' },
};

const BY_CODE: Record<string, { heading: string; explanation: string }> = {
  CROSS_SITE_REQUEST: {
    heading: 'This request came from outside the portal',
    explanation: 'For your safety, actions must be sent from the portal’s own pages. Go back, reload the page and try again.',
  },
  NOT_FOUND: { heading: 'Not found', explanation: '' },
};

/** The scopes named by an RFC 6750 `insufficient_scope` challenge (`errors.ts` `forbidden`). */
function neededScopes(headers: Record<string, string>): string[] {
  const scope = /scope="([^"]*)"/.exec(headers['www-authenticate'] ?? '')?.[1];
  return scope ? scope.split(' ').filter(Boolean) : [];
}

export function describeError(status: number, code: string | undefined, detail: string, headers: Record<string, string>): ErrorPage {
  const known = (code && BY_CODE[code]) || BY_STATUS[status];
  const heading = known?.heading ?? (status >= 500 ? 'Something went wrong on our side' : 'That did not work');
  // A 404 from a service names what is missing ("No employee with number 7"): that is the explanation.
  const explanation = known?.explanation || detail || 'Please try again, or go back to the home page.';
  return {
    heading,
    explanation: status >= 500 && !known ? 'The problem has been logged. Please try again in a moment.' : explanation,
    needs: neededScopes(headers),
  };
}

/** A browser that is not (or no longer) logged in goes to the login page, which says why. */
const LOGIN_NOTICE_BY_CODE: Record<string, LoginNotice> = {
  NOT_AUTHENTICATED: 'login-required',
  SESSION_ENDED: 'session-ended',
  LOGIN_INTERRUPTED: 'session-ended',
  INVALID_TOKEN: 'invalid-token',
  TOO_MANY_ATTEMPTS: 'throttled',
};

/**
 * A failed request from a browser (registered as `app.errorPage`, used by http/errors.ts): to the
 * login page when logging in would help, else the error as a page that keeps the signed-in header
 * (Home, Logout); who is asking is looked up when the route had not got that far (an unknown
 * address, a malformed parameter).
 */
export async function answerWithErrorPage(request: FastifyRequest, reply: FastifyReply, failure: Failure): Promise<FastifyReply> {
  const { status, code, body, headers } = failure;
  const notice = code === undefined ? undefined : LOGIN_NOTICE_BY_CODE[code];
  // A page asked for before login is where the person goes after it (same-origin paths only).
  const asked = request.method === 'GET' ? request.url : undefined;
  if (notice) return redirectToLogin(reply, notice, asked);
  // Halfway through a login: on to the step it owes, and after it to the page asked for.
  const step = code === undefined ? undefined : STEP_BY_CODE[code];
  if (step) return reply.redirect(secondStepUrl(step, asked), 303);
  reply.code(status).headers(headers);
  if (!request.user && status < 500) {
    const principal = await request.identify(reply).catch(() => null);
    if (principal) request.user = principal;
  }
  return reply.page('error.njk', { status, ...body, ...describeError(status, code, body.detail, headers) });
}
