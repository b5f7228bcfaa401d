/** A person's own account: sessions and password (routes/account.ts). */
import { Type } from '@fastify/type-provider-typebox';
import { errorRef, securedBy } from '../../http/schemas.js';
import { ACCOUNT_ERRORS } from './common.js';

export const MySessionsSchema = {
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
    ...ACCOUNT_ERRORS,
  },
};

export const EndMySessionSchema = {
  tags: ['auth'],
  summary: 'End one of my sessions',
  security: securedBy(),
  params: Type.Object({ session_id: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }) }),
  response: {
    200: Type.Ref('MessageResponse'),
    303: Type.Null({ description: 'Browser: back to My sessions (or to the login page for the current one)' }),
    404: errorRef('No such session of yours'),
    ...ACCOUNT_ERRORS,
  },
};

export const EndAllMySessionsSchema = {
  tags: ['auth'],
  summary: 'End all my sessions, this one included',
  security: securedBy(),
  response: {
    200: Type.Object({ message: Type.String(), ended: Type.Integer() }),
    303: Type.Null({ description: 'Browser: to the login page' }),
    ...ACCOUNT_ERRORS,
  },
};

export const ChangePasswordSchema = {
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
    ...ACCOUNT_ERRORS,
  },
};
