import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { FOREVER, isoOf } from '../../src/sample-data/full-size/calendar.js';
import {
  DATA_SIZES,
  DEFAULT_SEED,
  DEPARTMENTS,
  SAMPLE_COLUMNS,
  SAMPLE_TABLES,
  SampleData,
  type SampleTable,
} from '../../src/sample-data/full-size/generate.js';
import { FIRST_NAMES, LAST_NAMES } from '../../src/sample-data/full-size/names.js';
import { Random } from '../../src/sample-data/full-size/random.js';
import { LEGACY_BCRYPT_EMP_NOS, SEED_EMPLOYEES, SEED_SCOPES } from '../../src/sample-data/seed.js';

/** Stand-ins for the two password hashes: the one input the generator does not make itself. */
const PASSWORDS = { argon2id: '$argon2id$test', bcrypt: '$2b$10$test' };
const FOREVER_ISO = isoOf(FOREVER);

/** The sample database's own row counts (datacharmer/test_db). */
const SAMPLE_COUNTS = { dept_emp: 331_603, titles: 443_308, salaries: 2_844_047 };

/**
 * SHA-256 of the first 1,000 rows of each table at the tiny size and the default seed. A change
 * here changes the data set everyone loads: update it only on purpose.
 */
const PINNED_TINY_CHECKSUM = '7eee7f986af87f9fc851bfbe8cb3b00316da195e35b6f1e8a1fd9422310caaeb';

function firstRows(data: SampleData, table: SampleTable, count: number): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const row of data.rows(table)) {
    rows.push(row);
    if (rows.length === count) break;
  }
  return rows;
}

/** SHA-256 over the first `count` rows of every table, as tab-separated lines. */
function prefixChecksum(data: SampleData, count: number): string {
  const hash = createHash('sha256');
  for (const table of SAMPLE_TABLES) {
    for (const row of firstRows(data, table, count))
      hash.update(`${table}\t${SAMPLE_COLUMNS[table].map((column) => row[column]).join('\t')}\n`);
  }
  return hash.digest('hex');
}

describe('the seeded random generator', () => {
  it('gives the same numbers for the same seed, and others for another seed', () => {
    const draw = (seed: number) =>
      Array.from(
        { length: 5 },
        (
          (random) => () =>
            random.next()
        )(new Random(seed)),
      );
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
  });

  it('draws integers within their bounds, both ends included', () => {
    const random = new Random(1);
    const seen = new Set(Array.from({ length: 1000 }, () => random.int(3, 5)));
    assert.deepEqual([...seen].sort(), [3, 4, 5]);
  });
});

