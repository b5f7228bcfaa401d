/**
 * The employees room's business rules: search, read, update, one's own update, and new employees.
 * Functions take the database first and throw the typed errors of `errors.ts` (422 with one entry
 * per field, 404, 403); they know nothing about HTTP. No function here returns or logs a password
 * hash: every result is an `Employee`.
 */
import type { Kysely } from 'kysely';
import { hashPassword } from '../identity/passwords.js';
import { escapeLikeLiteral, isTransactionConflict, isUniqueViolation } from '../database/dialects.js';
import type { Database } from '../database/schema.js';
import { inTransaction } from '../database/transaction.js';
import { forbidden, notFound, validationFailed, type FieldError } from '../errors.js';
import {
  findEmployeeByNumber,
  findEmployeeNumberByEmail,
  findEmployeesByNamePatterns,
  findHighestEmployeeNumber,
  insertEmployees,
  MAX_EMP_NO,
  updateEmployeeDetails,
  type Employee,
  type EmployeeDetails,
} from './employee-repository.js';
import { grantScopes } from './scope-repository.js';
import type { ScopeName } from '../identity/scopes.js';
import {
  validateEmployeeUpdate,
  validateEmpNo,
  validateNewEmployee,
  validateSearch,
  type EmployeeDetailsInput,
  type EmployeeUpdateInput,
  type FormInput,
} from './validation.js';
import { assertMayManage } from './management.js';
import type { ScopedPerson } from '../identity/management.js';
import { recordAuditEvent, type AuditContext } from '../audit/events.js';

export const DEFAULT_PAGE_SIZE = 50;
/** The most rows one search returns: the original returned all matches, 300,000 for `%`/`%`, in one answer. */
export const MAX_PAGE_SIZE = 100;
/** 100 million rows in at the largest page size: far past the sample database's 300,000. */
export const MAX_PAGE = 1_000_000;

export const DUPLICATE_EMAIL_MESSAGE = "Can't accept this email. Please specify another";

/** What a new employee may do: read their own record, as everyone the original did not list could (its `'*'` entry). */
export const NEW_EMPLOYEE_SCOPES: readonly ScopeName[] = ['user:read'];

/** The number given to the first employee of an empty table: the sample database's first. */
const FIRST_EMP_NO = 10001;
/**
 * Tries at allocating a new employee number before giving up. Concurrent creates that read the
 * same highest number collide on the primary key and try again with the next one; with the
 * password hashing spreading them out, and a random pause between tries, ten at once settle in a
 * few rounds.
 */
const CREATE_ATTEMPTS = 8;
const RETRY_PAUSE_MAX_MS = 25;

export interface SearchRequest {
  lastName?: string;
  firstName?: string;
  page?: number;
  size?: number;
}

export interface SearchResult {
  items: Employee[];
  page: number;
  size: number;
  /** Whether the next page has at least one employee. */
  hasMore: boolean;
}

/**
 * Employees whose last and first names match the partial names, ignoring case on every engine, a
 * page at a time in employee-number order. `%` is the only wildcard: `_` and everything else match
 * themselves (the original let `_` match any character, since it passed the names to LIKE as typed).
 */
export async function searchEmployees(db: Kysely<Database>, request: SearchRequest): Promise<SearchResult> {
  const { page = 1, size = DEFAULT_PAGE_SIZE } = request;
  const names = validateSearch(request);
  const errors: FieldError[] = names.ok ? [] : [...names.errors];
  if (!isWholeNumberBetween(page, 1, MAX_PAGE))
    errors.push({ field: 'page', message: `Page must be a whole number from 1 to ${MAX_PAGE}` });
  // Refused, not clamped: a client asking for more than it gets would take a short page for the last one.
  if (!isWholeNumberBetween(size, 1, MAX_PAGE_SIZE))
    errors.push({ field: 'size', message: `Size must be a whole number from 1 to ${MAX_PAGE_SIZE}` });
  if (!names.ok || errors.length > 0) throw validationFailed(errors);

  // One row past the page says whether there is a next one, without a COUNT over the table.
  const rows = await findEmployeesByNamePatterns(db, {
    lastName: wildcardPattern(names.value.lastName),
    firstName: wildcardPattern(names.value.firstName),
    limit: size + 1,
    offset: (page - 1) * size,
  });
  return { items: rows.slice(0, size), page, size, hasMore: rows.length > size };
}

/** The employee, or 404. */
export async function getEmployee(db: Kysely<Database>, empNo: number): Promise<Employee> {
  const employee = await findEmployeeByNumber(db, empNo);
  if (!employee) throw noSuchEmployee(empNo);
  return employee;
}

/**
 * An administrator updating an employee's details from the maintenance form; returns the updated
 * employee. Email and password are ignored, as in the original: they cannot be changed here. An
 * unknown number is a 404 (the original reported success, having updated nothing).
 *
 * The number is read and the actor's right to act on that person checked (`assertMayManage`: only
 * someone whose every scope the actor holds; their own record too, as `user:write` allows) before
 * the other fields are judged, so a 422 about the fields only ever follows an allowed target.
 */
