/**
 * A deterministic generator of the MySQL "employees" sample database (datacharmer/test_db) at its
 * real size: 300,024 employees, 9 departments, and each employee's department history, titles and
 * yearly salaries, with the sample's ranges and proportions. The seed employees (`seed.ts`) are
 * in it with exactly their seed values and scopes; everyone else holds `user:read`.
 *
 * Rows come out as iterators, one table at a time, and nothing but a list of employee numbers
 * (1.2 MB) and 24 manager spells is kept: the 4.2 million rows are never in memory at once.
 * Every employee's rows are a function of (seed, emp_no) alone (`Random.forItem`), so each
 * table's iterator recomputes what it needs and all of them agree without sharing state.
 *
 * Same seed and same password hashes → byte-identical rows, on every machine. The hashes are the
 * one input that is not generated: argon2 and bcrypt salt each hash at random, so the loader
 * computes one of each per load and every employee shares it (see `SampleDataOptions.passwords`).
 */
import type { Insertable } from 'kysely';
import type { ScopeName } from '../../identity/scopes.js';
import type {
  DepartmentsTable,
  DeptEmpTable,
  DeptManagerTable,
  EmployeeScopesTable,
  NewEmployeeRow,
  SalariesTable,
  TitlesTable,
} from '../../database/schema.js';
import { SEED_EMPLOYEES, SEED_SCOPES, sampleEmail, seedPasswordHash, type SeedEmployee, type SeedPasswordHashes } from '../seed.js';
import { addYears, dayOf, FOREVER, isoOf } from './calendar.js';
import { DEPARTMENTS as SAMPLE_DEPARTMENTS } from '../../database/departments.js';
import { FIRST_NAMES, LAST_NAMES } from './names.js';
import { Random } from './random.js';

/** The seed of the data set everyone loads; any other gives another, equally valid, data set. */
export const DEFAULT_SEED = 0x5eed_2002;

/**
 * Rows in `employees` per named size: `full` is the sample's 300,024 (the original series' own
 * 500222 among them); `tiny` runs the same code on a few thousand, for tests.
 */
export const DATA_SIZES = { full: 300_024, tiny: 2_000 } as const;
export type GeneratedSize = keyof typeof DATA_SIZES;

export type DepartmentRow = Insertable<DepartmentsTable>;
export type DeptEmpRow = Insertable<DeptEmpTable>;
export type DeptManagerRow = Insertable<DeptManagerTable>;
export type TitleRow = Insertable<TitlesTable>;
export type SalaryRow = Insertable<SalariesTable>;
export type EmployeeScopeRow = Insertable<EmployeeScopesTable>;

export const DEPARTMENTS: readonly DepartmentRow[] = SAMPLE_DEPARTMENTS;
const DEPT_NOS = DEPARTMENTS.map((department) => department.dept_no);
/** How many dept_emp rows each department has in the sample (d001..d009): the odds of joining it. */
const DEPT_WEIGHTS = [20_211, 17_346, 17_786, 73_485, 85_707, 20_117, 52_245, 21_126, 23_580];
const DEPT_WEIGHT_TOTAL = DEPT_WEIGHTS.reduce((sum, weight) => sum + weight, 0);
/** Managers each department had over time in the sample (24 in all). */
const MANAGERS_PER_DEPT = [2, 2, 2, 4, 2, 4, 2, 2, 4];
/** Where engineers work; staff work in the others (with a tenth of each the other way round). */
const ENGINEERING_DEPTS = new Set(['d004', 'd005', 'd006', 'd008']);

/** The sample's employee numbers run from 10001 to 499999, with gaps. */
const EMP_NO_FIRST = 10_001;
const EMP_NO_LAST = 499_999;
const BIRTH_FIRST = dayOf('1952-02-01');
const BIRTH_LAST = dayOf('1965-02-01');
const HIRE_FIRST = dayOf('1985-01-01');
const HIRE_LAST = dayOf('2000-01-28');
/** The sample's history stops here: its last salary and title rows start on 2002-08-01. */
const SNAPSHOT = dayOf('2002-08-01');
const MANAGER_CHANGES_FIRST = dayOf('1988-01-01');
const MANAGER_CHANGES_LAST = dayOf('1996-12-31');
const SALARY_MIN = 38_623;
const SALARY_MAX = 158_220;
/** Raises shrink as a salary nears this, so few reach SALARY_MAX (which caps them). */
const SALARY_CEILING = 220_000;

