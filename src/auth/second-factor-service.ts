/**
 * The second factor of a login, and a person's second factors: TOTP enrolment and removal,
 * recovery codes, the second step of a login (a pending session turned into a full one), the check
 * of a code sent with the password by a program, and an administrator's reset.
 *
 * Every change here is written with its audit event in one transaction (`recordAuditEvent` on the
 * same handle): `mfa.enrol`, `mfa.remove`, `mfa.reset`, and `mfa.verify` for a code accepted (its
 * step or recovery code is spent in that transaction) or refused. Refusals are bounded by the code
 * throttle (LoginThrottle.secondFactorAttempt), so they cannot fill the table; a throttled attempt
 * records nothing.
 *
 * Knows the session manager and the repositories, nothing about HTTP.
 */
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import QRCode from 'qrcode';
import type { Database } from '../database/schema.js';
import { inTransaction } from '../database/transaction.js';
import { recordAuditEvent, type AuditActor, type AuditClient } from '../audit/events.js';
import { recordLoginOrUndo } from './login-events.js';
import { AppError, notFound } from '../errors.js';
import { SessionsEndedError, type SessionManager } from '../sessions/session-manager.js';
import type { PendingStep } from '../sessions/store.js';
import { findEmployeeByNumber } from '../employees/employee-repository.js';
import { findScopes } from '../employees/scope-repository.js';
import { assertMayManage } from '../employees/management.js';
import {
  confirmTotp,
  enrolledFactors,
  findTotpFactor,
  replaceRecoveryCodes,
  saveUnconfirmedTotp,
  useRecoveryCode,
  useTotpStep,
  deleteSecondFactors,
  type EnrolledFactors,
} from '../employees/second-factor-repository.js';
import { resetSecondFactors, type SecondFactorReset } from '../employees/second-factors.js';
import { newTotpSecret, totpUri, verifyTotp } from '../identity/second-factor/totp.js';
import { hashRecoveryCode, newRecoveryCodes, normaliseRecoveryCode } from '../identity/second-factor/recovery-codes.js';
import { SecretBox } from '../identity/second-factor/secret-box.js';
import { secondFactorRequired, type SecondFactorMethod } from '../identity/second-factor/policy.js';
import type { ScopeName } from '../identity/scopes.js';
import type { LoginThrottle } from './throttle.js';
import type { LoginClient, PendingPrincipal, Principal } from './principal.js';

/** A code that is not right (or was used already): the same answer either way, so a replay teaches nothing. */
export const invalidSecondFactor = () => new AppError(400, 'INVALID_SECOND_FACTOR', 'Incorrect or already used second-factor code');

/** A program logging in as someone with a second factor, without the `totp` field. */
export const secondFactorMissing = () =>
  new AppError(400, 'MFA_REQUIRED', 'This account has a second factor: send the current code of its authenticator app in the totp field');

/** A program logging in as someone who must have a second factor and has none yet. */
export const enrolmentMissing = () =>
  new AppError(
    400,
    'MFA_ENROLMENT_REQUIRED',
    'This account must set up a second factor before it can log in here: log in once in a browser, which leads through it',
  );

/** A login halfway through that is no longer there (expired, ended, or completed by a request racing this one). */
export const secondStepGone = () =>
  new AppError(401, 'SESSION_ENDED', 'This login has expired or was completed elsewhere; log in again', {
    headers: { 'www-authenticate': 'Bearer' },
  });

/** What completing a login's second step gives: the full session's cookie value. */
export interface CompletedLogin {
  empNo: number;
  scopes: string[];
  sessionToken: string;
}

/** What the enrolment page shows: the seed as text and as a QR code. */
export interface TotpEnrolment {
  secret: string;
  uri: string;
  /** An `data:image/svg+xml` URI of the QR code (the CSP allows `data:` images). */
  qrCode: string;
}

export interface SecondFactorOptions {
  /** Keys the sealed TOTP seeds (SecretBox). */
  secretKey: string;
  /** MFA_REQUIRED_SCOPES: holders of any of these must have a second factor. */
  requiredScopes: readonly ScopeName[];
}

const actorOf = (who: { empNo: number; sessionId: string }): AuditActor => ({
  kind: 'employee',
  empNo: who.empNo,
  sessionId: who.sessionId,
});
const auditClient = (client: LoginClient): AuditClient => ({ address: client.address, ...(client.label ? { label: client.label } : {}) });

