/**
 * Who is asking, logging in and out, and the account actions that end sessions (password change,
 * disabling). Knows employees (through the repositories), sessions (through the session manager)
 * and tokens; knows nothing about HTTP requests or cookies.
 */
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../database/schema.js';
import {
  findEmployeeByEmail,
  findEmployeeByNumber,
  findLoginState,
  findPasswordHash,
  upgradePasswordHash,
  countLegacyPasswordHashes,
  normaliseEmail,
} from '../employees/employee-repository.js';
import type { EmployeeRow } from '../database/schema.js';
import { findScopes } from '../employees/scope-repository.js';
import { SessionsEndedError, type Session, type SessionManager } from '../sessions/session-manager.js';
import { AppError, INVALID_CREDENTIALS, notFound, validationFailed } from '../errors.js';
import {
  hashPassword,
  isLegacyHash,
  needsRehash,
  passwordTooLong,
  verifyLoginPassword,
  withPasswordCheckSlot,
} from '../identity/passwords.js';
import { disableLogin, enableLogin, replacePassword } from '../identity/account-actions.js';
import { employeeActor, recordAuditEvent, type AuditContext, type AuditEventInput } from '../audit/events.js';
import { recordFailedLogin } from '../audit/failed-logins.js';
import { recordLoginOrUndo } from './login-events.js';
import { accountRecords } from '../employees/account-records.js';
import { InvalidTokenError, type AccessTokens } from './tokens.js';
import { narrowScopes } from '../identity/scopes.js';
import { assertMayManage } from '../employees/management.js';
import { isOutage, type CountedAttempt, type LoginThrottle } from './throttle.js';
import { validateNewPassword } from '../employees/validation.js';
import type { LoginClient, PendingPrincipal, Principal } from './principal.js';
import type { PendingStep } from '../sessions/store.js';
import { enrolmentMissing, secondFactorMissing, type SecondFactorService } from './second-factor-service.js';

export type { LoginClient, PendingPrincipal, Principal };

/** A login that is complete: a full session and its bearer token. */
export interface FullLogin {
  empNo: number;
  scopes: string[];
  /** The new `session` cookie value. */
  sessionToken: string;
  accessToken: string;
  expiresIn: number;
  pending?: undefined;
}

/** A login whose password was right and which still owes `pending`: a pending session, no scopes, no token. */
export interface PendingLogin {
  empNo: number;
  /** The pending session's `session` cookie value. */
  sessionToken: string;
  pending: PendingStep;
}

export type LoginResult = FullLogin | PendingLogin;

/**
 * How the login's second factor is to be met: `code` is a program's `totp` field; `pendingAllowed`
 * says the client can be led through a second step (a browser), so a pending session is opened
 * instead of refusing the login.
 */
export interface SecondFactorInput {
  code?: string | undefined;
  pendingAllowed: boolean;
}

/**
 * Unknown users, wrong passwords and disabled accounts all get this same error, after the same
 * work: no user enumeration by answer or by timing (ASVS 5.0 6.3.8).
 */
export const invalidCredentials = () => new AppError(400, 'INVALID_CREDENTIALS', INVALID_CREDENTIALS);

/** The person's sessions were all ended while this login was under way; nothing of it is left. */
export const loginInterrupted = () =>
  new AppError(409, 'LOGIN_INTERRUPTED', 'All sessions of this account were ended while logging in; log in again');

/** Who acts through `principal`, from `client`: for the audit trail. */
function contextOf(principal: Pick<Principal, 'empNo' | 'sessionId'>, client: LoginClient): AuditContext {
  return { actor: employeeActor(principal), client };
}

/** The audit trail's outcome of a login that failed with `error`, when it is one the trail records. */
function failedLoginOutcome(error: unknown): 'failure' | 'throttled' | undefined {
  if (!(error instanceof AppError)) return undefined;
  if (error.code === 'INVALID_CREDENTIALS') return 'failure';
  return error.code === 'TOO_MANY_ATTEMPTS' ? 'throttled' : undefined;
}

