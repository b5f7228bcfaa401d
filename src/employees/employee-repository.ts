/**
 * Every query on the `employees` table. Each function takes the database (or a transaction) first,
 * so a caller can compose several in one transaction. All values travel as bound parameters.
 *
 * Password hashes leave this file only through `findEmployeeByEmail`, `findLoginState` and
 * `findPasswordHash`, which exist for checking a password; everything else returns an `Employee`, which has no `password` key at all.
 */
import { sql, type Kysely } from 'kysely';
import { caseInsensitiveLike, dialectOf } from '../database/dialects.js';
import { sqliteReadsOf } from '../database/sqlite-reads.js';
import { addEmployeeNames, hasNameIndex } from '../database/name-index.js';
import type { Database, EmployeeRow, EmployeesTable, NewEmployeeRow } from '../database/schema.js';

/** An employee as the rest of the app may see it: no password hash, no account status. */
export type Employee = Omit<EmployeeRow, 'password' | 'disabled'>;

/** The columns of `Employee`, selected by name so that the hash is never fetched by accident. */
export const PUBLIC_EMPLOYEE_COLUMNS = [
  'emp_no',
  'birth_date',
  'first_name',
  'last_name',
  'gender',
  'hire_date',
  'email',
] as const satisfies readonly (keyof Employee)[];

// Compile-time guard: a column added to EmployeesTable must be added above (or be private, like password).
type MissingPublicColumn = Exclude<keyof Employee, (typeof PUBLIC_EMPLOYEE_COLUMNS)[number]>;
const everyPublicColumnListed: [MissingPublicColumn] extends [never] ? true : MissingPublicColumn = true;
void everyPublicColumnListed;

/**
 * emp_no is a 32-bit INTEGER on MySQL and PostgreSQL. A number outside it (or not an integer)
 * cannot name an employee, and PostgreSQL would throw "out of range" rather than find nothing, so
 * such numbers are answered without a query, the same on every engine.
 */
export const MAX_EMP_NO = 2_147_483_647;
export function isPossibleEmpNo(empNo: number): boolean {
  return Number.isSafeInteger(empNo) && empNo >= 1 && empNo <= MAX_EMP_NO;
}

/**
 * The one spelling of an email that is stored and looked up: trimmed, Unicode NFKC (fullwidth
 * `ｋ`, the Kelvin sign `\u212A` and other compatibility forms become the letters they stand for),
 * then lower case. Every insert and every lookup goes through it, and every engine then compares
 * the column exactly (binary collation on MySQL/MariaDB, migration 2026_12_02_0001), so an email
 * names the same person, or nobody, on SQLite, PostgreSQL and MariaDB alike, and a spelling such
 * as `kyòichi` is another (unknown) address rather than an accent-insensitive match.
 */
export function normaliseEmail(email: string): string {
  // NFKC again after lower-casing, which can leave a string that is not in NFKC (and trimming
  // last, since NFKC turns e.g. the ideographic space into a plain one): normalising a stored email
  // again must give it back unchanged.
  return email.normalize('NFKC').toLowerCase().normalize('NFKC').trim();
}

/** The full row, password hash included: for verifying a login, and nothing else. By normalised email. */
export async function findEmployeeByEmail(db: Kysely<Database>, email: string): Promise<EmployeeRow | undefined> {
  // No stored email holds a NUL, and PostgreSQL refuses one in a parameter (22021): nobody, not 500.
  if (email.includes('\0')) return undefined;
  return db.selectFrom('employees').selectAll().where('email', '=', normaliseEmail(email)).executeTakeFirst();
}

/** The number of the employee with this (normalised) email, without fetching anything else. */
export async function findEmployeeNumberByEmail(db: Kysely<Database>, email: string): Promise<number | undefined> {
  if (email.includes('\0')) return undefined;
  const row = await db.selectFrom('employees').select('emp_no').where('email', '=', normaliseEmail(email)).executeTakeFirst();
  return row?.emp_no;
}

const employeeByNumber = (db: Kysely<Database>, empNo: number) =>
  db.selectFrom('employees').select(PUBLIC_EMPLOYEE_COLUMNS).where('emp_no', '=', empNo);
