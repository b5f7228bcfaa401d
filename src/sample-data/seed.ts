/**
 * Sample employees for an empty database: rows of the MySQL "employees" sample database
 * (datacharmer/test_db), the people the original series' tests log in as, and its extra row 500222.
 * Every one of them has the password `password`, and the scopes the original gave them.
 */
import { hash as argon2Hash, type Algorithm } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import type { Kysely } from 'kysely';
import { insertEmployees, normaliseEmail } from '../employees/employee-repository.js';
import type { ScopeName } from '../identity/scopes.js';
import { grantScopesInBulk } from '../employees/scope-repository.js';
import { isUniqueViolation } from '../database/dialects.js';
import { insertHistory, insertMissingDepartments } from '../employees/history-repository.js';
import { DEPARTMENTS } from '../database/departments.js';
import { seedHistory } from './seed-history.js';
import type { Database, EmployeeRow, NewEmployeeRow } from '../database/schema.js';

export const SEED_PASSWORD = 'password';

export type SeedEmployee = Omit<EmployeeRow, 'password' | 'disabled'>;

/**
 * `Algorithm.Argon2id` is an ambient const enum, which `verbatimModuleSyntax` cannot read;
 * 2 is its value.
 */
const ARGON2ID: Algorithm = 2;
/** bcrypt's usual cost; these are legacy hashes, kept only so the upgrade-on-login path has users. */
const BCRYPT_COST = 10;

/** Employees whose seed hash is bcrypt, like accounts carried over from an older system. */
export const LEGACY_BCRYPT_EMP_NOS: readonly number[] = [10001, 10002, 10003, 10004];

type Person = [empNo: number, birthDate: string, firstName: string, lastName: string, gender: 'M' | 'F', hireDate: string];

/**
 * Rows as in datacharmer/test_db's load_employees.dump (emp_no, birth, first, last, gender, hire),
 * checked against it, except 262556 and 496044, which come from the original series' fixtures, and
 * 67000 (see below).
 */