// Shares, tuned so that the row counts come out near the sample's (see the test): about 20% of
// the employees have left, 10.5% moved department once, and about half were promoted once.
const P_MALE = 0.6;
const P_RECORD_STARTS_LATER = 0.41;
const P_LEFT = 0.2;
const P_MOVED_DEPARTMENT = 0.117;
const P_PROMOTED = 0.68;
const P_ON_OWN_TRACK = 0.9;

const ENGINEERING_TITLES = ['Assistant Engineer', 'Engineer', 'Senior Engineer', 'Technique Leader'] as const;
const ENGINEERING_TITLE_WEIGHTS = [0.092, 0.64, 0.176, 0.092];
const STAFF_TITLES = ['Staff', 'Senior Staff'] as const;
const STAFF_TITLE_WEIGHTS = [0.795, 0.205];
const PROMOTION: Readonly<Record<string, string>> = {
  'Assistant Engineer': 'Engineer',
  Engineer: 'Senior Engineer',
  Staff: 'Senior Staff',
};
const MANAGER_TITLE = 'Manager';

const SEED_BY_EMP_NO = new Map(SEED_EMPLOYEES.map((employee) => [employee.emp_no, employee]));
const DEFAULT_SCOPES: readonly ScopeName[] = ['user:read'];

export interface SampleDataOptions {
  /** Rows in `employees`, the seed employees included: `DATA_SIZES.full` for the sample's size. */
  employees: number;
  seed?: number;
  /** The stored hashes of `password` (`hashSeedPassword`); legacy users get the bcrypt one, as in the seed. */
  passwords: SeedPasswordHashes;
}

interface Spell<T> {
  value: T;
  from: number;
  to: number;
}

interface ManagerSpell {
  empNo: number;
  deptNo: string;
  from: number;
  to: number;
  /** A manager was hired by the day their spell began. */
  hire: number;
}

interface Person {
  employee: SeedEmployee;
  hire: number;
  /** The employee's own generator, positioned after the draws that made `employee`. */
  random: Random;
}

interface Career {
  departments: Spell<string>[];
  titles: Spell<string>[];
  salaries: Spell<number>[];
}

export class SampleData {
  readonly seed: number;
  /** Every employee number, ascending. */
  readonly empNos: Int32Array;
  readonly managers: readonly ManagerSpell[];
  private readonly managerByEmpNo: Map<number, ManagerSpell>;
  private readonly passwords: SeedPasswordHashes;

  constructor(options: SampleDataOptions) {
    this.seed = options.seed ?? DEFAULT_SEED;
    this.passwords = options.passwords;
    const random = new Random(this.seed);
    this.empNos = chooseEmpNos(options.employees, random);
    this.managers = chooseManagers(this.empNos, random);
    this.managerByEmpNo = new Map(this.managers.map((manager) => [manager.empNo, manager]));
  }

  get employeeCount(): number {
    return this.empNos.length;
  }

  *departments(): Generator<DepartmentRow> {
    yield* DEPARTMENTS;
  }

  *employees(): Generator<NewEmployeeRow> {
    for (const empNo of this.empNos) {
      const { employee } = this.person(empNo);
      yield { ...employee, password: seedPasswordHash(empNo, this.passwords) };
    }
  }

  /** The seed employees' scopes as in the seed; `user:read` for everyone else. */
  *employeeScopes(): Generator<EmployeeScopeRow> {
    for (const empNo of this.empNos) {
      const seedEmployee = SEED_BY_EMP_NO.get(empNo);
      const scopes = seedEmployee ? (SEED_SCOPES[seedEmployee.email] ?? DEFAULT_SCOPES) : DEFAULT_SCOPES;
      for (const scope of scopes) yield { emp_no: empNo, scope };
    }
  }

