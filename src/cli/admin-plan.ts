/**
 * The command line read without touching anything: help, usage errors and scope names are settled
 * here, into a plan (a command to run, or an answer needing nothing opened), and what each command
 * needs opened (`needsOf`).
 */
import { parseArgs } from 'node:util';
import { isScopeName, SCOPE_NAMES, splitScopeNames } from '../identity/scopes.js';
import {
  NEW_EMPLOYEE_OPTIONS,
  type AccountCommand,
  type EmployeesCommand,
  type NewEmployeeFields,
  type PasswordCommand,
} from './account-commands.js';
import {
  commandHelp,
  EMPLOYEE_OPTION_NAMES,
  GENERAL_HELP,
  groupHelp,
  groupOf,
  isCommandName,
  OPTIONS,
  specOf,
  verbsOf,
  type CommandName,
  type OptionName,
  type OptionValues,
} from './admin-help.js';
import type { ConfigCommand } from './config-report.js';
import { AUDIT_TIME_HELP, parseAuditBound, type AuditCommand } from './audit-commands.js';
import { EXIT, type Needs } from './io.js';
import type { ScopesCommand } from './scope-commands.js';
import type { SessionsCommand } from './session-commands.js';
import type { MfaCommand } from './mfa-commands.js';

export type AdminCommand =
  ScopesCommand | EmployeesCommand | PasswordCommand | AccountCommand | SessionsCommand | MfaCommand | ConfigCommand | AuditCommand;

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

  if (groupOf(name) === 'audit') return rest.length > 0 ? unexpected(rest) : planAudit(name, values, usage);

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
  if (name === 'mfa reset') {
    if (email === undefined || email.trim() === '') return usage('missing <emp-no|email>');
    return more.length > 0 ? unexpected(more) : { kind: 'mfa', verb: 'reset', who: email.trim() };
  }
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

function planAudit(name: CommandName, values: OptionValues, usage: (problem: string) => AdminPlan): AdminPlan {
  if (name === 'audit prune') return { kind: 'audit', verb: 'prune' };
  const now = new Date();
  const bound = (option: 'since' | 'until') => {
    const text = values[option];
    return typeof text === 'string' ? parseAuditBound(text, now) : undefined;
  };
  if (typeof values.since !== 'string') return usage('missing --since');
  const since = bound('since');
  if (!since) return usage(`--since must be ${AUDIT_TIME_HELP}`);
  const until = bound('until');
  if (typeof values.until === 'string' && !until) return usage(`--until must be ${AUDIT_TIME_HELP}`);
  if (until && until <= since) return usage('--until must be later than --since');
  if (typeof values.output === 'string' && values.output.trim() === '') return usage('--output needs a file name');
  return {
    kind: 'audit',
    verb: 'export',
    since,
    ...(until ? { until } : {}),
    ...(typeof values.output === 'string' ? { output: values.output } : {}),
  };
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
    case 'mfa':
      return { ...none, db: true, sessions: true };
    case 'config':
      return { ...none, config: true };
    case 'audit':
      return { ...none, db: true, config: command.verb === 'prune' };
  }
}

function helpFor(words: readonly string[]): AdminPlan {
  const [group, verb] = words;
  if (group === undefined) return { kind: 'answer', code: EXIT.OK, stdout: GENERAL_HELP };
  if (group === 'config') {
    return verb === undefined
      ? { kind: 'answer', code: EXIT.OK, stdout: commandHelp('config') }
      : usageError(`config has no verb "${verb}"`, commandHelp('config'));
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

/** "a", "a or b", "a, b or c". */
function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}
