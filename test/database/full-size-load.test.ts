/**
 * The loader (`npm run db:load`) on every engine, at the `tiny` size: the same generator and the
 * same bulk paths as `full`, on 2,000 employees, so the suite stays quick. The full 300,024-row
 * load is measured by hand (docs/PERFORMANCE.md), never run here.
 */
import { seedHistory } from '../../src/sample-data/seed-history.js';
import { DEPARTMENTS } from '../../src/database/departments.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verify as argon2Verify } from '@node-rs/argon2';
import { verify as bcryptVerify } from '@node-rs/bcrypt';
import { sql, type Kysely } from 'kysely';
import { formatSummary, planLoad } from '../../src/cli/db-load.js';
import type { Database } from '../../src/database/schema.js';
import { DATA_SIZES, SAMPLE_TABLES, SampleData, type SampleTable } from '../../src/sample-data/full-size/generate.js';
import { DatabaseNotEmptyError, loadSampleDatabase, type LoadOptions } from '../../src/sample-data/full-size/load.js';
import { progressOn } from '../../src/sample-data/full-size/progress.js';
import { SEED_EMPLOYEES, SEED_PASSWORD } from '../../src/sample-data/seed.js';
import { findEmployeeByEmail, PUBLIC_EMPLOYEE_COLUMNS } from '../../src/employees/employee-repository.js';
import { searchEmployees } from '../../src/employees/employee-service.js';
import { findScopes } from '../../src/employees/scope-repository.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';

/** The generator's rows, for comparison (the hashes are made per load, so they are left out). */
const generated = new SampleData({ employees: DATA_SIZES.tiny, passwords: { argon2id: '', bcrypt: '' } });
const GENERATED_COUNTS = generated.countRows();

async function countTables(db: Kysely<Database>): Promise<Record<SampleTable, number>> {
  const counts = {} as Record<SampleTable, number>;
  for (const table of SAMPLE_TABLES) {
    const { rows } = await sql<{ count: number | string }>`select count(*) as count from ${sql.table(table)}`.execute(db);
    counts[table] = Number(rows[0]!.count);
  }
  return counts;
}

