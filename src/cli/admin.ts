/**
 * Administration from the command line: `npm run admin -- <command>` (`help` lists the commands).
 * It opens the database the way the server does: `.env` if present, then the environment, through
 * the one config schema; migrated and, when empty, seeded.
 *
 * Exit status follows sysexits(3) where it has a word for it: 0 done, 1 no such employee,
 * 2 unknown scope name, 64 (EX_USAGE) bad command line, 69 (EX_UNAVAILABLE) database unreachable,
 * 70 (EX_SOFTWARE) any other failure, 78 (EX_CONFIG) bad configuration.
 */
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import { ConfigError, loadConfig } from '../config.js';
import { isDatabaseOutage } from '../database/errors.js';
import { openDatabase } from '../database/open.js';
import type { Database } from '../database/schema.js';
import { findEmployeeNumberByEmail, normaliseEmail } from '../employees/employee-repository.js';
import { isScopeName, SCOPE_NAMES, type ScopeName } from '../employees/scope-names.js';
import { findScopes, grantScopes, revokeScopes, setScopes } from '../employees/scope-repository.js';

export const EXIT = {
  OK: 0,
  NO_SUCH_EMPLOYEE: 1,
  UNKNOWN_SCOPE: 2,
  USAGE: 64,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  CONFIG: 78,
} as const;

export interface Output {
  write(text: string): unknown;
}

export interface AdminIo {
  db: Kysely<Database>;
  stdout: Output;
  stderr: Output;
}

const PROGRAM = 'npm run admin --';

type ScopesVerb = 'list' | 'grant' | 'revoke' | 'set';

interface VerbSpec {
  arguments: string;
  summary: string;
  /** Fewest scope names the verb takes (list takes none at all). */
  minScopes: number;
  maxScopes: number;
}

const SCOPES_VERBS: Record<ScopesVerb, VerbSpec> = {
  list: { arguments: '<email>', summary: "Prints the employee's scopes, one per line.", minScopes: 0, maxScopes: 0 },
  grant: { arguments: '<email> <scope...>', summary: 'Adds scopes; those already held stay as they are.', minScopes: 1, maxScopes: Infinity },
  revoke: { arguments: '<email> <scope...>', summary: 'Takes scopes away; those not held are ignored.', minScopes: 1, maxScopes: Infinity },
  set: { arguments: '<email> [scope...]', summary: "Makes these exactly the employee's scopes; none given: no scopes at all.", minScopes: 0, maxScopes: Infinity },
};

const SCOPES_NOTE = `Scopes: ${SCOPE_NAMES.join(', ')}. Quote 'super:*' in a shell.`;

const GENERAL_HELP = [
  `Usage: ${PROGRAM} <command> [arguments]`,
  '',
  'Commands:',
  ...Object.entries(SCOPES_VERBS).map(([verb, spec]) => `  ${`scopes ${verb} ${spec.arguments}`.padEnd(36)}${spec.summary}`),
  `  ${'help [command]'.padEnd(36)}Shows the help of a command (also: <command> --help).`,
  '',
  SCOPES_NOTE,
  'The employee is named by email, in any case. DATABASE_URL and DATA_DIR are read from the',
  'environment or .env, as the server reads them.',
  '',
  'Exit status: 0 done, 1 no such employee, 2 unknown scope, 64 usage error,',
  '69 database unreachable, 70 other failure, 78 bad configuration.',
  '',
].join('\n');

const SCOPES_HELP = [
  `Usage: ${PROGRAM} scopes <list|grant|revoke|set> <email> [scope...]`,
  '',
  ...Object.entries(SCOPES_VERBS).map(([verb, spec]) => `  ${`scopes ${verb} ${spec.arguments}`.padEnd(36)}${spec.summary}`),
  '',
  SCOPES_NOTE,
  '',
].join('\n');

function verbHelp(verb: ScopesVerb): string {
  const spec = SCOPES_VERBS[verb];
  return [`Usage: ${PROGRAM} scopes ${verb} ${spec.arguments}`, '', spec.summary, '', SCOPES_NOTE, ''].join('\n');
}

export interface ScopesCommand {
  kind: 'scopes';
  verb: ScopesVerb;
  email: string;
  scopes: ScopeName[];
}

/** What the command line asks for: a command to run on the database, or an answer needing none. */
export type AdminPlan = ScopesCommand | { kind: 'answer'; code: number; stdout?: string; stderr?: string };

/** Reads the command line without touching the database: help, usage errors and scope names are settled here. */
export function planAdmin(argv: readonly string[]): AdminPlan {
  let help: boolean;
  let words: string[];
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    help = values.help === true;
    words = positionals;
  } catch (error) {
    return usageError((error as Error).message, GENERAL_HELP);
  }

  if (words[0] === 'help') {
    if (help || words.length > 3) return usageError('help takes a command name only', GENERAL_HELP);
    return helpFor(words.slice(1));
  }
  if (help) return helpFor(words.slice(0, 2));

  const [group, verb, email, ...scopes] = words;
  if (group === undefined) return usageError('missing command', GENERAL_HELP);
  if (group !== 'scopes') return usageError(`unknown command "${group}"`, GENERAL_HELP);
  if (verb === undefined) return usageError('missing scopes verb (list, grant, revoke or set)', SCOPES_HELP);
  if (!isScopesVerb(verb)) return usageError(`unknown scopes verb "${verb}"`, SCOPES_HELP);
  const spec = SCOPES_VERBS[verb];
  if (email === undefined || email.trim() === '') return usageError('missing <email>', verbHelp(verb));
  if (scopes.length < spec.minScopes) return usageError('name at least one scope', verbHelp(verb));
  if (scopes.length > spec.maxScopes) return usageError(`unexpected argument "${scopes[0]}"`, verbHelp(verb));

  const unknown = scopes.filter((scope) => !isScopeName(scope));
  if (unknown.length > 0) {
    const names = unknown.map((scope) => `"${scope}"`).join(', ');
    return {
      kind: 'answer',
      code: EXIT.UNKNOWN_SCOPE,
      stderr: `admin: unknown scope ${names}. Valid scopes: ${SCOPE_NAMES.join(', ')}\n`,
    };
  }
  return { kind: 'scopes', verb, email: email.trim(), scopes: scopes.filter(isScopeName) };
}

