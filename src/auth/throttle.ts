/**
 * Login throttling, per account and per client address (OWASP ASVS 2.2.1: at most 100 failed
 * attempts an hour on one account; CS-Auth "Login Throttling").
 *
 * Counters live in the session store (`CounterStore`: Redis when configured), so every login route and every app
 * instance share them. An attempt is counted BEFORE its password is checked, with an atomic
 * increment: checking first and counting after would let a burst of parallel guesses all pass the
 * check (Devise's CVE-2019-5421). A success then resets the account's counter and gives the
 * client's attempt back. Over the limit, the answer is 429 with Retry-After and no password is
 * checked at all; unknown usernames are counted the same way, so the limit reveals nothing.
 * The lockout is a window, not permanent: an attacker can delay an account's owner by at most
 * LOGIN_THROTTLE_WINDOW_SECONDS at a time.
 *
 * An account is counted twice over: by the username as given, normalised as stored emails are
 * (`normaliseEmail`), and by the employee number it resolves to (`admitEmployee`). Either counter
 * over the limit refuses the attempt, so no other spelling of an address (case, spaces, fullwidth
 * letters, or anything a database collation might one day equate) brings a fresh set of guesses.
 */
import { createHash } from 'node:crypto';
import type { CounterStore } from '../sessions/counter-store.js';
import { SessionStoreUnavailableError } from '../sessions/store.js';
import { isDatabaseOutage } from '../database/errors.js';
import { AppError } from '../errors.js';
import { PasswordCheckUnavailableError } from '../identity/passwords.js';
import { normaliseEmail } from '../employees/employee-repository.js';

export interface ThrottleOptions {
  maxFailuresPerAccount: number;
  maxFailuresPerClient: number;
  windowSeconds: number;
}

export const tooManyAttempts = (retryAfterSeconds: number) =>
  new AppError(429, 'TOO_MANY_ATTEMPTS', `Too many failed logins. Try again in ${retryAfterSeconds} seconds`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });

/** The account's counter name: a hash, so that usernames (emails) are not kept in the store's keys. */
function accountKey(username: string): string {
  return `login:account:${createHash('sha256').update(normaliseEmail(username)).digest('base64url').slice(0, 22)}`;
}

/**
 * The counter of second-factor codes tried for one employee. Its own, not the password's: a right
 * password resets the password counters, and must not also hand out a fresh set of code guesses.
 */
function secondFactorKey(empNo: number): string {
  return `mfa:employee:${empNo}`;
}

/** The counter of the employee a username resolved to. */
function employeeKey(empNo: number): string {
  return `login:employee:${empNo}`;
}

function clientKey(address: string): string {
  return `login:client:${address}`;
}

/** What one login attempt has counted so far, so that an attempt cut short by an outage can give it back. */
export interface CountedAttempt {
  username: string;
  clientAddress: string;
  /** `admit` counted the spelling and the client. */
  admitted?: boolean;
  /** `admitEmployee` counted this employee. */
  empNo?: number;
}

/** A dependency that did not answer (503), as opposed to an answer about the credential. */
export function isOutage(error: unknown): boolean {
  return error instanceof SessionStoreUnavailableError || error instanceof PasswordCheckUnavailableError || isDatabaseOutage(error);
}

export class LoginThrottle {
  constructor(
    private readonly store: CounterStore,
    private readonly options: ThrottleOptions,
    private readonly onThrottled: () => void = () => {},
  ) {}

  /** Counts an attempt; throws 429 when the account (as spelt) or the client is over its limit. */
  async admit(username: string, clientAddress: string): Promise<void> {
    const { windowSeconds } = this.options;
    const [account, client] = await Promise.all([
      this.store.increment(accountKey(username), windowSeconds),
      this.store.increment(clientKey(clientAddress), windowSeconds),
    ]);
    this.refuseIfOver(
      account.count > this.options.maxFailuresPerAccount ? account.resetInSeconds : 0,
      client.count > this.options.maxFailuresPerClient ? client.resetInSeconds : 0,
    );
  }

  /**
   * Counts the attempt against the employee the username resolved to (after `admit`, before the
   * password is checked); throws 429 when that employee is over the account limit, however the
   * attempts spelt their address.
   */
  async admitEmployee(empNo: number): Promise<void> {
    const employee = await this.store.increment(employeeKey(empNo), this.options.windowSeconds);
    this.refuseIfOver(employee.count > this.options.maxFailuresPerAccount ? employee.resetInSeconds : 0);
  }

  /**
   * Runs one second-factor check (a TOTP or recovery code, a passkey answer) for the employee,
   * counted before it runs, with the same limit and window as passwords; 429 when over it (ASVS
   * 4.0.3 2.2.1: anti-automation for every authenticator, not only the password). A check that
   * passes starts the employee's code counter afresh; one that met an outage (the database or the
   * session store away) proved nothing about the code, so its count is given back, as a login's is.
   */
  async secondFactorAttempt<T>(empNo: number, check: () => Promise<T>): Promise<T> {
    const codes = await this.store.increment(secondFactorKey(empNo), this.options.windowSeconds);
    this.refuseIfOver(codes.count > this.options.maxFailuresPerAccount ? codes.resetInSeconds : 0);
    let result: T;
    try {
      result = await check();
    } catch (error) {
      if (isOutage(error)) await this.store.decrement(secondFactorKey(empNo)).catch(() => undefined);
      throw error;
    }
    await this.store.resetCounter(secondFactorKey(empNo));
    return result;
  }

  private refuseIfOver(...retryAfters: number[]): void {
    const retryAfter = Math.max(...retryAfters);
    if (retryAfter > 0) {
      this.onThrottled();
      throw tooManyAttempts(retryAfter);
    }
  }

  /**
   * Takes back what an attempt counted, when it ended without an answer about the password (the
   * database or session store was away). Counters never go below zero.
   */
  async withdraw(attempt: CountedAttempt): Promise<void> {
    if (!attempt.admitted) return;
    await Promise.all([
      this.store.decrement(accountKey(attempt.username)),
      this.store.decrement(clientKey(attempt.clientAddress)),
      ...(attempt.empNo === undefined ? [] : [this.store.decrement(employeeKey(attempt.empNo))]),
    ]);
  }

  /** A successful login: the account starts afresh and the client gets its attempt back. */
  async succeeded(username: string, clientAddress: string, empNo: number): Promise<void> {
    await Promise.all([
      this.store.resetCounter(accountKey(username)),
      this.store.decrement(clientKey(clientAddress)),
      this.store.resetCounter(employeeKey(empNo)),
    ]);
  }
}
