/** /: the login page (the same as /auth/login), and the probes a load balancer or orchestrator asks. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { checkReadiness } from '../http/readiness.js';
import { showLoginPage } from '../pages/login-page.js';
import { LoginPageSchema } from './schemas/auth.js';
import { HealthSchema, ReadinessSchema } from './schemas/operations.js';

const rootRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', { schema: LoginPageSchema }, async (request, reply) => showLoginPage(request, reply, request.query));

  // Browsers ask for /favicon.ico on their own (Swagger UI's pages, JSON answers): no 404 for it.
  app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/static/favicon.svg', 301));

  app.get('/health', { schema: HealthSchema }, async () => ({ status: 'ok' as const }));

  app.get('/ready', { schema: ReadinessSchema }, async (request, reply) => {
    const report = await checkReadiness(app, request.log);
    reply.code(report.status === 'ready' ? 200 : 503);
    return report;
  });
};

export default rootRoutes;
