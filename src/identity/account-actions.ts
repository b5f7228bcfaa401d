/**
 * Two account rules, shared by the app (AuthService) and the admin command line: a new password
 * ends every session and token of the person (ASVS 5.0 7.4.3: whoever knew the old password is
 * out), and so does disabling the login. Who may do either is the caller's check. Each change is
 * written with its audit event in one transaction; the sessions end after it has committed.
 *
 * The account's columns live in the employees table, which only the employees room queries; it
 * hands its writers in as `AccountRecords` (employees/account-records.ts), so this rule stays below
 * both the auth and the employees rooms.
 */
import { hashPassword } from './passwords.js';
import type { SessionManager } from '../sessions/session-manager.js';
import type { AuditContext, AuditEventInput } from '../audit/events.js';

/**
 * Where an account's password hash and disabled flag are written (each answers false when there is
 * no such employee), and its audit events, all through one database handle.
 */
export interface AccountRecords {
  updatePasswordHash(empNo: number, passwordHash: string): Promise<boolean>;
  setAccountDisabled(empNo: number, disabled: boolean): Promise<boolean>;
  recordEvent(event: AuditEventInput): Promise<void>;
  /** The same writers bound to one transaction: what `work` writes commits together or not at all. */
  inTransaction<T>(work: (records: AccountRecords) => Promise<T>): Promise<T>;
}

export class SessionsNotEndedError extends Error {
  constructor(
    readonly change: string,
    cause: unknown,
  ) {
    super(`${change}, but the sessions could not be ended`, { cause });
    this.name = 'SessionsNotEndedError';
  }
}

/**
 * Stores an already validated password as argon2id, then ends every session of the employee.
 * Returns how many sessions ended. The database is written first, so that a store outage can at
 * worst leave sessions alive with the new password in force (reported as SessionsNotEndedError),
 * never end sessions while the old password still works.
 */
export async function replacePassword(
  accounts: AccountRecords,
  sessions: SessionManager,
  empNo: number,
  password: string,
  context: AuditContext,
): Promise<number> {
  const passwordHash = await hashPassword(password); // before the transaction: argon2 is slow on purpose
  await changeAudited(accounts, empNo, 'password.change', context, (records) => records.updatePasswordHash(empNo, passwordHash));
  return endAll(sessions, empNo, 'The password was changed');
}

/** Disables an employee's login and ends every session of theirs; returns how many ended. */
export async function disableLogin(
  accounts: AccountRecords,
  sessions: SessionManager,
  empNo: number,
  context: AuditContext,
): Promise<number> {
  await changeAudited(accounts, empNo, 'account.disable', context, (records) => records.setAccountDisabled(empNo, true));
  return endAll(sessions, empNo, 'The login was disabled');
}

/** Enables an employee's login again: no session exists to end. */
export async function enableLogin(accounts: AccountRecords, empNo: number, context: AuditContext): Promise<void> {
  await changeAudited(accounts, empNo, 'account.enable', context, (records) => records.setAccountDisabled(empNo, false));
}

/** `write` and its event in one transaction; an unknown employee writes neither. */
async function changeAudited(
  accounts: AccountRecords,
  empNo: number,
  action: 'password.change' | 'account.disable' | 'account.enable',
  context: AuditContext,
  write: (records: AccountRecords) => Promise<boolean>,
): Promise<void> {
  await accounts.inTransaction(async (records) => {
    if (!(await write(records))) throw new Error(`No employee with number ${empNo}`);
    await records.recordEvent({ action, outcome: 'success', ...context, targetEmpNo: empNo });
  });
}

async function endAll(sessions: SessionManager, empNo: number, change: string): Promise<number> {
  try {
    return await sessions.endAllForEmployee(empNo);
  } catch (error) {
    throw new SessionsNotEndedError(change, error);
  }
}
