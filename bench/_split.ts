// ad hoc: split ladder rungs 2 and 3
import { realpathSync } from 'node:fs';
import Fastify from 'fastify';
import accepts from '@fastify/accepts';
import helmet from '@fastify/helmet';
import database from '../src/database/plugin.js';
import sessions from '../src/sessions/plugin.js';
import { RedisSessionStore } from '../src/sessions/redis-store.js';
import auth from '../src/auth/plugin.js';
import security from '../src/http/security.js';
import { meRoute } from '../src/routes/admin.js';
import { findEmployeeByNumber } from '../src/employees/employee-repository.js';
import { EmployeeJson, ErrorResponse, MessageResponse, SessionJson } from '../src/http/schemas.js';
const v = process.env.V!;
const env = process.env;
const app = Fastify({ logger: false });
for (const schema of [ErrorResponse, MessageResponse, EmployeeJson, SessionJson]) app.addSchema(schema);
await app.register(accepts);
await app.register(database, { databaseUrl: undefined, dataDir: env.DATA_DIR!, seed: true });
await app.register(sessions, { store: new RedisSessionStore({ url: env.REDIS_URL! }), idleTimeoutSeconds: 1800, absoluteTimeoutSeconds: 28800, cookieSecure: false });
await app.register(auth, { secretKey: env.SECRET_KEY!, accessTokenTtlSeconds: 1800, throttle: { maxFailuresPerAccount: 10, maxFailuresPerClient: 100, windowSeconds: 900 } });
const helmetOptions = { contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], fontSrc: ["'self'"], connectSrc: ["'self'"], objectSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'self'"], frameAncestors: ["'none'"] } }, referrerPolicy: { policy: 'same-origin' as const }, crossOriginEmbedderPolicy: false, strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true } };
if (v === 'helmet') await app.register(helmet, helmetOptions);
if (v === 'security') await app.register(security, { publicOrigin: undefined, corsOrigins: [], secretKey: env.SECRET_KEY! });
if (v === 'guard') app.addHook('preHandler', async (request) => { if (request.method === 'GET') return; });
if (v === 'kysely') {
  app.get('/admin/me', { preHandler: app.requireScopes('user:read') }, async (request) => findEmployeeByNumber(app.db, request.user.empNo));
} else if (v === 'noschema') {
  app.get('/admin/me', { preHandler: app.requireScopes('user:read') }, async (request) => ({ emp_no: request.user.empNo }));
} else {
  await app.register(async (admin) => admin.get('/me', meRoute(admin)), { prefix: '/admin' });
}
await app.listen({ host: '127.0.0.1', port: Number(env.PORT) });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
void realpathSync;
