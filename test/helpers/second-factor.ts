/**
 * A person's authenticator app, in a test: enrolment through the API, and codes computed here with
 * otpauth (RFC 6238) as a phone would, never through src/.
 */
import type { FastifyInstance } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { API, FORM, form, sessionCookieOf } from './app.js';

/** The production default: what the second factor's own suites run with. */
export const MFA_ENV = { MFA_REQUIRED_SCOPES: 'admin:write super:*' };

/** The code an authenticator app shows for `secret` at `atMs` (now by default); `steps` moves it by 30 s steps. */
export function codeOf(secret: string, steps = 0, atMs = Date.now()): string {
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: atMs + steps * 30_000 });
}

/**
 * Sets up an authenticator app through the API of a logged-in (or, for a login led through
 * enrolment, pending) session, confirmed with the code of the step before now, so that the codes
 * of now and of the next step are still unused for the test's logins. Returns the secret, the
 * recovery codes and the session cookie after it (a new one when a pending login was completed).
 */
export async function enrolTotp(
  app: FastifyInstance,
  cookie: string,
): Promise<{ secret: string; recoveryCodes: string[]; cookie: string }> {
  const started = await app.inject({ method: 'GET', url: '/auth/mfa/totp/enrol', headers: API, cookies: { session: cookie } });
  if (started.statusCode !== 200) throw new Error(`enrolment did not start: ${started.statusCode} ${started.body}`);
  const { secret } = started.json<{ secret: string }>();
  const confirmed = await app.inject({
    method: 'POST',
    url: '/auth/mfa/totp/enrol',
    headers: { ...FORM, ...API },
    cookies: { session: cookie },
    payload: form({ code: codeOf(secret, -1) }),
  });
  if (confirmed.statusCode !== 200) throw new Error(`enrolment not confirmed: ${confirmed.statusCode} ${confirmed.body}`);
  return {
    secret,
    recoveryCodes: confirmed.json<{ recovery_codes: string[] }>().recovery_codes,
    cookie: sessionCookieOf(confirmed)?.value ?? cookie,
  };
}
