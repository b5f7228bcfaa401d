/**
 * One-time messages for the login page: why a person was sent there. The message travels as a
 * short code in a short-lived cookie (an anonymous visitor has no session to carry it), is shown
 * once, and is cleared. Only fixed texts are ever shown: nothing from the request is echoed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export const LOGIN_NOTICES = {
  'login-required': 'Please log in to continue',
  'session-ended': 'Your session has ended. Please log in again',
  'invalid-token': 'Could not validate credentials. Please log in again',
  'bad-credentials': 'Incorrect username or password',
  'logged-out': 'You have been logged out',
  'not-logged-in': 'This session has not been logged in before',
  throttled: 'Too many failed logins. Please wait a few minutes and try again',
  'password-changed': 'Your password has been changed. Please log in with the new one',
} as const;

export type LoginNotice = keyof typeof LOGIN_NOTICES;

const NOTICE_COOKIE = 'login_notice';
const NOTICE_MAX_AGE_SECONDS = 120;

/** The original series' `?state=N` codes, still understood. */
const STATE_CODES: Record<string, LoginNotice> = {
  '1': 'not-logged-in',
  '2': 'login-required',
  '3': 'bad-credentials',
};

function isLoginNotice(value: string | undefined): value is LoginNotice {
  return value !== undefined && Object.hasOwn(LOGIN_NOTICES, value);
}

const PLACEHOLDER_ORIGIN = 'http://portal.invalid';

/**
 * `value` as a path on this site to go to after login, or undefined. Only a same-origin path is
 * ever returned, so the parameter cannot be turned into an open redirect (OWASP ASVS 5.1.5,
 * CWE-601): `//evil.com`, `/\evil.com`, `https://evil.com`, `javascript:` and their encoded forms
 * resolve to another origin, or to no path, and are dropped. Parsing with the WHATWG URL parser,
 * as browsers do, means a backslash or a tab is read the way a browser would read it.
 */
export function safeNextPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('/') || value.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(value, PLACEHOLDER_ORIGIN);
  } catch {
    return undefined;
  }
  if (url.origin !== PLACEHOLDER_ORIGIN || url.pathname.startsWith('//')) return undefined;
  // Where a login lands anyway, and the login page itself, are not worth carrying.
  if (url.pathname === '/' || url.pathname === '/auth/home' || url.pathname.startsWith('/auth/login')) return undefined;
  // Only the search's own parameters come along: anything else in a query (a misplaced
  // `access_token` or `session`) must not be copied into a Location or a page (OWASP ASVS 3.1.1).
  const kept = new URLSearchParams([...url.searchParams].filter(([name]) => NEXT_QUERY_PARAMETERS.has(name)));
  const query = kept.toString();
  return query ? `${url.pathname}?${query}` : url.pathname;
}

const NEXT_QUERY_PARAMETERS = new Set(['last_name', 'first_name', 'page', 'size']);

/** The login page's address, carrying where to go afterwards when that is a safe path. */
export function loginPageUrl(next?: string): string {
  const path = safeNextPath(next);
  return path ? `/auth/login?next=${encodeURIComponent(path)}` : '/auth/login';
}

/** 303 to the login page, which will say why once, and after login goes on to `next`. */
export function redirectToLogin(reply: FastifyReply, notice: LoginNotice, next?: string): FastifyReply {
  reply.setCookie(NOTICE_COOKIE, notice, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: 'auto',
    maxAge: NOTICE_MAX_AGE_SECONDS,
  });
  return reply.redirect(loginPageUrl(next), 303);
}

/** The message to show on this rendering of the login page (and forget), or undefined. */
export function takeLoginNotice(request: FastifyRequest, reply: FastifyReply, state?: string): string | undefined {
  const fromCookie = request.cookies[NOTICE_COOKIE];
  if (fromCookie !== undefined) reply.clearCookie(NOTICE_COOKIE, { path: '/' });
  const code = isLoginNotice(fromCookie) ? fromCookie : STATE_CODES[state ?? ''];
  return code && LOGIN_NOTICES[code];
}
