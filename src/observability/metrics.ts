/**
 * Prometheus metrics (prom-client), served as text on GET /metrics.
 *
 * Each app has its own Registry, never prom-client's global one: two apps in one process (tests,
 * or a future worker) must not share or clash over counters.
 *
 * What is measured, and where (docs/OPERATIONS.md says what to alert on):
 * - every request, by method, route pattern (never the raw URL: one series per route, not per
 *   employee searched) and status code: a counter and a latency histogram (onResponse hook);
 * - login outcomes on the routes that declare `setsSession` (POST /auth/token, /api/login), observed
 *   from the response (this plugin does not reach into the login code);
 * - throttled login attempts, counted by the throttle itself through `app.metrics.loginThrottled`;
 * - session store and database outages, counted by the central error handler through
 *   `app.metrics.countError`;
 * - live sessions, on scrape, where the store can count them cheaply;
 * - process and runtime metrics (CPU, memory, GC, event-loop lag) from prom-client's defaults.
 *
 * Access: anyone who can reach /metrics may read it, unless METRICS_TOKEN is set (then
 * `Authorization: Bearer <token>`, compared in constant time) or METRICS_PORT moves it to a
 * listener of its own, which `app.metrics.listen()` starts (server.ts calls it after the app's).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SessionStoreUnavailableError } from '../sessions/store.js';
import { isDatabaseOutage } from '../database/errors.js';

export const METRICS_PATH = '/metrics';
/** The route label of a request that matched no route (404s for any URL share one series). */
export const UNMATCHED_ROUTE = 'unmatched';
/** The routes that log in declare it (`config.setsSession`, http/route-config.ts), aliases included. */
const logsIn = (request: FastifyRequest) => request.routeOptions.config?.setsSession === true;
/** Seconds; from a static file (about a millisecond) to a login's argon2 check and a slow search. */
const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** The separate listener only ever answers one small GET; it need not wait for slow clients. */
const METRICS_LISTENER_TIMEOUT_MS = 10_000;

/**
 * What the metrics need of a session store. `countLive()` is optional: a store offers it only when
 * the count is cheap (an indexed count on SQLite). Redis offers none: counting `<prefix>*` keys
 * takes a SCAN of the whole keyspace, too slow to run on every scrape at scale, so there the
 * gauge is left out (docs/OPERATIONS.md).
 */
export interface CountableStore {
  readonly kind: string;
  countLive?(): Promise<number>;
}

export type LoginOutcome = 'success' | 'failure' | 'error';

export interface MetricsOptions {
  /** When set, a scrape must send `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** When set, /metrics is served on this port (0: any free one) by `listen()`, not by the app. */
  port?: number | undefined;
  /** The interface the separate listener binds to. */
  host: string;
  /** The session store: its `kind` labels the session metrics; `countLive()`, if it has one, feeds `sessions_live`. */
  sessionStore: CountableStore;
}

export interface AppMetrics {
  readonly registry: Registry;
  /** For the login throttle: one increment per attempt it refuses. */
  readonly loginThrottled: Counter;
  /** For the central error handler: counts the error when it is a session store or database outage. */
  countError(error: unknown): void;
  /** Starts the separate listener when a metrics port is configured; its address, or null when none is. */
  listen(): Promise<AddressInfo | null>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: AppMetrics;
  }
}

interface Scrape {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Constant-time comparison of a presented bearer token with the configured one (lengths may differ). */
function tokenMatches(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? '';
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

/** Whether the reply logs someone in: it sets a non-empty `session` cookie. */
function setsSessionCookie(reply: FastifyReply): boolean {
  const header = reply.getHeader('set-cookie');
  const cookies = Array.isArray(header) ? header : header === undefined ? [] : [String(header)];
  return cookies.some((cookie) => /^session=[^;]/.test(cookie));
}

/**
 * What a response of a login route says about the attempt; undefined when it was no attempt
 * (already logged in, a malformed form, a cross-site post) or was throttled (counted on its own).
 */
export function loginOutcomeOf(reply: FastifyReply, errorCode: string | undefined): LoginOutcome | undefined {
  const { statusCode } = reply;
  if (statusCode >= 500) return 'error';
  if (errorCode === 'INVALID_CREDENTIALS') return 'failure';
  if (errorCode !== undefined) return undefined;
  if (setsSessionCookie(reply)) return 'success';
  // A browser's wrong password: the route answers it itself, with the login form again (400).
  if (statusCode === 400) return 'failure';
  return undefined;
}

const REQUEST_LABELS = ['method', 'route', 'status_code'] as const;
type RequestLabel = (typeof REQUEST_LABELS)[number];

/** The app's metrics, registered in its own registry, each series at zero from the start. */
function createMetrics(store: CountableStore) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const labelNames = REQUEST_LABELS;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames,
    registers,
  });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, by method, route pattern and status code',
    labelNames,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers,
  });
  const logins = new Counter({
    name: 'auth_logins_total',
    help: 'Login attempts by outcome: success, failure (wrong username or password), error (5xx)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const loginThrottled = new Counter({
    name: 'auth_login_throttled_total',
    help: 'Login attempts refused by the throttle (429) before any password was checked',
    registers,
  });
  const storeErrors = new Counter({
    name: 'session_store_errors_total',
    help: 'Requests that failed because the session store was unavailable (answered 503)',
    labelNames: ['store'] as const,
    registers,
  });
  const databaseErrors = new Counter({
    name: 'database_errors_total',
    help: 'Requests that failed because the database was unavailable (answered 503)',
    registers,
  });
  // Zero from the start, so that rate() and alerts see the series before the first event.
  for (const outcome of ['success', 'failure', 'error'] as const) logins.inc({ outcome }, 0);
  storeErrors.inc({ store: store.kind }, 0);
  if (typeof store.countLive === 'function') addLiveSessionsGauge(registry, store);
  return { registry, requests, latency, logins, loginThrottled, storeErrors, databaseErrors };
}

