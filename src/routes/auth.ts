/**
 * /auth: the login page, the OAuth2 password endpoint, logout and the home page. Thin: the
 * decisions live in AuthService (who may log in) and the session plugin (cookies).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findEmployeeByNumber } from '../employees/employee-repository.js';
import { prefersHtml, prefersJson } from '../http/negotiation.js';
import { errorRef, messageRef } from '../http/schemas.js';
import { notAuthenticated } from '../http/errors.js';
import { bearerToken } from '../auth/plugin.js';

export const ALREADY_LOGGED_IN = 'Already logged in';
export const NOT_LOGGED_IN_BEFORE = 'This session has not been logged in before';
export const LOGGED_OUT = 'You have been logged out';

/** Messages the login page may show, chosen by `?state=` (fixed texts: nothing from the URL is echoed). */
export const LOGIN_PAGE_MESSAGES: Record<string, string> = {
  '1': NOT_LOGGED_IN_BEFORE,
  '2': 'Please log in to continue',
  '3': 'Incorrect username or password',
};

const LoginForm = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 255, description: 'The employee email' }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    grant_type: Type.Optional(Type.String({ pattern: '^password$', description: 'OAuth2: "password" if given' })),
    scope: Type.Optional(Type.String({ maxLength: 1024 })),
    client_id: Type.Optional(Type.String({ maxLength: 255 })),
    client_secret: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: true },
);

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the token expires' }),
});

/**
 * GET / and GET /auth/login. A logged-in browser goes home; a logged-in program is told so; anyone
 * else gets the form.
 */
export async function showLoginPage(
  request: FastifyRequest<{ Querystring: { state?: string } }>,
  reply: FastifyReply,
) {
  const principal = await request.identify(reply);
  if (principal?.via === 'session') {
    if (prefersHtml(request)) return reply.redirect('/auth/home', 303);
    return { message: ALREADY_LOGGED_IN };
  }
  const message = LOGIN_PAGE_MESSAGES[request.query.state ?? ''];
  return reply.type('text/html; charset=utf-8').view('login.njk', { message });
}

export const loginPageRouteOptions = {
  schema: {
    hide: true,
    querystring: Type.Object({ state: Type.Optional(Type.String({ maxLength: 8 })) }),
  },
} as const;

const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/login', loginPageRouteOptions, showLoginPage);

  app.post(
    '/token',
    {
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
          400: errorRef('Incorrect username or password'),
          422: errorRef('A field is missing or malformed'),
          503: errorRef('The session store or the database is unavailable'),
        },
      },
    },
    async (request, reply) => {
      const browser = prefersHtml(request);
      const current = await request.identify(reply);
      if (current?.via === 'session') {
        if (browser) return reply.redirect('/auth/home', 303);
        return { message: ALREADY_LOGGED_IN };
      }
      let result;
      try {
        result = await app.auth.login(request.body.username, request.body.password);
      } catch (error) {
        if (browser && (error as { code?: string }).code === 'INVALID_CREDENTIALS') {
          return reply.redirect('/auth/login?state=3', 303);
        }
        throw error;
      }
      request.log.info({ empNo: result.empNo }, 'logged in');
      reply.setSessionCookie(result.sessionToken);
      if (browser) return reply.redirect('/auth/home', 303);
      return { access_token: result.accessToken, token_type: 'bearer' as const, expires_in: result.expiresIn };
    },
  );

  app.post(
    '/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log out',
        description:
          'Ends the session named by the `session` cookie or, without one, by the bearer token, and with it every ' +
          'token of that session. Answers with the login page, or JSON when the client prefers it.',
        response: {
          200: {
            description: 'The login page (text/html), or a message (application/json)',
            content: {
              'text/html': { schema: Type.String() },
              'application/json': { schema: Type.Ref('MessageResponse') },
            },
          },
          503: errorRef('The session store is unavailable'),
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      let sessionId: string | null = null;
      const cookieValue = request.sessionCookie();
      if (cookieValue !== undefined) {
        sessionId = (await app.auth.fromSessionToken(cookieValue))?.sessionId ?? null;
        reply.clearSessionCookie();
      } else {
        const token = bearerToken(request);
        if (token) sessionId = await app.auth.sessionIdOfBearer(token);
      }
      const ended = sessionId !== null && (await app.auth.logout(sessionId));
      if (ended) request.log.info({ sessionEnded: true }, 'logged out');
      const message = ended ? LOGGED_OUT : NOT_LOGGED_IN_BEFORE;
      if (prefersJson(request)) return reply.type('application/json').send({ message });
      return reply.type('text/html; charset=utf-8').view('login.njk', { message });
    },
  );

  app.get('/home', { schema: { hide: true } }, async (request, reply) => {
    const principal = await request.identify(reply);
    if (!principal) {
      if (prefersHtml(request)) return reply.redirect('/auth/login?state=2', 303);
      await app.requireUser(request, reply); // throws the right 401 (no credentials, or a bad token)
    }
    const employee = await findEmployeeByNumber(app.db, principal!.empNo);
    if (!employee) throw notAuthenticated('The account behind this session no longer exists');
    return reply.type('text/html; charset=utf-8').view('home.njk', { employee });
  });
};

export default authRoutes;
