/**
 * Reads of an employee's place and history in the sample database's other tables: departments
 * (dept_emp, dept_manager), titles and salaries. Each function takes the database first; values
 * travel as bound parameters; dates are ISO text, `9999-01-01` meaning "still".
 */
import type { Insertable, Kysely } from 'kysely';
import type { Database, DepartmentsTable, DeptEmpTable, DeptManagerTable, SalariesTable, TitlesTable } from '../database/schema.js';
import { isPossibleEmpNo } from './employee-repository.js';

export interface Period {
  from_date: string;
  /** `9999-01-01` (or null, for a title) while it lasts. */
  to_date: string | null;
}

export interface DepartmentSpell extends Period {
  dept_no: string;
  dept_name: string;
}

export interface TitleSpell extends Period {
  title: string;
}

export interface SalarySpell extends Period {
  salary: number;
}

export interface PersonRef {
  emp_no: number;
  first_name: string;
  last_name: string;
}

/** Departments the employee belonged to, latest first. */
export async function findDepartmentHistory(db: Kysely<Database>, empNo: number): Promise<DepartmentSpell[]> {
  if (!isPossibleEmpNo(empNo)) return [];
  return db
    .selectFrom('dept_emp')
    .innerJoin('departments', 'departments.dept_no', 'dept_emp.dept_no')
    .select(['dept_emp.dept_no', 'departments.dept_name', 'dept_emp.from_date', 'dept_emp.to_date'])
    .where('dept_emp.emp_no', '=', empNo)
    .orderBy('dept_emp.to_date', 'desc')
    .orderBy('dept_emp.from_date', 'desc')
    .execute();
}

/** Titles the employee held, latest first. */
export async function findTitleHistory(db: Kysely<Database>, empNo: number): Promise<TitleSpell[]> {
  if (!isPossibleEmpNo(empNo)) return [];
  return db
    .selectFrom('titles')
    .select(['title', 'from_date', 'to_date'])
    .where('emp_no', '=', empNo)
    .orderBy('from_date', 'desc')
    .execute();
}

/** Salaries the employee was paid, latest first. */
export async function findSalaryHistory(db: Kysely<Database>, empNo: number): Promise<SalarySpell[]> {
  if (!isPossibleEmpNo(empNo)) return [];
  const rows = await db
    .selectFrom('salaries')
    .select(['salary', 'from_date', 'to_date'])
    .where('emp_no', '=', empNo)
    .orderBy('from_date', 'desc')
    .execute();
  // Some drivers hand back integers of wide columns as text; a salary is a plain number.
  return rows.map((row) => ({ ...row, salary: Number(row.salary) }));
}

/** The department's manager in its latest managing spell, or undefined. */
export async function findDepartmentManager(db: Kysely<Database>, deptNo: string): Promise<PersonRef | undefined> {
  return db
    .selectFrom('dept_manager')
    .innerJoin('employees', 'employees.emp_no', 'dept_manager.emp_no')
    .select(['employees.emp_no', 'employees.first_name', 'employees.last_name'])
    .where('dept_manager.dept_no', '=', deptNo)
    .orderBy('dept_manager.to_date', 'desc')
    .orderBy('dept_manager.from_date', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Rows of the history tables, as the seed writes them. */
export interface HistoryRows {
  deptEmp: Insertable<DeptEmpTable>[];
  deptManager: Insertable<DeptManagerTable>[];
  titles: Insertable<TitlesTable>[];
  salaries: Insertable<SalariesTable>[];
}

/** Rows per statement: 4 bound values each stays far below every engine's parameter limit. */
const HISTORY_BATCH_SIZE = 500;

/** Inserts the departments that are not there yet (by number). */
export async function insertMissingDepartments(db: Kysely<Database>, departments: readonly Insertable<DepartmentsTable>[]): Promise<void> {
  const present = new Set((await db.selectFrom('departments').select('dept_no').execute()).map((row) => row.dept_no));
  const missing = departments.filter((department) => !present.has(department.dept_no));
  if (missing.length > 0) await db.insertInto('departments').values(missing).execute();
}

/** Inserts history rows (employees and departments must exist). Pass a transaction for all-or-nothing. */
export async function insertHistory(db: Kysely<Database>, rows: HistoryRows): Promise<void> {
  const tables = [
    ['dept_emp', rows.deptEmp],
    ['dept_manager', rows.deptManager],
    ['titles', rows.titles],
    ['salaries', rows.salaries],
  ] as const;
  for (const [table, values] of tables) {
    for (let start = 0; start < values.length; start += HISTORY_BATCH_SIZE) {
      await db
        .insertInto(table)
        .values(values.slice(start, start + HISTORY_BATCH_SIZE) as never)
        .execute();
    }
  }
}
