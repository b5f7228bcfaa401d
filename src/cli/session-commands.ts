/**
 * `sessions list|end`: a person's live sessions in the store the configuration points at, through
 * the session manager (so the same expiry rules as the app: a session past its idle or absolute
 * deadline is not listed, whatever the store still holds).
 */
import type { Session } from '../sessions/session-manager.js';
import { recordAuditEvent } from '../audit/events.js';
import { count, EXIT, findEmployee, operatorContext, required, type AdminIo } from './io.js';

export type SessionsCommand =
  { kind: 'sessions'; verb: 'list'; email: string; json: boolean } | { kind: 'sessions'; verb: 'end'; email: string; id?: string };

const UNKNOWN_CLIENT = '(unknown)';

export async function runSessionsCommand(command: SessionsCommand, io: AdminIo): Promise<number> {
  const manager = required(io, 'sessions');
  const employee = await findEmployee(io, command.email);
  if (!employee) return EXIT.NOT_FOUND;
  const { empNo, email } = employee;
  const who = `${email} (${empNo})`;

  if (command.verb === 'list') {
    const sessions = await manager.listForEmployee(empNo);
    if (command.json) io.stdout.write(`${JSON.stringify(sessions.map(sessionJson), null, 2)}\n`);
    else io.stdout.write(sessions.length === 0 ? `${who} has no live sessions.\n` : sessionTable(sessions));
    return EXIT.OK;
  }

  // The sessions live in the store, not the database: each event is recorded right after the store answered.
  const audited = { outcome: 'success' as const, ...operatorContext(io), targetEmpNo: empNo };
  if (command.id === undefined) {
    const ended = await manager.endAllForEmployee(empNo);
    await recordAuditEvent(required(io, 'db'), { action: 'sessions.end_all', ...audited, detail: { ended } });
    io.stdout.write(`Ended ${count(ended, 'session')} of ${who}, and their tokens.\n`);
    return EXIT.OK;
  }
  // Only one of the person's own sessions, looked at without counting as activity: an id of someone
  // else's session is "not found" here too, and left as it was.
  const { id } = command;
  if (!(await manager.destroyOwned(id, empNo))) {
    io.stderr.write(`admin: ${who} has no live session with the id ${id}\n`);
    return EXIT.NOT_FOUND;
  }
  await recordAuditEvent(required(io, 'db'), { action: 'session.end', ...audited, detail: { session_id: id } });
  io.stdout.write(`Ended session ${id} of ${who}, and its tokens.\n`);
  return EXIT.OK;
}

/** The API's names (`GET /auth/sessions`), without `current`, which has no meaning here. */
function sessionJson(session: Session) {
  return {
    id: session.id,
    client: session.client ?? null,
    created_at: session.createdAt.toISOString(),
    last_seen_at: session.lastSeenAt.toISOString(),
    expires_at: session.expiresAt.toISOString(),
  };
}

function sessionTable(sessions: readonly Session[]): string {
  const rows = [
    ['ID', 'CLIENT', 'CREATED', 'LAST SEEN', 'EXPIRES'],
    ...sessions.map((session) => [
      session.id,
      session.client ?? UNKNOWN_CLIENT,
      time(session.createdAt),
      time(session.lastSeenAt),
      time(session.expiresAt),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

/** UTC, to the second: `2026-11-27T09:30:00Z`. */
function time(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
