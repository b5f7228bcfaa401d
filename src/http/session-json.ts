/** A session as the API shows it (the `Session` schema of http/schemas.ts): never its secret. */
import type { Session } from '../sessions/session-manager.js';
import type { Principal } from '../auth/principal.js';

export function sessionJson(session: Session, current: Principal | undefined) {
  return {
    id: session.id,
    client: session.client ?? 'Unknown client',
    created_at: session.createdAt.toISOString(),
    last_seen_at: session.lastSeenAt.toISOString(),
    expires_at: session.expiresAt.toISOString(),
    current: current?.sessionId === session.id,
  };
}
