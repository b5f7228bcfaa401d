/**
 * Administration from the command line: `npm run admin -- <command>` (`help` lists the commands).
 * It opens the database the way the server does: `.env` if present, then the environment, through
 * the one config schema; migrated and, when empty, seeded. The commands that list or end sessions
 * open the session store the server uses (REDIS_URL, or the embedded file in DATA_DIR), and only
 * they do, so that a Redis outage does not stop a scope change.
 *
 * Exit status (io.ts): 0 done, 1 no such employee or session, 2 invalid value (scope, field,
 * password), 64 (EX_USAGE) bad command line, 69 (EX_UNAVAILABLE) database or session store
 * unreachable, 70 (EX_SOFTWARE) any other failure, 78 (EX_CONFIG) bad configuration.
 */
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { openDatabase } from '../database/open.js';
import { seedIfEmpty } from '../sample-data/seed.js';
import { isScopeName, SCOPE_NAMES, splitScopeNames, type ScopeName } from '../identity/scopes.js';
import { findScopes, grantScopes, revokeScopes, setScopes } from '../employees/scope-repository.js';
import { SessionStoreUnavailableError } from '../sessions/store.js';
import {
  NEW_EMPLOYEE_OPTIONS,
  runAccountCommand,
  runEmployeesCommand,
  runPasswordCommand,
  type AccountCommand,
  type EmployeesCommand,
  type NewEmployeeFields,
  type NewEmployeeOption,
  type PasswordCommand,
} from './account-commands.js';
import { runConfigCommand, type ConfigCommand } from './config-report.js';
import { describeError, EXIT, findEmployee, isUnavailable, required, type AdminIo, type Needs } from './io.js';
import { openSessions, type OpenedSessions } from './resources.js';
import { stdinSecretInput } from './secret-input.js';
import { runSessionsCommand, type SessionsCommand } from './session-commands.js';

export { EXIT, type AdminIo, type Output } from './io.js';

const PROGRAM = 'npm run admin --';

/** Every option any command takes; each command accepts only its own (and --help). */
const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  check: { type: 'boolean' },
  id: { type: 'string' },
  email: { type: 'string' },
  'first-name': { type: 'string' },
  'last-name': { type: 'string' },
  'birth-date': { type: 'string' },
  'hire-date': { type: 'string' },
  gender: { type: 'string' },
} as const;

type OptionName = Exclude<keyof typeof OPTIONS, 'help'>;
type OptionValues = Partial<Record<OptionName, string | boolean>>;

const SCOPES_NOTE = `Scopes: ${SCOPE_NAMES.join(', ')}. Quote 'super:*' in a shell.`;
const PASSWORD_NOTE = [
  'The password (10 to 64 characters, at most 72 bytes) is asked twice at a terminal, without',
  'being shown, or read from the first line of stdin when stdin is a pipe or a file. Never from the',
  'command line, where other users (ps) and the shell history would see it: --password is refused.',
].join('\n');

interface CommandSpec {
  /** What follows the command's name in its usage line. */
  arguments: string;
  /** The short form in the list of commands, when `arguments` is too long for it. */
  synopsis?: string;
  summary: string;
  /** Paragraphs of the command's own help, after the summary. */
  notes: readonly string[];
  /** The options it takes besides --help. */
  options: readonly OptionName[];
}

const EMPLOYEE_OPTION_NAMES = Object.keys(NEW_EMPLOYEE_OPTIONS) as NewEmployeeOption[];

