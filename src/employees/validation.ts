/**
 * Validation of the employee maintenance form and of the name search, with the original series'
 * rules and messages (its WTForms forms), minus its bugs: where its message and its check
 * disagreed, they now agree.
 *
 * Input is what a form posts: a plain object whose values are strings (a JSON client may send a
 * number, e.g. for `empNo`, which must then be a whole number). Keys are the form's camelCase
 * names; unknown keys are ignored; a missing key counts as blank; text is trimmed (except the
 * password: see `readPassword`, and the employee number, read by `parseEmpNo` exactly as sent).
 * Anything else (an array, an object) counts as blank too.
 *
 * Each problem is one `FieldError` naming the input's own field, in a fixed order: birthDate,
 * firstName, lastName, gender, hireDate, then email and password (new employees) or empNo
 * (updates), then the hire date against the birth date. That is the original's order (WTForms lists
 * a subclass's fields after its base class's), so the same blank form gives the same list.
 */
import { MAX_PASSWORD_BYTES } from '../identity/passwords.js';
import type { FieldError } from '../errors.js';
import { EMP_NO_MESSAGE, parseEmpNo } from './employee-number.js';
import { normaliseEmail } from './employee-repository.js';

export const EMPLOYEE_MESSAGES = {
  missingEmpNo: 'Missing employee number',
  invalidEmpNo: EMP_NO_MESSAGE,
  emailLength: 'Please enter up to 255 characters',
  email: 'Please enter a valid email address',
  // The original said "between 10 and 32" but checked 1..32; rule and message now agree.
  password: 'Please enter between 10 and 64 characters',
  passwordBytes: 'Please enter at most 72 bytes: each letter outside plain ASCII (é, ß, 日) takes 2 to 4',
  birthDate: 'For birth date, please enter a date in format dd/mm/yyyy. E.g. 25/2/1999',
  firstName: 'For first name, please enter between 1 and 14 characters',
  lastName: 'For last name, please enter between 1 and 16 characters',
  gender: 'Please select a gender',
  hireDate: 'For hire date, please enter a date in format dd/mm/yyyy. E.g. 25/2/2011',
  hireAfterBirth: 'Hire Date must be after Birth Date',
  searchLastName: 'Please enter at most 16 characters of the last name, not counting %. E.g. nas, or Gor%',
  searchFirstName: 'Please enter at most 14 characters of the first name, not counting %. E.g. an, or %An',
} as const;

/** Lengths of the columns (employees migration), in characters. */
const FIRST_NAME_MAX = 14;
const LAST_NAME_MAX = 16;
const EMAIL_MAX = 255;
const PASSWORD_MIN = 10;
const PASSWORD_MAX = 64;
/**
 * bcrypt reads only the first 72 bytes of a password. New hashes are argon2id, which has no such
 * limit, but legacy accounts verify with bcrypt, and keeping every password within what both can
 * use means no two passwords ever collide on a 72-byte prefix.
 */
const PASSWORD_MAX_BYTES = MAX_PASSWORD_BYTES;
/** Years a birth or hire date may have: anything outside is a typing error, not a person. */
const YEAR_MIN = 1900;
const YEAR_MAX = 2100;

export type FormInput = Readonly<Record<string, unknown>>;

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export type Gender = 'M' | 'F';

/** The fields both forms share, validated: dates in ISO `yyyy-mm-dd`. */
export interface EmployeeDetailsInput {
  birthDate: string;
  firstName: string;
  lastName: string;
  gender: Gender;
  hireDate: string;
}

export interface NewEmployeeInput extends EmployeeDetailsInput {
  /** Normalised (`normaliseEmail`): the one spelling stored and looked up. */
  email: string;
  /** As typed, not trimmed. */
  password: string;
}

export interface EmployeeUpdateInput extends EmployeeDetailsInput {
  empNo: number;
}

export interface NameSearchInput {
  /** LIKE patterns with `%` wildcards, trimmed (`validateSearch`). */
  lastName: string;
  firstName: string;
}

/** A new employee: the shared fields, email and password. */
export function validateNewEmployee(input: FormInput): Validation<NewEmployeeInput> {
  const errors: FieldError[] = [];
  const details = readDetails(input, errors);
  const email = readEmail(input, errors);
  const password = readPassword(input, errors);
  checkHireAfterBirth(details, errors);
  if (errors.length > 0 || !isComplete(details) || email === undefined || password === undefined) {
    return { ok: false, errors };
  }
  return { ok: true, value: { ...details, email, password } };
}