describe('the sample data generator', () => {
  const tiny = new SampleData({ employees: DATA_SIZES.tiny, passwords: PASSWORDS });

  it('gives the same rows for the same seed, down to a pinned checksum', () => {
    const again = new SampleData({ employees: DATA_SIZES.tiny, passwords: PASSWORDS });
    for (const table of SAMPLE_TABLES) assert.deepEqual(firstRows(again, table, 200), firstRows(tiny, table, 200), table);
    assert.equal(prefixChecksum(tiny, 1000), PINNED_TINY_CHECKSUM);
  });

  it('gives other rows for another seed', () => {
    const other = new SampleData({ employees: DATA_SIZES.tiny, seed: DEFAULT_SEED + 1, passwords: PASSWORDS });
    assert.notDeepEqual(firstRows(other, 'salaries', 100), firstRows(tiny, 'salaries', 100));
  });

  it('yields each table with the columns the loaders write', () => {
    for (const table of SAMPLE_TABLES) {
      const [row] = firstRows(tiny, table, 1);
      assert.deepEqual(Object.keys(row!), [...SAMPLE_COLUMNS[table]], table);
    }
  });

  it('lists the nine departments of the sample', () => {
    assert.deepEqual(
      DEPARTMENTS.map((department) => `${department.dept_no} ${department.dept_name}`),
      [
        'd001 Marketing',
        'd002 Finance',
        'd003 Human Resources',
        'd004 Production',
        'd005 Development',
        'd006 Quality Management',
        'd007 Sales',
        'd008 Research',
        'd009 Customer Service',
      ],
    );
  });

  it('refuses a size too small to hold the seed employees and the managers', () => {
    assert.throws(() => new SampleData({ employees: 50, passwords: PASSWORDS }), RangeError);
  });

  it('keeps every row consistent: keys unique, references valid, periods in order', () => {
    const empNos = new Set<number>();
    const hires = new Map<number, string>();
    for (const employee of tiny.employees()) {
      empNos.add(employee.emp_no);
      hires.set(employee.emp_no, employee.hire_date);
    }
    assert.equal(empNos.size, DATA_SIZES.tiny);
    const deptNos = new Set(DEPARTMENTS.map((department) => department.dept_no));

    const unique = (table: SampleTable, key: (row: Record<string, unknown>) => string) => {
      const keys = new Set<string>();
      for (const row of tiny.rows(table)) {
        assert.ok(empNos.has(row.emp_no as number), `${table} row for unknown employee ${row.emp_no}`);
        if ('dept_no' in row) assert.ok(deptNos.has(row.dept_no as string), `${table} row for unknown department ${row.dept_no}`);
        if ('from_date' in row) {
          assert.ok((row.from_date as string) < (row.to_date as string), `${table} period ${row.from_date}..${row.to_date}`);
          assert.ok((row.from_date as string) >= hires.get(row.emp_no as number)!, `${table} row of ${row.emp_no} before hiring`);
        }
        const value = key(row);
        assert.ok(!keys.has(value), `${table} duplicate key ${value}`);
        keys.add(value);
      }
    };
    unique('employee_scopes', (row) => `${row.emp_no} ${row.scope}`);
    unique('dept_emp', (row) => `${row.emp_no} ${row.dept_no}`);
    unique('dept_manager', (row) => `${row.emp_no} ${row.dept_no}`);
    unique('titles', (row) => `${row.emp_no} ${row.title} ${row.from_date}`);
    unique('salaries', (row) => `${row.emp_no} ${row.from_date}`);
  });

  it("gives each employee yearly salaries that follow on, never fall, stay in the sample's range, and end open or on leaving", () => {
    let previous: { emp_no: number; salary: number; to_date: string } | undefined;
    const lastTo = new Map<number, string>();
    for (const row of tiny.salaries()) {
      assert.ok(row.salary >= 38_623 && row.salary <= 158_220, `salary ${row.salary}`);
      if (previous?.emp_no === row.emp_no) {
        assert.equal(row.from_date, previous.to_date);
        assert.ok(row.salary >= previous.salary);
      }
      previous = row;
      lastTo.set(row.emp_no, row.to_date);
    }
    // Department and title history end where the salaries end.
    for (const table of ['dept_emp', 'titles'] as const) {
      const ends = new Map<number, string>();
      for (const row of tiny.rows(table))
        ends.set(row.emp_no as number, [ends.get(row.emp_no as number) ?? '', row.to_date as string].sort().at(-1)!);
      for (const [empNo, end] of ends) assert.equal(end, lastTo.get(empNo), `${table} of ${empNo}`);
    }
    const stillThere = [...lastTo.values()].filter((to) => to === FOREVER_ISO).length;
    assert.ok(stillThere / lastTo.size > 0.75 && stillThere / lastTo.size < 0.85, `${stillThere} of ${lastTo.size} still employed`);
  });

  it('gives the 24 manager spells back to back from 1985-01-01, each to a Manager of that department', () => {
    const spells = [...tiny.deptManager()];
    assert.equal(spells.length, 24);
    for (const department of DEPARTMENTS) {
      const own = spells.filter((spell) => spell.dept_no === department.dept_no);
      assert.ok(own.length >= 2, department.dept_no);
      assert.equal(own[0]!.from_date, '1985-01-01');
      assert.equal(own.at(-1)!.to_date, FOREVER_ISO);
      for (let index = 1; index < own.length; index++) assert.equal(own[index]!.from_date, own[index - 1]!.to_date);
    }
    const managers = new Set(spells.map((spell) => spell.emp_no));
    const managerTitles = [...tiny.titles()].filter((title) => title.title === 'Manager');
    assert.deepEqual(new Set(managerTitles.map((title) => title.emp_no)), managers);
    const departmentOf = new Map([...tiny.deptEmp()].filter((row) => managers.has(row.emp_no)).map((row) => [row.emp_no, row.dept_no]));
    for (const spell of spells) assert.equal(departmentOf.get(spell.emp_no), spell.dept_no);
  });
});

