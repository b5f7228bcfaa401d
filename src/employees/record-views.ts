/**
 * What the pages show of an employee, each view in one call, so that a route asks once and
 * shapes the answer. Like the rest of this room, it knows nothing about HTTP.
 */
import { enrolledFactors } from './second-factor-repository.js';
import type { Kysely } from 'kysely';
import type { Database } from '../database/schema.js';
import { notAuthenticated } from '../errors.js';
import { hasScopes, SCOPE_DESCRIPTIONS } from '../identity/scopes.js';
import type { ScopedPerson } from '../identity/management.js';
import { findEmployeeByNumber, isAccountDisabled, type Employee } from './employee-repository.js';
import { getEmployee } from './employee-service.js';
import { getCurrentJob, getHistory, type CurrentJob, type EmployeeHistory } from './history-service.js';
import { getEmployeeScopes } from './scope-service.js';
import { manageRefusal, type ManageRefusal } from './management.js';

export type { Employee } from './employee-repository.js';

/** The employee a session or token belongs to; 401 when the account has gone meanwhile. */
export async function getSignedInEmployee(db: Kysely<Database>, empNo: number): Promise<Employee> {
  const employee = await findEmployeeByNumber(db, empNo);
  if (!employee) throw notAuthenticated('The account behind this session no longer exists');
  return employee;
}

/** "My details": the signed-in employee and their current job. */
export async function getMyDetails(db: Kysely<Database>, empNo: number): Promise<{ employee: Employee; job: CurrentJob | undefined }> {
  const employee = await getSignedInEmployee(db, empNo);
  return { employee, job: await getCurrentJob(db, employee.emp_no) };
}

/** The stored email of an employee, or undefined when there is none with that number. */
export async function findStoredEmail(db: Kysely<Database>, empNo: number): Promise<string | undefined> {
  return (await findEmployeeByNumber(db, empNo))?.email;
}

export interface MaintenanceRecord {
  employee: Employee;
  job: CurrentJob | undefined;
  /** For an administrator only, from here on. */
  history?: EmployeeHistory | undefined;
  scopes?: string[];
  disabled?: boolean | undefined;
  /** Whether the employee has a second factor (an authenticator app). */
  secondFactor?: boolean;
  manageRefusal?: ManageRefusal | undefined;
  editRefusal?: ManageRefusal | undefined;
  scopeDescriptions?: typeof SCOPE_DESCRIPTIONS;
}

/**
 * What the maintenance page shows: the employee (404 when there is none) and their current job;
 * for an administrator also the history, the employee's scopes and login, and what the actor may
 * do to them, asked of the one rule every action on a person follows (`manageRefusal`), so the
 * page offers only what will be allowed.
 */
export async function getMaintenanceRecord(
  db: Kysely<Database>,
  actor: ScopedPerson,
  empNo: number,
  mode: 'admin' | 'own',
): Promise<MaintenanceRecord> {
  const employee = await getEmployee(db, empNo);
  const job = await getCurrentJob(db, empNo);
  if (mode !== 'admin') return { employee, job };
  return {
    employee,
    job,
    history: hasScopes(actor.scopes, ['admin:read']) ? await getHistory(db, empNo) : undefined,
    scopes: await getEmployeeScopes(db, empNo),
    disabled: await isAccountDisabled(db, empNo),
    secondFactor: (await enrolledFactors(db, empNo)).totp,
    // Scopes, login and sessions: never one's own. The record's details: one's own too.
    manageRefusal: await manageRefusal(db, actor, empNo),
    editRefusal: await manageRefusal(db, actor, empNo, { self: 'allowed' }),
    scopeDescriptions: SCOPE_DESCRIPTIONS,
  };
}

/**
 * The page of an employee's sessions: the employee (404 when there is none) and, asked of the
 * may-manage rule, why the actor may not end them, if they may not.
 */
export async function getManagedEmployee(
  db: Kysely<Database>,
  actor: ScopedPerson,
  empNo: number,
): Promise<{ employee: Employee; manageRefusal: ManageRefusal | undefined }> {
  const employee = await getEmployee(db, empNo);
  return { employee, manageRefusal: await manageRefusal(db, actor, empNo) };
}