const SAMPLE_ROWS: readonly Person[] = [
  [10001, '1953-09-02', 'Georgi', 'Facello', 'M', '1986-06-26'],
  [10002, '1964-06-02', 'Bezalel', 'Simmel', 'F', '1985-11-21'],
  [10003, '1959-12-03', 'Parto', 'Bamford', 'M', '1986-08-28'],
  [10004, '1954-05-01', 'Chirstian', 'Koblick', 'M', '1986-12-01'],
  [10005, '1955-01-21', 'Kyoichi', 'Maliniak', 'M', '1989-09-12'],
  [10006, '1953-04-20', 'Anneke', 'Preusig', 'F', '1989-06-02'],
  [10007, '1957-05-23', 'Tzvetan', 'Zielinski', 'F', '1989-02-10'],
  [10008, '1958-02-19', 'Saniya', 'Kalloufi', 'M', '1994-09-15'],
  [10009, '1952-04-19', 'Sumant', 'Peac', 'F', '1985-02-18'],
  [10010, '1963-06-01', 'Duangkaew', 'Piveteau', 'F', '1989-08-24'],
  [10011, '1953-11-07', 'Mary', 'Sluis', 'F', '1990-01-22'],
  [10012, '1960-10-04', 'Patricio', 'Bridgland', 'M', '1992-12-18'],
  [10013, '1963-06-07', 'Eberhardt', 'Terkki', 'M', '1985-10-20'],
  [10014, '1956-02-12', 'Berni', 'Genin', 'M', '1987-03-11'],
  [10015, '1959-08-19', 'Guoxiang', 'Nooteboom', 'M', '1987-07-02'],
  [10016, '1961-05-02', 'Kazuhito', 'Cappelletti', 'M', '1995-01-27'],
  [10017, '1958-07-06', 'Cristinel', 'Bouloucos', 'F', '1993-08-03'],
  [10018, '1954-06-19', 'Kazuhide', 'Peha', 'F', '1987-04-03'],
  [10019, '1953-01-23', 'Lillian', 'Haddadi', 'M', '1999-04-30'],
  [10020, '1952-12-24', 'Mayuko', 'Warwick', 'M', '1991-01-26'],
  [10021, '1960-02-20', 'Ramzi', 'Erde', 'M', '1988-02-10'],
  [10022, '1952-07-08', 'Shahaf', 'Famili', 'M', '1995-08-22'],
  [10023, '1953-09-29', 'Bojan', 'Montemayor', 'F', '1989-12-17'],
  [10024, '1958-09-05', 'Suzette', 'Pettey', 'F', '1997-05-19'],
  [10025, '1958-10-31', 'Prasadram', 'Heyers', 'M', '1987-08-17'],
  [10026, '1953-04-03', 'Yongqiao', 'Berztiss', 'M', '1995-03-20'],
  [10027, '1962-07-10', 'Divier', 'Reistad', 'F', '1989-07-07'],
  [10028, '1963-11-26', 'Domenick', 'Tempesti', 'M', '1991-10-22'],
  [10029, '1956-12-13', 'Otmar', 'Herbst', 'M', '1985-11-20'],
  [10030, '1958-07-14', 'Elvis', 'Demeyer', 'M', '1994-02-17'],
  [10045, '1957-08-14', 'Moss', 'Shanbhogue', 'M', '1989-09-02'],
  [10089, '1963-03-21', 'Sudharsan', 'Flasterstein', 'F', '1986-08-12'],
  [10153, '1955-12-15', 'Heekeun', 'Majewski', 'M', '1987-04-08'],
  [10155, '1959-12-07', 'Adas', 'Nastansky', 'M', '1990-01-05'],
  [10191, '1959-04-08', 'Zdislav', 'Nastansky', 'M', '1986-04-10'],
  [10198, '1953-05-28', 'Pranav', 'Furedi', 'M', '1985-08-31'],
  [10199, '1959-04-07', 'Kazuhisa', 'Ranta', 'M', '1997-04-29'],
  [10399, '1957-06-13', 'Guenter', 'Marchegay', 'F', '1985-05-07'],
  [12483, '1959-10-19', 'Niranjan', 'Gornas', 'M', '1990-01-10'],
  // The original's tests log in as 67000 but never show the row; its dates and gender here are
  // placeholders, not the sample database's values.
  [67000, '1960-01-01', 'Weijing', 'Showalter', 'F', '1990-01-01'],
  [262556, '1953-04-03', 'Nidapan', 'Samarati', 'M', '1997-10-25'],
  [496044, '1958-05-26', 'Gopalakrishnan', 'Gornas', 'M', '1988-10-27'],
];

/** The original series' own test user, added to the sample data. */
const EXTRA_EMPLOYEE: SeedEmployee = {
  emp_no: 500222,
  birth_date: '1978-12-09',
  first_name: 'Be Hai',
  last_name: 'Doe',
  gender: 'M',
  hire_date: '2022-11-01',
  email: 'behai_nguyen@hotmail.com',
};

/** The sample database's login-name formula (the original's migration): first.last.empno@gmail.com, lower-case. */
export function sampleEmail(firstName: string, lastName: string, empNo: number): string {
  // Normalised like every stored email: the full-size loader writes these without the repository.
  return normaliseEmail(`${firstName}.${lastName}.${empNo}@gmail.com`.replaceAll(' ', ''));
}

export const SEED_EMPLOYEES: readonly SeedEmployee[] = [
  ...SAMPLE_ROWS.map(([emp_no, birth_date, first_name, last_name, gender, hire_date]) => ({
    emp_no,
    birth_date,
    first_name,
    last_name,
    gender,
    hire_date,
    email: sampleEmail(first_name, last_name, emp_no),
  })),
  EXTRA_EMPLOYEE,
];

export const LEGACY_BCRYPT_EMAILS: readonly string[] = SEED_EMPLOYEES.filter((employee) =>
  LEGACY_BCRYPT_EMP_NOS.includes(employee.emp_no),
).map((employee) => employee.email);