/** An update: the shared fields and the employee number. Email and password are not read at all. */
export function validateEmployeeUpdate(input: FormInput): Validation<EmployeeUpdateInput> {
  const errors: FieldError[] = [];
  const details = readDetails(input, errors);
  const empNo = readEmpNo(input, errors);
  checkHireAfterBirth(details, errors);
  if (errors.length > 0 || !isComplete(details) || empNo === undefined) return { ok: false, errors };
  return { ok: true, value: { ...details, empNo } };
}

/** The `empNo` field alone (blank: "Missing employee number"). */
export function validateEmpNo(input: FormInput): Validation<number> {
  const errors: FieldError[] = [];
  const empNo = readEmpNo(input, errors);
  return empNo === undefined ? { ok: false, errors } : { ok: true, value: empNo };
}

/**
 * The search by partial names, as people type them, into the patterns to search with:
 * - a name with `%` is the original's pattern, used as it is (`%nas%`, `Gor%`);
 * - a plain name finds names containing it (`nas` → `%nas%`; the original refused it);
 * - a blank name matches any name (`%`).
 * Each may hold up to 16 (last) and 14 (first) characters besides `%`: no longer a name could match.
 */
export function validateSearch(input: { lastName?: unknown; firstName?: unknown }): Validation<NameSearchInput> {
  const errors: FieldError[] = [];
  const lastName = text(input.lastName);
  const firstName = text(input.firstName);
  if (!isPartialName(lastName, LAST_NAME_MAX)) errors.push({ field: 'lastName', message: EMPLOYEE_MESSAGES.searchLastName });
  if (!isPartialName(firstName, FIRST_NAME_MAX)) errors.push({ field: 'firstName', message: EMPLOYEE_MESSAGES.searchFirstName });
  return errors.length > 0
    ? { ok: false, errors }
    : { ok: true, value: { lastName: namePattern(lastName), firstName: namePattern(firstName) } };
}

/** What a person typed as a search pattern: see `validateSearch`. */
export function namePattern(typed: string): string {
  if (typed === '') return '%';
  return typed.includes('%') ? typed : `%${typed}%`;
}

/**
 * A date as `d/m/yyyy` (the original's form, leading zeros optional) or ISO `yyyy-mm-dd`, as ISO;
 * undefined unless it is a real calendar date (no 30 February) in the years 1900..2100.
 */
export function parseFormDate(value: string): string | undefined {
  const parts = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value) ?? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!parts) return undefined;
  const [day, month, year] = value.includes('/')
    ? [Number(parts[1]), Number(parts[2]), Number(parts[3])]
    : [Number(parts[3]), Number(parts[2]), Number(parts[1])];
  if (year < YEAR_MIN || year > YEAR_MAX || month < 1 || month > 12) return undefined;
  // Day 0 of the next month is the last day of this one.
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  return `${year}-${pad2(month)}-${pad2(day)}`;
}

/**
 * The addresses accepted: a dot-atom local part (RFC 5322 `atext` characters, dots only between
 * them, at most 64 characters per RFC 5321) and a domain of at least two DNS labels whose last one
 * starts with a letter (so no bare host names and no IP addresses). Quoted local parts, IP literals
 * and non-ASCII (internationalised) addresses are refused: no mail system this app talks to needs
 * them. The same shape as the WHATWG `input type=email` rule, made stricter where the original's
 * email-validator was (`.10153@gmail.com` and `a@b` are refused).
 * An apostrophe is valid (`o'neil@example.com`): queries bind values, so it is harmless.
 */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const DNS_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const TOP_LABEL = '[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const EMAIL_PATTERN = new RegExp(`^(?=[^@]{1,64}@)${ATEXT}+(?:\\.${ATEXT}+)*@(?:${DNS_LABEL}\\.)+${TOP_LABEL}$`);

export function isValidEmail(email: string): boolean {
  return isLengthBetween(email, 1, EMAIL_MAX) && EMAIL_PATTERN.test(email);
}

