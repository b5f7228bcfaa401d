/**
 * Who is asking, and logging in and out. Knows employees (through the repository), sessions
 * (through the session manager) and tokens; knows nothing about HTTP requests or cookies.
 */
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../database/schema.js';
import { findEmployeeByEmail, updatePasswordHash } from '../employees/employee-repository.js';
import { findScopes } from '../employees/scope-repository.js';
import type { SessionManager } from '../sessions/session-manager.js';
import { AppError, INVALID_CREDENTIALS } from '../errors.js';
import { burnVerificationTime, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { InvalidTokenError, type AccessTokens } from './tokens.js';
import { narrowScopes } from './scopes.js';

export interface Principal {
  empNo: number;
  /** The scopes granted at login (narrowed to what the client asked for). */
  scopes: string[];
  /** The public id of the session behind this request (a bearer token names one too). */
  sessionId: string;
  via: 'session' | 'bearer';
}

export interface LoginResult {
  empNo: number;
  scopes: string[];
  /** The new `session` cookie value. */
  sessionToken: string;
  accessToken: string;
  expiresIn: number;
}

/** Both unknown users and wrong passwords get this same error: no user enumeration (ASVS 2.2.x). */
export const invalidCredentials = () => new AppError(400, 'INVALID_CREDENTIALS', INVALID_CREDENTIALS);

export class AuthService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sessions: SessionManager,
    private readonly tokens: AccessTokens,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Checks the password and opens a brand-new session. Never reuses a session id the client
   * brought along: a planted or pre-login id must not become a logged-in one (session fixation,
   * OWASP ASVS 3.2.1). The session and its token carry the employee's granted scopes, narrowed to
   * `requestedScope` (the OAuth2 `scope` field) when given; a later change of grants takes effect
   * at the next login.
   */
  async login(username: string, password: string, requestedScope?: string): Promise<LoginResult> {
    const employee = await findEmployeeByEmail(this.db, username);
    if (!employee) {
      await burnVerificationTime(password);
      throw invalidCredentials();
    }
    if (!(await verifyPassword(employee.password, password))) throw invalidCredentials();

    if (needsRehash(employee.password)) await this.upgradeHash(employee.emp_no, password);

    const scopes = narrowScopes(await findScopes(this.db, employee.emp_no), requestedScope);
    const { token: sessionToken, id } = await this.sessions.create(employee.emp_no, scopes);
    const { token: accessToken, expiresIn } = await this.tokens.sign({
      sub: employee.email,
      emp_no: employee.emp_no,
      scopes,
      sid: id,
    });
    return { empNo: employee.emp_no, scopes, sessionToken, accessToken, expiresIn };
  }

  /** The principal behind a `session` cookie value, or null when it is not a live session. */
  async fromSessionToken(token: string | undefined): Promise<Principal | null> {
    if (!token) return null;
    const session = await this.sessions.validateToken(token);
    return session && { empNo: session.empNo, scopes: session.scopes, sessionId: session.id, via: 'session' };
  }

  /**
   * The principal behind a bearer token. The token must be valid and its session still alive and
   * held by the same employee: a logout ends every token of that session.
   * Throws InvalidTokenError otherwise.
   */
  async fromBearerToken(token: string): Promise<Principal> {
    const claims = await this.tokens.verify(token);
    const session = await this.sessions.validateId(claims.sid);
    if (!session || session.empNo !== claims.emp_no) throw new InvalidTokenError('its session has ended');
    return { empNo: session.empNo, scopes: claims.scopes, sessionId: session.id, via: 'bearer' };
  }

  /** The session id a bearer token names, even when the token has just expired; null if invalid. */
  async sessionIdOfBearer(token: string): Promise<string | null> {
    try {
      return (await this.tokens.verifyIgnoringExpiry(token)).sid;
    } catch {
      return null;
    }
  }

  /** Ends a session (and with it every token that names it). True when there was one. */
  logout(sessionId: string): Promise<boolean> {
    return this.sessions.destroy(sessionId);
  }

  /** Rewrites a legacy (bcrypt) hash as argon2id now that we know the password. Best effort. */
  private async upgradeHash(empNo: number, password: string): Promise<void> {
    try {
      await updatePasswordHash(this.db, empNo, await hashPassword(password));
      this.log.info({ empNo }, 'upgraded a legacy password hash to argon2id');
    } catch (error) {
      this.log.warn({ err: error, empNo }, 'could not upgrade a legacy password hash');
    }
  }
}
