/**
 * What every admin command shares: the exit statuses and what a command is given to work with.
 *
 * Exit status follows sysexits(3) where it has a word for it, plus two of our own below 64 that a
 * script may want to tell apart.
 */
import { userInfo } from 'node:os';
import type { Kysely } from 'kysely';
import type { AuditContext } from '../audit/events.js';
import type { Config } from '../config.js';
import { isDatabaseOutage } from '../database/errors.js';
import type { Database } from '../database/schema.js';
import { findEmployeeNumberByEmail, normaliseEmail } from '../employees/employee-repository.js';
import type { SessionManager } from '../sessions/session-manager.js';
import { SessionStoreUnavailableError } from '../sessions/store.js';
import type { SecretInput } from './secret-input.js';

export const EXIT = {
  OK: 0,
  /** No employee has that email, or the employee has no live session with that id. */
  NOT_FOUND: 1,
  /** A value the rules refuse: an unknown scope name, an invalid field, a password, two passwords that differ. */
  INVALID_VALUE: 2,
  /** EX_USAGE: the command line itself is wrong (and `--password`, which is refused). */
  USAGE: 64,
  /** EX_UNAVAILABLE: the database or the session store does not answer. */
  UNAVAILABLE: 69,
  /** EX_SOFTWARE: anything else. */
  SOFTWARE: 70,
  /** EX_CONFIG: the configuration (environment, .env) is invalid. */
  CONFIG: 78,
} as const;

export interface Output {
  write(text: string): unknown;
}

/**
 * What a command works with. `npm run admin` opens only what the command needs (so that a Redis
 * outage does not stop a scope change); a test passes its own.
 */
export interface AdminIo {
  stdout: Output;
  stderr: Output;
  /** The employees database: every command but `config`. */
  db?: Kysely<Database>;
  /** A session manager on the store the configuration points at: the commands that list or end sessions. */
  sessions?: SessionManager;
  /** Where a new password comes from: `employees create`, `password set`. */
  secrets?: SecretInput;
  /** The validated configuration: `config`, `audit prune`. */
  config?: Config;
  /** Who runs the command, as the audit trail names them (`operatorContext`); `main` sets it from the process. */
  operator?: AuditContext;
}

/**
 * The operator as the audit trail names them: the account the command runs as, and the person
 * behind `sudo` when there is one (`root (sudo by alice)`), since root names nobody.
 */
export function operatorName(user: string, sudoUser: string | undefined): string {
  return sudoUser && sudoUser !== user ? `${user} (sudo by ${sudoUser})` : user;
}

/** Who runs the command and from where (nowhere on the network: no client), for the audit trail. */
export function operatorContext(io: AdminIo): AuditContext {
  return io.operator ?? { actor: { kind: 'operator', name: operatorName(userInfo().username, undefined) } };
}

/** The resources a command needs, as `npm run admin` opens them. */
export interface Needs {
  db: boolean;
  sessions: boolean;
  secrets: boolean;
  config: boolean;
}

/** `io[name]`, or a programming error naming what the caller forgot to pass. */
export function required<K extends keyof Needs>(io: AdminIo, name: K): NonNullable<AdminIo[K]> {
  const value = io[name];
  if (value === undefined) throw new Error(`runAdmin: this command needs io.${name}`);
  return value;
}

/** Whether an error means a server is away (69) rather than a bug (70); wrapped causes count too. */
export function isUnavailable(error: unknown): boolean {
  return error instanceof SessionStoreUnavailableError || isDatabaseOutage(error);
}

/** The error's own message, and its cause's when it has one (the store's "unavailable" wraps the driver's reason). */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
  return cause && !message.includes(cause) ? `${message} (${cause})` : message;
}

/** "1 session", "2 sessions". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The employee's number and normalised email, or undefined after saying on stderr that nobody has that email. */
export async function findEmployee(io: AdminIo, email: string): Promise<{ empNo: number; email: string } | undefined> {
  const normalised = normaliseEmail(email);
  const empNo = await findEmployeeNumberByEmail(required(io, 'db'), normalised);
  if (empNo === undefined) io.stderr.write(`admin: no employee has the email ${normalised}\n`);
  return empNo === undefined ? undefined : { empNo, email: normalised };
}
