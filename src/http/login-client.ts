/**
 * Where a request comes from, as values the services take: a login's client (or a password
 * change's, which counts against the same throttle), any other request's, and who acts through it
 * (the audit trail's actor and client). The services never see the request itself.
 */
import type { FastifyRequest } from 'fastify';
import type { LoginClient } from '../auth/principal.js';
import { employeeActor, type AuditContext } from '../audit/events.js';
import { clientLabel } from './client-label.js';
import { wantsHtml } from './negotiation.js';

/** The client address (as the trusted proxy settings resolve it) and a label for "My sessions". */
export function loginClient(request: FastifyRequest): LoginClient {
  return { address: request.ip, label: clientLabel(request.headers['user-agent'], loginChannel(request)) };
}

/** Any other request's client: the address and the device, for the audit trail. */
export function requestClient(request: FastifyRequest): LoginClient {
  return { address: request.ip, label: clientLabel(request.headers['user-agent']) };
}

/** The signed-in person (and the session they came through) acting from this request's client. */
export function auditContextOf(request: FastifyRequest): AuditContext {
  return { actor: employeeActor(request.user), client: requestClient(request) };
}

/**
 * How a login was made, for "My sessions": the login page, Swagger UI (its calls come from /docs,
 * and the Referrer-Policy sends same-origin referers), or nothing to add (a program).
 */
function loginChannel(request: FastifyRequest): string | undefined {
  if (request.url.startsWith('/auth/password')) return undefined;
  const referer = request.headers.referer;
  let from: string | undefined;
  try {
    from = referer ? new URL(referer).pathname : undefined;
  } catch {
    from = undefined;
  }
  if (from?.startsWith('/docs')) return 'Swagger UI';
  return wantsHtml(request) ? 'login page' : undefined;
}