/** Runs a scopes command on the database and returns the exit status. */
export async function runScopesCommand(command: ScopesCommand, io: AdminIo): Promise<number> {
  const { verb, scopes } = command;
  const email = normaliseEmail(command.email);
  const empNo = await findEmployeeNumberByEmail(io.db, email);
  if (empNo === undefined) {
    io.stderr.write(`admin: no employee has the email ${email}\n`);
    return EXIT.NO_SUCH_EMPLOYEE;
  }
  switch (verb) {
    case 'list': {
      const held = await findScopes(io.db, empNo);
      io.stdout.write(held.map((scope) => `${scope}\n`).join(''));
      return EXIT.OK;
    }
    case 'grant':
      await grantScopes(io.db, empNo, scopes);
      io.stdout.write(`Granted ${scopes.join(' ')} to ${email} (${empNo}). ${await describeScopes(io.db, empNo)}\n`);
      return EXIT.OK;
    case 'revoke': {
      const revoked = await revokeScopes(io.db, empNo, scopes);
      io.stdout.write(`Revoked ${revoked} of ${scopes.join(' ')} from ${email} (${empNo}). ${await describeScopes(io.db, empNo)}\n`);
      return EXIT.OK;
    }
    case 'set':
      await setScopes(io.db, empNo, scopes);
      io.stdout.write(`Set the scopes of ${email} (${empNo}). ${await describeScopes(io.db, empNo)}\n`);
      return EXIT.OK;
  }
}

/** The whole command line, in-process: what `npm run admin` does once the database is open. */
export async function runAdmin(argv: readonly string[], io: AdminIo): Promise<number> {
  const plan = planAdmin(argv);
  return plan.kind === 'answer' ? answer(plan, io) : runScopesCommand(plan, io);
}

async function describeScopes(db: Kysely<Database>, empNo: number): Promise<string> {
  const held = await findScopes(db, empNo);
  return `Scopes now: ${held.length > 0 ? held.join(' ') : '(none)'}.`;
}

function helpFor(words: readonly string[]): AdminPlan {
  const [group, verb] = words;
  if (group === undefined) return { kind: 'answer', code: EXIT.OK, stdout: GENERAL_HELP };
  if (group !== 'scopes') return usageError(`unknown command "${group}"`, GENERAL_HELP);
  if (verb === undefined) return { kind: 'answer', code: EXIT.OK, stdout: SCOPES_HELP };
  if (!isScopesVerb(verb)) return usageError(`unknown scopes verb "${verb}"`, SCOPES_HELP);
  return { kind: 'answer', code: EXIT.OK, stdout: verbHelp(verb) };
}

function usageError(problem: string, usage: string): AdminPlan {
  return { kind: 'answer', code: EXIT.USAGE, stderr: `admin: ${problem}\n\n${usage}` };
}

function answer(plan: { code: number; stdout?: string; stderr?: string }, io: Pick<AdminIo, 'stdout' | 'stderr'>): number {
  if (plan.stdout) io.stdout.write(plan.stdout);
  if (plan.stderr) io.stderr.write(plan.stderr);
  return plan.code;
}

function isScopesVerb(value: string): value is ScopesVerb {
  return Object.hasOwn(SCOPES_VERBS, value);
}

/** The process entry: settles the command line first, so that help and usage errors need no database. */
async function main(argv: readonly string[]): Promise<number> {
  const io = { stdout: process.stdout, stderr: process.stderr };
  const plan = planAdmin(argv);
  if (plan.kind === 'answer') return answer(plan, io);

  let config;
  try {
    if (existsSync('.env')) process.loadEnvFile('.env');
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`admin: ${error.message}\n`);
    return EXIT.CONFIG;
  }

  let database;
  try {
    database = await openDatabase(config.DATABASE_URL, { dataDir: config.DATA_DIR, seed: true });
  } catch (error) {
    io.stderr.write(`admin: cannot open the database: ${(error as Error).message}\n`);
    return isDatabaseOutage(error) ? EXIT.UNAVAILABLE : EXIT.SOFTWARE;
  }
  try {
    return await runScopesCommand(plan, { ...io, db: database.db });
  } catch (error) {
    io.stderr.write(`admin: ${(error as Error).message}\n`);
    return isDatabaseOutage(error) ? EXIT.UNAVAILABLE : EXIT.SOFTWARE;
  } finally {
    await database.close();
  }
}

// Run only as the program itself, not when a test imports runAdmin.
const entry = process.argv[1];
if (entry !== undefined && existsSync(entry) && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await main(process.argv.slice(2));
}
