/**
 * /auth: the login page, the OAuth2 password endpoint, logout and the home page. Thin: the
 * decisions live in AuthService (who may log in) and the session plugin (cookies).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { prefersJson, wantsHtml } from '../http/negotiation.js';
import { isAppError } from '../http/errors.js';
import { loginClient, requestClient } from '../http/login-client.js';
import { ALREADY_LOGGED_IN, showLoginPage } from '../pages/login-page.js';
import { AppError } from '../errors.js';
import { bearerToken } from '../auth/plugin.js';
import { getSignedInEmployee } from '../employees/record-views.js';
import { LOGIN_NOTICES, redirectToLogin, safeNextPath } from '../pages/notices.js';
import { secondStepUrl } from '../pages/second-factor.js';
import { LoginPageSchema, LoginSchema, LogoutSchema } from './schemas/auth.js';

/**
 * OAuth2's token endpoint takes form bodies only (RFC 6749 §4.3.2); a JSON or text body is refused
 * before anything is parsed or checked (CS-CSRF "Disallowing simple content types").
 */
async function requireFormBody(request: FastifyRequest): Promise<void> {
  if (!request.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the login as application/x-www-form-urlencoded');
  }
}

const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/login', { schema: LoginPageSchema }, async (request, reply) => showLoginPage(request, reply, request.query));

  app.post(
    '/token',
    {
      config: { api: '/api/login', setsSession: true },
      schema: LoginSchema,
      preValidation: requireFormBody,
    },
    async (request, reply) => {
      const browser = wantsHtml(request);
      const { username, password, scope, grant_type: grantType, next, totp } = request.body;
      const landing = safeNextPath(next) ?? '/auth/home';
      if (grantType !== undefined && grantType !== 'password') {
        throw new AppError(400, 'UNSUPPORTED_GRANT_TYPE', 'unsupported_grant_type: only the password grant is offered here');
      }
      const current = await request.identify(reply);
      // The same person again: nothing to do. Someone else on this browser: a full login, after
      // which the first session ends (re-authentication rotates the session: ASVS 5.0 7.2.4).
      const previous = current?.via === 'session' ? current : undefined;
      if (previous && (await app.auth.isLoggedInAs(previous, username))) {
        if (browser) return reply.redirect(landing, 303);
        return { message: ALREADY_LOGGED_IN };
      }
      let result;
      const client = loginClient(request);
      try {
        // A browser can be led through a second step (a pending session); a program sends `totp`.
        result = await app.auth.login(username, password, client, scope, { code: totp, pendingAllowed: browser });
      } catch (error) {
        if (browser && isAppError(error) && error.code === 'INVALID_CREDENTIALS') {
          // The form again, with the email as typed: only the password has to be typed again.
          const again = { message: LOGIN_NOTICES['bad-credentials'], failed: true, email: username, next: safeNextPath(next) };
          return reply.code(400).page('login.njk', again);
        }
        throw error;
      }
      if (previous) await app.auth.logout(previous, client);
      reply.setSessionCookie(result.sessionToken);
      if (result.pending) {
        request.log.info({ empNo: result.empNo, owes: result.pending }, 'password accepted; second factor owed');
        return reply.redirect(secondStepUrl(result.pending, next), 303);
      }
      request.log.info({ empNo: result.empNo }, 'logged in');
      if (browser) return reply.redirect(landing, 303);
      // RFC 6749 §5.1: a token response is never cached, by HTTP/1.0 caches either.
      reply.header('pragma', 'no-cache');
      return {
        access_token: result.accessToken,
        token_type: 'bearer' as const,
        expires_in: result.expiresIn,
        scope: result.scopes.join(' '),
      };
    },
  );

  app.post('/logout', { config: { api: '/api/logout' }, schema: LogoutSchema }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    let holder: { empNo: number; sessionId: string } | null = null;
    const cookieValue = request.sessionCookie();
    if (cookieValue !== undefined) {
      // Cleared first, so the browser drops it even when the store is down and this ends in 503.
      reply.clearSessionCookie();
      holder = await app.auth.fromSessionToken(cookieValue);
    }
    // A stale cookie beside a live bearer token must not make the logout end nothing.
    const token = holder === null ? bearerToken(request) : undefined;
    if (token) holder = await app.auth.sessionOfBearer(token);
    const ended = holder !== null && (await app.auth.logout(holder, requestClient(request)));
    if (ended) request.log.info('logged out');
    const notice = ended ? 'logged-out' : 'not-logged-in';
    if (prefersJson(request)) return reply.type('application/json; charset=utf-8').send({ message: LOGIN_NOTICES[notice] });
    return redirectToLogin(reply, notice);
  });

  app.get('/home', { schema: { hide: true }, preHandler: app.requireUser }, async (request, reply) => {
    const employee = await getSignedInEmployee(app.db, request.user.empNo);
    return reply.page('home.njk', { employee });
  });
};

export default authRoutes;
