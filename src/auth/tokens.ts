/**
 * Access tokens: JWTs signed with HS256 and our key only. A token names the session it belongs to
 * (`sid`), and is honoured only while that session lives, so logging out ends the token too.
 */
import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';

const ALGORITHM = 'HS256';
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

function toClaims(payload: JWTPayload): AccessTokenClaims {
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
  return { sub, emp_no: empNo as number, scopes, sid, exp };
}

export class AccessTokens {
  /** Imported once: handing jose the raw bytes would import the key again at every verification. */
  readonly #key: KeyObject;

  constructor(
    secretKey: string,
    readonly ttlSeconds: number,
  ) {
    if (secretKey.length < 32) throw new Error('The access-token secret must be at least 32 characters');
    this.#key = createSecretKey(Buffer.from(secretKey, 'utf8'));
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

  /**
   * The claims of a valid, unexpired token. Only HS256 is accepted (no `alg: none`, no algorithm
   * confusion: OWASP JWT Cheat Sheet), and issuer, audience and expiry are required.
   */
  async verify(token: string): Promise<AccessTokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['exp', 'sub', 'sid', 'emp_no', 'scopes'],
      });
      return toClaims(payload);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error;
      throw new InvalidTokenError((error as Error).message, { cause: error });
    }
  }

  /**
   * Like `verify`, but an expired token is still good enough to name its session. Logout uses it:
   * a client whose token just expired must still be able to end the session behind it.
   */
  async verifyIgnoringExpiry(token: string): Promise<AccessTokenClaims> {
    try {
      return await this.verify(token);
    } catch (error) {
      const cause = (error as Error).cause;
      // jose checks the signature before the claims, so an expired token here is a genuine one.
      if (cause instanceof errors.JWTExpired) {
        const payload = cause.payload;
        if (payload.iss === ISSUER && payload.aud === AUDIENCE) return toClaims(payload);
      }
      throw error;
    }
  }
}