  *deptEmp(): Generator<DeptEmpRow> {
    for (const empNo of this.empNos) {
      for (const spell of this.career(empNo).departments) {
        yield { emp_no: empNo, dept_no: spell.value, from_date: isoOf(spell.from), to_date: isoOf(spell.to) };
      }
    }
  }

  *deptManager(): Generator<DeptManagerRow> {
    for (const manager of this.managers) {
      yield { emp_no: manager.empNo, dept_no: manager.deptNo, from_date: isoOf(manager.from), to_date: isoOf(manager.to) };
    }
  }

  *titles(): Generator<TitleRow> {
    for (const empNo of this.empNos) {
      for (const spell of this.career(empNo).titles) {
        yield { emp_no: empNo, title: spell.value, from_date: isoOf(spell.from), to_date: isoOf(spell.to) };
      }
    }
  }

  *salaries(): Generator<SalaryRow> {
    for (const empNo of this.empNos) {
      for (const spell of this.career(empNo).salaries) {
        yield { emp_no: empNo, salary: spell.value, from_date: isoOf(spell.from), to_date: isoOf(spell.to) };
      }
    }
  }

  /** Rows per table, from one pass over the careers (no row is built): for progress totals and tests. */
  countRows(): Record<SampleTable, number> {
    const counts: Record<SampleTable, number> = {
      departments: DEPARTMENTS.length,
      employees: this.empNos.length,
      employee_scopes: 0,
      dept_emp: 0,
      dept_manager: this.managers.length,
      titles: 0,
      salaries: 0,
    };
    for (const _ of this.employeeScopes()) counts.employee_scopes++;
    for (const empNo of this.empNos) {
      const career = this.career(empNo);
      counts.dept_emp += career.departments.length;
      counts.titles += career.titles.length;
      counts.salaries += career.salaries.length;
    }
    return counts;
  }

  /** A table's rows, in `SAMPLE_TABLES` terms (the loader's view). */
  rows(table: SampleTable): Iterable<Record<string, string | number | null>> {
    switch (table) {
      case 'departments':
        return this.departments();
      case 'employees':
        return this.employees();
      case 'employee_scopes':
        return this.employeeScopes();
      case 'dept_emp':
        return this.deptEmp();
      case 'dept_manager':
        return this.deptManager();
      case 'titles':
        return this.titles();
      case 'salaries':
        return this.salaries();
    }
  }

  /** Who the employee is: a seed employee as seeded, anyone else drawn from their own generator. */
  private person(empNo: number): Person {
    const random = Random.forItem(this.seed, empNo);
    const seedEmployee = SEED_BY_EMP_NO.get(empNo);
    if (seedEmployee) return { employee: seedEmployee, hire: dayOf(seedEmployee.hire_date), random };

    const birth = random.int(BIRTH_FIRST, BIRTH_LAST);
    const gender = random.chance(P_MALE) ? 'M' : 'F';
    const firstName = random.pick(FIRST_NAMES);
    const lastName = random.pick(LAST_NAMES);
    // Hiring slowed over the years (the sample hired ~35,000 in 1985 and a handful in 2000): a
    // density falling linearly to zero across the range.
    const drawnHire = HIRE_FIRST + Math.floor((1 - Math.sqrt(1 - random.next())) * (HIRE_LAST - HIRE_FIRST + 1));
    const hire = this.managerByEmpNo.get(empNo)?.hire ?? drawnHire;
    const employee: SeedEmployee = {
      emp_no: empNo,
      birth_date: isoOf(birth),
      first_name: firstName,
      last_name: lastName,
      gender,
      hire_date: isoOf(hire),
      email: sampleEmail(firstName, lastName, empNo),
    };
    return { employee, hire, random };
  }

