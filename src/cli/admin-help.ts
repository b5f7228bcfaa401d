/**
 * What `npm run admin` offers and says about it: every command with its options and help text,
 * and the help pages built from them. The planner (admin-plan.ts) reads the command line against
 * this table; nothing here opens or runs anything.
 */
import { SCOPE_NAMES } from '../identity/scopes.js';
import { NEW_EMPLOYEE_OPTIONS, type NewEmployeeOption } from './account-commands.js';
import { AUDIT_TIME_HELP } from './audit-commands.js';

const PROGRAM = 'npm run admin --';

/** Every option any command takes; each command accepts only its own (and --help). */
export const OPTIONS = {
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
  since: { type: 'string' },
  until: { type: 'string' },
  output: { type: 'string' },
} as const;

export type OptionName = Exclude<keyof typeof OPTIONS, 'help'>;
export type OptionValues = Partial<Record<OptionName, string | boolean>>;

const SCOPES_NOTE = `Scopes: ${SCOPE_NAMES.join(', ')}.\nQuote 'super:*' in a shell.`;
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

export const EMPLOYEE_OPTION_NAMES = Object.keys(NEW_EMPLOYEE_OPTIONS) as NewEmployeeOption[];

/** Every command, in the order `help` lists them. A name is `<group> <verb>`, or `config` alone. */
export const COMMANDS = {
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
    notes: [
      'Every session of the person ends, and every token issued with one, as after a password change on the web; the number ended is printed.',
      PASSWORD_NOTE,
    ],
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
  'mfa reset': {
    arguments: '<emp-no|email>',
    summary: "Removes the person's second factor (authenticator app, recovery codes); ends their sessions and tokens.",
    notes: [
      'For someone who lost both their phone and their recovery codes: check who is asking first, out of band. Their next login sets up a new one where their permissions require it.',
      'Recorded in the audit trail as done by the operator (the operating-system user running the command).',
    ],
    options: [],
  },
  'scopes list': { arguments: '<email>', summary: "Prints the employee's scopes, one per line.", notes: [SCOPES_NOTE], options: [] },
  'scopes grant': {
    arguments: '<email> <scope...>',
    summary: 'Adds scopes; those already held stay as they are.',
    notes: [SCOPES_NOTE],
    options: [],
  },
  'scopes revoke': {
    arguments: '<email> <scope...>',
    summary: 'Takes scopes away; those not held are ignored.',
    notes: [SCOPES_NOTE],
    options: [],
  },
  'scopes set': {
    arguments: '<email> [scope...]',
    summary: "Makes these exactly the employee's scopes; none given: no scopes at all.",
    notes: [SCOPES_NOTE],
    options: [],
  },
  'audit export': {
    arguments: '--since <time> [--until <time>] [--output <file>]',
    synopsis: '--since <time> ...',
    summary: 'Writes the audit events of a time range as JSON lines, oldest first.',
    notes: [
      `--since (required) and --until (exclusive; default: now) take ${AUDIT_TIME_HELP}.`,
      "One event per line, in the shape of GET /api/audit's events. To stdout, or to --output <file> (created or replaced, readable by its owner only); the count goes to stderr, or to stdout with --output.",
    ],
    options: ['since', 'until', 'output'],
  },
  'audit prune': {
    arguments: '',
    summary: 'Deletes the audit events older than AUDIT_RETENTION_DAYS.',
    notes: [
      'In batches of 1,000 rows per statement; the pruning itself is recorded as an audit.prune event. AUDIT_RETENTION_DAYS=0 keeps everything. The server also prunes hourly.',
    ],
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

export type CommandName = keyof typeof COMMANDS;

/** Groups of several verbs have a help of their own; the others show their one command's help. */
const GROUPS: Record<string, { usage: string; notes: readonly string[] }> = {
  account: { usage: 'account <disable|enable> <email>', notes: [] },
  sessions: { usage: 'sessions <list|end> <email> [--json | --id <session-id>]', notes: [] },
  scopes: { usage: 'scopes <list|grant|revoke|set> <email> [scope...]', notes: [SCOPES_NOTE] },
  audit: { usage: 'audit <export|prune> [--since <time> [--until <time>] [--output <file>]]', notes: [] },
};

export function specOf(name: CommandName): CommandSpec {
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

export const GENERAL_HELP = [
  `Usage: ${PROGRAM} <command> [arguments]`,
  '',
  'Commands:',
  ...commandList(COMMAND_NAMES),
  `  ${'help [command]'.padEnd(LIST_WIDTH)}Shows the help of a command (also: <command> --help).`,
  '',
  SCOPES_NOTE,
  'The employee is named by email, in any case (`mfa reset` also by number). A password is typed at',
  'a prompt or piped on stdin, never given as an argument. DATABASE_URL, REDIS_URL, DATA_DIR and the',
  'other variables are read from the environment or .env, as the server reads them.',
  '',
  'Exit status: 0 done, 1 no such employee or session, 2 invalid value (scope, field, password),',
  '64 usage error, 69 database or session store unreachable, 70 other failure, 78 bad configuration.',
  '',
].join('\n');

export function groupOf(name: CommandName): string {
  return name.split(' ')[0]!;
}

export function verbsOf(group: string): CommandName[] {
  return COMMAND_NAMES.filter((name) => groupOf(name) === group);
}

export function commandHelp(name: CommandName): string {
  const spec = specOf(name);
  return [`Usage: ${PROGRAM} ${name} ${spec.arguments}`, '', spec.summary, '', ...spec.notes.flatMap((note) => [wrap(note), ''])].join(
    '\n',
  );
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

export function groupHelp(group: string): string {
  const names = verbsOf(group);
  const spec = GROUPS[group];
  if (spec === undefined) return commandHelp(names[0]!);
  return [`Usage: ${PROGRAM} ${spec.usage}`, '', ...commandList(names), '', ...spec.notes.flatMap((note) => [note, ''])].join('\n');
}

export function isCommandName(value: string): value is CommandName {
  return Object.hasOwn(COMMANDS, value);
}