export class SecondFactorService {
  private readonly seeds: SecretBox;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sessions: SessionManager,
    /** Public for the passkeys' second step (passkey-service.ts), which counts against the same code throttle. */
    readonly throttle: LoginThrottle,
    private readonly options: SecondFactorOptions,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.seeds = new SecretBox(options.secretKey, 'totp seed');
  }

  /** Whether someone granted `scopes` must have a second factor (MFA_REQUIRED_SCOPES). */
  required(scopes: readonly string[]): boolean {
    return secondFactorRequired(scopes, this.options.requiredScopes);
  }

  /** What the login of `empNo` still owes after the password: a second factor, an enrolment, or nothing. */
  async stepAfterPassword(empNo: number, grantedScopes: readonly string[]): Promise<PendingStep | undefined> {
    if (hasAny(await enrolledFactors(this.db, empNo))) return 'verify';
    return this.required(grantedScopes) ? 'enrol' : undefined;
  }

  /** The person's second factors, and whether they must keep one. */
  async status(empNo: number): Promise<EnrolledFactors & { required: boolean }> {
    const [factors, scopes] = await Promise.all([enrolledFactors(this.db, empNo), findScopes(this.db, empNo)]);
    return { ...factors, required: this.required(scopes) };
  }

  /**
   * A program's login with the code in the `totp` field: checked (throttled, single use) and
   * audited before the caller opens the session. Only a TOTP code: a recovery code is for a
   * person who lost the phone, and the browser's second step is where they use it.
   */
  async verifyWithLogin(empNo: number, code: string, client: LoginClient): Promise<void> {
    await this.checkCode(empNo, { kind: 'employee', empNo }, client, code, { recoveryCodes: false });
  }

  /**
   * The browser's second step with a code from the app or a recovery code: the pending session
   * ends and a full one starts (`completeSecondStep`).
   */
  async completeWithCode(pending: PendingPrincipal, code: string, client: LoginClient): Promise<CompletedLogin> {
    if (pending.step !== 'verify') throw secondStepGone();
    await this.checkCode(pending.empNo, actorOf(pending), client, code, { recoveryCodes: true });
    return this.completeSecondStep(pending, client);
  }

  /**
   * THE way a pending session becomes a full one, whichever second factor was proven (TOTP here;
   * passkeys call it too, after their own check): ends the pending session and creates a new one
   * (new id) with the person's current scopes. Of requests racing for one pending session exactly
   * one gets the full session; a session end-all since the password was checked (a reset, a
   * disable, a password change) refuses it.
   */
  async completeSecondStep(pending: PendingPrincipal, client: AuditClient): Promise<CompletedLogin> {
    const scopes = await findScopes(this.db, pending.empNo);
    let created;
    try {
      created = await this.sessions.completePending(pending.sessionId, pending.empNo, scopes);
    } catch (error) {
      if (error instanceof SessionsEndedError) throw secondStepGone();
      throw error;
    }
    if (!created) throw secondStepGone();
    await recordLoginOrUndo(this.db, this.sessions, {
      empNo: pending.empNo,
      sessionId: created.id,
      client,
      detail: { secondStep: pending.step },
    });
    return { empNo: pending.empNo, scopes, sessionToken: created.token };
  }

  /** The person's unconfirmed seed (a new one when there is none), for the enrolment page. */
  async beginTotpEnrolment(empNo: number): Promise<TotpEnrolment> {
    const employee = await findEmployeeByNumber(this.db, empNo);
    if (!employee) throw notFound(`No employee with number ${empNo}`);
    const existing = await findTotpFactor(this.db, empNo);
    if (existing?.confirmed_at) throw alreadyEnrolled();
    let secret = existing && this.seeds.open(existing.secret, String(empNo));
    if (!secret) {
      secret = newTotpSecret();
      if (!(await saveUnconfirmedTotp(this.db, empNo, this.seeds.seal(secret, String(empNo)), new Date(this.now())))) {
        throw alreadyEnrolled();
      }
    }
    const uri = totpUri(secret, employee.email);
    const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, uri, qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
  }

  /**
   * Confirms the waiting seed with a code from the app: the authenticator counts from now on, and
   * fresh recovery codes are made (returned once, stored hashed). For a login led through
   * enrolment (a pending 'enrol' session), the login is then completed too.
   */
  async confirmTotpEnrolment(
    who: Principal | PendingPrincipal,
    code: string,
    client: LoginClient,
  ): Promise<{ recoveryCodes: string[]; completed?: CompletedLogin }> {
    if ('step' in who && who.step !== 'enrol') throw secondStepGone();
    const recoveryCodes = await this.throttle.secondFactorAttempt(who.empNo, () => this.confirmTotp(who, code, client));
    this.log.info({ empNo: who.empNo }, 'second factor enrolled');
    if (!('step' in who)) return { recoveryCodes };
    return { recoveryCodes, completed: await this.completeSecondStep(who, client) };
  }

  /** The check behind confirmTotpEnrolment: the waiting seed confirmed by the code, recovery codes made; returns them. */
  private async confirmTotp(who: Principal | PendingPrincipal, code: string, client: LoginClient): Promise<string[]> {
    const waiting = await findTotpFactor(this.db, who.empNo);
    const secret = waiting && !waiting.confirmed_at ? this.seeds.open(waiting.secret, String(who.empNo)) : undefined;
    const step = secret === undefined ? undefined : verifyTotp(secret, code, this.now());
    if (!waiting || step === undefined) throw invalidSecondFactor();
    const recoveryCodes = newRecoveryCodes();
    const confirmed = await inTransaction(this.db, async (trx) => {
      if (!(await confirmTotp(trx, who.empNo, waiting.secret, step, new Date(this.now())))) return false;
      await replaceRecoveryCodes(
        trx,
        who.empNo,
        recoveryCodes.map((one) => hashRecoveryCode(who.empNo, normaliseRecoveryCode(one)!)),
      );
      await recordAuditEvent(trx, { ...this.event(who, client), action: 'mfa.enrol', outcome: 'success', detail: { method: 'totp' } });
      return true;
    });
    if (!confirmed) throw invalidSecondFactor();
    return recoveryCodes;
  }

  /**
   * Removes the person's authenticator and recovery codes, proven by a current code (from the app
   * or a recovery code). Refused (409) while their scopes require a second factor: an
   * administrator's own second factor only goes by a reset, which ends every session of theirs.
   */
  async removeTotp(principal: Principal, code: string, client: LoginClient): Promise<void> {
    if (this.required(await findScopes(this.db, principal.empNo))) {
      throw new AppError(
        409,
        'SECOND_FACTOR_KEPT',
        'Your permissions require a second factor: it cannot be removed, only reset by an administrator',
      );
    }
    await this.checkCode(principal.empNo, actorOf(principal), client, code, { recoveryCodes: true });
    await inTransaction(this.db, async (trx) => {
      await deleteSecondFactors(trx, principal.empNo);
      await recordAuditEvent(trx, {
        ...this.event(principal, client),
        action: 'mfa.remove',
        outcome: 'success',
        detail: { method: 'totp' },
      });
    });
    this.log.info({ empNo: principal.empNo }, 'second factor removed');
  }

  /** An administrator resetting someone's second factors (their sessions end with it); never their own. */
  async reset(actor: Principal, empNo: number, client: LoginClient): Promise<SecondFactorReset> {
    await assertMayManage(this.db, actor, empNo);
    const done = await resetSecondFactors(this.db, this.sessions, empNo, actorOf(actor), auditClient(client));
    this.log.info({ target: empNo, ...done }, 'second factor reset');
    return done;
  }

  /**
   * Checks a code for the employee: counted by the code throttle first, then a TOTP code is
   * accepted once (its time step is spent), or a recovery code once (it is marked used). The
   * spending and its `mfa.verify` event share one transaction; a refusal is recorded as a failure.
   */
  private async checkCode(
    empNo: number,
    actor: AuditActor,
    client: LoginClient,
    code: string,
    accept: { recoveryCodes: boolean },
  ): Promise<SecondFactorMethod> {
    const base = { actor, client: auditClient(client), targetEmpNo: empNo };
    return this.throttle.secondFactorAttempt(empNo, async () => {
      const method = await inTransaction(this.db, async (trx) => {
        const used = await this.spend(trx, empNo, code, accept);
        if (used) await recordAuditEvent(trx, { ...base, action: 'mfa.verify', outcome: 'success', detail: { method: used } });
        return used;
      });
      if (!method) {
        await recordAuditEvent(this.db, { ...base, action: 'mfa.verify', outcome: 'failure' });
        throw invalidSecondFactor();
      }
      return method;
    });
  }

  /** Spends the code if it is a right one: the TOTP step, else (when accepted) a recovery code. */
  private async spend(trx: Kysely<Database>, empNo: number, code: string, accept: { recoveryCodes: boolean }) {
    const factor = await findTotpFactor(trx, empNo);
    const secret = factor?.confirmed_at ? this.seeds.open(factor.secret, String(empNo)) : undefined;
    const step = secret === undefined ? undefined : verifyTotp(secret, code, this.now());
    if (step !== undefined) return (await useTotpStep(trx, empNo, step)) ? ('totp' as const) : undefined;
    const recovery = accept.recoveryCodes ? normaliseRecoveryCode(code) : undefined;
    if (recovery === undefined) return undefined;
    return (await useRecoveryCode(trx, empNo, hashRecoveryCode(empNo, recovery), new Date(this.now())))
      ? ('recovery_code' as const)
      : undefined;
  }

  private event(who: Principal | PendingPrincipal, client: LoginClient) {
    return { actor: actorOf(who), client: auditClient(client), targetEmpNo: who.empNo };
  }
}

/** Whether the person has a second factor to prove at login (a kind added later joins here). */
function hasAny(factors: EnrolledFactors): boolean {
  return factors.totp || factors.passkeys > 0;
}

const alreadyEnrolled = () =>
  new AppError(409, 'MFA_ALREADY_ENROLLED', 'An authenticator app is set up already; remove it first to set up another');
