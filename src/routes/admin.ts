/** /admin: the logged-in employee's own record ("My details"). Also served as /api/me (routes/api.ts). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findEmployeeByNumber } from '../employees/employee-repository.js';
import { getCurrentJob } from '../employees/history-service.js';
import { notAuthenticated } from '../errors.js';
import { wantsHtml } from '../http/negotiation.js';
import { errorRef, securedBy } from '../http/schemas.js';

/** What a person may see of their own record: never the password hash (the original leaked it). */
const Me = Type.Object(
  {
    username: Type.String({ description: 'The login email (this API\'s first name for it; the same as `email`)' }),
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

export function meRoute(app: FastifyInstance) {
  return {
    preHandler: app.requireScopes('user:read'),
    schema: {
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
    },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const employee = await findEmployeeByNumber(app.db, request.user.empNo);
      if (!employee) throw notAuthenticated('The account behind this session no longer exists');
      if (wantsHtml(request)) return reply.page('me.njk', { employee, job: await getCurrentJob(app.db, employee.emp_no) });
      return { username: employee.email, ...employee, scopes: request.user.scopes };
    },
  };
}

const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/me', meRoute(app));
};

export default adminRoutes;
