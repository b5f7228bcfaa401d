/**
 * Access tokens: JWTs signed with HS256 and our key only. A token names the session it belongs to
 * (`sid`), and is honoured only while that session lives, so logging out ends the token too.
 *
 * jose signs (once per login). fast-jwt verifies (on every bearer request): it runs the HMAC
 * synchronously with node:crypto, where jose's WebCrypto HMAC is a job on libuv's thread pool,
 * queued behind password hashes during a burst of logins (docs/PERFORMANCE.md).
 */
import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { createVerifier, TokenError, type VerifierOptions } from 'fast-jwt';

const ALGORITHM = 'HS256' as const;
const ISSUER = 'employees-portal';
const AUDIENCE = 'employees-portal';

export interface AccessTokenClaims {
  /** The employee's email (login name). */
  sub: string;
  emp_no: number;
  /** The scopes granted at login. */
  scopes: string[];
  /** The public id of the session the token belongs to (never the session's secret). */
  sid: string;
  exp: number;
}

export class InvalidTokenError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`Invalid access token: ${reason}`, options);
    this.name = 'InvalidTokenError';
  }
}

function toClaims(payload: Record<string, unknown>): AccessTokenClaims {
  const { sub, emp_no: empNo, scopes, sid, exp } = payload as Partial<AccessTokenClaims>;
  if (
    typeof sub !== 'string' ||
    !Number.isSafeInteger(empNo) ||
    !Array.isArray(scopes) ||
    !scopes.every((scope) => typeof scope === 'string') ||
    typeof sid !== 'string' ||
    typeof exp !== 'number'
  ) {
    throw new InvalidTokenError('missing or malformed claims');
  }
  // A copy: the cache hands back the same payload for the same token, and one request's principal
  // must never share an array with another's.
  return { sub, emp_no: empNo as number, scopes: [...scopes], sid, exp };
}

const REQUIRED_CLAIMS = ['exp', 'sub', 'sid', 'emp_no', 'scopes'];
/**
 * Verified tokens remembered (fast-jwt's LRU cache, keyed by the token's SHA-256): a client sends the
 * same token on every request until it expires, and a remembered one costs that hash instead of the
 * HMAC, two base64 decodes, two JSON.parse and the claim checks, which made a bearer request slower
 * than a cookie one (docs/PERFORMANCE.md). An entry is used only within the token's own `nbf`/`exp`
 * (and at most fast-jwt's 10 minutes), failures are not remembered, and the session the token names
 * is still looked up on every request, so a logout ends the token at once as before. About 0.5 kB an
 * entry: 1000 tokens in use at once keep their hits, more cost a full check each.
 */
const VERIFIED_TOKEN_CACHE_SIZE = 1000;

export class AccessTokens {
  /** Imported once: handing jose the raw bytes would import the key again at every signature. */
  readonly #key: KeyObject;
  /**
   * Only HS256 is accepted (no `alg: none`, no algorithm confusion: OWASP JWT Cheat Sheet);
   * issuer, audience and expiry are required, `nbf` is honoured, and no clock skew is tolerated.
   */
  readonly #verify: (token: string) => Record<string, unknown>;
  /** The same checks but the expiry: only to name the session of a token that has just expired. */
  readonly #verifyIgnoringExpiry: (token: string) => Record<string, unknown>;

  constructor(
    secretKey: string,
    readonly ttlSeconds: number,
  ) {
    if (secretKey.length < 32) throw new Error('The access-token secret must be at least 32 characters');
    this.#key = createSecretKey(Buffer.from(secretKey, 'utf8'));
    const options: Partial<VerifierOptions> & { key: Buffer } = {
      key: Buffer.from(secretKey, 'utf8'),
      algorithms: [ALGORITHM],
      allowedIss: ISSUER,
      allowedAud: AUDIENCE,
      requiredClaims: REQUIRED_CLAIMS,
      clockTolerance: 0,
    };
    this.#verify = createVerifier({ ...options, cache: VERIFIED_TOKEN_CACHE_SIZE }) as (token: string) => Record<string, unknown>;
    this.#verifyIgnoringExpiry = createVerifier({ ...options, ignoreExpiration: true }) as (token: string) => Record<string, unknown>;
  }

  async sign(claims: Omit<AccessTokenClaims, 'exp'>): Promise<{ token: string; expiresIn: number }> {
    const token = await new SignJWT({ emp_no: claims.emp_no, scopes: claims.scopes, sid: claims.sid })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(claims.sub)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      // A unique id, so that a token can be named (in logs, or a future denylist) without quoting it.
      .setJti(randomUUID())
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.#key);
    return { token, expiresIn: this.ttlSeconds };
  }

  /** The claims of a valid, unexpired token (see `#verify`). Synchronous: no thread-pool job. */
  verify(token: string): AccessTokenClaims {
    return checked(() => this.#verify(token));
  }

  /**
   * Like `verify`, but an expired token is still good enough to name its session. Logout uses it:
   * a client whose token just expired must still be able to end the session behind it. The
   * signature, algorithm, issuer and audience are checked all the same.
   */
  verifyIgnoringExpiry(token: string): AccessTokenClaims {
    return checked(() => this.#verifyIgnoringExpiry(token));
  }
}

function checked(verify: () => Record<string, unknown>): AccessTokenClaims {
  try {
    return toClaims(verify());
  } catch (error) {
    if (error instanceof InvalidTokenError) throw error;
    if (error instanceof TokenError) throw new InvalidTokenError(error.message, { cause: error });
    throw new InvalidTokenError('malformed', { cause: error });
  }
}
