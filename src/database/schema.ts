/**
 * The tables as Kysely sees them. Dates travel as ISO `yyyy-mm-dd` strings on every engine
 * (the connection layer turns off each driver's own date parsing), so no time zone can shift them.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface EmployeesTable {
  emp_no: number;
  birth_date: string;
  first_name: string;
  last_name: string;
  gender: 'M' | 'F';
  hire_date: string;
  /** Unique, stored lower-case: the login name. */
  email: string;
  /** A password hash in PHC (`$argon2id$...`) or modular crypt (`$2b$...`) form. Never leaves the repository layer except for verification. */
  password: string;
  /** 1 when the account may not log in. */
  disabled: ColumnType<number, number | undefined, number>;
}

/** One row per scope an employee holds (names: identity/scopes.ts). */
export interface EmployeeScopesTable {
  emp_no: number;
  scope: string;
}

/**
 * The rest of the MySQL "employees" sample database: departments, and each employee's history
 * (department, manager spells, titles, salaries). Periods run from `from_date` to `to_date`;
 * `9999-01-01` means "still", as in the sample.
 */
export interface DepartmentsTable {
  /** `d001`..`d009`. */
  dept_no: string;
  dept_name: string;
}

export interface DeptEmpTable {
  emp_no: number;
  dept_no: string;
  from_date: string;
  to_date: string;
}

export interface DeptManagerTable {
  emp_no: number;
  dept_no: string;
  from_date: string;
  to_date: string;
}

export interface TitlesTable {
  emp_no: number;
  title: string;
  from_date: string;
  /** Nullable as in the sample's DDL; every row the generator writes has one. */
  to_date: string | null;
}

export interface SalariesTable {
  emp_no: number;
  salary: number;
  from_date: string;
  to_date: string;
}

/**
 * MySQL/MariaDB and SQLite only: every distinct last (`kind` 'l') and first ('f') name in
 * `employees`, which lets a `%infix%` search find its few names before it touches the employees
 * (name-index.ts).
 */
export interface EmployeeNamesTable {
  kind: 'l' | 'f';
  name: string;
}

/** The audit trail: one row per event (src/audit/events.ts names the actions and outcomes). */
export interface AuditEventsTable {
  id: Generated<number>;
  /** ISO-8601 UTC with milliseconds: `2026-11-29T14:15:00.123Z`. */
  occurred_at: string;
  action: string;
  outcome: string;
  /** `employee` (actor_emp_no says who), `operator` (the admin command line; actor_name says who), or `anonymous` (a login by someone not yet known). */
  actor_kind: string;
  actor_emp_no: number | null;
  /** The operator's name, or the name a failed login was tried with. */
  actor_name: string | null;
  /** The public id of the actor's session. */
  session_id: string | null;
  client_address: string | null;
  client_label: string | null;
  target_emp_no: number | null;
  /** How many times this event happened in its row's window: more than 1 only for aggregated failed logins. */
  repeat_count: ColumnType<number, number | undefined, number>;
  /** JSON: the fields before and after for record changes, and other particulars; never a password or hash. */
  detail: string | null;
  /** Failed logins only: which slot of its (name, address, hour) the row is (audit/failed-logins.ts); NULL elsewhere. */
  aggregate_key: ColumnType<string | null, string | null | undefined, never>;
}

/** At most one TOTP authenticator per employee (migration 2026_12_03_0002_second_factor). */
export interface TotpFactorsTable {
  emp_no: number;
  /** The seed, sealed (identity/second-factor/secret-box.ts): never the seed itself. */
  secret: string;
  created_at: string;
  /** Null until a code from the app has been accepted; only a confirmed factor counts. */
  confirmed_at: string | null;
  /** The TOTP time step of the last accepted code: that code and earlier ones are refused. */
  last_step: ColumnType<number | null, number | null | undefined, number | null>;
}

/** One-time recovery codes, as SHA-256 hashes. */
export interface RecoveryCodesTable {
  emp_no: number;
  code_hash: string;
  used_at: string | null;
}

/**
 * A passkey (WebAuthn credential) registered as a second factor (identity/second-factor/passkeys.ts).
 * Binary values travel as base64url text on every engine.
 */
export interface PasskeysTable {
  credential_id: string;
  emp_no: number;
  /** The COSE public key, base64url. */
  public_key: string;
  /** The authenticator's signature counter (0 when it keeps none); BIGINT, which pg returns as a string. */
  sign_count: ColumnType<number | string, number, number>;
  /** Comma-separated transports the browser reported (`internal,hybrid`), or null. */
  transports: string | null;
  /** What the person called it. */
  name: string;
  /** ISO-8601 UTC with milliseconds. */
  created_at: string;
  last_used_at: string | null;
}

export interface Database {
  audit_events: AuditEventsTable;
  totp_factors: TotpFactorsTable;
  recovery_codes: RecoveryCodesTable;
  passkeys: PasskeysTable;
  employees: EmployeesTable;
  employee_names: EmployeeNamesTable;
  employee_scopes: EmployeeScopesTable;
  departments: DepartmentsTable;
  dept_emp: DeptEmpTable;
  dept_manager: DeptManagerTable;
  titles: TitlesTable;
  salaries: SalariesTable;
}

export type EmployeeRow = Selectable<EmployeesTable>;
export type NewEmployeeRow = Insertable<EmployeesTable>;
export type EmployeeRowUpdate = Updateable<EmployeesTable>;

export type DialectName = 'sqlite' | 'mysql' | 'postgres';
