/**
 * Builds the whole application from a validated config. Production (`server.ts`) and the tests call
 * this same function, so what is tested is what runs. It reads no environment and binds no port.
 *
 * Plugins load in a fixed order: HTTP basics, then external wiring (database, session store),
 * then the app's own services (auth), then pages, the API document and the routes.
 */
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import accepts from '@fastify/accepts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { relyingPartyOf, type ResolvedConfig } from './config.js';
import { registerErrorHandling } from './http/errors.js';
import { SCHEMA_FORMATS } from './http/schemas.js';
import openapi from './http/openapi.js';
import database from './database/plugin.js';
import { seedIfEmpty } from './sample-data/seed.js';
import sessions from './sessions/plugin.js';
import { openSessionStore, SESSIONS_SQLITE_FILE } from './sessions/open-store.js';
import auth from './auth/plugin.js';
import passkeys from './auth/passkeys-plugin.js';
import { parseRequiredScopes } from './identity/second-factor/policy.js';
import pages, { APP_TITLE } from './pages/plugin.js';
import security from './http/security.js';
import apiAliases from './http/route-config.js';
import rootRoutes from './routes/root.js';
import authRoutes from './routes/auth.js';
import adminRoutes from './routes/admin.js';
import accountRoutes from './routes/account.js';
import mfaRoutes from './routes/mfa.js';
import passkeyRoutes from './routes/passkeys.js';
import searchRoutes from './routes/emp/search.js';
import recordRoutes from './routes/emp/records.js';
import adminActionRoutes from './routes/emp/admin-actions.js';
import auditRoutes from './routes/audit.js';
import { scheduleAuditPruning } from './audit/retention.js';
import { escapeStrayPercents } from './http/lenient-url.js';
import { factoryOptions, http2Server, plainHttpWarning, transportOf } from './http/transport.js';
import { loggerOptions, type LogStream, requestIdHeader, requestIdOf, RequestLogController } from './observability/logging.js';
import metrics from './observability/metrics.js';
import { looseDirectoryWarning } from './private-files.js';

/** Limits that keep one slow or oversized client from holding the server (OWASP ASVS 13.x). */
const BODY_LIMIT_BYTES = 64 * 1024;
const REQUEST_TIMEOUT_MS = 30_000;

export interface BuildOptions {
  /** Where log lines go instead of stdout (tests capture them; server.ts may prettify them). */
  logStream?: LogStream | undefined;
  /**
   * Migrate (and seed) the database at start; the default. A cluster worker passes false: its
   * primary migrates once, and the worker serves 503 until the schema is current.
   */
  prepareDatabase?: boolean | undefined;
  /**
   * Prune the audit trail by AUDIT_RETENTION_DAYS, hourly; the default. Only one process may: a
   * cluster worker passes false, its primary prunes (server.ts).
   */
  pruneAuditTrail?: boolean | undefined;
}

export async function buildApp(config: ResolvedConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  // TLS files and TRUST_PROXY are checked here, before anything opens (ConfigError naming the variable).
  const transport = transportOf(config);
  const app = Fastify({
    ...factoryOptions(transport),
    logger: loggerOptions(config, options.logStream),
    logController: new RequestLogController(),
    genReqId: requestIdOf,
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: REQUEST_TIMEOUT_MS,
    ajv: { customOptions: { allErrors: true, formats: SCHEMA_FORMATS } },
    rewriteUrl: (request) => escapeStrayPercents(request.url ?? '/'),
  }).withTypeProvider<TypeBoxTypeProvider>();
  const insecure = plainHttpWarning(config, transport);
  if (insecure) app.log.warn(insecure);

  if (transport.tls) await app.register(http2Server, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
  await app.register(requestIdHeader);
  await app.register(formbody);
  await app.register(accepts);
  registerErrorHandling(app);

  await app.register(database, {
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    seed: config.SEED_SAMPLE_DATA ? seedIfEmpty : undefined,
    prepare: options.prepareDatabase ?? true,
  });
  await app.register(sessions, {
    store: openSessionStore({
      redisUrl: config.REDIS_URL,
      keyPrefix: config.SESSION_KEY_PREFIX,
      sqlitePath: join(config.DATA_DIR, SESSIONS_SQLITE_FILE),
      onError: (error) => app.log.warn({ err: error }, 'session store connection problem'),
    }),
    idleTimeoutSeconds: config.SESSION_IDLE_TIMEOUT_SECONDS,
    absoluteTimeoutSeconds: config.SESSION_ABSOLUTE_TIMEOUT_SECONDS,
    cookieSecure: config.COOKIE_SECURE,
  });
  // DATA_DIR holds the embedded database and session files when those are in use (private-files.ts).
  const looseDataDir = !config.DATABASE_URL || !config.REDIS_URL ? looseDirectoryWarning(config.DATA_DIR, 'DATA_DIR') : undefined;
  if (looseDataDir) app.log.warn(looseDataDir);
  await app.register(metrics, {
    sessionStore: app.sessionStore,
    token: config.METRICS_TOKEN,
    port: config.METRICS_PORT,
    host: config.HOST,
  });
  await app.register(auth, {
    secretKey: config.SECRET_KEY,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_EXPIRE_SECONDS,
    throttle: {
      maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerClient: config.LOGIN_MAX_FAILURES_PER_CLIENT,
      windowSeconds: config.LOGIN_THROTTLE_WINDOW_SECONDS,
    },
    // Checked by the config schema's pattern; the names are identity's.
    mfaRequiredScopes: parseRequiredScopes(config.MFA_REQUIRED_SCOPES),
  });
  const relyingParty = relyingPartyOf(config);
  await app.register(passkeys, {
    setup: 'unavailable' in relyingParty ? relyingParty : { id: relyingParty.rpId, name: APP_TITLE, origins: relyingParty.origins },
    secretKey: config.SECRET_KEY,
  });
  await app.register(security, {
    publicOrigin: config.PUBLIC_ORIGIN,
    corsOrigins: config.CORS_ORIGINS?.split(',').map((origin) => origin.trim()) ?? [],
    secretKey: config.SECRET_KEY,
  });

  await app.register(pages);
  await app.register(openapi);

  // Before the routes: it derives the JSON-only /api twin of each route declaring `config.api`.
  await app.register(apiAliases);
  // The folder (and file) is the URL prefix.
  await app.register(rootRoutes);
  await app.register(authRoutes, { prefix: '/auth' });
  await app.register(accountRoutes, { prefix: '/auth' });
  await app.register(mfaRoutes, { prefix: '/auth/mfa' });
  await app.register(passkeyRoutes, { prefix: '/auth/mfa/passkeys' });
  await app.register(adminRoutes, { prefix: '/admin' });
  await app.register(searchRoutes, { prefix: '/emp' });
  await app.register(recordRoutes, { prefix: '/emp' });
  await app.register(adminActionRoutes, { prefix: '/emp' });
  await app.register(auditRoutes, { prefix: '/audit' });

  if (options.pruneAuditTrail ?? true) {
    const pruning = scheduleAuditPruning(app.db, { retentionDays: config.AUDIT_RETENTION_DAYS, log: app.log });
    // Before the database closes (onClose), so that a pruning under way finishes on an open pool.
    app.addHook('preClose', () => pruning.stop());
  }

  await app.ready();
  return app;
}
