/**
 * The app's /admin/me, rebuilt one layer at a time from the app's own plugins (bench/ladder.ts
 * measures each rung): what each layer costs per request, independently of a profiler's sampling.
 *
 *   LADDER_LEVEL=N LADDER_PORT=... REDIS_URL=... DATA_DIR=... SECRET_KEY=... node --import tsx bench/ladder-server.ts
 *
 * Cumulative levels (0 is bench/fastify-floor.ts: a bare route doing one Redis GET):
 *   1  sessions + auth plugins: the `session` cookie through app.requireScopes('user:read')
 *      (SessionManager.validateToken: one GET, SHA-256 of the secret, the record's checks); the
 *      database plugin is registered (auth depends on it) but not queried; answers {emp_no, scopes}
 *   2  + @fastify/accepts and the app's own /admin/me route (routes/admin.ts): the employee row through Kysely (SQLite),
 *      content negotiation, the response schema
 *   3  + the security plugin: helmet's headers, the cross-site guard's preHandler
 *   4  + request id (genReqId, the x-request-id header), rewriteUrl, the error handler, metrics
 *   5  + the logger as the app configures it, at LOG_LEVEL=warn (nothing written per request)
 *   6  + LOG_LEVEL=info: two lines per request, as production runs
 * Level 6 is the app's request path for GET /admin/me minus what never runs for it (pages,
 * the API document, form bodies, the other routes).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import accepts from '@fastify/accepts';
import database from '../src/database/plugin.js';
import sessions from '../src/sessions/plugin.js';
import { RedisSessionStore } from '../src/sessions/redis-store.js';
import auth from '../src/auth/plugin.js';
import security from '../src/http/security.js';
import metrics from '../src/observability/metrics.js';
import { registerErrorHandling } from '../src/http/errors.js';
import { escapeStrayPercents } from '../src/http/lenient-url.js';
import { loggerOptions, requestIdHeader, requestIdOf, RequestLogController } from '../src/observability/logging.js';
import adminRoutes from '../src/routes/admin.js';
import { EmployeeJson, ErrorResponse, MessageResponse, SessionJson } from '../src/http/schemas.js';
import { seedIfEmpty } from '../src/sample-data/seed.js';

export const LADDER_LEVELS: Record<number, string> = {
  1: 'sessions + auth plugins (cookie → requireScopes)',
  2: '+ /admin/me route: employee row via Kysely, negotiation',
  3: '+ security plugin (helmet headers, cross-site guard)',
  4: '+ request id, rewriteUrl, error handler, metrics',
  5: '+ logger configured, LOG_LEVEL=warn',
  6: '+ LOG_LEVEL=info (2 lines per request)',
};

export async function buildLadder(level: number, env: NodeJS.ProcessEnv): Promise<FastifyInstance> {
  const logLevel = level >= 6 ? 'info' : 'warn';
  const options: FastifyServerOptions = {
    logger: level >= 5 ? loggerOptions({ LOG_LEVEL: logLevel }) : false,
    bodyLimit: 64 * 1024,
    requestTimeout: 30_000,
    ajv: { customOptions: { allErrors: true } },
  };
  if (level >= 5) options.logController = new RequestLogController();
  if (level >= 4) {
    options.genReqId = requestIdOf;
    options.rewriteUrl = (request) => escapeStrayPercents(request.url ?? '/');
  }
  const app: FastifyInstance = Fastify(options);
  for (const schema of [ErrorResponse, MessageResponse, EmployeeJson, SessionJson]) app.addSchema(schema);
  if (level >= 4) await app.register(requestIdHeader);
  if (level >= 2) await app.register(accepts);
  if (level >= 4) registerErrorHandling(app);
  await app.register(database, { databaseUrl: undefined, dataDir: env.DATA_DIR!, seed: seedIfEmpty });
  const store = new RedisSessionStore({ url: env.REDIS_URL!, keyPrefix: env.SESSION_KEY_PREFIX || 'starsessions.' });
  await app.register(sessions, { store, idleTimeoutSeconds: 1800, absoluteTimeoutSeconds: 28_800, cookieSecure: false });
  if (level >= 4) await app.register(metrics, { sessionStore: app.sessionStore, token: undefined, port: undefined, host: '127.0.0.1' });
  await app.register(auth, {
    secretKey: env.SECRET_KEY!,
    accessTokenTtlSeconds: 1800,
    throttle: { maxFailuresPerAccount: 10, maxFailuresPerClient: 100, windowSeconds: 900 },
    // The ladder prices password logins and bearer requests: nobody is asked for a second factor.
    mfaRequiredScopes: [],
  });
  if (level >= 3) await app.register(security, { publicOrigin: undefined, corsOrigins: [], secretKey: env.SECRET_KEY! });
  if (level >= 2) {
    await app.register(adminRoutes, { prefix: '/admin' });
  } else {
    app.get('/admin/me', { preHandler: app.requireScopes('user:read') }, async (request) => ({
      emp_no: request.user.empNo,
      scopes: request.user.scopes,
    }));
  }
  await app.ready();
  return app;
}

const entry = process.argv[1];
if (entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) {
  const app = await buildLadder(Number(process.env.LADDER_LEVEL ?? 6), process.env);
  await app.listen({ host: '127.0.0.1', port: Number(process.env.LADDER_PORT ?? 0) });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void app.close().then(() => process.exit(0));
    });
  }
}
