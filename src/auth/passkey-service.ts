/**
 * Passkeys as a second factor: a logged-in person registers, lists, renames and removes theirs,
 * and a login pending its second step proves possession of one. Knows the credentials (through the
 * passkey repository), the WebAuthn rules (identity/second-factor/passkeys.ts) and the one-time
 * store for challenges; knows nothing about HTTP.
 *
 * Every ceremony is two calls: the options (a fresh challenge, kept server-side under the session
 * that asked, for the ceremony's timeout) and the browser's answer, which takes that challenge out
 * of the store before anything else: a challenge serves one answer, right or wrong, and an answer
 * replayed later finds none (WebAuthn §13.4.3). Enrolment and removal are audited in the
 * transaction that makes them; every verification at login is audited with its outcome.
 */
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Database } from '../database/schema.js';
import { inTransaction } from '../database/transaction.js';
import { isUniqueViolation } from '../database/dialects.js';
import type { OneTimeStore } from '../sessions/one-time-store.js';
import { recordAuditEvent, type AuditClient } from '../audit/events.js';
import { findEmployeeByNumber } from '../employees/employee-repository.js';
import {
  countPasskeys,
  deletePasskey,
  findPasskey,
  lockPasskeys,
  findPasskeys,
  insertPasskey,
  recordPasskeyUse,
  renamePasskey,
} from '../employees/passkey-repository.js';
import {
  authenticationOptions,
  MAX_PASSKEYS_PER_PERSON,
  PASSKEY_CEREMONY_TIMEOUT_SECONDS,
  passkeyNotVerified,
  registrationOptions,
  userHandleOf,
  validatePasskeyName,
  verifyAuthentication,
  verifyRegistration,
  type PasskeyCredential,
  type RelyingParty,
} from '../identity/second-factor/passkeys.js';
import { AppError, notFound } from '../errors.js';
import type { LoginClient, PendingPrincipal } from './principal.js';
import { secondStepGone, type CompletedLogin, type SecondFactorService } from './second-factor-service.js';

/** Whose ceremony it is: the employee and the session (logged in, or pending its second step) that asked. */
export interface PasskeyHolderSession {
  empNo: number;
  sessionId: string;
}

/** The relying party, or why passkeys are off (config.ts `relyingPartyOf`). */
export type PasskeySetup = RelyingParty | { unavailable: string };

export const passkeysUnavailable = () =>
  new AppError(409, 'PASSKEYS_UNAVAILABLE', 'Passkeys are not available on this server (see WEBAUTHN_RP_ID in the README)');

const lastSecondFactor = () =>
  new AppError(
    409,
    'SECOND_FACTOR_KEPT',
    'Your permissions require a second factor and this passkey is your last one: add another before removing it',
  );

const noCeremony = () =>
  new AppError(400, 'PASSKEY_CHALLENGE_MISSING', 'No passkey request is under way for this session, or it has expired: start again');

type Purpose = 'register' | 'login';

/** What passkeys share with the other second factors: the code throttle, the policy, and the one way a login completes. */
export type SecondFactorLink = Pick<SecondFactorService, 'throttle' | 'required' | 'status' | 'completeSecondStep'>;

/** Someone enrolling: a logged-in person, or a login halfway through that must enrol before it completes. */
export type Enrollee = PasskeyHolderSession | PendingPrincipal;

const isPending = (who: Enrollee): who is PendingPrincipal => 'step' in who;

/** The audit trail's actor for what a session does to its own person's passkeys. */
function actorOf(session: PasskeyHolderSession) {
  return { kind: 'employee', empNo: session.empNo, sessionId: session.sessionId } as const;
}