describe('the sample data at full size', () => {
  const full = new SampleData({ employees: DATA_SIZES.full, passwords: PASSWORDS });

  it("has the sample's 300,024 employees, 9 departments, 24 manager spells, and history within 1% of its counts", () => {
    const counts = full.countRows();
    assert.deepEqual(
      { employees: counts.employees, departments: counts.departments, dept_manager: counts.dept_manager },
      { employees: 300_024, departments: 9, dept_manager: 24 },
    );
    for (const [table, expected] of Object.entries(SAMPLE_COUNTS)) {
      const actual = counts[table as SampleTable];
      assert.ok(Math.abs(actual / expected - 1) < 0.01, `${table}: ${actual} rows, the sample has ${expected}`);
    }
    // One user:read each, but the seed's own grants (Moss has none, some have two).
    assert.equal(counts.employee_scopes, 300_024 - SEED_EMPLOYEES.length + Object.values(SEED_SCOPES).flat().length);
  });

  it("numbers the employees like the sample (10001..499999, ascending), plus the original series' 500222", () => {
    const { empNos } = full;
    assert.equal(empNos[0], 10_001);
    assert.equal(empNos[empNos.length - 2]! <= 499_999, true);
    assert.equal(empNos[empNos.length - 1], 500_222);
    for (let index = 1; index < empNos.length; index++) assert.ok(empNos[index]! > empNos[index - 1]!);
  });

  it('contains every seed employee with exactly the seed values, scopes and password scheme', () => {
    const seeds = new Map(SEED_EMPLOYEES.map((employee) => [employee.emp_no, employee]));
    const found = new Map<number, unknown>();
    for (const { password, ...employee } of full.employees()) {
      if (!seeds.has(employee.emp_no)) continue;
      found.set(employee.emp_no, employee);
      assert.equal(password, LEGACY_BCRYPT_EMP_NOS.includes(employee.emp_no) ? PASSWORDS.bcrypt : PASSWORDS.argon2id);
    }
    assert.deepEqual(found, new Map(SEED_EMPLOYEES.map((employee) => [employee.emp_no, employee])));

    const scopes = new Map<number, string[]>();
    for (const grant of full.employeeScopes()) scopes.set(grant.emp_no, [...(scopes.get(grant.emp_no) ?? []), grant.scope]);
    for (const employee of SEED_EMPLOYEES)
      assert.deepEqual(scopes.get(employee.emp_no) ?? [], [...SEED_SCOPES[employee.email]!], employee.email);
    const others = [...scopes].filter(([empNo]) => !seeds.has(empNo));
    assert.equal(others.length, 300_024 - SEED_EMPLOYEES.length);
    assert.ok(others.every(([, granted]) => granted.length === 1 && granted[0] === 'user:read'));
  });

  it("gives everyone a unique first.last.empno@gmail.com email, names from the lists, and the sample's date ranges and gender split", () => {
    const seeds = new Set(SEED_EMPLOYEES.map((employee) => employee.emp_no));
    const firstNames = new Set(FIRST_NAMES);
    const lastNames = new Set(LAST_NAMES);
    const emails = new Set<string>();
    let men = 0;
    let generated = 0;
    for (const employee of full.employees()) {
      emails.add(employee.email);
      if (seeds.has(employee.emp_no)) continue;
      generated++;
      if (employee.gender === 'M') men++;
      assert.equal(employee.email, `${employee.first_name}.${employee.last_name}.${employee.emp_no}@gmail.com`.toLowerCase());
      assert.ok(firstNames.has(employee.first_name) && lastNames.has(employee.last_name), employee.email);
      assert.ok(employee.birth_date >= '1952-02-01' && employee.birth_date <= '1965-02-01', employee.birth_date);
      assert.ok(employee.hire_date >= '1985-01-01' && employee.hire_date <= '2000-01-28', employee.hire_date);
    }
    assert.equal(emails.size, 300_024);
    assert.ok(Math.abs(men / generated - 0.6) < 0.01, `${men} men of ${generated}`);
  });
});
