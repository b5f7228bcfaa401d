/**
 * Encryption at rest for second-factor secrets (the TOTP seed).
 *
 * Why encrypted, not hashed: checking a TOTP code needs the seed itself (HMAC over the time step),
 * so it cannot be stored as a one-way hash the way passwords and recovery codes are. Why encrypted
 * with a key that is not in the database: a database dump or backup alone must not yield working
 * second factors (ASVS 4.0.3 2.8.2: the keys that verify OTPs are to be highly protected). The key
 * is derived from the app's SECRET_KEY (src/secret-key.ts) with HKDF-SHA256 and a purpose label, so
 * it is independent of the token-signing use of the same secret.
 *
 * AES-256-GCM (authenticated): a tampered ciphertext fails to open rather than yield another seed,
 * and the employee number is bound in as associated data, so a row's ciphertext copied onto another
 * employee's row does not open there. A fresh 96-bit IV per encryption (NIST SP 800-38D §8.2.2).
 *
 * Changing SECRET_KEY makes stored seeds unreadable: those people's TOTP then fails and an
 * administrator resets it (docs/SECURITY.md says so).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The stored form: `v1.<iv>.<tag>.<ciphertext>`, base64url; the version lets a later key or cipher coexist. */
const VERSION = 'v1';

export class SecretBox {
  readonly #key: Buffer;

  constructor(secretKey: string, purpose: string) {
    if (secretKey.length < 32) throw new Error('The secret key must be at least 32 characters');
    this.#key = Buffer.from(hkdfSync('sha256', secretKey, 'employees-portal', `${purpose} ${VERSION}`, 32));
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** The plaintext, or undefined when `sealed` was not sealed by this key for `associatedData`. */
  open(sealed: string, associatedData: string): string | undefined {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined) return undefined;
    try {
      const decipher = createDecipheriv(ALGORITHM, this.#key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(associatedData));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
