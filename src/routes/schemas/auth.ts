/** The login page, the OAuth2 password endpoint and logout (routes/auth.ts). */
import { Type } from '@fastify/type-provider-typebox';
import { errorRef } from '../../http/schemas.js';

export const LoginForm = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 255, description: 'The employee email' }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    grant_type: Type.Optional(Type.String({ maxLength: 64, description: 'OAuth2: "password" if given' })),
    scope: Type.Optional(Type.String({ maxLength: 1024, description: 'OAuth2: space-separated scopes to narrow the login to' })),
    client_id: Type.Optional(Type.String({ maxLength: 255 })),
    client_secret: Type.Optional(Type.String({ maxLength: 255 })),
    next: Type.Optional(Type.String({ maxLength: 2048, description: 'Browser: a path on this site to open after login' })),
    totp: Type.Optional(
      Type.String({
        maxLength: 64,
        description:
          "The current 6-digit code of the account's authenticator app, when it has one (each code is accepted once). " +
          'Without it such an account gets 400 `mfa_required`. A recovery code is not accepted here: use the login page.',
      }),
    ),
  },
  { additionalProperties: true },
);

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the token expires' }),
  scope: Type.String({ description: 'The scopes the token carries, space-separated' }),
});

export const LoginPageQuery = Type.Object({
  state: Type.Optional(Type.String({ maxLength: 8, description: "The original series' message codes: 1, 2 or 3" })),
  next: Type.Optional(Type.String({ maxLength: 2048, description: 'A path on this site to open after login' })),
});

export const LoginPageSchema = {
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
};

export const LoginSchema = {
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
    303: Type.Null({
      description:
        'Browser: to the home page (or `next`), to the second step when a second factor is owed, or back to the login page on failure',
    }),
    400: errorRef(
      'Incorrect username or password (`invalid_grant`), a grant type other than password, a second factor owed: ' +
        '`mfa_required` (send `totp`), `mfa_enrolment_required` (set one up in a browser first), or a wrong or used `totp` (`invalid_grant`)',
    ),
    415: errorRef('Not a form body'),
    403: errorRef('Cross-site request refused'),
    409: errorRef("The account's sessions were all ended while this login was under way: log in again"),
    422: errorRef('A field is missing or malformed, or the password is over 72 bytes'),
    429: errorRef('Too many failed logins for this account or client: see Retry-After'),
    503: errorRef('The session store or the database is unavailable'),
  },
};

export const LogoutSchema = {
  tags: ['auth'],
  summary: 'Log out',
  description:
    'Ends the session named by the `session` cookie or, when it names no live session, by the bearer token, and with it every ' +
    'token of that session. A program (one that prefers JSON, and every `/api/logout`) gets a message; a ' +
    'browser is sent to the login page, which says it has logged out (POST/redirect/GET: a reload does not log out again).',
  response: {
    // JSON first: Swagger UI asks for the first type listed, and shows that answer.
    200: {
      description: 'Logged out, or there was no session to end',
      content: { 'application/json': { schema: Type.Ref('MessageResponse') } },
    },
    303: Type.Null({ description: 'Browser: to the login page with its notice' }),
    503: errorRef('The session store is unavailable'),
  },
};
