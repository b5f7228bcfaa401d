/**
 * `employees create`, `password set`, `account disable|enable`: logins, passwords and the
 * disabled flag, through the same service, validation and repository functions as the web forms.
 */
import { createEmployee } from '../employees/employee-service.js';
import { findEmployeeNumberByEmail, isAccountDisabled, normaliseEmail } from '../employees/employee-repository.js';
import { validateNewEmployee } from '../employees/validation.js';
import { isAppError, type FieldError } from '../errors.js';
import type { SessionManager } from '../sessions/session-manager.js';
import { disableLogin, enableLogin, replacePassword, SessionsNotEndedError } from '../identity/account-actions.js';
import { accountRecords } from '../employees/account-records.js';
import { count, describeError, EXIT, findEmployee, operatorContext, required, type AdminIo, type Output } from './io.js';
import { readNewPassword } from './secret-input.js';

/** The options of `employees create`, and the form field each one fills (`validateNewEmployee`'s names). */
export const NEW_EMPLOYEE_OPTIONS = {
  email: 'email',
  'first-name': 'firstName',
  'last-name': 'lastName',
  'birth-date': 'birthDate',
  'hire-date': 'hireDate',
  gender: 'gender',
} as const;

export type NewEmployeeOption = keyof typeof NEW_EMPLOYEE_OPTIONS;
export type NewEmployeeFields = Record<(typeof NEW_EMPLOYEE_OPTIONS)[NewEmployeeOption], string>;

export interface EmployeesCommand {
  kind: 'employees';
  verb: 'create';
  fields: NewEmployeeFields;
}

export interface PasswordCommand {
  kind: 'password';
  verb: 'set';
  email: string;
}

export interface AccountCommand {
  kind: 'account';
  verb: 'disable' | 'enable';
  email: string;
}

/**
 * Creates the employee with `createEmployee` (its validation, number allocation and first scopes).
 * The other fields and the email are checked before the password is asked for, so that nobody
 * types a password twice only to hear that the birth date is wrong. Prints the new number alone.
 */
export async function runEmployeesCommand(command: EmployeesCommand, io: AdminIo): Promise<number> {
  const db = required(io, 'db');
  const { fields } = command;
  const checked = validateNewEmployee(fields);
  const problems = checked.ok ? [] : checked.errors.filter((error) => error.field !== 'password');
  if (problems.length > 0) return refuse(io.stderr, problems);

  const email = normaliseEmail(fields.email.trim());
  const taken = await findEmployeeNumberByEmail(db, email);
  if (taken !== undefined) return refuse(io.stderr, [{ field: 'email', message: `employee ${taken} already has the email ${email}` }]);

  const password = await readNewPassword(required(io, 'secrets'), io.stderr, email);
  if (!password.ok) return password.code;
  try {
    const employee = await createEmployee(db, { ...fields, password: password.password }, operatorContext(io));
    io.stdout.write(`${employee.emp_no}\n`);
    return EXIT.OK;
  } catch (error) {
    // A create that raced this one to the email, or a rule the checks above did not reach.
    if (isAppError(error) && error.errors) return refuse(io.stderr, error.errors);
    throw error;
  }
}

/** Sets a new password and ends every session (and token) of the person, as a password change on the web does. */
export async function runPasswordCommand(command: PasswordCommand, io: AdminIo): Promise<number> {
  const employee = await findEmployee(io, command.email);
  if (!employee) return EXIT.NOT_FOUND;
  const { empNo, email } = employee;
  const sessions = required(io, 'sessions');
  await storeAnswers(sessions, empNo);
  const password = await readNewPassword(required(io, 'secrets'), io.stderr, `${email} (${empNo})`);
  if (!password.ok) return password.code;
  return withSessionsEnded(io, email, async () => {
    const ended = await replacePassword(accountRecords(required(io, 'db')), sessions, empNo, password.password, operatorContext(io));
    io.stdout.write(`Set the password of ${email} (${empNo}). Ended ${count(ended, 'session')} and their tokens.\n`);
  });
}

/** Disabling ends every session of the person; enabling leaves them to log in again. */
export async function runAccountCommand(command: AccountCommand, io: AdminIo): Promise<number> {
  const db = required(io, 'db');
  const employee = await findEmployee(io, command.email);
  if (!employee) return EXIT.NOT_FOUND;
  const { empNo, email } = employee;
  const wasDisabled = await isAccountDisabled(db, empNo);

  if (command.verb === 'enable') {
    await enableLogin(accountRecords(db), empNo, operatorContext(io));
    io.stdout.write(
      wasDisabled ? `Enabled the login of ${email} (${empNo}).\n` : `The login of ${email} (${empNo}) was already enabled.\n`,
    );
    return EXIT.OK;
  }
  const sessions = required(io, 'sessions');
  await storeAnswers(sessions, empNo);
  return withSessionsEnded(io, email, async () => {
    // Ending the sessions again is harmless, and covers a session opened in the moment before an earlier disable.
    const ended = await disableLogin(accountRecords(db), sessions, empNo, operatorContext(io));
    const what = wasDisabled ? `The login of ${email} (${empNo}) was already disabled.` : `Disabled the login of ${email} (${empNo}).`;
    io.stdout.write(`${what} Ended ${count(ended, 'session')} and their tokens.\n`);
  });
}

/**
 * A read of the person's sessions before anything changes, so that a session store that is down
 * stops the command (69) with nothing done, rather than after the database write. An outage
 * between the two steps is still possible, and `withSessionsEnded` reports it.
 */
async function storeAnswers(sessions: SessionManager, empNo: number): Promise<void> {
  await sessions.listForEmployee(empNo);
}

/** Runs `change`; when its database write succeeded but the sessions could not be ended, says so plainly. */
async function withSessionsEnded(io: AdminIo, email: string, change: () => Promise<void>): Promise<number> {
  try {
    await change();
    return EXIT.OK;
  } catch (error) {
    if (!(error instanceof SessionsNotEndedError)) throw error;
    io.stderr.write(
      `admin: ${error.change}, but the sessions could not be ended: ${describeError(error.cause)}. ` +
        `Run \`npm run admin -- sessions end ${email}\` once the session store answers.\n`,
    );
    return EXIT.UNAVAILABLE;
  }
}

/** One line per refused field, named as its command-line option. */
function refuse(stderr: Output, errors: readonly FieldError[]): number {
  const optionOf = (field: string) => {
    const option = Object.entries(NEW_EMPLOYEE_OPTIONS).find(([, name]) => name === field)?.[0];
    return option ? `--${option}` : field;
  };
  stderr.write(errors.map((error) => `admin: ${optionOf(error.field)}: ${error.message}\n`).join(''));
  stderr.write('admin: nothing was created\n');
  return EXIT.INVALID_VALUE;
}
