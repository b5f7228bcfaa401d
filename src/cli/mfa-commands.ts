/**
 * `mfa reset`: an operator resetting someone's second factor (the phone and the recovery codes are
 * lost, and the person's identity has been checked out of band: ASVS 4.0.3 2.5.7). The same rule as
 * the administrator's button (`resetSecondFactors`): factors removed and the reset audited in one
 * transaction, actor the operator, then every session of the person ended.
 */
import { userInfo } from 'node:os';
import { parseEmpNo } from '../employees/employee-number.js';
import { findEmployeeByNumber } from '../employees/employee-repository.js';
import { resetSecondFactors } from '../employees/second-factors.js';
import { count, EXIT, findEmployee, required, type AdminIo } from './io.js';

export interface MfaCommand {
  kind: 'mfa';
  verb: 'reset';
  /** An employee number (digits) or an email. */
  who: string;
}

/** Who runs the command, as the audit trail names an operator: the operating-system user. */
function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export async function runMfaCommand(command: MfaCommand, io: AdminIo): Promise<number> {
  const db = required(io, 'db');
  const employee = /^\d+$/.test(command.who) ? await byNumber(io, command.who) : await findEmployee(io, command.who);
  if (!employee) return EXIT.NOT_FOUND;
  const done = await resetSecondFactors(db, required(io, 'sessions'), employee.empNo, { kind: 'operator', name: operatorName() });
  const what = done.hadFactor ? 'Removed the second factor' : 'No second factor was set up';
  io.stdout.write(`${what} of ${employee.email} (${employee.empNo}); ended ${count(done.sessionsEnded, 'session')} and their tokens.\n`);
  return EXIT.OK;
}

async function byNumber(io: AdminIo, text: string): Promise<{ empNo: number; email: string } | undefined> {
  const empNo = parseEmpNo(text);
  const found = empNo === undefined ? undefined : await findEmployeeByNumber(required(io, 'db'), empNo);
  if (!found) io.stderr.write(`admin: no employee has the number ${text}\n`);
  return found && { empNo: found.emp_no, email: found.email };
}