/** A search's partial name as a case-insensitive regular expression: `%` is the only wildcard. */
function namePattern(partial: string): RegExp {
  return new RegExp(
    `^${partial
      .split('%')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
}

const tinyOptions = (overrides: Partial<LoadOptions> = {}): LoadOptions => ({
  size: 'tiny',
  replace: false,
  dataDir: tmpdir(),
  ...overrides,
});

for (const engine of ENGINES) {
  describe(`loading the sample data into ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine, { seed: false });
    });
    after(() => testDb?.cleanup());

    it('loads every row the generator makes, and says how many per table', async () => {
      const summary = await loadSampleDatabase(testDb.url, tinyOptions());
      assert.deepEqual(summary.rows, GENERATED_COUNTS);
      assert.deepEqual(await countTables(testDb.db), GENERATED_COUNTS);
    });

    it('stores the rows exactly as generated, dates as yyyy-mm-dd text', async () => {
      const employees = await testDb.db.selectFrom('employees').select(PUBLIC_EMPLOYEE_COLUMNS).orderBy('emp_no').limit(300).execute();
      assert.deepEqual(
        employees,
        [...generated.employees()].slice(0, 300).map(({ password: _hash, ...employee }) => employee),
      );
      const salaries = await testDb.db.selectFrom('salaries').selectAll().orderBy('emp_no').orderBy('from_date').limit(2000).execute();
      assert.deepEqual(salaries, [...generated.salaries()].slice(0, 2000));
      const titles = await testDb.db.selectFrom('titles').selectAll().orderBy('emp_no').orderBy('from_date').orderBy('title').execute();
      const expectedTitles = [...generated.titles()].sort(
        (a, b) => a.emp_no - b.emp_no || a.from_date.localeCompare(b.from_date) || a.title.localeCompare(b.title),
      );
      assert.deepEqual(titles, expectedTitles);
    });

    it('lets a seed employee log in by email with "password", and keeps their scopes', async () => {
      const kyoichi = await findEmployeeByEmail(testDb.db, 'Kyoichi.Maliniak.10005@gmail.com');
      assert.equal(kyoichi?.emp_no, 10005);
      assert.equal(await argon2Verify(kyoichi.password, SEED_PASSWORD), true);
      const georgi = await findEmployeeByEmail(testDb.db, 'georgi.facello.10001@gmail.com');
      assert.equal(await bcryptVerify(SEED_PASSWORD, georgi!.password), true);
      assert.deepEqual(await findScopes(testDb.db, 10005), ['admin:read', 'admin:write']);
      assert.deepEqual(await findScopes(testDb.db, 10045), []);
      // Every generated employee shares the one argon2id hash.
      const hashes = await testDb.db.selectFrom('employees').select('password').distinct().execute();
      assert.equal(hashes.length, 2);
    });

    it('answers searches as the app runs them: the generated employees that match, in number order', async () => {
      const everyone = [...generated.employees()];
      for (const [lastName, firstName] of [
        ['%nas%', '%'],
        ['%an', '%a%'],
        ['gor%', '%'],
        ['%E%', '%O%'],
      ] as const) {
        const expected = everyone.filter(
          (employee) => namePattern(lastName).test(employee.last_name) && namePattern(firstName).test(employee.first_name),
        );
        assert.ok(expected.length > 1, `${lastName} ${firstName} should find several`);
        const pageOne = await searchEmployees(testDb.db, { lastName, firstName, size: 20 });
        const pageTwo = await searchEmployees(testDb.db, { lastName, firstName, size: 20, page: 2 });
        assert.deepEqual(
          [...pageOne.items, ...pageTwo.items].map((employee) => employee.emp_no),
          expected.slice(0, 40).map((employee) => employee.emp_no),
          `${lastName} ${firstName}`,
        );
        assert.equal(pageOne.hasMore, expected.length > 20);
      }
    });

    if (engine !== 'postgres') {
      it("refills the search's name index with every distinct name of the loaded employees", async () => {
        const rows = await testDb.db.selectFrom('employee_names').select(['kind', 'name']).execute();
        const names = (kind: string) =>
          rows
            .filter((row) => row.kind === kind)
            .map((row) => row.name.toLowerCase())
            .sort();
        const distinct = (values: string[]) => [...new Set(values.map((value) => value.toLowerCase()))].sort();
        const everyone = [...generated.employees()];
        assert.deepEqual(names('l'), distinct(everyone.map((employee) => employee.last_name)));
        assert.deepEqual(names('f'), distinct(everyone.map((employee) => employee.first_name)));
      });
    }

    it('refuses a database that holds data, naming the tables, and leaves it as it was', async () => {
      await assert.rejects(loadSampleDatabase(testDb.url, tinyOptions()), (error) => {
        assert.ok(error instanceof DatabaseNotEmptyError);
        assert.deepEqual(error.tables, [...SAMPLE_TABLES]);
        return true;
      });
      assert.deepEqual(await countTables(testDb.db), GENERATED_COUNTS);
    });

    it('replaces the data when told to, rather than adding to it', async () => {
      const summary = await loadSampleDatabase(testDb.url, tinyOptions({ replace: true, seed: 7 }));
      assert.deepEqual(await countTables(testDb.db), summary.rows);
      const other = new SampleData({ employees: DATA_SIZES.tiny, seed: 7, passwords: { argon2id: '', bcrypt: '' } });
      assert.deepEqual(summary.rows, other.countRows());
    });

    it("loads the small seed instead, replacing the generated history with the seed's own", async () => {
      const summary = await loadSampleDatabase(testDb.url, tinyOptions({ size: 'small', replace: true }));
      const history = seedHistory(SEED_EMPLOYEES);
      const expected = {
        departments: DEPARTMENTS.length,
        employees: SEED_EMPLOYEES.length,
        employee_scopes: summary.rows.employee_scopes,
        dept_emp: history.deptEmp.length,
        dept_manager: history.deptManager.length,
        titles: history.titles.length,
        salaries: history.salaries.length,
      };
      assert.deepEqual(summary.rows, expected);
      assert.deepEqual(await countTables(testDb.db), expected);
    });

    if (engine === 'mysql') {
      it('falls back to multi-row INSERTs, with the same rows, where the server refuses LOAD DATA LOCAL', async () => {
        // A client that does not offer LOCAL_FILES is refused by the server, as with local_infile off.
        const url = new URL(testDb.url);
        url.searchParams.set('flags', '-LOCAL_FILES');
        await loadSampleDatabase(url.href, tinyOptions({ replace: true }));
        assert.deepEqual(await countTables(testDb.db), GENERATED_COUNTS);
        const salaries = await testDb.db.selectFrom('salaries').selectAll().orderBy('emp_no').orderBy('from_date').limit(2000).execute();
        assert.deepEqual(salaries, [...generated.salaries()].slice(0, 2000));
      });
    }
  });
}

