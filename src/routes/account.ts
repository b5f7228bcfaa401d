/**
 * A person's own account: their live sessions (list, end one, end all) and their password.
 * Served under /auth (pages and JSON) and, JSON only, under /api (`config.api`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { wantsHtml } from '../http/negotiation.js';
import { isAppError } from '../http/errors.js';
import { loginClient, requestClient } from '../http/login-client.js';
import { sessionJson } from '../http/session-json.js';
import { recentActivity } from '../audit/trail.js';
import { redirectToLogin } from '../pages/notices.js';
import { askToConfirm, needsConfirmation } from '../pages/confirm.js';
import { ChangePasswordSchema, EndAllMySessionsSchema, EndMySessionSchema, MySessionsSchema } from './schemas/account.js';

/** After ending the session this request came through: the cookie goes, a browser goes to the login page. */
function leave<T>(reply: FastifyReply, request: FastifyRequest, notice: 'logged-out' | 'password-changed', json: T) {
  reply.clearSessionCookie();
  if (wantsHtml(request)) return redirectToLogin(reply, notice);
  return json;
}

const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const own = { preHandler: app.requireUser };

  app.get('/sessions', { ...own, config: { api: '/api/sessions' }, schema: MySessionsSchema }, async (request, reply) => {
    const sessions = (await app.auth.listSessions(request.user.empNo)).map((s) => sessionJson(s, request.user));
    if (wantsHtml(request)) {
      // People look for "this one" first; the JSON keeps the documented oldest-first order.
      const currentFirst = [...sessions].sort((a, b) => Number(b.current) - Number(a.current));
      // `ended` is the page's own notice after ending one (not part of the API).
      const { ended } = request.query as { ended?: string };
      const activity = await recentActivity(app.db, request.user.empNo);
      return reply.page('sessions.njk', { sessions: currentFirst, ended, activity });
    }
    return { sessions };
  });

  app.post(
    '/sessions/:session_id/end',
    { ...own, config: { api: '/api/sessions/:session_id/end' }, schema: EndMySessionSchema },
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
      await app.auth.endOwnSession(request.user, request.params.session_id, requestClient(request));
      const message = { message: 'Session ended' };
      if (current) return leave(reply, request, 'logged-out', message);
      if (wantsHtml(request)) return reply.redirect('/auth/sessions?ended=1', 303);
      return message;
    },
  );

  app.post(
    '/sessions/end-all',
    { ...own, config: { api: '/api/sessions/end-all' }, schema: EndAllMySessionsSchema },
    async (request, reply) => {
      if (needsConfirmation(request)) {
        return askToConfirm(request, reply, {
          question: 'End all your sessions?',
          consequence: 'You are logged out everywhere, here included, and every access token of yours stops working.',
          confirmLabel: 'End all my sessions',
          cancelUrl: '/auth/sessions',
        });
      }
      const ended = await app.auth.endAllSessions(request.user, requestClient(request));
      request.log.info({ sessionsEnded: ended }, 'ended all own sessions');
      return leave(reply, request, 'logged-out', { message: 'All your sessions have ended', ended });
    },
  );

  app.get('/password', { ...own, config: { api: '/api/password' }, schema: { hide: true } }, async (request, reply) => {
    if (wantsHtml(request)) return reply.page('password.njk', {});
    return { change: 'POST current_password and new_password (10 to 64 characters, at most 72 bytes)' };
  });

  app.post('/password', { ...own, config: { api: '/api/password' }, schema: ChangePasswordSchema }, async (request, reply) => {
    const { current_password: current, new_password: next } = request.body;
    try {
      const ended = await app.auth.changePassword(request.user, current, next, loginClient(request));
      return leave(reply, request, 'password-changed', { message: 'Password changed. Please log in again', ended });
    } catch (error) {
      if (isAppError(error, 422) && error.errors && wantsHtml(request)) {
        return reply.code(422).page('password.njk', { errors: error.errors, failed: true });
      }
      throw error;
    }
  });
};

export default accountRoutes;