/** Every command, in the order `help` lists them. A name is `<group> <verb>`, or `config` alone. */
const COMMANDS = {
  'employees create': {
    arguments: '--email <email> --first-name <name> --last-name <name> --birth-date <date> --hire-date <date> --gender <M|F>',
    synopsis: '--email <email> ...',
    summary: 'Creates an employee with a login; prints the new employee number.',
    notes: [
      [
        'Options, all required:',
        '  --email <email>       the login; stored in lower case; no other employee may have it',
        '  --first-name <name>   1 to 14 characters',
        '  --last-name <name>    1 to 16 characters',
        '  --birth-date <date>   dd/mm/yyyy or yyyy-mm-dd',
        '  --hire-date <date>    dd/mm/yyyy or yyyy-mm-dd, after the birth date',
        '  --gender <M|F>',
      ].join('\n'),
      'The new employee has the scope user:read, as one added on the web form; `scopes grant` adds more.',
      PASSWORD_NOTE,
    ],
    options: EMPLOYEE_OPTION_NAMES,
  },
  'password set': {
    arguments: '<email>',
    summary: "Sets a new password; ends the person's sessions and tokens.",
    notes: ["Every session of the person ends, and every token issued with one, as after a password change on the web; the number ended is printed.", PASSWORD_NOTE],
    options: [],
  },
  'account disable': {
    arguments: '<email>',
    summary: "Disables the login; ends the person's sessions and tokens.",
    notes: ['A disabled login is refused like a wrong password; the employee, their scopes and data stay. `account enable` undoes it.'],
    options: [],
  },
  'account enable': {
    arguments: '<email>',
    summary: 'Enables a disabled login again.',
    notes: [],
    options: [],
  },
  'sessions list': {
    arguments: '<email> [--json]',
    summary: "Lists the person's live sessions.",
    notes: [
      'One line per session, oldest first: id, client, created, last seen and expires (UTC, to the second).',
      '--json prints a JSON array of {id, client, created_at, last_seen_at, expires_at} instead (client: null when unknown).',
    ],
    options: ['json'],
  },
  'sessions end': {
    arguments: '<email> [--id <session-id>]',
    summary: "Ends one session, or all of the person's sessions, and their tokens.",
    notes: [
      "With --id, the session with that id (as `sessions list` shows it), if it is one of the person's; without, all of them. The tokens issued with a session end with it.",
      "An id that starts with '-' is given as --id=<session-id>.",
    ],
    options: ['id'],
  },
  'scopes list': { arguments: '<email>', summary: "Prints the employee's scopes, one per line.", notes: [SCOPES_NOTE], options: [] },
  'scopes grant': { arguments: '<email> <scope...>', summary: 'Adds scopes; those already held stay as they are.', notes: [SCOPES_NOTE], options: [] },
  'scopes revoke': { arguments: '<email> <scope...>', summary: 'Takes scopes away; those not held are ignored.', notes: [SCOPES_NOTE], options: [] },
  'scopes set': {
    arguments: '<email> [scope...]',
    summary: "Makes these exactly the employee's scopes; none given: no scopes at all.",
    notes: [SCOPES_NOTE],
    options: [],
  },
  config: {
    arguments: '[--check]',
    summary: 'Shows which database and session store the configuration points at.',
    notes: [
      'Also the data directory, the session key prefix, and whether SECRET_KEY is set. Never a password or a key: URLs are shown with their password masked.',
      '--check also connects to the database and the session store, and exits 69 when one does not answer.',
    ],
    options: ['check'],
  },
} as const satisfies Record<string, CommandSpec>;

type CommandName = keyof typeof COMMANDS;

/** Groups of several verbs have a help of their own; the others show their one command's help. */
const GROUPS: Record<string, { usage: string; notes: readonly string[] }> = {
  account: { usage: 'account <disable|enable> <email>', notes: [] },
  sessions: { usage: 'sessions <list|end> <email> [--json | --id <session-id>]', notes: [] },
  scopes: { usage: 'scopes <list|grant|revoke|set> <email> [scope...]', notes: [SCOPES_NOTE] },
};

function specOf(name: CommandName): CommandSpec {
  return COMMANDS[name];
}

function synopsisOf(name: CommandName): string {
  const spec = specOf(name);
  return `${name} ${spec.synopsis ?? spec.arguments}`;
}

const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
const LIST_WIDTH = Math.max(...COMMAND_NAMES.map((name) => synopsisOf(name).length), 'help [command]'.length) + 2;

function commandList(names: readonly CommandName[]): string[] {
  return names.map((name) => `  ${synopsisOf(name).padEnd(LIST_WIDTH)}${specOf(name).summary}`);
}

