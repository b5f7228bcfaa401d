/**
 * Builds the whole application from a validated config. Production (`server.ts`) and the tests call
 * this same function, so what is tested is what runs. It reads no environment and binds no port.
 *
 * Plugins load in a fixed order: HTTP basics, then external wiring (database, session store),
 * then the app's own services (auth), then pages, the API document and the routes.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import accepts from '@fastify/accepts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ResolvedConfig } from './config.js';
import { registerErrorHandling } from './http/errors.js';
import openapi from './http/openapi.js';
import database from './database/plugin.js';
import sessions from './sessions/plugin.js';
import { openSessionStore } from './sessions/open-store.js';
import auth from './auth/plugin.js';
import pages from './pages/plugin.js';
import security from './http/security.js';
import rootRoutes from './routes/root.js';
import authRoutes from './routes/auth.js';
import adminRoutes from './routes/admin.js';
import empRoutes from './routes/emp.js';
import apiRoutes from './routes/api.js';
import { escapeStrayPercents } from './http/lenient-url.js';

/** Limits that keep one slow or oversized client from holding the server (OWASP ASVS 13.x). */
const BODY_LIMIT_BYTES = 64 * 1024;
const REQUEST_TIMEOUT_MS = 30_000;

export async function buildApp(config: ResolvedConfig): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      // Credentials never reach the logs in clear.
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    },
    genReqId: () => randomUUID(),
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: REQUEST_TIMEOUT_MS,
    ajv: { customOptions: { allErrors: true } },
    rewriteUrl: (request) => escapeStrayPercents(request.url ?? '/'),
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(formbody);
  await app.register(accepts);
  registerErrorHandling(app);

  await app.register(database, { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  await app.register(sessions, {
    store: openSessionStore({
      redisUrl: config.REDIS_URL,
      keyPrefix: config.SESSION_KEY_PREFIX,
      sqlitePath: join(config.DATA_DIR, 'sessions.sqlite'),
      onError: (error) => app.log.warn({ err: error }, 'session store connection problem'),
    }),
    idleTimeoutSeconds: config.SESSION_IDLE_TIMEOUT_SECONDS,
    absoluteTimeoutSeconds: config.SESSION_ABSOLUTE_TIMEOUT_SECONDS,
    cookieSecure: config.COOKIE_SECURE,
  });
  await app.register(auth, {
    secretKey: config.SECRET_KEY,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_EXPIRE_SECONDS,
    throttle: {
      maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerClient: config.LOGIN_MAX_FAILURES_PER_CLIENT,
      windowSeconds: config.LOGIN_THROTTLE_WINDOW_SECONDS,
    },
  });
  await app.register(security, {
    publicOrigin: config.PUBLIC_ORIGIN,
    corsOrigins: config.CORS_ORIGINS?.split(',').map((origin) => origin.trim()) ?? [],
    secretKey: config.SECRET_KEY,
  });

  await app.register(pages);
  await app.register(openapi);

  await app.register(rootRoutes);
  await app.register(authRoutes, { prefix: '/auth' });
  await app.register(adminRoutes, { prefix: '/admin' });
  await app.register(empRoutes, { prefix: '/emp' });
  await app.register(apiRoutes, { prefix: '/api' });

  await app.ready();
  return app;
}