/** Its SQL on SQLite, compiled once (the statement is prepared once too: sqlite-reads.ts). */
let employeeByNumberSql: string | undefined;

/** Every `/admin/me` reads this, so on SQLite it takes the prepared statement of sqlite-reads.ts. */
export async function findEmployeeByNumber(db: Kysely<Database>, empNo: number): Promise<Employee | undefined> {
  if (!isPossibleEmpNo(empNo)) return undefined;
  const reads = sqliteReadsOf(db);
  if (reads) {
    employeeByNumberSql ??= employeeByNumber(db, 0).compile().sql;
    return reads.one<Employee>(employeeByNumberSql, [empNo]);
  }
  return employeeByNumber(db, empNo).executeTakeFirst();
}

/** Replaces the stored hash (e.g. a rehash after login); false when there is no such employee. */
export async function updatePasswordHash(db: Kysely<Database>, empNo: number, passwordHash: EmployeesTable['password']): Promise<boolean> {
  if (!isPossibleEmpNo(empNo)) return false;
  const result = await db.updateTable('employees').set({ password: passwordHash }).where('emp_no', '=', empNo).executeTakeFirst();
  // Rows matched, not rows changed: mysql2 reports matched rows (its FOUND_ROWS default), like
  // pg and SQLite, so an unchanged hash still counts as found.
  return result.numUpdatedRows > 0n;
}

/** How many password hashes are legacy bcrypt ones (`$2a$`, `$2b$`, `$2x$`, `$2y$`). */
export async function countLegacyPasswordHashes(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('employees')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('count'))
    .where('password', 'like', '$2%')
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Rows per INSERT statement: 8 bound values each stays far below every engine's parameter limit
 * (SQLite's is 32766, PostgreSQL's 65535).
 */
const INSERT_BATCH_SIZE = 500;

/**
 * Inserts the rows (emails normalised) in statements of up to INSERT_BATCH_SIZE rows. Not a
 * transaction by itself: pass a transaction for all-or-nothing. Throws on a duplicate emp_no or
 * email (see `isUniqueViolation`).
 */
export async function insertEmployees(db: Kysely<Database>, rows: readonly NewEmployeeRow[]): Promise<number> {
  let inserted = 0;
  for (let start = 0; start < rows.length; start += INSERT_BATCH_SIZE) {
    const batch = rows.slice(start, start + INSERT_BATCH_SIZE).map((row) => ({ ...row, email: normaliseEmail(row.email) }));
    // Names first: at no moment may an employee's name be missing from the search's name index.
    await addEmployeeNames(db, batch);
    await db.insertInto('employees').values(batch).execute();
    inserted += batch.length;
  }
  return inserted;
}

/** What an update may change. Email and password are not among them. */
export type EmployeeDetails = Pick<EmployeesTable, 'birth_date' | 'first_name' | 'last_name' | 'gender' | 'hire_date'>;

