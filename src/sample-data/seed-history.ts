/**
 * The first-start seed's departments and history: each sample employee's department, title and
 * yearly salary rows, and a manager for every department, in the sample database's shape (periods
 * ending on `9999-01-01` while they last). Deterministic: every row is a function of the employee
 * number alone, so two seeded databases hold the same history.
 *
 * Managers are sample employees themselves (the full-size generator draws its own), so the seed's
 * users see a manager they can also look up.
 */
import type { Insertable } from 'kysely';
import type { DeptEmpTable, DeptManagerTable, SalariesTable, TitlesTable } from '../database/schema.js';
import { DEPARTMENTS } from '../database/departments.js';
import { addYears, dayOf, FOREVER, isoOf } from './full-size/calendar.js';
import { Random } from './full-size/random.js';

export interface SeedHistoryRows {
  deptEmp: Insertable<DeptEmpTable>[];
  deptManager: Insertable<DeptManagerTable>[];
  titles: Insertable<TitlesTable>[];
  salaries: Insertable<SalariesTable>[];
}

interface Hired {
  emp_no: number;
  hire_date: string;
}

const SEED_HISTORY_SEED = 0x5eed_4157;
/** The sample's history stops here (its last salary rows start on 2002-08-01); later hires get one open year. */
const SNAPSHOT = dayOf('2002-08-01');
const SALARY_START_MIN = 40_000;
const SALARY_START_SPREAD = 30_000;
const ENGINEERING = new Set(['d004', 'd005', 'd006', 'd008']);

/**
 * Who runs each department: the sample's first nine employees (d001 → 10001 … d009 → 10009).
 * Everyone else joins a department drawn from their own number; the original series' 500222 works
 * in Development.
 */
const MANAGER_BY_DEPT = new Map(DEPARTMENTS.map((department, index) => [department.dept_no, 10001 + index]));
const DEPT_BY_MANAGER = new Map([...MANAGER_BY_DEPT].map(([deptNo, empNo]) => [empNo, deptNo]));
const FIXED_DEPT: Readonly<Record<number, string>> = { 500222: 'd005' };

export function seedHistory(employees: readonly Hired[]): SeedHistoryRows {
  const rows: SeedHistoryRows = { deptEmp: [], deptManager: [], titles: [], salaries: [] };
  for (const employee of employees) {
    const random = Random.forItem(SEED_HISTORY_SEED, employee.emp_no);
    const hire = dayOf(employee.hire_date);
    const managed = DEPT_BY_MANAGER.get(employee.emp_no);
    const deptNo = managed ?? FIXED_DEPT[employee.emp_no] ?? DEPARTMENTS[random.int(0, DEPARTMENTS.length - 1)]!.dept_no;
    const years = yearsOfRecord(hire);
    rows.deptEmp.push({ emp_no: employee.emp_no, dept_no: deptNo, from_date: isoOf(hire), to_date: isoOf(FOREVER) });

    // A first title, and a promotion a few years in for those with the years (managers: to Manager).
    const junior = ENGINEERING.has(deptNo) ? 'Engineer' : 'Staff';
    const senior = managed ? 'Manager' : ENGINEERING.has(deptNo) ? 'Senior Engineer' : 'Senior Staff';
    const promotedAfter = years >= 3 ? random.int(2, years - 1) : undefined;
    if (promotedAfter === undefined) {
      rows.titles.push({ emp_no: employee.emp_no, title: managed ? senior : junior, from_date: isoOf(hire), to_date: isoOf(FOREVER) });
    } else {
      const promoted = addYears(hire, promotedAfter);
      rows.titles.push({ emp_no: employee.emp_no, title: junior, from_date: isoOf(hire), to_date: isoOf(promoted) });
      rows.titles.push({ emp_no: employee.emp_no, title: senior, from_date: isoOf(promoted), to_date: isoOf(FOREVER) });
    }
    if (managed) rows.deptManager.push({ emp_no: employee.emp_no, dept_no: deptNo, from_date: isoOf(hire), to_date: isoOf(FOREVER) });

    // One salary row per year, each from an anniversary of the hire to the next; the last one open.
    let salary = SALARY_START_MIN + random.int(0, SALARY_START_SPREAD);
    for (let year = 0; year < years; year++) {
      const to = year + 1 < years ? addYears(hire, year + 1) : FOREVER;
      rows.salaries.push({ emp_no: employee.emp_no, salary, from_date: isoOf(addYears(hire, year)), to_date: isoOf(to) });
      salary += Math.floor(salary * (0.01 + random.next() * 0.05));
    }
  }
  return rows;
}

/** Salary years from the hire up to the snapshot (at least one). */
function yearsOfRecord(hire: number): number {
  let years = 1;
  while (addYears(hire, years) <= SNAPSHOT) years++;
  return years;
}
