/**
 * Times employee searches and login look-ups against a loaded database (`npm run db:load -- --size
 * full` first), the way the app runs them (`searchEmployees`, `findEmployeeByEmail`), and prints
 * p50/p95/max per kind of search and overall. Results go in docs/PERFORMANCE.md.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/employees node --import tsx scripts/measure-search.ts [searches]
 *
 * The searches are drawn from the name lists with a fixed seed, so every engine (and every run)
 * times the same ones. One untimed warm-up pass runs first: this measures a server whose data is
 * in memory, as it is after a few minutes of use, not the first query after a restart.
 */
import { existsSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/database/connection.js';
import { Random } from '../src/sample-data/full-size/random.js';
import { FIRST_NAMES, LAST_NAMES } from '../src/sample-data/full-size/names.js';
import { findEmployeeByEmail } from '../src/employees/employee-repository.js';
import { searchEmployees, type SearchRequest } from '../src/employees/employee-service.js';

const SEARCHES = Number(process.argv[2] ?? 200);
const LOGINS = 200;

interface Search {
  kind: string;
  request: SearchRequest;
}

/** Kinds of search a person types, each with its share of the mix. */
const KINDS: { kind: string; share: number; make: (random: Random) => SearchRequest }[] = [
  {
    kind: 'infix both (%nas%/%an)',
    share: 0.3,
    make: (r) => ({ lastName: `%${infix(r, LAST_NAMES)}%`, firstName: `%${suffix(r, FIRST_NAMES, 2)}` }),
  },
  { kind: 'infix last (%ski%/%)', share: 0.15, make: (r) => ({ lastName: `%${infix(r, LAST_NAMES)}%`, firstName: '%' }) },
  { kind: 'prefix last (Gor%/%)', share: 0.15, make: (r) => ({ lastName: `${r.pick(LAST_NAMES).slice(0, 3)}%`, firstName: '%' }) },
  // The search needs a % in each name: a whole name is typed as a prefix.
  {
    kind: 'whole names (Gornas%/Niranjan%)',
    share: 0.1,
    make: (r) => ({ lastName: `${r.pick(LAST_NAMES).slice(0, 15)}%`, firstName: `${r.pick(FIRST_NAMES).slice(0, 13)}%` }),
  },
  { kind: 'whole last, any first', share: 0.1, make: (r) => ({ lastName: `${r.pick(LAST_NAMES).slice(0, 15)}%`, firstName: '%' }) },
  { kind: 'everyone (%/%), page 1..5', share: 0.1, make: (r) => ({ lastName: '%', firstName: '%', page: r.int(1, 5) }) },
  { kind: 'no match (%qqq%/%)', share: 0.05, make: (r) => ({ lastName: `%${'qxz'[r.int(0, 2)]}${'qxz'[r.int(0, 2)]}q%`, firstName: '%' }) },
  {
    kind: 'infix, page 2..3',
    share: 0.05,
    make: (r) => ({ lastName: `%${infix(r, LAST_NAMES).slice(0, 2)}%`, firstName: '%', page: r.int(2, 3) }),
  },
];

function infix(random: Random, names: readonly string[]): string {
  const name = random.pick(names).toLowerCase();
  const start = random.int(1, Math.max(1, name.length - 3));
  return name.slice(start, start + 3);
}

function suffix(random: Random, names: readonly string[], length: number): string {
  return random.pick(names).slice(-length);
}

function plannedSearches(count: number): Search[] {
  const random = new Random(4);
  const searches: Search[] = [];
  for (const { kind, share, make } of KINDS) {
    for (let index = 0; index < Math.round(count * share); index++) searches.push({ kind, request: make(random) });
  }
  // Interleaved, so that no kind runs only on a cold or only on a warm cache.
  for (let index = searches.length - 1; index > 0; index--) {
    const other = random.int(0, index);
    [searches[index], searches[other]] = [searches[other]!, searches[index]!];
  }
  return searches;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function describe(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const ms = (value: number) => `${value.toFixed(1).padStart(7)} ms`;
  return `n=${String(sorted.length).padStart(3)}  p50 ${ms(percentile(sorted, 50))}  p95 ${ms(percentile(sorted, 95))}  max ${ms(sorted.at(-1) ?? NaN)}`;
}

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig(process.env);
  const { db, describe: where } = createDatabase(config.DATABASE_URL, { dataDir: config.DATA_DIR });
  try {
    const searches = plannedSearches(SEARCHES);
    for (const search of searches) await searchEmployees(db, search.request);

    const byKind = new Map<string, number[]>();
    const all: number[] = [];
    const hits: number[] = [];
    for (const search of searches) {
      const started = performance.now();
      const result = await searchEmployees(db, search.request);
      const elapsed = performance.now() - started;
      all.push(elapsed);
      hits.push(result.items.length);
      byKind.set(search.kind, [...(byKind.get(search.kind) ?? []), elapsed]);
    }

    const employees = await db.selectFrom('employees').select('email').where('emp_no', '<', 20_000).execute();
    const random = new Random(5);
    const logins: number[] = [];
    for (let index = 0; index < LOGINS; index++) {
      const email = random.pick(employees).email.toUpperCase();
      const started = performance.now();
      const found = await findEmployeeByEmail(db, email);
      logins.push(performance.now() - started);
      if (!found) throw new Error(`login look-up found nobody for ${email}`);
    }

    console.log(`${where}: ${searches.length} searches (first page of 50 unless a page is given), ${LOGINS} login look-ups`);
    for (const [kind, times] of byKind) console.log(`  ${kind.padEnd(32)} ${describe(times)}`);
    console.log(
      `  ${'all searches'.padEnd(32)} ${describe(all)}  (mean ${(hits.reduce((a, b) => a + b, 0) / hits.length).toFixed(0)} rows)`,
    );
    console.log(`  ${'login by email'.padEnd(32)} ${describe(logins)}`);
  } finally {
    await db.destroy();
  }
}

await main();
