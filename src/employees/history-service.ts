/**
 * An employee's current job (department, title, manager) and, for administrators, the history of
 * titles, departments and salaries. Knows nothing about HTTP; the caller decides who may see what.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../database/schema.js';
import {
  findDepartmentHistory,
  findDepartmentManager,
  findSalaryHistory,
  findTitleHistory,
  type DepartmentSpell,
  type PersonRef,
  type SalarySpell,
  type TitleSpell,
} from './history-repository.js';

export interface CurrentJob {
  department: string | undefined;
  title: string | undefined;
  manager: PersonRef | undefined;
}

export interface EmployeeHistory {
  titles: TitleSpell[];
  departments: DepartmentSpell[];
  salaries: SalarySpell[];
}

/** The latest department, title and that department's manager; undefined when none is recorded. */
export async function getCurrentJob(db: Kysely<Database>, empNo: number): Promise<CurrentJob | undefined> {
  const [departments, titles] = await Promise.all([findDepartmentHistory(db, empNo), findTitleHistory(db, empNo)]);
  const department = departments[0];
  if (!department && !titles[0]) return undefined;
  const manager = department ? await findDepartmentManager(db, department.dept_no) : undefined;
  return { department: department?.dept_name, title: titles[0]?.title, manager };
}

export async function getHistory(db: Kysely<Database>, empNo: number): Promise<EmployeeHistory> {
  const [titles, departments, salaries] = await Promise.all([
    findTitleHistory(db, empNo),
    findDepartmentHistory(db, empNo),
    findSalaryHistory(db, empNo),
  ]);
  return { titles, departments, salaries };
}