/** What everyone the original did not list could do (its `'*'` entry). */
const DEFAULT_SEED_SCOPES: readonly ScopeName[] = ['user:read'];

/** The original's hard-coded MOCK_USER_SCOPES, now rows of employee_scopes. */
const LISTED_SEED_SCOPES: Readonly<Record<string, readonly ScopeName[]>> = {
  'moss.shanbhogue.10045@gmail.com': [],
  'behai_nguyen@hotmail.com': ['user:read', 'user:write'],
  'nidapan.samarati.262556@gmail.com': ['user:read'],
  'kyoichi.maliniak.10005@gmail.com': ['admin:read', 'admin:write'],
  'weijing.showalter.67000@gmail.com': ['admin:read'],
  'mary.sluis.10011@gmail.com': ['super:*'],
};

/** Every sample employee's scopes, by email: the listed ones, and `user:read` for the rest. */
export const SEED_SCOPES: Readonly<Record<string, readonly ScopeName[]>> = Object.fromEntries(
  SEED_EMPLOYEES.map((employee) => [employee.email, LISTED_SEED_SCOPES[employee.email] ?? DEFAULT_SEED_SCOPES]),
);

/** `password` hashed once per algorithm the sample employees use. */
export interface SeedPasswordHashes {
  argon2id: string;
  bcrypt: string;
}

/**
 * Hashes `password` once per algorithm (not once per row: argon2 is slow on purpose). The hashes
 * are salted, so two calls give different text for the same password.
 */
export async function hashSeedPassword(): Promise<SeedPasswordHashes> {
  const [argon2id, bcrypt] = await Promise.all([
    argon2Hash(SEED_PASSWORD, { algorithm: ARGON2ID }),
    bcryptHash(SEED_PASSWORD, BCRYPT_COST),
  ]);
  return { argon2id, bcrypt };
}

/** The hash an employee of the sample data gets: bcrypt for the legacy users, argon2id for everyone else. */
export function seedPasswordHash(empNo: number, hashes: SeedPasswordHashes): string {
  return LEGACY_BCRYPT_EMP_NOS.includes(empNo) ? hashes.bcrypt : hashes.argon2id;
}

/**
 * Inserts SEED_EMPLOYEES, their SEED_SCOPES, the departments and their history (`seedHistory`), in one transaction, when the employees table is
 * empty; does nothing otherwise. Hashes `password` (`hashSeedPassword`) only when it is going to insert.
 */
export async function seedIfEmpty(db: Kysely<Database>): Promise<{ inserted: number }> {
  if (!(await isEmpty(db))) return { inserted: 0 };

  const hashes = await hashSeedPassword();
  const rows: NewEmployeeRow[] = SEED_EMPLOYEES.map((employee) => ({ ...employee, password: seedPasswordHash(employee.emp_no, hashes) }));

  const grants = SEED_EMPLOYEES.flatMap((employee) =>
    (SEED_SCOPES[employee.email] ?? []).map((scope) => ({ emp_no: employee.emp_no, scope })),
  );

  try {
    const inserted = await db.transaction().execute(async (trx) => {
      if (!(await isEmpty(trx))) return 0;
      const count = await insertEmployees(trx, rows);
      await grantScopesInBulk(trx, grants);
      // The departments and each employee's history, so the pages have a job and a past to show.
      await insertMissingDepartments(trx, DEPARTMENTS);
      await insertHistory(trx, seedHistory(SEED_EMPLOYEES));
      return count;
    });
    return { inserted };
  } catch (error) {
    // Another process (a second app instance starting at the same time) seeded first.
    if (isUniqueViolation(error) && !(await isEmpty(db))) return { inserted: 0 };
    throw error;
  }
}

async function isEmpty(db: Kysely<Database>): Promise<boolean> {
  return (await db.selectFrom('employees').select('emp_no').limit(1).executeTakeFirst()) === undefined;
}
