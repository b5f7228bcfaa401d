/** /admin: the logged-in employee's own record ("My details"), also JSON only at /api/me. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { wantsHtml } from '../http/negotiation.js';
import { getMyDetails, getSignedInEmployee } from '../employees/record-views.js';
import { MeSchema } from './schemas/admin.js';

const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/me', { config: { api: '/api/me' }, preHandler: app.requireScopes('user:read'), schema: MeSchema }, async (request, reply) => {
    if (wantsHtml(request)) return reply.page('me.njk', await getMyDetails(app.db, request.user.empNo));
    const employee = await getSignedInEmployee(app.db, request.user.empNo);
    return { username: employee.email, ...employee, scopes: request.user.scopes };
  });
};

export default adminRoutes;
