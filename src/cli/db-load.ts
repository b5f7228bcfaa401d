/**
 * `npm run db:load -- --size full|tiny|small [--yes] [--seed N]`: fills the configured database
 * with the sample data (`sample-data/full-size/load.ts`). It reads the configuration as the server and
 * `npm run admin` do: `.env` if present, then the environment, through the one config schema.
 *
 * Progress goes to stderr, the summary to stdout. Exit status: 0 loaded, 1 the database holds data
 * and --yes was not given, 64 bad command line, 69 database unreachable, 70 any other failure,
 * 78 bad configuration (sysexits(3), as `npm run admin`).
 */
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { isDatabaseOutage } from '../database/errors.js';
import { DATA_SIZES, DEFAULT_SEED } from '../sample-data/full-size/generate.js';
import {
  DatabaseNotEmptyError,
  isLoadSize,
  LOAD_SIZES,
  loadSampleDatabase,
  type LoadSize,
  type LoadSummary,
} from '../sample-data/full-size/load.js';
import { progressOn, type ProgressStream } from '../sample-data/full-size/progress.js';
import { SEED_EMPLOYEES } from '../sample-data/seed.js';

export const EXIT = { OK: 0, NOT_EMPTY: 1, USAGE: 64, UNAVAILABLE: 69, SOFTWARE: 70, CONFIG: 78 } as const;

const HELP = [
  'Usage: npm run db:load -- --size <size> [--yes] [--seed <n>]',
  '',
  'Migrates the database named by DATABASE_URL (unset: SQLite in DATA_DIR) and loads sample data:',
  `  --size small   the ${SEED_EMPLOYEES.length} employees a first start seeds`,
  `  --size tiny    ${DATA_SIZES.tiny.toLocaleString('en-US')} generated employees with their history (for tests)`,
  `  --size full    the sample database at its real size: ${DATA_SIZES.full.toLocaleString('en-US')} employees, ~4.2 million rows`,
  '  --yes          replace the data of a database that already has some (otherwise it is refused)',
  `  --seed <n>     another generated data set (default ${DEFAULT_SEED}); the same seed gives the same rows`,
  '',
  'Every employee\'s password is "password" (one shared hash): reset them before real use.',
  'Exit status: 0 loaded, 1 database not empty (use --yes), 64 usage error,',
  '69 database unreachable, 70 other failure, 78 bad configuration.',
  '',
].join('\n');

export type LoadCommand =
  { kind: 'load'; size: LoadSize; replace: boolean; seed?: number } | { kind: 'answer'; code: number; stdout?: string; stderr?: string };

/** The command line, settled without touching a database: help and usage errors answer at once. */
export function planLoad(argv: readonly string[]): LoadCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        size: { type: 'string' },
        yes: { type: 'boolean', default: false },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { size, yes, seed, help } = parsed.values;
  if (help) return { kind: 'answer', code: EXIT.OK, stdout: HELP };
  if (size === undefined) return usage('--size is required');
  if (!isLoadSize(size)) return usage(`--size must be one of: ${LOAD_SIZES.join(', ')}`);
  if (seed !== undefined && !/^\d{1,10}$/.test(seed)) return usage('--seed must be a whole number');
  return { kind: 'load', size, replace: yes, ...(seed === undefined ? {} : { seed: Number(seed) >>> 0 }) };
}

function usage(message: string): LoadCommand {
  return { kind: 'answer', code: EXIT.USAGE, stderr: `db:load: ${message}\n\n${HELP}` };
}

export function formatSummary(summary: LoadSummary): string {
  const entries = Object.entries(summary.rows);
  const total = entries.reduce((sum, [, rows]) => sum + rows, 0);
  const width = Math.max(...entries.map(([table]) => table.length), 'total'.length) + 2;
  const number = (value: number) => value.toLocaleString('en-US').padStart(11);
  return [
    `Loaded the ${summary.size} sample data into ${summary.describe} in ${summary.seconds.toFixed(1)} s:`,
    ...entries.map(([table, rows]) => `  ${table.padEnd(width)}${number(rows)}`),
    `  ${'total'.padEnd(width)}${number(total)}`,
    '',
  ].join('\n');
}

interface Io {
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
}

async function main(argv: readonly string[], io: Io): Promise<number> {
  const plan = planLoad(argv);
  if (plan.kind === 'answer') {
    if (plan.stdout) io.stdout.write(plan.stdout);
    if (plan.stderr) io.stderr.write(plan.stderr);
    return plan.code;
  }

  let config;
  try {
    if (existsSync('.env')) process.loadEnvFile('.env');
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`db:load: ${error.message}\n`);
    return EXIT.CONFIG;
  }

  try {
    const summary = await loadSampleDatabase(config.DATABASE_URL, {
      size: plan.size,
      replace: plan.replace,
      dataDir: config.DATA_DIR,
      ...(plan.seed === undefined ? {} : { seed: plan.seed }),
      progress: progressOn(io.stderr),
    });
    io.stdout.write(formatSummary(summary));
    return EXIT.OK;
  } catch (error) {
    if (error instanceof DatabaseNotEmptyError) {
      io.stderr.write(`db:load: ${error.message}. Run again with --yes to replace it.\n`);
      return EXIT.NOT_EMPTY;
    }
    io.stderr.write(`db:load: ${(error as Error).message}\n`);
    return isDatabaseOutage(error) ? EXIT.UNAVAILABLE : EXIT.SOFTWARE;
  }
}

// Run only as the program itself, not when a test imports planLoad.
const entry = process.argv[1];
if (entry !== undefined && existsSync(entry) && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}
