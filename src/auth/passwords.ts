/**
 * Password hashing. New hashes are argon2id (OWASP Password Storage Cheat Sheet: m=19 MiB, t=2,
 * p=1, the library's defaults); legacy bcrypt hashes from older systems still verify. Both
 * libraries ship prebuilt binaries and run on libuv's thread pool, so a login never blocks the
 * event loop.
 */
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { verify as bcryptVerify } from '@node-rs/bcrypt';

const ARGON2ID_PREFIX = '$argon2id$';
const BCRYPT_PATTERN = /^\$2[abxy]\$\d\d\$/;

/** argon2id with the library defaults, which are the OWASP minimums. */
export function hashPassword(password: string): Promise<string> {
  return argon2Hash(password);
}

/** True when `password` matches `hash`; false for a wrong password or a hash in no known format. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    if (hash.startsWith(ARGON2ID_PREFIX)) return await argon2Verify(hash, password);
    if (BCRYPT_PATTERN.test(hash)) return await bcryptVerify(password, hash);
  } catch {
    // A corrupt stored hash is a failed login, not a crash.
  }
  return false;
}

/** Hashes in an older scheme are rewritten as argon2id after the next successful login. */
export function needsRehash(hash: string): boolean {
  return !hash.startsWith(ARGON2ID_PREFIX);
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies against a throwaway argon2id hash, so that a login for an unknown user costs about
 * the same time as a wrong password: no user enumeration by timing (OWASP ASVS 2.2.x / 6.3.x).
 */
export async function burnVerificationTime(password: string): Promise<void> {
  dummyHash ??= argon2Hash('a password nobody has');
  await verifyPassword(await dummyHash, password);
}
