/**
 * The benchmark's floor: the least an "authenticated request with a session in Redis" can cost.
 *
 * A bare `node:http` server that, per request, reads the `session` cookie, does ONE Redis GET of
 * `<prefix><id>` (the app's cookie is `<id>.<secret>`; the store key is prefix + id) with ioredis,
 * configured as the app's store configures it, and answers a small JSON body: 200 with the
 * record's employee number, or 401 when the cookie is missing, malformed or names no session.
 * No framework, no secret check, no logging, no database: what any real app does on top of this
 * is its own cost, which is what the benchmark's ratios show.
 *
 * Without a Redis URL it is bare `node:http` answering the same small JSON without any I/O: the
 * machine's HTTP ceiling, for reference.
 *
 *   BASELINE_PORT=8000 REDIS_URL=redis://127.0.0.1:6379 SESSION_KEY_PREFIX=starsessions. \
 *     node --import tsx bench/baseline.ts
 *
 * Prints `listening on <port>` once it accepts connections; stops on SIGTERM/SIGINT.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

export interface BaselineOptions {
  /** Unset: bare node:http, no Redis at all. */
  redisUrl?: string | undefined;
  keyPrefix?: string;
  port?: number;
  host?: string;
}

export interface Baseline {
  server: Server;
  port: number;
  close(): Promise<void>;
}

const COOKIE = /(?:^|;\s*)session=([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{22}(?:;|$)/;
const UNAUTHORIZED = '{"detail":"Not authenticated"}';
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The session id in a `Cookie` header, or undefined (absent or not the app's shape). */
export function sessionIdOf(cookieHeader: string | undefined): string | undefined {
  return cookieHeader ? COOKIE.exec(cookieHeader)?.[1] : undefined;
}

export async function startBaseline(options: BaselineOptions = {}): Promise<Baseline> {
  const prefix = options.keyPrefix ?? 'starsessions.';
  const redis = options.redisUrl
    ? new Redis(options.redisUrl, {
        // As the app's store (src/sessions/redis-store.ts): no offline queue, short timeouts.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 1500,
        commandTimeout: 1000,
        lazyConnect: true,
      })
    : undefined;
  if (redis) {
    redis.on('error', () => undefined); // answered per request as 503
    await redis.connect();
  }

  const handler = redis
    ? (req: IncomingMessage, res: ServerResponse) => {
        const id = sessionIdOf(req.headers.cookie);
        if (id === undefined) return send(res, 401, UNAUTHORIZED);
        redis.get(prefix + id).then(
          (value) => {
            if (value === null) return send(res, 401, UNAUTHORIZED);
            let empNo: unknown;
            try {
              empNo = (JSON.parse(value) as { e?: unknown }).e;
            } catch {
              return send(res, 401, UNAUTHORIZED);
            }
            send(res, 200, JSON.stringify({ emp_no: empNo }));
          },
          () => send(res, 503, '{"detail":"The session store is unavailable"}'),
        );
      }
    : (_req: IncomingMessage, res: ServerResponse) => send(res, 200, '{"emp_no":0}');

  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

// Run as a program (the benchmark starts it in its own process, as the app runs in its own).
const entry = process.argv[1];
if (entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) {
  const baseline = await startBaseline({
    redisUrl: process.env.REDIS_URL || undefined,
    keyPrefix: process.env.SESSION_KEY_PREFIX || 'starsessions.',
    port: Number(process.env.BASELINE_PORT ?? 0),
  });
  console.log(`listening on ${baseline.port}${process.env.REDIS_URL ? '' : ' (bare, no Redis)'}`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void baseline.close().then(() => process.exit(0));
    });
  }
}
