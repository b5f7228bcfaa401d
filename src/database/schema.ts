/**
 * The tables as Kysely sees them. Dates travel as ISO `yyyy-mm-dd` strings on every engine
 * (the connection layer turns off each driver's own date parsing), so no time zone can shift them.
 */
import type { Insertable, Selectable, Updateable } from 'kysely';

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
}

/** One row per scope an employee holds (names: employees/scope-names.ts). */
export interface EmployeeScopesTable {
  emp_no: number;
  scope: string;
}

export interface Database {
  employees: EmployeesTable;
  employee_scopes: EmployeeScopesTable;
}

export type EmployeeRow = Selectable<EmployeesTable>;
export type NewEmployeeRow = Insertable<EmployeesTable>;
export type EmployeeRowUpdate = Updateable<EmployeesTable>;

export type DialectName = 'sqlite' | 'mysql' | 'postgres';