type Metrics = ReturnType<typeof createMetrics>;

function addLiveSessionsGauge(registry: Registry, store: CountableStore): void {
  new Gauge({
    name: 'sessions_live',
    help: 'Sessions alive now (counted by the session store at scrape time)',
    labelNames: ['store'] as const,
    registers: [registry],
    async collect() {
      try {
        this.set({ store: store.kind }, await store.countLive!());
      } catch {
        // The store is down: report no sample rather than a stale one (the outage has its own metric).
        this.reset();
      }
    },
  });
}

/** Every request by route and status, and the login routes' outcomes, from the responses alone. */
function observeRequests(app: FastifyInstance, { requests, latency, logins }: Metrics): void {
  // The login routes' errors never reach onResponse; keep their codes for the outcome.
  const loginErrors = new WeakMap<FastifyRequest, string>();
  app.addHook('onError', async (request, _reply, error) => {
    if (logsIn(request)) loginErrors.set(request, String(error.code ?? ''));
  });

  // One pair of labelled series per method, route pattern and status, looked up by one string:
  // prom-client hashes a label object on every `inc`/`observe`, a few µs a request. The set is
  // bounded: Node's parser accepts only known methods, routes are patterns, statuses are few.
  const series = new Map<string, { count: Counter.Internal; time: Histogram.Internal<RequestLabel> }>();
  const seriesOf = (method: string, route: string, status: number) => {
    const key = `${method} ${status} ${route}`;
    let found = series.get(key);
    if (!found) {
      const labels = { method, route, status_code: String(status) };
      found = { count: requests.labels(labels), time: latency.labels(labels) };
      series.set(key, found);
    }
    return found;
  };

  // A callback hook, not an async one: nothing here waits, and a promise per request is not free.
  app.addHook('onResponse', (request, reply, done) => {
    const { count, time } = seriesOf(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode);
    count.inc();
    time.observe(reply.elapsedTime / 1000);
    if (request.method === 'POST' && logsIn(request)) {
      const outcome = loginOutcomeOf(reply, loginErrors.get(request));
      if (outcome) logins.inc({ outcome });
    }
    done();
  });
}

/** A scrape of `registry`, refused with 401 when a token is configured and not presented. */
function scraper(registry: Registry, token: string | undefined): (authorization: string | undefined) => Promise<Scrape> {
  return async (authorization): Promise<Scrape> => {
    if (token !== undefined && !tokenMatches(authorization, token)) {
      return {
        status: 401,
        headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer' },
        body: JSON.stringify({ detail: 'Not authenticated' }),
      };
    }
    return { status: 200, headers: { 'content-type': registry.contentType }, body: await registry.metrics() };
  };
}

/**
 * The separate listener of METRICS_PORT: `listen()` starts it (once) and gives its address, or null
 * when no port is configured; it closes with the app.
 */
function metricsListener(
  app: FastifyInstance,
  options: MetricsOptions,
  scrape: ReturnType<typeof scraper>,
): () => Promise<AddressInfo | null> {
  let server: Server | undefined;
  async function listen(): Promise<AddressInfo | null> {
    if (options.port === undefined) return null;
    if (server) return server.address() as AddressInfo;
    const listener = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end('{"detail":"Not found"}');
        return;
      }
      scrape(req.headers.authorization).then(
        (result) => res.writeHead(result.status, result.headers).end(result.body),
        (error: unknown) => {
          app.log.error({ err: error }, 'metrics scrape failed');
          res.writeHead(500).end();
        },
      );
    });
    listener.requestTimeout = METRICS_LISTENER_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(options.port, options.host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    server = listener;
    const address = listener.address() as AddressInfo;
    app.log.info({ address: address.address, port: address.port }, 'metrics listening');
    return address;
  }

  app.addHook('onClose', async () => {
    if (!server) return;
    const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
    server.closeAllConnections();
    await closing;
  });
  return listen;
}

export default fp<MetricsOptions>(
  async (app, options) => {
    const store = options.sessionStore;
    const metrics = createMetrics(store);
    observeRequests(app, metrics);
    const scrape = scraper(metrics.registry, options.token);

    if (options.port === undefined) {
      app.get(METRICS_PATH, { schema: { hide: true } }, async (request, reply) => {
        const result = await scrape(request.headers.authorization);
        return reply.code(result.status).headers(result.headers).send(result.body);
      });
    }

    app.decorate('metrics', {
      registry: metrics.registry,
      loginThrottled: metrics.loginThrottled,
      countError(error: unknown) {
        if (error instanceof SessionStoreUnavailableError) metrics.storeErrors.inc({ store: store.kind });
        else if (isDatabaseOutage(error)) metrics.databaseErrors.inc();
      },
      listen: metricsListener(app, options, scrape),
    } satisfies AppMetrics);
  },
  { name: 'metrics', fastify: '5.x' },
);
