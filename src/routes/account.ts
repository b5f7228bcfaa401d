/**
 * A person's own account: their live sessions (list, end one, end all) and their password.
 * Served under /auth (pages and JSON) and /api (JSON only).
 */
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type FastifyPluginAsyncTypebox, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Session } from '../sessions/session-manager.js';
import type { Principal } from '../auth/auth-service.js';
import { wantsHtml } from '../http/negotiation.js';
import { errorRef, securedBy } from '../http/schemas.js';
import { redirectToLogin } from '../pages/notices.js';
import { askToConfirm, needsConfirmation } from '../pages/confirm.js';
import { loginClient } from './auth.js';

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

const COMMON_ERRORS = {
  401: errorRef('Not authenticated, or the token is invalid, expired or revoked'),
  403: errorRef('Cross-site request refused'),
  503: errorRef('The session store or the database is unavailable'),
};

/** After ending the session this request came through: the cookie goes, a browser goes to the login page. */
function leave(reply: FastifyReply, request: FastifyRequest, notice: 'logged-out' | 'password-changed', json: unknown) {
  reply.clearSessionCookie();
  if (wantsHtml(request)) return redirectToLogin(reply, notice);
  return json;
}

export function registerAccountRoutes(app: FastifyInstance, config: FastifyContextConfig = {}) {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/sessions',
    {
      config,
      preHandler: app.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'My live sessions',
        security: securedBy(),
        response: {
          200: {
            description: 'The sessions, oldest first, or the My sessions page',
            content: {
              'application/json': { schema: Type.Object({ sessions: Type.Array(Type.Ref('Session')) }) },
              'text/html': { schema: Type.String() },
            },
          },
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const sessions = (await app.auth.listSessions(request.user.empNo)).map((s) => sessionJson(s, request.user));
      if (wantsHtml(request)) {
        // People look for "this one" first; the JSON keeps the documented oldest-first order.
        const currentFirst = [...sessions].sort((a, b) => Number(b.current) - Number(a.current));
        return reply.page('sessions.njk', { sessions: currentFirst, ended: (request.query as { ended?: string }).ended });
      }
      return { sessions };
    },
  );

  typed.post(
    '/sessions/:session_id/end',
    {
      config,
      preHandler: app.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'End one of my sessions',
        security: securedBy(),
        params: Type.Object({ session_id: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }) }),
        response: {
          200: Type.Ref('MessageResponse'),
          303: Type.Null({ description: 'Browser: back to My sessions (or to the login page for the current one)' }),
          404: errorRef('No such session of yours'),
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const current = request.params.session_id === request.user.sessionId;
      if (needsConfirmation(request)) {
        return askToConfirm(request, reply, {
          question: current ? 'End this session?' : 'End that session?',
          consequence: current
            ? 'You are using this session: ending it logs you out here.'
            : 'Whoever uses it is logged out there at once, and its access tokens stop working.',
          confirmLabel: 'End the session',
          cancelUrl: '/auth/sessions',
        });
      }
      await app.auth.endOwnSession(request.user.empNo, request.params.session_id);
      const message = { message: 'Session ended' };
      if (request.params.session_id === request.user.sessionId) return leave(reply, request, 'logged-out', message);
      if (wantsHtml(request)) return reply.redirect('/auth/sessions?ended=1', 303);
      return message;
    },
  );

  typed.post(
    '/sessions/end-all',
    {
      config,
      preHandler: app.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'End all my sessions, this one included',
        security: securedBy(),
        response: {
          200: Type.Object({ message: Type.String(), ended: Type.Integer() }),
          303: Type.Null({ description: 'Browser: to the login page' }),
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) => {
      if (needsConfirmation(request)) {
        return askToConfirm(request, reply, {
          question: 'End all your sessions?',
          consequence: 'You are logged out everywhere, here included, and every access token of yours stops working.',
          confirmLabel: 'End all my sessions',
          cancelUrl: '/auth/sessions',
        });
      }
      const ended = await app.auth.endAllSessions(request.user.empNo);
      request.log.info({ sessionsEnded: ended }, 'ended all own sessions');
      return leave(reply, request, 'logged-out', { message: 'All your sessions have ended', ended });
    },
  );

  typed.get(
    '/password',
    { config, preHandler: app.requireUser, schema: { hide: true } },
    async (request, reply) => {
      if (wantsHtml(request)) return reply.page('password.njk', {});
      return { change: 'POST current_password and new_password (10 to 64 characters, at most 72 bytes)' };
    },
  );

  typed.post(
    '/password',
    {
      config,
      preHandler: app.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'Change my password',
        description: 'Checks the current password, stores the new one, and ends every session of yours, this one included.',
        security: securedBy(),
        consumes: ['application/x-www-form-urlencoded'],
        body: Type.Object({
          current_password: Type.String({ minLength: 1, maxLength: 1024 }),
          new_password: Type.String({ maxLength: 1024 }),
        }),
        response: {
          200: Type.Object({ message: Type.String(), ended: Type.Integer() }),
          303: Type.Null({ description: 'Browser: to the login page' }),
          422: errorRef('The current password is wrong, or the new one does not fit the rules'),
          429: errorRef('Too many wrong current passwords: see Retry-After'),
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const { current_password: current, new_password: next } = request.body;
      try {
        const ended = await app.auth.changePassword(request.user.empNo, current, next, loginClient(request));
        return leave(reply, request, 'password-changed', { message: 'Password changed. Please log in again', ended });
      } catch (error) {
        const errors = (error as { statusCode?: number; errors?: unknown }).statusCode === 422 ? (error as { errors?: unknown }).errors : undefined;
        if (errors && wantsHtml(request)) return reply.code(422).page('password.njk', { errors, failed: true });
        throw error;
      }
    },
  );
}

const accountRoutes: FastifyPluginAsyncTypebox = async (app) => registerAccountRoutes(app);
export default accountRoutes;