  /**
   * An employee's history, as in the sample: a record that starts at hiring or some years later,
   * one salary row per year of it (each from an anniversary of its start to the next), one or two
   * departments and one or two titles over the same span, ending on the day they left or open
   * (9999-01-01) for those still there.
   */
  private career(empNo: number): Career {
    const { hire, random } = this.person(empNo);
    const manager = this.managerByEmpNo.get(empNo);
    // Someone hired after the snapshot (the original series' 500222) has one open year.
    const end = Math.max(SNAPSHOT, hire);

    let start = hire;
    if (!manager && random.chance(P_RECORD_STARTS_LATER)) {
      const yearsLater = random.int(0, anniversariesWithin(hire, end) - 1);
      if (yearsLater > 0) start = Math.min(end, addYears(hire, yearsLater) + random.int(0, 364));
    }
    let years = anniversariesWithin(start, end);
    let close = FOREVER;
    if (!manager && random.chance(P_LEFT)) {
      const stayed = random.int(1, years);
      const left = Math.min(end, addYears(start, stayed - 1) + random.int(1, 364));
      if (left > addYears(start, stayed - 1)) {
        years = stayed;
        close = left;
      }
    }
    const anniversaries = Array.from({ length: years }, (_, year) => addYears(start, year));
    const spanTo = (year: number) => (year < years ? anniversaries[year]! : close);

    const salaries: Spell<number>[] = [];
    let salary = SALARY_MIN + Math.floor(random.next() ** 2.5 * 60_000);
    for (let year = 0; year < years; year++) {
      salaries.push({ value: salary, from: anniversaries[year]!, to: spanTo(year + 1) });
      const raise = salary * (0.003 + random.next() * 0.075) * (1 - salary / SALARY_CEILING);
      salary = Math.min(SALARY_MAX, Math.floor(salary + Math.max(0, raise)));
    }

    if (manager) {
      const senior = ENGINEERING_DEPTS.has(manager.deptNo) ? 'Senior Engineer' : 'Senior Staff';
      const titles: Spell<string>[] = [];
      if (start < manager.from) titles.push({ value: senior, from: start, to: manager.from });
      titles.push({ value: MANAGER_TITLE, from: manager.from, to: FOREVER });
      return { departments: [{ value: manager.deptNo, from: start, to: close }], titles, salaries };
    }

    const firstDept = random.weighted(DEPT_NOS, DEPT_WEIGHTS, DEPT_WEIGHT_TOTAL);
    const departments: Spell<string>[] = [{ value: firstDept, from: start, to: close }];
    if (years >= 2 && random.chance(P_MOVED_DEPARTMENT)) {
      const moved = anniversaries[random.int(1, years - 1)]!;
      let secondDept = random.weighted(DEPT_NOS, DEPT_WEIGHTS, DEPT_WEIGHT_TOTAL);
      if (secondDept === firstDept) secondDept = DEPT_NOS[(DEPT_NOS.indexOf(firstDept) + 1) % DEPT_NOS.length]!;
      departments[0]!.to = moved;
      departments.push({ value: secondDept, from: moved, to: close });
    }

    const engineer = ENGINEERING_DEPTS.has(firstDept) === random.chance(P_ON_OWN_TRACK);
    const firstTitle = engineer
      ? random.weighted(ENGINEERING_TITLES, ENGINEERING_TITLE_WEIGHTS, 1)
      : random.weighted(STAFF_TITLES, STAFF_TITLE_WEIGHTS, 1);
    const titles: Spell<string>[] = [{ value: firstTitle, from: start, to: close }];
    const promotion = PROMOTION[firstTitle];
    if (promotion !== undefined && years >= 2 && random.chance(P_PROMOTED)) {
      const promoted = anniversaries[random.int(1, years - 1)]!;
      titles[0]!.to = promoted;
      titles.push({ value: promotion, from: promoted, to: close });
    }
    return { departments, titles, salaries };
  }
}

/** The tables the generator fills, in an order that satisfies every foreign key. */
export const SAMPLE_TABLES = ['departments', 'employees', 'employee_scopes', 'dept_emp', 'dept_manager', 'titles', 'salaries'] as const;
export type SampleTable = (typeof SAMPLE_TABLES)[number];

