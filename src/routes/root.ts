/** /: the login page, and the probes a load balancer or orchestrator asks. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pingDatabase } from '../database/open.js';
import { loginPageRoute } from './auth.js';

const Health = Type.Object({ status: Type.Literal('ok') });
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  checks: Type.Object({
    sessionStore: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    database: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  }),
});

const rootRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', loginPageRoute);

  // Browsers ask for /favicon.ico on their own (Swagger UI's pages, JSON answers): no 404 for it.
  app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/static/favicon.svg', 301));

  app.get(
    '/health',
    { schema: { tags: ['operations'], summary: 'The process is alive', response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'The session store and the database both answer',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (request, reply) => {
      const outcome = async (check: Promise<unknown>) =>
        check.then(
          () => 'ok' as const,
          (error: unknown) => {
            request.log.warn({ err: error }, 'readiness check failed');
            return 'unavailable' as const;
          },
        );
      const [sessionStore, database] = await Promise.all([
        outcome(app.sessionStore.ping()),
        outcome(pingDatabase(app.db)),
      ]);
      const ready = sessionStore === 'ok' && database === 'ok';
      reply.code(ready ? 200 : 503);
      return { status: ready ? ('ready' as const) : ('unavailable' as const), checks: { sessionStore, database } };
    },
  );
};

export default rootRoutes;