export async function updateEmployee(
  db: Kysely<Database>,
  actor: ScopedPerson,
  input: FormInput,
  context: AuditContext,
): Promise<Employee> {
  const empNo = validateEmpNo(input);
  const result = validateEmployeeUpdate(input);
  if (!empNo.ok) throw validationFailed(result.ok ? empNo.errors : result.errors);
  return inTransaction(db, async (trx) => {
    await assertMayManage(trx, actor, empNo.value, { self: 'allowed' });
    if (!result.ok) throw validationFailed(result.errors);
    return writeDetails(trx, result.value, context);
  });
}

/**
 * An employee saving their own record: only their own number, checked before anything is
 * written (the original wrote first and checked afterwards, so a refused save had already happened), and only as an update, never
 * an insert.
 */
export async function saveOwnRecord(db: Kysely<Database>, actorEmpNo: number, input: FormInput, context: AuditContext): Promise<Employee> {
  const empNo = validateEmpNo(input);
  if (!empNo.ok) throw validationFailed(empNo.errors);
  if (empNo.value !== actorEmpNo) throw forbidden();
  const result = validateEmployeeUpdate(input);
  if (!result.ok) throw validationFailed(result.errors);
  return inTransaction(db, (trx) => writeDetails(trx, result.value, context));
}

/** The update and its event (the fields that changed, before and after) in the caller's transaction. */
async function writeDetails(trx: Kysely<Database>, update: EmployeeUpdateInput, context: AuditContext): Promise<Employee> {
  const before = await findEmployeeByNumber(trx, update.empNo);
  if (!before || !(await updateEmployeeDetails(trx, update.empNo, detailsRow(update)))) throw noSuchEmployee(update.empNo);
  const after = await getEmployee(trx, update.empNo);
  await recordAuditEvent(trx, {
    action: 'employee.update',
    outcome: 'success',
    ...context,
    targetEmpNo: after.emp_no,
    detail: changes(before, after),
  });
  return after;
}

/** The fields whose values differ, as they were and as they are: an `Employee` has no password or hash to leak. */
function changes(before: Employee, after: Employee): { before: Partial<Employee>; after: Partial<Employee> } {
  const changed = (Object.keys(after) as Array<keyof Employee>).filter((field) => before[field] !== after[field]);
  return {
    before: Object.fromEntries(changed.map((field) => [field, before[field]])),
    after: Object.fromEntries(changed.map((field) => [field, after[field]])),
  };
}

/**
 * Adds an employee from the maintenance form: a new number, the password hashed, and the scopes
 * of a new employee (`user:read`), and its audit event, all in one transaction. Returns the new employee.
 *
 * `db` must not be a transaction: each try at a number needs a transaction of its own.
 */
export async function createEmployee(db: Kysely<Database>, input: FormInput, context: AuditContext): Promise<Employee> {
  const result = validateNewEmployee(input);
  if (!result.ok) throw validationFailed(result.errors);
  const { email, password } = result.value;

  // Checked first, so that a taken email costs no password hash; the unique constraint still
  // decides when two creates race (below).
  if ((await findEmployeeNumberByEmail(db, email)) !== undefined) throw duplicateEmail();
  // Hashed outside the transaction: argon2 is slow on purpose, and locks should not wait for it.
  const passwordHash = await hashPassword(password);

  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(async (trx) => {
        const empNo = nextEmployeeNumber(await findHighestEmployeeNumber(trx));
        await insertEmployees(trx, [{ emp_no: empNo, ...detailsRow(result.value), email, password: passwordHash }]);
        await grantScopes(trx, empNo, NEW_EMPLOYEE_SCOPES);
        const employee = await getEmployee(trx, empNo);
        const detail = { after: { ...employee, scopes: [...NEW_EMPLOYEE_SCOPES] } };
        await recordAuditEvent(trx, { action: 'employee.create', outcome: 'success', ...context, targetEmpNo: empNo, detail });
        return employee;
      });
    } catch (error) {
      if (!isUniqueViolation(error) && !isTransactionConflict(error)) throw error;
      // The email went to a create that committed first, or the number did: only the first is final.
      if ((await findEmployeeNumberByEmail(db, email)) !== undefined) throw duplicateEmail();
      if (attempt === CREATE_ATTEMPTS) {
        throw new Error(`No free employee number after ${CREATE_ATTEMPTS} attempts`, { cause: error });
      }
      await pause(Math.random() * RETRY_PAUSE_MAX_MS * attempt);
    }
  }
}

function nextEmployeeNumber(highest: number | undefined): number {
  const next = highest === undefined ? FIRST_EMP_NO : highest + 1;
  if (next > MAX_EMP_NO) throw new Error(`Employee numbers are exhausted: ${highest} is the largest an INTEGER column holds`);
  return next;
}

/** The partial name as a LIKE pattern in which `%` alone is a wildcard. */
function wildcardPattern(partialName: string): string {
  return partialName.split('%').map(escapeLikeLiteral).join('%');
}

function detailsRow(details: EmployeeDetailsInput): EmployeeDetails {
  return {
    birth_date: details.birthDate,
    first_name: details.firstName,
    last_name: details.lastName,
    gender: details.gender,
    hire_date: details.hireDate,
  };
}

function noSuchEmployee(empNo: number) {
  return notFound(`No employee with number ${empNo}`);
}

function duplicateEmail() {
  return validationFailed([{ field: 'email', message: DUPLICATE_EMAIL_MESSAGE }]);
}

function isWholeNumberBetween(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
