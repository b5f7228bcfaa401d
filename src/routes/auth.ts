/**
 * /auth: the login page, the OAuth2 password endpoint, logout and the home page. Thin: the
 * decisions live in AuthService (who may log in) and the session plugin (cookies).
 * The login and logout handlers are also served as /api/login and /api/logout (routes/api.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { findEmployeeByNumber } from '../employees/employee-repository.js';
import { prefersJson, wantsHtml } from '../http/negotiation.js';
import { errorRef } from '../http/schemas.js';
import { AppError, notAuthenticated } from '../errors.js';
import { bearerToken } from '../auth/plugin.js';
import type { LoginClient } from '../auth/auth-service.js';
import { clientLabel } from '../http/client-label.js';
import { LOGIN_NOTICES, redirectToLogin, safeNextPath, takeLoginNotice } from '../pages/notices.js';

export const ALREADY_LOGGED_IN = 'Already logged in';

/** Where a login comes from: the client address (as the trusted proxy settings resolve it) and a label. */
export function loginClient(request: FastifyRequest): LoginClient {
  return { address: request.ip, label: clientLabel(request.headers['user-agent'], loginChannel(request)) };
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

const LoginForm = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 255, description: 'The employee email' }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    grant_type: Type.Optional(Type.String({ maxLength: 64, description: 'OAuth2: "password" if given' })),
    scope: Type.Optional(
      Type.String({ maxLength: 1024, description: 'OAuth2: space-separated scopes to narrow the login to' }),
    ),
    client_id: Type.Optional(Type.String({ maxLength: 255 })),
    client_secret: Type.Optional(Type.String({ maxLength: 255 })),
    next: Type.Optional(Type.String({ maxLength: 2048, description: 'Browser: a path on this site to open after login' })),
  },
  { additionalProperties: true },
);

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the token expires' }),
  scope: Type.String({ description: 'The scopes the token carries, space-separated' }),
});

const LoginPageQuery = Type.Object({
  state: Type.Optional(Type.String({ maxLength: 8, description: "The original series' message codes: 1, 2 or 3" })),
  next: Type.Optional(Type.String({ maxLength: 2048, description: 'A path on this site to open after login' })),
});

/**
 * GET / and GET /auth/login. A logged-in browser goes home (or on to `next`); a logged-in program
 * is told so; anyone else gets the form, with a one-time message saying why they are here.
 */
async function showLoginPage(request: FastifyRequest, reply: FastifyReply) {
  const principal = await request.identify(reply);
  const { state, next } = request.query as Static<typeof LoginPageQuery>;
  if (principal?.via === 'session') {
    if (wantsHtml(request)) return reply.redirect(safeNextPath(next) ?? '/auth/home', 303);
    return { message: ALREADY_LOGGED_IN };
  }
  return reply.page('login.njk', { message: takeLoginNotice(request, reply, state), next: safeNextPath(next) });
}

export const loginPageRoute = {
  schema: {
    tags: ['auth'],
    summary: 'The login page',
    description:
      'A browser gets the login form (a logged-in one is sent home, or on to `next`); a program with a ' +
      'logged-in session cookie gets `{"message": "Already logged in"}`.',
    querystring: LoginPageQuery,
    response: {
      200: {
        description: 'The login page, or a message for a logged-in program',
        content: { 'text/html': { schema: Type.String() }, 'application/json': { schema: Type.Ref('MessageResponse') } },
      },
      303: Type.Null({ description: 'Browser already logged in: to the home page, or to `next`' }),
    },
  },
  handler: showLoginPage,
};