export class AuthService {
  /**
   * Legacy bcrypt hashes in the database, as far as this process knows: counted at start
   * (`countLegacyHashes`), less one per upgrade made here, and never below one while a login meets
   * one. Until counted, assumed present. While any is left, every login also spends a bcrypt
   * check to keep equal timing (`verifyLoginPassword`). A password set elsewhere (the admin
   * command, a password change) leaves the count high: the safe side, corrected at the next start.
   */
  private legacyHashes = Number.POSITIVE_INFINITY;
  private counting: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sessions: SessionManager,
    private readonly tokens: AccessTokens,
    private readonly throttle: LoginThrottle,
    private readonly log: FastifyBaseLogger,
    private readonly secondFactor: SecondFactorService,
  ) {}

  /**
   * Checks the password and opens a brand-new session. Never reuses a session id the client
   * brought along: a planted or pre-login id must not become a logged-in one (session fixation,
   * OWASP ASVS 3.2.1). The session and its token carry the employee's granted scopes, narrowed to
   * `requestedScope` (the OAuth2 `scope` field) when given; a later change of grants takes effect
   * at the next login.
   *
   * No login outlives what ends it: a disable, a password change or an end-all that runs once this
   * login has started its password check either is seen by the second look at the account below or
   * ends (or undoes) the new session. The generation ticket is read before the check for that
   * reason (SessionManager.beginCreate explains the order).
   */
  async login(
    username: string,
    password: string,
    client: LoginClient,
    requestedScope?: string,
    secondFactor: SecondFactorInput = { pendingAllowed: false },
  ): Promise<LoginResult> {
    const tooLong = passwordTooLong(password);
    if (tooLong) throw tooLong;
    const counted: CountedAttempt = { username, clientAddress: client.address };
    try {
      return await this.givenBackOnOutage(counted, () => this.loginCounted(counted, password, client, requestedScope, secondFactor));
    } catch (error) {
      await this.recordFailedLogin(error, counted, client);
      throw error;
    }
  }

  /**
   * Runs a throttled attempt. One that met an outage proved nothing about the password: what it
   * counted is given back, so that a database or session-store outage does not lock people out for
   * the throttle's window.
   */
  private async givenBackOnOutage<T>(counted: CountedAttempt, attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      if (isOutage(error)) await this.throttle.withdraw(counted).catch(() => undefined);
      throw error;
    }
  }

  /**
   * A wrong password or a throttled attempt in the audit trail (aggregated: audit/failed-logins.ts).
   * Best effort: the answer to the login does not wait on the trail, and a trail that cannot be
   * written (the database away) is logged instead.
   */
  private async recordFailedLogin(error: unknown, counted: CountedAttempt, client: LoginClient): Promise<void> {
    const outcome = failedLoginOutcome(error);
    if (outcome === undefined) return;
    const name = normaliseEmail(counted.username);
    await recordFailedLogin(this.db, {
      outcome,
      name,
      client,
      ...(counted.empNo === undefined ? {} : { targetEmpNo: counted.empNo }),
    }).catch((failure: unknown) =>
      this.log.error({ err: failure, audit: { action: 'login', outcome, name, client } }, 'audit event not recorded'),
    );
  }

  /**
   * Records a session ended (a logout, one's own end, an end-all): sessions live in the session
   * store, and no transaction spans the store and the database, so the event is written right after
   * the store answered. The end stands; an event the database refuses is logged in full instead.
   * (A login is the other store event; it is undone when its event cannot be written: `loginCounted`.)
   */
  private async recordStoreEvent(event: AuditEventInput): Promise<void> {
    try {
      await recordAuditEvent(this.db, event);
    } catch (error) {
      this.log.error({ err: error, audit: event }, 'audit event not recorded');
    }
  }

  private async loginCounted(
    counted: CountedAttempt,
    password: string,
    client: LoginClient,
    requestedScope: string | undefined,
    secondFactor: SecondFactorInput,
  ): Promise<LoginResult> {
    const { username } = counted;
    await this.throttle.admit(username, client.address);
    counted.admitted = true;
    const found = await findEmployeeByEmail(this.db, username);
    // The per-employee count inside the slot: an unknown user, who has none, queues for the hash
    // exactly when a known one does (with one hashing thread, the order of arrival is the wait).
    const checked = await withPasswordCheckSlot(async () => {
      if (found) {
        await this.throttle.admitEmployee(found.emp_no);
        counted.empNo = found.emp_no;
      }
      // For an unknown user too (owner 0, which no employee has): the same work whoever it is.
      const ticket = await this.sessions.beginCreate(found?.emp_no ?? 0);
      const matches = await this.verifyPassword(found?.password, password);
      return found && matches && !found.disabled ? { employee: found, ticket } : undefined;
    });
    if (!checked) throw invalidCredentials();
    const { employee, ticket } = checked;
    // The row above was read before the ticket: look again, so that a change made before the
    // ender's bump (a disabled flag, a new password) is seen here.
    const currentHash = await this.currentHashAccepting(employee, password);
    if (currentHash === undefined) throw invalidCredentials();

    await this.throttle.succeeded(username, client.address, employee.emp_no);
    if (needsRehash(currentHash)) await this.upgradeHash(employee.emp_no, currentHash, password);

    const granted = await findScopes(this.db, employee.emp_no);
    const owed = await this.secondFactor.stepAfterPassword(employee.emp_no, granted);
    const pending = owed && (await this.meetSecondFactor(owed, employee.emp_no, client, secondFactor));
    const scopes = pending ? [] : narrowScopes(granted, requestedScope);
    let created;
    try {
      created = pending
        ? await this.sessions.createPending(employee.emp_no, pending, client.label, ticket)
        : await this.sessions.create(employee.emp_no, scopes, client.label, ticket);
    } catch (error) {
      if (!(error instanceof SessionsEndedError)) throw error;
      // The right answer for why: the account changed (as a wrong password would be told), or only the sessions were ended.
      throw (await this.currentHashAccepting(employee, password)) === undefined ? invalidCredentials() : loginInterrupted();
    }
    if (pending) return { empNo: employee.emp_no, sessionToken: created.token, pending };
    await recordLoginOrUndo(this.db, this.sessions, { empNo: employee.emp_no, sessionId: created.id, client });
    const { token: accessToken, expiresIn } = await this.tokens.sign({
      sub: employee.email,
      emp_no: employee.emp_no,
      scopes,
      sid: created.id,
    });
    return { empNo: employee.emp_no, scopes, sessionToken: created.token, accessToken, expiresIn };
  }

  /**
   * What a login that owes a step (`owed`) does after the password: a program's `totp` code is
   * checked now (undefined: the login completes); a browser is given a pending session for the
   * step (its name is returned); otherwise the login is refused, saying what is missing.
   */
  private async meetSecondFactor(
    owed: PendingStep,
    empNo: number,
    client: LoginClient,
    secondFactor: SecondFactorInput,
  ): Promise<PendingStep | undefined> {
    if (owed === 'verify' && secondFactor.code !== undefined) {
      await this.secondFactor.verifyWithLogin(empNo, secondFactor.code, client);
      return undefined;
    }
    if (secondFactor.pendingAllowed) return owed;
    throw owed === 'verify' ? secondFactorMissing() : enrolmentMissing();
  }

  /**
   * The account read afresh: its current hash when it is enabled and still takes this password,
   * else undefined. A hash other than the one verified (a concurrent login's argon2id upgrade, or a
   * new password) is verified again.
   */
  private async currentHashAccepting(verified: EmployeeRow, password: string): Promise<string | undefined> {
    const current = await findLoginState(this.db, verified.emp_no);
    if (!current || current.disabled) return undefined;
    if (current.password === verified.password) return current.password;
    return (await withPasswordCheckSlot(() => this.verifyPassword(current.password, password))) ? current.password : undefined;
  }

  /** Whether `username` names the person already logged in as `principal`. */
  async isLoggedInAs(principal: Principal, username: string): Promise<boolean> {
    return (await findEmployeeByEmail(this.db, username))?.emp_no === principal.empNo;
  }

  /**
   * Who a `session` cookie value names: a logged-in principal, someone halfway through a login (a
   * pending session), or null when it is not a live session.
   */
  async fromSessionToken(token: string | undefined): Promise<Principal | PendingPrincipal | null> {
    if (!token) return null;
    const session = await this.sessions.validateToken(token);
    if (!session) return null;
    if (session.pending) return { empNo: session.empNo, sessionId: session.id, step: session.pending };
    return { empNo: session.empNo, scopes: session.scopes, sessionId: session.id, via: 'session' };
  }

  /**
   * The principal behind a bearer token. The token must be valid and its session still alive and
   * held by the same employee: a logout ends every token of that session.
   * Throws InvalidTokenError otherwise.
   */
  async fromBearerToken(token: string): Promise<Principal> {
    const claims = this.tokens.verify(token);
    const session = await this.sessions.validateId(claims.sid, claims.emp_no);
    if (!session) throw new InvalidTokenError('its session has ended');
    return { empNo: session.empNo, scopes: claims.scopes, sessionId: session.id, via: 'bearer' };
  }

  /** The session (and its holder) a bearer token names, even when the token has just expired; null if invalid. */
  async sessionOfBearer(token: string): Promise<Pick<Principal, 'empNo' | 'sessionId'> | null> {
    try {
      const claims = this.tokens.verifyIgnoringExpiry(token);
      return { empNo: claims.emp_no, sessionId: claims.sid };
    } catch {
      return null;
    }
  }

  /** Ends the session `holder` came through (and with it every token that names it). True when there was one. */
  async logout(holder: Pick<Principal, 'empNo' | 'sessionId'>, client: LoginClient): Promise<boolean> {
    const ended = await this.sessions.destroy(holder.sessionId);
    if (ended)
      await this.recordStoreEvent({ action: 'logout', outcome: 'success', ...contextOf(holder, client), targetEmpNo: holder.empNo });
    return ended;
  }

  /** The person's live sessions, oldest first. */
  listSessions(empNo: number): Promise<Session[]> {
    return this.sessions.listForEmployee(empNo);
  }

  /**
   * Ends one of the person's own sessions; 404 when they hold no such live session. Someone else's
   * session is neither ended nor prolonged by being named here.
   */
  async endOwnSession(principal: Principal, sessionId: string, client: LoginClient): Promise<void> {
    const { empNo } = principal;
    if (!(await this.sessions.destroyOwned(sessionId, empNo))) throw notFound('No such session');
    const detail = { session_id: sessionId };
    await this.recordStoreEvent({ action: 'session.end', outcome: 'success', ...contextOf(principal, client), targetEmpNo: empNo, detail });
  }

  /** A person ending every session (and token) of their own; returns how many. */
  async endAllSessions(principal: Principal, client: LoginClient): Promise<number> {
    return this.endAllAudited(principal, principal.empNo, client);
  }

  private async endAllAudited(actor: Principal, empNo: number, client: LoginClient): Promise<number> {
    const ended = await this.sessions.endAllForEmployee(empNo);
    const detail = { ended };
    await this.recordStoreEvent({
      action: 'sessions.end_all',
      outcome: 'success',
      ...contextOf(actor, client),
      targetEmpNo: empNo,
      detail,
    });
    return ended;
  }

  /**
   * A person changing their own password: the current one is checked (and throttled like a login),
   * the new one validated and stored as argon2id, and every session of the person ended, this one
   * included (ASVS 5.0 7.4.3): whoever knew the old password is out.
   */
  async changePassword(principal: Principal, currentPassword: string, newPassword: string, client: LoginClient): Promise<number> {
    const { empNo } = principal;
    const employee = await findEmployeeByNumber(this.db, empNo);
    if (!employee) throw notFound(`No employee with number ${empNo}`);
    const tooLong = passwordTooLong(currentPassword);
    if (tooLong) throw tooLong;
    const counted: CountedAttempt = { username: employee.email, clientAddress: client.address };
    await this.givenBackOnOutage(counted, async () => {
      await this.throttle.admit(employee.email, client.address);
      counted.admitted = true;
      const hash = await findPasswordHash(this.db, empNo);
      const matches = await withPasswordCheckSlot(async () => {
        await this.throttle.admitEmployee(empNo);
        counted.empNo = empNo;
        return this.verifyPassword(hash, currentPassword);
      });
      if (!matches) {
        throw validationFailed([{ field: 'current_password', message: 'is not your current password' }]);
      }
      // The last counted step: once it is done the attempt has been answered (and its counts reset).
      await this.throttle.succeeded(employee.email, client.address, empNo);
    });
    const checked = validateNewPassword(newPassword, 'new_password');
    if (!checked.ok) throw validationFailed(checked.errors);
    const ended = await replacePassword(accountRecords(this.db), this.sessions, empNo, checked.value, contextOf(principal, client));
    this.log.info({ empNo, sessionsEnded: ended }, 'password changed');
    return ended;
  }

  /**
   * An administrator disabling (or enabling) someone's login. Disabling ends their sessions and
   * tokens at once. Governed by the rule of every action on a person (`assertMayManage`): nobody
   * disables themself, and an admin:write cannot lock out a super:*.
   */
  async setDisabled(actor: Principal, empNo: number, disabled: boolean, client: LoginClient): Promise<number> {
    await assertMayManage(this.db, actor, empNo);
    let ended = 0;
    const context = contextOf(actor, client);
    if (disabled) ended = await disableLogin(accountRecords(this.db), this.sessions, empNo, context);
    else await enableLogin(accountRecords(this.db), empNo, context);
    this.log.info({ target: empNo, disabled, sessionsEnded: ended }, disabled ? 'account disabled' : 'account enabled');
    return ended;
  }

  /** An administrator ending all of someone's sessions and tokens; returns how many. */
  async endSessionsOf(actor: Principal, empNo: number, client: LoginClient): Promise<number> {
    await assertMayManage(this.db, actor, empNo);
    const ended = await this.endAllAudited(actor, empNo, client);
    this.log.info({ target: empNo, sessionsEnded: ended }, "ended an employee's sessions");
    return ended;
  }

  /**
   * Counts the legacy hashes (see `legacyHashes`), once: at start, or, when the database was not
   * ready then, at a later login. Until it succeeds every login runs both checks, the safe side.
   */
  async countLegacyHashes(): Promise<void> {
    if (this.legacyHashes !== Number.POSITIVE_INFINITY) return;
    this.counting ??= countLegacyPasswordHashes(this.db)
      .then((count) => {
        this.legacyHashes = count;
        this.log.info({ legacyHashes: count }, count > 0 ? 'legacy bcrypt password hashes remain' : 'no legacy bcrypt password hashes');
      })
      .finally(() => {
        this.counting = undefined;
      });
    await this.counting;
  }

  /** `verifyLoginPassword`, with the bcrypt dummy only while legacy hashes are left. */
  private verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
    if (this.legacyHashes === Number.POSITIVE_INFINITY) void this.countLegacyHashes().catch(() => undefined);
    if (hash !== undefined && isLegacyHash(hash) && this.legacyHashes < 1) {
      this.log.warn('met a legacy password hash that was not counted; equal timing with bcrypt again');
      this.legacyHashes = 1;
    }
    return verifyLoginPassword(hash, password, this.legacyHashes > 0);
  }

  /**
   * Rewrites a legacy (bcrypt) hash as argon2id now that we know the password. Best effort, and
   * only over the hash that was verified: a password changed meanwhile stays changed.
   */
  private async upgradeHash(empNo: number, legacyHash: string, password: string): Promise<void> {
    try {
      if (await upgradePasswordHash(this.db, empNo, legacyHash, await hashPassword(password))) {
        if (isLegacyHash(legacyHash)) this.legacyHashes = Math.max(0, this.legacyHashes - 1);
        this.log.info({ empNo }, 'upgraded a legacy password hash to argon2id');
      }
    } catch (error) {
      this.log.warn({ err: error, empNo }, 'could not upgrade a legacy password hash');
    }
  }
}