const GENERAL_HELP = [
  `Usage: ${PROGRAM} <command> [arguments]`,
  '',
  'Commands:',
  ...commandList(COMMAND_NAMES),
  `  ${'help [command]'.padEnd(LIST_WIDTH)}Shows the help of a command (also: <command> --help).`,
  '',
  SCOPES_NOTE,
  'The employee is named by email, in any case. A password is typed at a prompt or piped on stdin,',
  'never given as an argument. DATABASE_URL, REDIS_URL, DATA_DIR and the other variables are read',
  'from the environment or .env, as the server reads them.',
  '',
  'Exit status: 0 done, 1 no such employee or session, 2 invalid value (scope, field, password),',
  '64 usage error, 69 database or session store unreachable, 70 other failure, 78 bad configuration.',
  '',
].join('\n');

function groupOf(name: CommandName): string {
  return name.split(' ')[0]!;
}

function verbsOf(group: string): CommandName[] {
  return COMMAND_NAMES.filter((name) => groupOf(name) === group);
}

function commandHelp(name: CommandName): string {
  const spec = specOf(name);
  return [`Usage: ${PROGRAM} ${name} ${spec.arguments}`, '', spec.summary, '', ...spec.notes.flatMap((note) => [wrap(note), ''])].join('\n');
}

const HELP_WIDTH = 100;

