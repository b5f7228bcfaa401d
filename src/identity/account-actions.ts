/**
 * Two account rules, shared by the app (AuthService) and the admin command line: a new password
 * ends every session and token of the person (ASVS 5.0 7.4.3: whoever knew the old password is
 * out), and so does disabling the login. Who may do either is the caller's check.
 *
 * The account's columns live in the employees table, which only the employees room queries; it
 * hands its writers in as `AccountRecords` (employees/account-records.ts), so this rule stays below
 * both the auth and the employees rooms.
 */
import { hashPassword } from './passwords.js';
import type { SessionManager } from '../sessions/session-manager.js';

/** Where an account's password hash and disabled flag are written; each answers false when there is no such employee. */
export interface AccountRecords {
  updatePasswordHash(empNo: number, passwordHash: string): Promise<boolean>;
  setAccountDisabled(empNo: number, disabled: boolean): Promise<boolean>;
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
): Promise<number> {
  const updated = await accounts.updatePasswordHash(empNo, await hashPassword(password));
  if (!updated) throw new Error(`No employee with number ${empNo}`);
  return endAll(sessions, empNo, 'The password was changed');
}

/**
 * Disables an employee's login and ends every session of theirs; returns how many ended. (Enabling
 * is `accounts.setAccountDisabled(empNo, false)` alone: no session exists to end.)
 */
export async function disableLogin(accounts: AccountRecords, sessions: SessionManager, empNo: number): Promise<number> {
  if (!(await accounts.setAccountDisabled(empNo, true))) throw new Error(`No employee with number ${empNo}`);
  return endAll(sessions, empNo, 'The login was disabled');
}

async function endAll(sessions: SessionManager, empNo: number, change: string): Promise<number> {
  try {
    return await sessions.endAllForEmployee(empNo);
  } catch (error) {
    throw new SessionsNotEndedError(change, error);
  }
}
