/** GET /admin/me: the logged-in employee's own record (routes/admin.ts). */
import { Type } from '@fastify/type-provider-typebox';
import { errorRef, securedBy } from '../../http/schemas.js';

/** What a person may see of their own record: never the password hash (the original leaked it). */
const Me = Type.Object(
  {
    username: Type.String({ description: "The login email (this API's first name for it; the same as `email`)" }),
    email: Type.String({ description: "The login email (the original series' name for it, from v0.4)" }),
    emp_no: Type.Integer(),
    first_name: Type.String(),
    last_name: Type.String(),
    birth_date: Type.String({ format: 'date' }),
    gender: Type.String({ enum: ['M', 'F'] }),
    hire_date: Type.String({ format: 'date' }),
    scopes: Type.Array(Type.String(), { description: 'What this login may do' }),
  },
  { description: 'The logged-in employee (dates as yyyy-mm-dd)' },
);

export const MeSchema = {
  tags: ['employees'],
  summary: 'The logged-in employee',
  security: securedBy('user:read'),
  response: {
    200: {
      description: 'The logged-in employee as JSON, or the My details page for a browser',
      content: { 'application/json': { schema: Me }, 'text/html': { schema: Type.String() } },
    },
    401: errorRef('Not authenticated, or the token is invalid, expired or revoked'),
    403: errorRef('Not enough permissions (needs user:read)'),
    503: errorRef('The session store or the database is unavailable'),
  },
};