/** Each table's columns, in the order the generator's rows (and the bulk loaders) list them. */
export const SAMPLE_COLUMNS: { readonly [T in SampleTable]: readonly string[] } = {
  departments: ['dept_no', 'dept_name'],
  employees: ['emp_no', 'birth_date', 'first_name', 'last_name', 'gender', 'hire_date', 'email', 'password'],
  employee_scopes: ['emp_no', 'scope'],
  dept_emp: ['emp_no', 'dept_no', 'from_date', 'to_date'],
  dept_manager: ['emp_no', 'dept_no', 'from_date', 'to_date'],
  titles: ['emp_no', 'title', 'from_date', 'to_date'],
  salaries: ['emp_no', 'salary', 'from_date', 'to_date'],
};

/** How many anniversaries of `start` (itself included) fall on or before `end`. */
function anniversariesWithin(start: number, end: number): number {
  let count = 1;
  while (addYears(start, count) <= end) count++;
  return count;
}

/**
 * `total` employee numbers, ascending: every seed employee's, and the rest drawn from the sample's
 * range by selection sampling (Knuth's Algorithm S), which takes each candidate with probability
 * needed/remaining and so ends with exactly the count asked for, in one pass.
 */
function chooseEmpNos(total: number, random: Random): Int32Array {
  const outside = SEED_EMPLOYEES.filter((employee) => employee.emp_no < EMP_NO_FIRST || employee.emp_no > EMP_NO_LAST).map((e) => e.emp_no);
  const forced = new Set(
    SEED_EMPLOYEES.map((employee) => employee.emp_no).filter((empNo) => empNo >= EMP_NO_FIRST && empNo <= EMP_NO_LAST),
  );
  const inRange = total - outside.length;
  const minimum = SEED_EMPLOYEES.length + MANAGERS_PER_DEPT.reduce((sum, count) => sum + count, 0);
  if (!Number.isSafeInteger(total) || total < minimum || inRange > EMP_NO_LAST - EMP_NO_FIRST + 1) {
    throw new RangeError(`The sample data needs ${minimum} to ${EMP_NO_LAST - EMP_NO_FIRST + 1 + outside.length} employees, not ${total}`);
  }

  const empNos = new Int32Array(total);
  let chosen = 0;
  let forcedLeft = forced.size;
  let freeLeft = EMP_NO_LAST - EMP_NO_FIRST + 1 - forced.size;
  for (let candidate = EMP_NO_FIRST; candidate <= EMP_NO_LAST && chosen < inRange; candidate++) {
    if (forced.has(candidate)) {
      empNos[chosen++] = candidate;
      forcedLeft--;
      continue;
    }
    const needed = inRange - chosen - forcedLeft;
    if (random.next() * freeLeft < needed) empNos[chosen++] = candidate;
    freeLeft--;
  }
  for (const empNo of outside.sort((a, b) => a - b)) empNos[chosen++] = empNo;
  return empNos;
}

/**
 * The departments' managers over time (24, as in the sample): each department's first took over
 * on 1985-01-01 and the last is still in charge. Never a seed employee, whose history the seed's
 * users may know. Managers come from the generated employees and keep their names.
 */
function chooseManagers(empNos: Int32Array, random: Random): ManagerSpell[] {
  const taken = new Set<number>();
  const managers: ManagerSpell[] = [];
  DEPT_NOS.forEach((deptNo, index) => {
    const count = MANAGERS_PER_DEPT[index]!;
    // Distinct days, so that no spell is empty.
    const changes = new Set<number>();
    while (changes.size < count - 1) changes.add(random.int(MANAGER_CHANGES_FIRST, MANAGER_CHANGES_LAST));
    const starts = [HIRE_FIRST, ...[...changes].sort((a, b) => a - b)];
    starts.forEach((from, spell) => {
      let empNo: number;
      do empNo = empNos[random.int(0, empNos.length - 1)]!;
      while (taken.has(empNo) || SEED_BY_EMP_NO.has(empNo));
      taken.add(empNo);
      const to = spell + 1 < starts.length ? starts[spell + 1]! : FOREVER;
      const hire = from === HIRE_FIRST ? HIRE_FIRST : random.int(Math.max(HIRE_FIRST, from - 3 * 365), from);
      managers.push({ empNo, deptNo, from, to, hire });
    });
  });
  return managers;
}