function readDetails(input: FormInput, errors: FieldError[]): Partial<EmployeeDetailsInput> {
  const birthDate = parseFormDate(text(input.birthDate));
  if (birthDate === undefined) errors.push({ field: 'birthDate', message: EMPLOYEE_MESSAGES.birthDate });

  const firstName = text(input.firstName);
  const firstNameOk = isLengthBetween(firstName, 1, FIRST_NAME_MAX);
  if (!firstNameOk) errors.push({ field: 'firstName', message: EMPLOYEE_MESSAGES.firstName });

  const lastName = text(input.lastName);
  const lastNameOk = isLengthBetween(lastName, 1, LAST_NAME_MAX);
  if (!lastNameOk) errors.push({ field: 'lastName', message: EMPLOYEE_MESSAGES.lastName });

  const genderText = text(input.gender);
  const gender = genderText === 'M' || genderText === 'F' ? genderText : undefined;
  if (gender === undefined) errors.push({ field: 'gender', message: EMPLOYEE_MESSAGES.gender });

  const hireDate = parseFormDate(text(input.hireDate));
  if (hireDate === undefined) errors.push({ field: 'hireDate', message: EMPLOYEE_MESSAGES.hireDate });

  return {
    birthDate,
    firstName: firstNameOk ? firstName : undefined,
    lastName: lastNameOk ? lastName : undefined,
    gender,
    hireDate,
  };
}

function isComplete(details: Partial<EmployeeDetailsInput>): details is EmployeeDetailsInput {
  const { birthDate, firstName, lastName, gender, hireDate } = details;
  return birthDate !== undefined && firstName !== undefined && lastName !== undefined && gender !== undefined && hireDate !== undefined;
}

/** Checked whenever both dates are valid, so the form reports it along with any other problem. */
function checkHireAfterBirth(details: Partial<EmployeeDetailsInput>, errors: FieldError[]): void {
  const { birthDate, hireDate } = details;
  // ISO dates compare correctly as text.
  if (birthDate !== undefined && hireDate !== undefined && hireDate <= birthDate) {
    errors.push({ field: 'hireDate', message: EMPLOYEE_MESSAGES.hireAfterBirth });
  }
}

/** Like the original, a blank email gets both messages (too short, and not an address). */
function readEmail(input: FormInput, errors: FieldError[]): string | undefined {
  const email = normaliseEmail(text(input.email));
  const lengthOk = isLengthBetween(email, 1, EMAIL_MAX);
  if (!lengthOk) errors.push({ field: 'email', message: EMPLOYEE_MESSAGES.emailLength });
  // An over-long value is not also run through the pattern: one message says what is wrong.
  const formatOk = lengthOk && EMAIL_PATTERN.test(email);
  if (email === '' || (lengthOk && !formatOk)) errors.push({ field: 'email', message: EMPLOYEE_MESSAGES.email });
  return formatOk ? email : undefined;
}

/**
 * Not trimmed: spaces are part of a password (NIST SP 800-63B §5.1.1.2 asks verifiers to accept
 * them), and trimming here but not at login would lock out whoever chose one at either end.
 * Lengths count Unicode code points, as NIST counts characters.
 */
function readPassword(input: FormInput, errors: FieldError[], field = 'password'): string | undefined {
  const password = typeof input[field] === 'string' ? input[field] : '';
  if (!isLengthBetween(password, PASSWORD_MIN, PASSWORD_MAX)) {
    errors.push({ field, message: EMPLOYEE_MESSAGES.password });
    return undefined;
  }
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) {
    errors.push({ field, message: EMPLOYEE_MESSAGES.passwordBytes });
    return undefined;
  }
  return password;
}

/** A new password on its own (a password change), under the same rules as a new employee's. */
export function validateNewPassword(password: unknown, field: string): Validation<string> {
  const errors: FieldError[] = [];
  const value = readPassword({ [field]: password }, errors, field);
  return value === undefined ? { ok: false, errors } : { ok: true, value };
}

function readEmpNo(input: FormInput, errors: FieldError[]): number | undefined {
  if (text(input.empNo) === '') {
    errors.push({ field: 'empNo', message: EMPLOYEE_MESSAGES.missingEmpNo });
    return undefined;
  }
  // Untrimmed, unlike the other fields: the one strict reading (employee-number.ts) decides whom it names.
  const empNo = parseEmpNo(input.empNo);
  if (empNo === undefined) errors.push({ field: 'empNo', message: EMPLOYEE_MESSAGES.invalidEmpNo });
  return empNo;
}

function isPartialName(value: string, max: number): boolean {
  return isLengthBetween(value.replaceAll('%', ''), 0, max);
}

/** Trimmed text of a form value; a finite number as its decimal text; anything else as blank. */
function text(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '';
}

/** Length in characters (code points), as the database's VARCHAR(n) counts them, not UTF-16 units. */
function isLengthBetween(value: string, min: number, max: number): boolean {
  let length = 0;
  for (const _ of value) if (++length > max) return false;
  return length >= min;
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}