/** Writes the details; false when there is no such employee (rows matched, as in `updatePasswordHash`). */
export async function updateEmployeeDetails(db: Kysely<Database>, empNo: number, details: EmployeeDetails): Promise<boolean> {
  if (!isPossibleEmpNo(empNo)) return false;
  const { birth_date, first_name, last_name, gender, hire_date } = details;
  await addEmployeeNames(db, [{ last_name, first_name }]);
  const result = await db
    .updateTable('employees')
    .set({ birth_date, first_name, last_name, gender, hire_date })
    .where('emp_no', '=', empNo)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The highest employee number in use; undefined for an empty table. */
export async function findHighestEmployeeNumber(db: Kysely<Database>): Promise<number | undefined> {
  const row = await db
    .selectFrom('employees')
    .select((eb) => eb.fn.max('emp_no').as('highest'))
    .executeTakeFirst();
  // MAX over no rows is NULL; some drivers hand back numeric aggregates as text.
  return row?.highest === null || row?.highest === undefined ? undefined : Number(row.highest);
}

export interface NamePatternSearch {
  /** LIKE patterns with `!` as the escape character (`escapeLikeLiteral`). */
  lastName: string;
  firstName: string;
  limit: number;
  offset: number;
}

/**
 * Employees whose last and first names match the patterns, ignoring case on every engine
 * (`caseInsensitiveLike`), in employee-number order.
 *
 * Indexes (migration 2026_12_01_0002): PostgreSQL answers any pattern from trigram (pg_trgm) indexes;
 * SQLite's NOCASE (last_name, first_name, emp_no) index serves a literal prefix (`Gor%`); MySQL/MariaDB
 * use the (last_name, first_name) index for a prefix too. A pattern that starts with `%` scans the
 * table on SQLite and MySQL, stopping early once a page of matches is found in emp_no order, unless
 * it is rare: then it goes through the names table (`narrowByNames`, name-index.ts). The full-size
 * timings are in docs/PERFORMANCE.md.
 */
export async function findEmployeesByNamePatterns(db: Kysely<Database>, search: NamePatternSearch): Promise<Employee[]> {
  // No stored name holds a NUL, and PostgreSQL refuses one in a parameter (22021).
  if (search.lastName.includes('\0') || search.firstName.includes('\0')) return [];
  const dialect = dialectOf(db);
  const narrowing = hasNameIndex(dialect) ? await narrowByNames(db, dialect, search) : [];
  if (narrowing === 'nobody') return [];
  let query = db
    .selectFrom('employees')
    .select(PUBLIC_EMPLOYEE_COLUMNS)
    .where(caseInsensitiveLike(dialect, 'last_name', search.lastName))
    .where(caseInsensitiveLike(dialect, 'first_name', search.firstName))
    .orderBy('emp_no')
    .limit(search.limit)
    .offset(search.offset);
  if (dialect === 'mysql' && narrowing.length > 0) {
    // The names themselves, not a subquery: MySQL/MariaDB then counts each list's rows in the name
    // indexes and goes through the rarer one. Given two subqueries it could not tell them apart
    // (a LIKE with a leading % has no estimate) and chose by the indexes' sampled statistics: after
    // one fresh load `%nas%` / `%an` went through the 16 first names' 10,000 rows, 24 ms, rather than
    // the last name's 56 rows, 1.2 ms (docs/PERFORMANCE.md, item 23).
    const names = await matchingNames(db, narrowing);
    for (const { column, kind } of narrowing) {
      const list = names.filter((row) => row.kind === kind).map((row) => row.name);
      // No name matches any more (removed since it was counted): nobody does.
      if (list.length === 0) return [];
      query = query.where(column, 'in', list);
    }
  }
  if (dialect === 'sqlite') {
    for (const { column, kind, pattern } of narrowing) {
      // NOCASE: the names compare as SQLite's LIKE does, and the NOCASE name indexes serve the IN.
      query = query.where(sql<string>`${sql.ref(column)} collate nocase`, 'in', (names) =>
        names
          .selectFrom('employee_names')
          .select('name')
          .where('kind', '=', kind)
          .where(caseInsensitiveLike(dialect, 'name', pattern)),
      );
    }
  }
  // On SQLite a scan runs on a search thread, not on the event loop (sqlite-reads.ts).
  const reads = sqliteReadsOf(db);
  return reads ? reads.all<Employee>(query.compile()) : query.execute();
}

/**
 * Rewrites the hash only if it is still `expected` (a legacy hash upgraded after a login): a password
 * changed since the login read it is never overwritten with the old one. False when it was not written.
 */
export async function upgradePasswordHash(db: Kysely<Database>, empNo: number, expected: string, passwordHash: string): Promise<boolean> {
  if (!isPossibleEmpNo(empNo)) return false;
  const result = await db
    .updateTable('employees')
    .set({ password: passwordHash })
    .where('emp_no', '=', empNo)
    .where('password', '=', expected)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The password hash and whether the login is disabled, read afresh: a login's second look at the account. */
export async function findLoginState(db: Kysely<Database>, empNo: number): Promise<{ password: string; disabled: boolean } | undefined> {
  if (!isPossibleEmpNo(empNo)) return undefined;
  const row = await db.selectFrom('employees').select(['password', 'disabled']).where('emp_no', '=', empNo).executeTakeFirst();
  return row && { password: row.password, disabled: Number(row.disabled) === 1 };
}

interface NameNarrowing {
  column: 'last_name' | 'first_name';
  kind: 'l' | 'f';
  pattern: string;
}

/** The distinct names of each narrowing field's kind that match its pattern, in one query. */
async function matchingNames(db: Kysely<Database>, narrowing: readonly NameNarrowing[]): Promise<Array<{ kind: string; name: string }>> {
  return db
    .selectFrom('employee_names')
    .select(['kind', 'name'])
    .where((eb) =>
      eb.or(narrowing.map(({ kind, pattern }) => eb.and([eb('kind', '=', kind), caseInsensitiveLike('mysql', 'name', pattern)]))),
    )
    .execute();
}

/**
 * A plain scan in emp_no order stops at the first page of matches: cheap for a common pattern,
 * 30 to 130 ms for a rare one, which must read the whole table. Past this many rows expected to be
 * read, the search goes through the names instead.
 */
const SCAN_ROWS_BUDGET = 20_000;
/** A field whose pattern matches at least this share of its names would narrow little. */
const NARROWING_SHARE = 0.5;

/**
 * MySQL and SQLite: how to narrow a search by `employee_names` (name-index.ts), from one look-up of how many of
 * the distinct names each pattern matches. 'nobody' when a pattern matches no name at all; no
 * narrowing when the plain scan should find its page soon (the share of employees matching,
 * estimated from the names, is high enough); otherwise the fields to narrow by, as `IN (names)`.
 */
async function narrowByNames(
  db: Kysely<Database>,
  dialect: 'mysql' | 'sqlite',
  search: NamePatternSearch,
): Promise<NameNarrowing[] | 'nobody'> {
  const fields: NameNarrowing[] = [
    { column: 'last_name' as const, kind: 'l' as const, pattern: search.lastName },
    { column: 'first_name' as const, kind: 'f' as const, pattern: search.firstName },
  ].filter(({ pattern }) => !/^%*$/.test(pattern));
  if (fields.length === 0) return [];
  const counts = db
    .selectFrom('employee_names')
    .select((eb) => ['kind', eb.fn.countAll<number | string>().as('total')])
    .select(
      sql<
        number | string
      >`sum(case when kind = 'l' then ${caseInsensitiveLike(dialect, 'name', search.lastName)} else ${caseInsensitiveLike(dialect, 'name', search.firstName)} end)`.as(
        'matched',
      ),
    )
    .groupBy('kind');
  // On SQLite through the side connections too: the search never waits for Kysely's one connection.
  const reads = sqliteReadsOf(db);
  const rows = reads ? await reads.all<{ kind: string; total: number; matched: number }>(counts.compile()) : await counts.execute();
  const shares = fields.map((field) => {
    const row = rows.find((each) => each.kind === field.kind);
    return row ? Number(row.matched) / Number(row.total) : 0;
  });
  if (shares.some((share) => share === 0)) return 'nobody';
  const share = shares.reduce((product, each) => product * each, 1);
  if ((search.offset + search.limit) / share <= SCAN_ROWS_BUDGET) return [];
  const narrowing = fields.filter((_, index) => shares[index]! < NARROWING_SHARE);
  return narrowing.length > 0 ? narrowing : [fields[shares.indexOf(Math.min(...shares))]!];
}

/** The stored password hash, for a password change's check of the current password. */
export async function findPasswordHash(db: Kysely<Database>, empNo: number): Promise<string | undefined> {
  if (!isPossibleEmpNo(empNo)) return undefined;
  const row = await db.selectFrom('employees').select('password').where('emp_no', '=', empNo).executeTakeFirst();
  return row?.password;
}

/** Disables (or enables) an account's login; false when there is no such employee. */
export async function setAccountDisabled(db: Kysely<Database>, empNo: number, disabled: boolean): Promise<boolean> {
  if (!isPossibleEmpNo(empNo)) return false;
  const result = await db
    .updateTable('employees')
    .set({ disabled: disabled ? 1 : 0 })
    .where('emp_no', '=', empNo)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Whether the account's login is disabled; undefined when there is no such employee. */
export async function isAccountDisabled(db: Kysely<Database>, empNo: number): Promise<boolean | undefined> {
  if (!isPossibleEmpNo(empNo)) return undefined;
  const row = await db.selectFrom('employees').select('disabled').where('emp_no', '=', empNo).executeTakeFirst();
  return row && Number(row.disabled) === 1;
}
