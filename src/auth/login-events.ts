/**
 * The audit event of a completed login, shared by the password step (AuthService) and the second
 * step (SecondFactorService): a login the trail cannot record does not happen. The session lives
 * in the session store, which no database transaction spans, so the event is written right after
 * the session was created, and the session is undone when the event cannot be written (the outage
 * is then answered 503 like any other).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../database/schema.js';
import { employeeActor, recordAuditEvent, type AuditClient } from '../audit/events.js';
import type { SessionManager } from '../sessions/session-manager.js';

export async function recordLoginOrUndo(
  db: Kysely<Database>,
  sessions: SessionManager,
  login: { empNo: number; sessionId: string; client: AuditClient; detail?: Record<string, unknown> },
): Promise<void> {
  try {
    await recordAuditEvent(db, {
      action: 'login',
      outcome: 'success',
      actor: employeeActor({ empNo: login.empNo, sessionId: login.sessionId }),
      client: login.client,
      targetEmpNo: login.empNo,
      ...(login.detail ? { detail: login.detail } : {}),
    });
  } catch (error) {
    await sessions.destroy(login.sessionId).catch(() => undefined);
    throw error;
  }
}