describe('the db:load command line, before any database work', () => {
  it('takes a size, --yes and --seed', () => {
    assert.deepEqual(planLoad(['--size', 'full']), { kind: 'load', size: 'full', replace: false });
    assert.deepEqual(planLoad(['--size=tiny', '--yes', '--seed', '42']), { kind: 'load', size: 'tiny', replace: true, seed: 42 });
  });

  it('answers a usage error (exit 64) for a missing or unknown size, a bad seed or an unknown option', () => {
    for (const argv of [[], ['--size', 'huge'], ['--size', 'full', '--seed', 'x'], ['--size', 'full', '--force']]) {
      const plan = planLoad(argv);
      assert.equal(plan.kind === 'answer' && plan.code, 64, argv.join(' '));
      assert.match(plan.kind === 'answer' ? (plan.stderr ?? '') : '', /^db:load: .+\n\nUsage: npm run db:load -- --size <size>/);
    }
  });

  it('prints help for --help, exiting 0', () => {
    const plan = planLoad(['--help']);
    assert.equal(plan.kind === 'answer' && plan.code, 0);
    assert.match(plan.kind === 'answer' ? (plan.stdout ?? '') : '', /--size full +the sample database at its real size: 300,024 employees/);
  });

  it('sums up the rows per table and the time taken', () => {
    const rows = { departments: 9, employees: 300_024, employee_scopes: 300_025, dept_emp: 1, dept_manager: 24, titles: 2, salaries: 3 };
    assert.equal(
      formatSummary({ size: 'full', describe: 'sqlite /x.db', rows, seconds: 12.34 }),
      [
        'Loaded the full sample data into sqlite /x.db in 12.3 s:',
        '  departments                9',
        '  employees            300,024',
        '  employee_scopes      300,025',
        '  dept_emp                   1',
        '  dept_manager              24',
        '  titles                     2',
        '  salaries                   3',
        '  total                600,088',
        '',
      ].join('\n'),
    );
  });
});

describe('the load progress', () => {
  function recorder(isTTY: boolean) {
    const written: string[] = [];
    let clock = 0;
    const progress = progressOn({ isTTY, write: (text: string) => written.push(text) }, () => clock);
    return { written, progress, tick: (ms: number) => (clock += ms) };
  }

  it('redraws one line in place on a terminal: table, bar, rows done of the total, rate and time left', () => {
    const { written, progress, tick } = recorder(true);
    progress.start('salaries', 1000);
    tick(1000);
    progress.advance(250);
    tick(1000);
    progress.finish();
    assert.equal(written[1], '\rsalaries        [######------------------]  25%  250/1,000  250 rows/s  ETA 3 s\u001b[K');
    assert.equal(written.at(-1), '\rsalaries        [######------------------]  25%  250/1,000  125 rows/s  in 2.0 s\u001b[K\n');
  });

  it('prints plain lines, a few seconds apart, when stderr is not a terminal', () => {
    const { written, progress, tick } = recorder(false);
    progress.start('employees', 300);
    tick(1000);
    progress.advance(100); // too soon for a line
    tick(5000);
    progress.advance(200);
    progress.finish();
    assert.deepEqual(written, [
      'employees       100%  300/300  50 rows/s  ETA 0 s\n',
      'employees       100%  300/300  50 rows/s  in 6.0 s\n',
    ]);
  });
});

describe('npm run db:load, as a separate process', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ep-db-load-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  function npmLoad(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        'npm',
        ['run', '--silent', 'db:load', '--', ...argv],
        // DATABASE_URL unset: the default SQLite file under DATA_DIR, as on a first start.
        { cwd: PROJECT_ROOT, env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir } },
        (error, stdout, stderr) => resolve({ code: typeof error?.code === 'number' ? error.code : error ? -1 : 0, stdout, stderr }),
      );
    });
  }

  it('loads into the default SQLite file, then refuses to load again (exit 1) until given --yes', async () => {
    const first = await npmLoad('--size', 'tiny');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`^Loaded the tiny sample data into sqlite ${dataDir}/employees.sqlite in [\\d.]+ s:\\n`));
    assert.match(first.stdout, /\n {2}employees {14}2,000\n/);
    assert.match(first.stderr, /^salaries +100% {2}[\d,]+\/[\d,]+ {2}[\d,]+ rows\/s {2}in [\d.]+ s$/m);

    assert.deepEqual(await npmLoad('--size', 'tiny'), {
      code: 1,
      stdout: '',
      stderr: `db:load: The database already holds data (in ${SAMPLE_TABLES.join(', ')}). Run again with --yes to replace it.\n`,
    });
    assert.equal((await npmLoad('--size', 'small', '--yes')).code, 0);
  });
});