/** POST /auth/token ≡ POST /api/login. */
export function loginRoute(app: FastifyInstance) {
  return {
    schema: {
      tags: ['auth'],
      summary: 'Log in (OAuth2 password flow)',
      description:
        'Checks the credentials, opens a new session (the `session` cookie) and returns a bearer token bound to it. ' +
        'A browser posting the login form is sent to the home page instead.',
      consumes: ['application/x-www-form-urlencoded'],
      body: LoginForm,
      response: {
        200: Type.Union([TokenResponse, Type.Ref('MessageResponse')], {
          description: 'A bearer token, or `Already logged in` when the session already is',
        }),
        303: Type.Null({ description: 'Browser: to the home page, or back to the login page on failure' }),
        400: errorRef('Incorrect username or password, or a grant type other than password'),
        415: errorRef('Not a form body'),
        403: errorRef('Cross-site request refused'),
        409: errorRef("The account's sessions were all ended while this login was under way: log in again"),
        422: errorRef('A field is missing or malformed, or the password is over 72 bytes'),
        429: errorRef('Too many failed logins for this account or client: see Retry-After'),
        503: errorRef('The session store or the database is unavailable'),
      },
    },
    // OAuth2's token endpoint takes form bodies only (RFC 6749 §4.3.2); a JSON or text body is
    // refused before anything is parsed or checked (CS-CSRF "Disallowing simple content types").
    preValidation: async (request: FastifyRequest) => {
      if (!request.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
        throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the login as application/x-www-form-urlencoded');
      }
    },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const browser = wantsHtml(request);
      const { grant_type: grantType, next } = request.body as Static<typeof LoginForm>;
      const landing = safeNextPath(next) ?? '/auth/home';
      if (grantType !== undefined && grantType !== 'password') {
        throw new AppError(400, 'UNSUPPORTED_GRANT_TYPE', 'unsupported_grant_type: only the password grant is offered here');
      }
      const { username, password, scope } = request.body as Static<typeof LoginForm>;
      const current = await request.identify(reply);
      // The same person again: nothing to do. Someone else on this browser: a full login, after
      // which the first session ends (re-authentication rotates the session: ASVS 5.0 7.2.4).
      const previous = current?.via === 'session' ? current : undefined;
      if (previous && (await app.auth.isLoggedInAs(previous, username))) {
        if (browser) return reply.redirect(landing, 303);
        return { message: ALREADY_LOGGED_IN };
      }
      let result;
      try {
        result = await app.auth.login(username, password, loginClient(request), scope);
      } catch (error) {
        if (browser && (error as { code?: string }).code === 'INVALID_CREDENTIALS') {
          // The form again, with the email as typed: only the password has to be typed again.
          return reply.code(400).page('login.njk', {
            message: LOGIN_NOTICES['bad-credentials'],
            failed: true,
            email: username,
            next: safeNextPath(next),
          });
        }
        throw error;
      }
      if (previous) await app.auth.logout(previous.sessionId);
      request.log.info({ empNo: result.empNo }, 'logged in');
      reply.setSessionCookie(result.sessionToken);
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
  };
}

/** POST /auth/logout ≡ POST /api/logout. */
export function logoutRoute(app: FastifyInstance) {
  return {
    schema: {
      tags: ['auth'],
      summary: 'Log out',
      description:
        'Ends the session named by the `session` cookie or, when it names no live session, by the bearer token, and with it every ' +
        'token of that session. A program (one that prefers JSON, and every `/api/logout`) gets a message; a ' +
        'browser is sent to the login page, which says it has logged out (POST/redirect/GET: a reload does not log out again).',
      response: {
        // JSON first: Swagger UI asks for the first type listed, and shows that answer.
        200: { description: 'Logged out, or there was no session to end', content: { 'application/json': { schema: Type.Ref('MessageResponse') } } },
        303: Type.Null({ description: 'Browser: to the login page with its notice' }),
        503: errorRef('The session store is unavailable'),
      },
    },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      reply.header('cache-control', 'no-store');
      let sessionId: string | null = null;
      const cookieValue = request.sessionCookie();
      if (cookieValue !== undefined) {
        // Cleared first, so the browser drops it even when the store is down and this ends in 503.
        reply.clearSessionCookie();
        sessionId = (await app.auth.fromSessionToken(cookieValue))?.sessionId ?? null;
      }
      // A stale cookie beside a live bearer token must not make the logout end nothing.
      const token = sessionId === null ? bearerToken(request) : undefined;
      if (token) sessionId = await app.auth.sessionIdOfBearer(token);
      const ended = sessionId !== null && (await app.auth.logout(sessionId));
      if (ended) request.log.info('logged out');
      const notice = ended ? 'logged-out' : 'not-logged-in';
      if (prefersJson(request)) return reply.type('application/json; charset=utf-8').send({ message: LOGIN_NOTICES[notice] });
      return redirectToLogin(reply, notice);
    },
  };
}

const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/login', loginPageRoute);
  app.post('/token', loginRoute(app));
  app.post('/logout', logoutRoute(app));

  app.get('/home', { schema: { hide: true }, preHandler: app.requireUser }, async (request, reply) => {
    const employee = await findEmployeeByNumber(app.db, request.user.empNo);
    if (!employee) throw notAuthenticated('The account behind this session no longer exists');
    return reply.page('home.njk', { employee });
  });
};

export default authRoutes;