/** A one-line paragraph folded at word boundaries to HELP_WIDTH; text already laid out in lines is kept as it is. */
function wrap(paragraph: string): string {
  if (paragraph.includes('\n')) return paragraph;
  const lines: string[] = [];
  let current = '';
  for (const word of paragraph.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > HELP_WIDTH) {
      lines.push(current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  return [...lines, current].join('\n');
}

function groupHelp(group: string): string {
  const names = verbsOf(group);
  const spec = GROUPS[group];
  if (spec === undefined) return commandHelp(names[0]!);
  return [`Usage: ${PROGRAM} ${spec.usage}`, '', ...commandList(names), '', ...spec.notes.flatMap((note) => [note, ''])].join('\n');
}

export interface ScopesCommand {
  kind: 'scopes';
  verb: 'list' | 'grant' | 'revoke' | 'set';
  email: string;
  scopes: ScopeName[];
}

export type AdminCommand = ScopesCommand | EmployeesCommand | PasswordCommand | AccountCommand | SessionsCommand | ConfigCommand;

/** What the command line asks for: a command to run, or an answer needing nothing opened. */
export type AdminPlan = AdminCommand | { kind: 'answer'; code: number; stdout?: string; stderr?: string };

const REFUSED_PASSWORD_OPTION = /^--password(=|$)/;

/** Reads the command line without touching anything: help, usage errors and scope names are settled here. */
export function planAdmin(argv: readonly string[]): AdminPlan {
  const end = argv.indexOf('--');
  if ((end === -1 ? argv : argv.slice(0, end)).some((arg) => REFUSED_PASSWORD_OPTION.test(arg))) {
    return {
      kind: 'answer',
      code: EXIT.USAGE,
      stderr:
        'admin: --password is refused: on the command line a password is visible to other users (ps) and is kept in\n' +
        'the shell history. Run the command at a terminal to be asked for it, or pipe it as the first line of stdin.\n' +
        'If you typed a real password, it is in your shell history now: choose another.\n',
    };
  }

  let help: boolean;
  let values: OptionValues;
  let words: string[];
  try {
    const parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    const { help: helpValue, ...rest } = parsed.values;
    help = helpValue === true;
    values = rest;
    words = parsed.positionals;
  } catch (error) {
    return usageError((error as Error).message, GENERAL_HELP);
  }

  if (words[0] === 'help') {
    if (help || words.length > 3) return usageError('help takes a command name only', GENERAL_HELP);
    return helpFor(words.slice(1));
  }
  if (help) return helpFor(words.slice(0, 2));

  const [group] = words;
  if (group === undefined) return usageError('missing command', GENERAL_HELP);
  const found = commandOf(words);
  if ('problem' in found) return found.problem;
  const { name, rest } = found;

  const misplaced = (Object.keys(values) as OptionName[]).filter((option) => !(specOf(name).options as readonly string[]).includes(option));
  if (misplaced.length > 0) return usageError(`${name} does not take --${misplaced[0]}`, commandHelp(name));
  return planCommand(name, rest, values);
}

/** The command the words name, and the words after its name. */
function commandOf(words: readonly string[]): { name: CommandName; rest: string[] } | { problem: AdminPlan } {
  const [group, verb, ...rest] = words;
  if (group === 'config') return { name: 'config', rest: words.slice(1) };
  const verbs = verbsOf(group ?? '');
  if (verbs.length === 0) return { problem: usageError(`unknown command "${group}"`, GENERAL_HELP) };
  const names = verbs.map((name) => name.split(' ')[1]!);
  if (verb === undefined) return { problem: usageError(`missing ${group} verb (${orList(names)})`, groupHelp(group!)) };
  const name = `${group} ${verb}`;
  if (!isCommandName(name)) return { problem: usageError(`unknown ${group} verb "${verb}"`, groupHelp(group!)) };
  return { name, rest };
}

function planCommand(name: CommandName, rest: readonly string[], values: OptionValues): AdminPlan {
  const usage = (problem: string) => usageError(problem, commandHelp(name));
  const unexpected = (words: readonly string[]) => usage(`unexpected argument "${words[0]}"`);

  if (name === 'config') return rest.length > 0 ? unexpected(rest) : { kind: 'config', check: values.check === true };

  if (name === 'employees create') {
    if (rest.length > 0) return unexpected(rest);
    const missing = EMPLOYEE_OPTION_NAMES.filter((option) => typeof values[option] !== 'string');
    if (missing.length > 0) return usage(`missing ${missing.map((option) => `--${option}`).join(', ')}`);
    const fields = Object.fromEntries(
      EMPLOYEE_OPTION_NAMES.map((option) => [NEW_EMPLOYEE_OPTIONS[option], values[option] as string]),
    ) as NewEmployeeFields;
    return { kind: 'employees', verb: 'create', fields };
  }

  const [email, ...more] = rest;
  if (email === undefined || email.trim() === '') return usage('missing <email>');

  if (groupOf(name) === 'scopes') return planScopes(name, email.trim(), more);
  if (more.length > 0) return unexpected(more);
  switch (name) {
    case 'password set':
      return { kind: 'password', verb: 'set', email: email.trim() };
    case 'account disable':
    case 'account enable':
      return { kind: 'account', verb: name === 'account disable' ? 'disable' : 'enable', email: email.trim() };
    case 'sessions list':
      return { kind: 'sessions', verb: 'list', email: email.trim(), json: values.json === true };
    case 'sessions end': {
      const id = values.id;
      if (typeof id === 'string' && id.trim() === '') return usage('--id needs a session id (as `sessions list` shows it)');
      return { kind: 'sessions', verb: 'end', email: email.trim(), ...(typeof id === 'string' ? { id: id.trim() } : {}) };
    }
    default:
      throw new Error(`no plan for "${name}"`);
  }
}

const SCOPE_COUNTS: Record<ScopesCommand['verb'], { min: number; max: number }> = {
  list: { min: 0, max: 0 },
  grant: { min: 1, max: Infinity },
  revoke: { min: 1, max: Infinity },
  set: { min: 0, max: Infinity },
};

function planScopes(name: CommandName, email: string, words: readonly string[]): AdminPlan {
  // One name per argument, or several in one quoted argument, separated as the web form's are.
  const scopes = splitScopeNames(words);
  const verb = name.split(' ')[1] as ScopesCommand['verb'];
  const { min, max } = SCOPE_COUNTS[verb];
  if (scopes.length < min) return usageError('name at least one scope', commandHelp(name));
  if (scopes.length > max) return usageError(`unexpected argument "${scopes[0]}"`, commandHelp(name));
  const unknown = scopes.filter((scope) => !isScopeName(scope));
  if (unknown.length > 0) {
    const names = unknown.map((scope) => `"${scope}"`).join(', ');
    return {
      kind: 'answer',
      code: EXIT.INVALID_VALUE,
      stderr: `admin: unknown scope ${names}. Valid scopes: ${SCOPE_NAMES.join(', ')}\n`,
    };
  }
  return { kind: 'scopes', verb, email, scopes: scopes.filter(isScopeName) };
}

/** What `npm run admin` opens for a command: nothing more, so that each needs only its own servers. */
export function needsOf(command: AdminCommand): Needs {
  const none: Needs = { db: false, sessions: false, secrets: false, config: false };
  switch (command.kind) {
    case 'scopes':
      return { ...none, db: true };
    case 'employees':
      return { ...none, db: true, secrets: true };
    case 'password':
      return { ...none, db: true, sessions: true, secrets: true };
    case 'account':
      return { ...none, db: true, sessions: command.verb === 'disable' };
    case 'sessions':
      return { ...none, db: true, sessions: true };
    case 'config':
      return { ...none, config: true };
  }
}

/** Runs a scopes command on the database and returns the exit status. */
export async function runScopesCommand(command: ScopesCommand, io: AdminIo): Promise<number> {
  const { verb, scopes } = command;
  const db = required(io, 'db');
  const employee = await findEmployee(io, command.email);
  if (!employee) return EXIT.NOT_FOUND;
  const { empNo, email } = employee;
  switch (verb) {
    case 'list': {
      const held = await findScopes(db, empNo);
      io.stdout.write(held.map((scope) => `${scope}\n`).join(''));
      return EXIT.OK;
    }
    case 'grant':
      await grantScopes(db, empNo, scopes);
      io.stdout.write(`Granted ${scopes.join(' ')} to ${email} (${empNo}). ${await describeScopes(io, empNo)}\n`);
      return EXIT.OK;
    case 'revoke': {
      const revoked = await revokeScopes(db, empNo, scopes);
      io.stdout.write(`Revoked ${revoked} of ${scopes.join(' ')} from ${email} (${empNo}). ${await describeScopes(io, empNo)}\n`);
      return EXIT.OK;
    }
    case 'set':
      await setScopes(db, empNo, scopes);
      io.stdout.write(`Set the scopes of ${email} (${empNo}). ${await describeScopes(io, empNo)}\n`);
      return EXIT.OK;
  }
}

/** Runs a planned command with what `io` provides. Errors (a server gone, a bug) are thrown. */
export function runCommand(command: AdminCommand, io: AdminIo): Promise<number> {
  switch (command.kind) {
    case 'scopes':
      return runScopesCommand(command, io);
    case 'employees':
      return runEmployeesCommand(command, io);
    case 'password':
      return runPasswordCommand(command, io);
    case 'account':
      return runAccountCommand(command, io);
    case 'sessions':
      return runSessionsCommand(command, io);
    case 'config':
      return runConfigCommand(command, io);
  }
}

/** The whole command line, in-process: what `npm run admin` does once it has opened what the command needs. */
export async function runAdmin(argv: readonly string[], io: AdminIo): Promise<number> {
  const plan = planAdmin(argv);
  return plan.kind === 'answer' ? answer(plan, io) : execute(plan, io);
}

/**
 * Runs the command; a failure is reported on stderr and answered 69 when a server is away, 70
 * otherwise. `reason` may explain an error better than its own message (why Redis is away).
 */
async function execute(command: AdminCommand, io: AdminIo, reason: (error: unknown) => string | undefined = () => undefined): Promise<number> {
  try {
    return await runCommand(command, io);
  } catch (error) {
    const why = reason(error);
    io.stderr.write(`admin: ${why ? `${(error as Error).message}: ${why}` : describeError(error)}\n`);
    return isUnavailable(error) ? EXIT.UNAVAILABLE : EXIT.SOFTWARE;
  }
}

async function describeScopes(io: AdminIo, empNo: number): Promise<string> {
  const held = await findScopes(required(io, 'db'), empNo);
  return `Scopes now: ${held.length > 0 ? held.join(' ') : '(none)'}.`;
}

function helpFor(words: readonly string[]): AdminPlan {
  const [group, verb] = words;
  if (group === undefined) return { kind: 'answer', code: EXIT.OK, stdout: GENERAL_HELP };
  if (group === 'config') {
    return verb === undefined ? { kind: 'answer', code: EXIT.OK, stdout: commandHelp('config') } : usageError(`config has no verb "${verb}"`, commandHelp('config'));
  }
  const verbs = verbsOf(group);
  if (verbs.length === 0) return usageError(`unknown command "${group}"`, GENERAL_HELP);
  if (verb === undefined) return { kind: 'answer', code: EXIT.OK, stdout: groupHelp(group) };
  const name = `${group} ${verb}`;
  if (!isCommandName(name)) return usageError(`unknown ${group} verb "${verb}"`, groupHelp(group));
  return { kind: 'answer', code: EXIT.OK, stdout: commandHelp(name) };
}

function usageError(problem: string, usage: string): AdminPlan {
  return { kind: 'answer', code: EXIT.USAGE, stderr: `admin: ${problem}\n\n${usage}` };
}

function answer(plan: { code: number; stdout?: string; stderr?: string }, io: Pick<AdminIo, 'stdout' | 'stderr'>): number {
  if (plan.stdout) io.stdout.write(plan.stdout);
  if (plan.stderr) io.stderr.write(plan.stderr);
  return plan.code;
}

function isCommandName(value: string): value is CommandName {
  return Object.hasOwn(COMMANDS, value);
}

/** "a", "a or b", "a, b or c". */
function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/**
 * The process entry: settles the command line first, so that help and usage errors need nothing
 * opened; then opens only what the command needs, and closes all of it before returning, so that
 * the process exits as soon as the command is done.
 */
async function main(argv: readonly string[]): Promise<number> {
  const io: AdminIo = { stdout: process.stdout, stderr: process.stderr };
  const plan = planAdmin(argv);
  if (plan.kind === 'answer') return answer(plan, io);

  let config: Config;
  try {
    if (existsSync('.env')) process.loadEnvFile('.env');
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`admin: ${error.message}\n`);
    return EXIT.CONFIG;
  }

  const needs = needsOf(plan);
  const closers: Array<() => Promise<unknown>> = [];
  let sessions: OpenedSessions | undefined;
  try {
    if (needs.config) io.config = config;
    if (needs.db) {
      try {
        const database = await openDatabase(config.DATABASE_URL, { dataDir: config.DATA_DIR, seed: config.SEED_SAMPLE_DATA ? seedIfEmpty : undefined });
        closers.push(() => database.close());
        io.db = database.db;
      } catch (error) {
        io.stderr.write(`admin: cannot open the database: ${describeError(error)}\n`);
        return isUnavailable(error) ? EXIT.UNAVAILABLE : EXIT.SOFTWARE;
      }
    }
    if (needs.sessions) {
      const opened = openSessions(config);
      sessions = opened;
      closers.push(() => opened.store.close());
      io.sessions = opened.manager;
    }
    if (needs.secrets) {
      io.secrets = stdinSecretInput(process.stdin, process.stderr);
      // Read or not, stdin must not hold the process open once the command is done.
      closers.push(async () => process.stdin.destroy());
    }
    return await execute(plan, io, (error) =>
      error instanceof SessionStoreUnavailableError ? sessions?.lastConnectionError()?.message : undefined,
    );
  } catch (error) {
    // Opening the session store itself (an SQLite file that cannot be created, say).
    io.stderr.write(`admin: ${describeError(error)}\n`);
    return isUnavailable(error) ? EXIT.UNAVAILABLE : EXIT.SOFTWARE;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

// Run only as the program itself, not when a test imports runAdmin.
const entry = process.argv[1];
if (entry !== undefined && existsSync(entry) && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await main(process.argv.slice(2));
}
