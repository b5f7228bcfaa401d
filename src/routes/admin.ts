/** /admin: the logged-in employee's own record. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findEmployeeByNumber } from '../employees/employee-repository.js';
import { notAuthenticated } from '../http/errors.js';
import { errorRef, PROTECTED } from '../http/schemas.js';

/** What a person may see of their own record: never the password hash (the original leaked it). */
const Me = Type.Object(
  {
  username: Type.String({ description: 'The login email' }),
  emp_no: Type.Integer(),
  first_name: Type.String(),
  last_name: Type.String(),
  birth_date: Type.String({ format: 'date' }),
  gender: Type.String({ enum: ['M', 'F'] }),
  hire_date: Type.String({ format: 'date' }),
  },
  { description: 'The logged-in employee (dates as yyyy-mm-dd)' },
);

const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/me',
    {
      preHandler: app.requireUser,
      schema: {
        tags: ['employees'],
        summary: 'The logged-in employee',
        security: PROTECTED,
        response: {
          200: Me,
          401: errorRef('Not authenticated, or the token is invalid, expired or revoked'),
          503: errorRef('The session store or the database is unavailable'),
        },
      },
    },
    async (request) => {
      const employee = await findEmployeeByNumber(app.db, request.user.empNo);
      if (!employee) throw notAuthenticated('The account behind this session no longer exists');
      const { email, ...rest } = employee;
      return { username: email, ...rest };
    },
  );
};

export default adminRoutes;
