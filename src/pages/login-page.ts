/**
 * The login page, served at GET / and GET /auth/login. A logged-in browser goes home (or on to
 * `next`); a logged-in program is told so; anyone else gets the form, with a one-time message
 * saying why they are here.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { wantsHtml } from '../http/negotiation.js';
import { safeNextPath, takeLoginNotice } from './notices.js';

export const ALREADY_LOGGED_IN = 'Already logged in';

export async function showLoginPage(
  request: FastifyRequest,
  reply: FastifyReply,
  query: { state?: string | undefined; next?: string | undefined },
) {
  const principal = await request.identify(reply);
  if (principal?.via === 'session') {
    if (wantsHtml(request)) return reply.redirect(safeNextPath(query.next) ?? '/auth/home', 303);
    return { message: ALREADY_LOGGED_IN };
  }
  return reply.page('login.njk', { message: takeLoginNotice(request, reply, query.state), next: safeNextPath(query.next) });
}