export class PasskeyService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly challenges: OneTimeStore,
    private readonly setup: PasskeySetup,
    private readonly secretKey: string,
    private readonly log: FastifyBaseLogger,
    private readonly secondFactor: SecondFactorLink,
  ) {}

  /** Whether passkeys can be used here at all (the pages offer them only then). */
  get available(): boolean {
    return !('unavailable' in this.setup);
  }

  private get rp(): RelyingParty {
    if ('unavailable' in this.setup) throw passkeysUnavailable();
    return this.setup;
  }

  private challengeName(purpose: Purpose, session: PasskeyHolderSession): string {
    return `webauthn:${purpose}:${session.sessionId}`;
  }

  private async keepChallenge(purpose: Purpose, session: PasskeyHolderSession, challenge: string): Promise<void> {
    await this.challenges.putOnce(this.challengeName(purpose, session), challenge, PASSKEY_CEREMONY_TIMEOUT_SECONDS);
  }

  /** The challenge this session was given, taken out of the store: it never serves a second answer. */
  private async takeChallenge(purpose: Purpose, session: PasskeyHolderSession): Promise<string> {
    const challenge = await this.challenges.takeOnce(this.challengeName(purpose, session));
    if (challenge === undefined) throw noCeremony();
    return challenge;
  }

  /** The person's passkeys, oldest first. */
  list(empNo: number): Promise<PasskeyCredential[]> {
    return findPasskeys(this.db, empNo);
  }

  /** Options for the browser to create a passkey for the logged-in person (or a login that must enrol first). */
  async startRegistration(session: Enrollee): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const rp = this.rp;
    if (isPending(session) && session.step !== 'enrol') throw secondStepGone();
    const employee = await findEmployeeByNumber(this.db, session.empNo);
    if (!employee) throw notFound(`No employee with number ${session.empNo}`);
    const existing = await findPasskeys(this.db, session.empNo);
    if (existing.length >= MAX_PASSKEYS_PER_PERSON) {
      throw new AppError(409, 'TOO_MANY_PASSKEYS', `You have ${MAX_PASSKEYS_PER_PERSON} passkeys already: remove one first`);
    }
    const holder = { empNo: employee.emp_no, email: employee.email, displayName: `${employee.first_name} ${employee.last_name}` };
    const options = await registrationOptions(rp, holder, userHandleOf(this.secretKey, employee.emp_no), existing);
    await this.keepChallenge('register', session, options.challenge);
    return options;
  }

  /**
   * Verifies the browser's new passkey and stores it under `name`, audited as `mfa.enrol` in the
   * same transaction. For a login led through enrolment (a pending 'enrol' session) the login is then
   * completed too: the passkey satisfies MFA_REQUIRED_SCOPES as a TOTP app does.
   */
  async finishRegistration(
    session: Enrollee,
    response: RegistrationResponseJSON,
    name: string,
    client: AuditClient,
  ): Promise<{ passkey: PasskeyCredential; completed?: CompletedLogin }> {
    const rp = this.rp;
    if (isPending(session) && session.step !== 'enrol') throw secondStepGone();
    const checkedName = validatePasskeyName(name);
    const challenge = await this.takeChallenge('register', session);
    const verified = await verifyRegistration(rp, response, challenge).catch((error: unknown) => this.refused(error, session));
    const passkey = { ...verified, empNo: session.empNo, name: checkedName, createdAt: new Date().toISOString() };
    try {
      await inTransaction(this.db, async (trx) => {
        await insertPasskey(trx, passkey);
        await recordAuditEvent(trx, {
          action: 'mfa.enrol',
          outcome: 'success',
          actor: actorOf(session),
          client,
          targetEmpNo: session.empNo,
          detail: { method: 'passkey', name: checkedName },
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError(409, 'PASSKEY_ALREADY_REGISTERED', 'This passkey is registered already');
      throw error;
    }
    this.log.info({ empNo: session.empNo }, 'passkey registered');
    const registered = { ...passkey, lastUsedAt: null };
    if (!isPending(session)) return { passkey: registered };
    return { passkey: registered, completed: await this.secondFactor.completeSecondStep(session, client) };
  }

  /** Renames one of the person's passkeys; 404 when they have no such passkey. */
  async rename(empNo: number, credentialId: string, name: string): Promise<void> {
    const checkedName = validatePasskeyName(name);
    if (!(await renamePasskey(this.db, empNo, credentialId, checkedName))) throw notFound('No such passkey of yours');
  }

  /**
   * Removes one of the person's passkeys, audited as `mfa.remove` in the same transaction; 404 when
   * there is none. Refused (409) when it is the last second factor of someone whose permissions
   * require one: counted after the removal, under a lock on the person's passkeys, so that two
   * removals racing each other cannot both take the last two.
   */
  async remove(session: PasskeyHolderSession, credentialId: string, client: AuditClient): Promise<void> {
    const { required, totp } = await this.secondFactor.status(session.empNo);
    await inTransaction(this.db, async (trx) => {
      await lockPasskeys(trx, session.empNo);
      const passkey = await findPasskey(trx, session.empNo, credentialId);
      if (!passkey || !(await deletePasskey(trx, session.empNo, credentialId))) throw notFound('No such passkey of yours');
      if (required && !totp && (await countPasskeys(trx, session.empNo)) === 0) throw lastSecondFactor();
      await recordAuditEvent(trx, {
        action: 'mfa.remove',
        outcome: 'success',
        actor: actorOf(session),
        client,
        targetEmpNo: session.empNo,
        detail: { method: 'passkey', name: passkey.name },
      });
    });
    this.log.info({ empNo: session.empNo }, 'passkey removed');
  }

  /** Options for the browser to prove possession of one of the person's passkeys; 409 when they have none. */
  async startAuthentication(session: PendingPrincipal | PasskeyHolderSession): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const rp = this.rp;
    if (isPending(session) && session.step !== 'verify') throw secondStepGone();
    const passkeys = await findPasskeys(this.db, session.empNo);
    if (passkeys.length === 0) throw new AppError(409, 'NO_PASSKEY', 'You have no passkey: use another second factor');
    const options = await authenticationOptions(rp, passkeys);
    await this.keepChallenge('login', session, options.challenge);
    return options;
  }

  /**
   * Verifies the browser's proof against the challenge this session was given and the passkey it
   * names (one of the person's own), then moves the passkey's counter on, conditionally: of two
   * answers racing with the same counter only one passes. Audited as `mfa.verify`, success or failure.
   * Throws 400 (`PASSKEY_NOT_VERIFIED`, or `PASSKEY_CHALLENGE_MISSING`) when it does not check out.
   */
  async finishAuthentication(session: PasskeyHolderSession, response: AuthenticationResponseJSON, client: AuditClient): Promise<void> {
    const rp = this.rp;
    const audit = (outcome: 'success' | 'failure', reason?: string, db: Kysely<Database> = this.db) =>
      recordAuditEvent(db, {
        action: 'mfa.verify',
        outcome,
        actor: actorOf(session),
        client,
        targetEmpNo: session.empNo,
        detail: reason ? { method: 'passkey', reason } : { method: 'passkey' },
      });
    const challenge = await this.takeChallenge('login', session).catch(async (error: unknown) => {
      await audit('failure', 'no_challenge');
      throw error;
    });
    const passkey = await findPasskey(this.db, session.empNo, response.id);
    if (!passkey) {
      await audit('failure', 'unknown_passkey');
      throw passkeyNotVerified();
    }
    const { signCount } = await verifyAuthentication(rp, response, challenge, passkey).catch(async (error: unknown) => {
      await audit('failure', 'not_verified');
      return this.refused(error, session);
    });
    await inTransaction(this.db, async (trx) => {
      if (!(await recordPasskeyUse(trx, session.empNo, passkey.credentialId, signCount, new Date()))) throw passkeyNotVerified();
      await audit('success', undefined, trx);
    }).catch(async (error: unknown) => {
      if (error instanceof AppError) await audit('failure', 'replayed');
      throw error;
    });
  }

  /**
   * The second step of a login with a passkey: counted by the code throttle (as TOTP codes are, so
   * that passkey answers cannot be tried without limit either), verified, and then the pending
   * session becomes a full one (SecondFactorService.completeSecondStep, new id).
   */
  async completeLogin(pending: PendingPrincipal, response: AuthenticationResponseJSON, client: LoginClient): Promise<CompletedLogin> {
    if (pending.step !== 'verify') throw secondStepGone();
    await this.secondFactor.throttle.secondFactorAttempt(pending.empNo, () => this.finishAuthentication(pending, response, client));
    return this.secondFactor.completeSecondStep(pending, client);
  }

  /** Logs why the library refused (its reason stays out of the answer) and throws on. */
  private refused(error: unknown, session: PasskeyHolderSession): never {
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
    this.log.info({ empNo: session.empNo, reason }, 'passkey refused');
    throw error;
  }
}
