/**
 * One-time recovery codes: shown once at enrolment, stored only as hashes, each usable once.
 *
 * A code is 24 characters from a 31-letter alphabet without look-alikes (no 0/o, 1/i/l), shown in
 * four groups of six: about 119 random bits. ASVS 4.0.3 2.6.2 asks a lookup secret for 112 bits of
 * entropy, or else a random salt and an approved one-way hash; at 119 bits SHA-256 over the
 * employee number and the code is what is stored: a dump gives nothing to guess
 * against offline, and nothing is tied to SECRET_KEY, so the codes survive a key change. Typing 24
 * characters is the price; these are for the day the phone is lost, and are usually pasted.
 */
import { createHash, randomInt } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;
const GROUPS = 4;
const GROUP_LENGTH = 6;
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Fresh codes, formatted as people read them (`abcdef-ghjkmn-pqrstu-vwxyz2`). */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () =>
    Array.from({ length: GROUPS }, () => Array.from({ length: GROUP_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')).join(
      '-',
    ),
  );
}

/** A code as typed (any case, spaces or dashes anywhere) in its canonical form, or undefined when it cannot be one. */
export function normaliseRecoveryCode(code: string): string | undefined {
  const chars = code.toLowerCase().replace(/[\s-]+/g, '');
  return chars.length === GROUPS * GROUP_LENGTH && [...chars].every((char) => ALPHABET.includes(char)) ? chars : undefined;
}

/** The stored form of a canonical code of `empNo` (43 base64url characters); compared by the database's equality on a hash, so no timing tells anything about a code. */
export function hashRecoveryCode(empNo: number, canonical: string): string {
  return createHash('sha256').update(`${empNo}:${canonical}`).digest('base64url');
}
