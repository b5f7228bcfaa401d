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
 *
 * Its phases, one file each: the commands and their help (admin-help.ts), the planner that reads
 * the command line into a plan without opening anything (admin-plan.ts), the runners per command
 * group (scope-commands.ts, account-commands.ts, session-commands.ts, audit-commands.ts, config-report.ts), and here
 * `main`, which opens what the plan needs, runs it and closes everything.
 */
import { existsSync, realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { openDatabase } from '../database/open.js';
import { seedIfEmpty } from '../sample-data/seed.js';
import { SessionStoreUnavailableError } from '../sessions/store.js';
import { runAccountCommand, runEmployeesCommand, runPasswordCommand } from './account-commands.js';
import { planAdmin, needsOf, type AdminCommand } from './admin-plan.js';
import { runConfigCommand } from './config-report.js';
import { runAuditCommand } from './audit-commands.js';
import { describeError, EXIT, isUnavailable, operatorName, type AdminIo } from './io.js';
import { openSessions, type OpenedSessions } from './resources.js';
import { runScopesCommand } from './scope-commands.js';
import { stdinSecretInput } from './secret-input.js';
import { runSessionsCommand } from './session-commands.js';
import { runMfaCommand } from './mfa-commands.js';

export { EXIT, type AdminIo, type Output } from './io.js';
export { planAdmin, needsOf, type AdminCommand, type AdminPlan } from './admin-plan.js';
export { runScopesCommand, type ScopesCommand } from './scope-commands.js';

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
    case 'mfa':
      return runMfaCommand(command, io);
    case 'config':
      return runConfigCommand(command, io);
    case 'audit':
      return runAuditCommand(command, io);
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
async function execute(
  command: AdminCommand,
  io: AdminIo,
  reason: (error: unknown) => string | undefined = () => undefined,
): Promise<number> {
  try {
    return await runCommand(command, io);
  } catch (error) {
    const why = reason(error);
    io.stderr.write(`admin: ${why ? `${(error as Error).message}: ${why}` : describeError(error)}\n`);
    return isUnavailable(error) ? EXIT.UNAVAILABLE : EXIT.SOFTWARE;
  }
}

function answer(plan: { code: number; stdout?: string; stderr?: string }, io: Pick<AdminIo, 'stdout' | 'stderr'>): number {
  if (plan.stdout) io.stdout.write(plan.stdout);
  if (plan.stderr) io.stderr.write(plan.stderr);
  return plan.code;
}

/**
 * The process entry: settles the command line first, so that help and usage errors need nothing
 * opened; then opens only what the command needs, and closes all of it before returning, so that
 * the process exits as soon as the command is done.
 */
async function main(argv: readonly string[]): Promise<number> {
  const operator = { actor: { kind: 'operator' as const, name: operatorName(userInfo().username, process.env.SUDO_USER) } };
  const io: AdminIo = { stdout: process.stdout, stderr: process.stderr, operator };
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
        const database = await openDatabase(config.DATABASE_URL, {
          dataDir: config.DATA_DIR,
          seed: config.SEED_SAMPLE_DATA ? seedIfEmpty : undefined,
        });
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
