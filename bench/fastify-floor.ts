/**
 * A reference between the baseline and the app: the baseline's work (read the `session` cookie,
 * ONE Redis GET of `<prefix><id>`, a small JSON answer or 401) done by a bare Fastify 5 route
 * with a response schema and nothing else: no plugins, no hooks, no logger. The gap between this
 * and bench/baseline.ts is the framework's own cost; the gap between this and the app is what the
 * app adds (sessions, security headers, logging, metrics, the database read, negotiation).
 *
 *   FLOOR_PORT=8001 REDIS_URL=redis://127.0.0.1:6379 node --import tsx bench/fastify-floor.ts
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { sessionIdOf } from './baseline.js';

const entry = process.argv[1];
if (entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) {
  const prefix = process.env.SESSION_KEY_PREFIX || 'starsessions.';
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1500,
    commandTimeout: 1000,
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  await redis.connect();
  const app = Fastify({ logger: false });
  app.get(
    '/admin/me',
    {
      schema: {
        response: {
          200: { type: 'object', properties: { emp_no: { type: 'integer' } } },
          401: { type: 'object', properties: { detail: { type: 'string' } } },
        },
      },
    },
    async (request, reply) => {
      const id = sessionIdOf(request.headers.cookie);
      const value = id === undefined ? null : await redis.get(prefix + id);
      if (value === null) return reply.code(401).send({ detail: 'Not authenticated' });
      return { emp_no: (JSON.parse(value) as { e: number }).e };
    },
  );
  await app.listen({ host: '127.0.0.1', port: Number(process.env.FLOOR_PORT ?? 0) });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void app
        .close()
        .then(() => redis.quit())
        .then(() => process.exit(0));
    });
  }
}
