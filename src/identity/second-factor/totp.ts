/**
 * TOTP (RFC 6238) as this portal uses it: SHA-1, 6 digits, 30-second steps, the parameters every
 * authenticator app supports (Google Authenticator ignores any other). A secret is 20 random bytes
 * from the CSPRNG (160 bits, the length RFC 4226 §4 recommends).
 *
 * A code is accepted for the current step and one step either side (clock drift), and never twice:
 * `verifyTotp` answers the step the code belongs to, and the caller accepts it only above the last
 * step used (ASVS 4.0.3 2.8.4: usable only once within its validity period).
 */
import { Secret, TOTP } from 'otpauth';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps either side of now that still count: one, about 30 s of drift, as RFC 6238 §5.2 suggests. */
const TOTP_WINDOW_STEPS = 1;
const TOTP_SECRET_BYTES = 20;
/** What an authenticator app shows as the account's issuer. */
export const TOTP_ISSUER = 'Employees Portal';

function totpFor(secretBase32: string, label = ''): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A fresh secret, base32 (what people type into an app that cannot scan). */
export function newTotpSecret(): string {
  return new Secret({ size: TOTP_SECRET_BYTES }).base32;
}

/** The `otpauth://totp/...` URI an authenticator app scans; `account` is what it shows (the email). */
export function totpUri(secretBase32: string, account: string): string {
  return totpFor(secretBase32, account).toString();
}

/** Six digits, spaces allowed between them (apps show `123 456`); anything else is not a TOTP code. */
export function normaliseTotpCode(code: string): string | undefined {
  const digits = code.replace(/\s+/g, '');
  return /^\d{6}$/.test(digits) ? digits : undefined;
}

/**
 * The time step `code` belongs to (within the window around `nowMs`), or undefined when it is not
 * a code of this secret. Which step, not just yes or no, so that the caller can refuse a replay.
 */
export function verifyTotp(secretBase32: string, code: string, nowMs: number): number | undefined {
  const token = normaliseTotpCode(code);
  if (token === undefined) return undefined;
  const totp = totpFor(secretBase32);
  const delta = totp.validate({ token, timestamp: nowMs, window: TOTP_WINDOW_STEPS });
  return delta === null ? undefined : totp.counter({ timestamp: nowMs }) + delta;
}

/** The code of a secret at a time: for tests and for nothing else in src/. */
export function totpCodeAt(secretBase32: string, nowMs: number): string {
  return totpFor(secretBase32).generate({ timestamp: nowMs });
}
