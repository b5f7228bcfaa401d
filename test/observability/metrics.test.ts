/**
 * GET /metrics: what is counted after real requests, by route pattern; who may read it; the
 * separate listener; and the counters other rooms feed (throttle, error handler, store).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { SessionStoreUnavailableError } from '../../src/sessions/store.js';
import metrics from '../../src/observability/metrics.js';
import { API, BROWSER, FORM, form, login, useApp, useSuiteApp } from '../helpers/app.js';
import { U1 } from '../helpers/people.js';
import { NOT_AUTHENTICATED } from '../helpers/messages.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parseMetrics(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The value of the one sample with this name and (at least) these labels; undefined if none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  assert.ok(found.length <= 1, `one sample of ${name} ${JSON.stringify(labels)}, got ${found.length}`);
  return found[0]?.value;
}

async function scrape(app: FastifyInstance, headers: Record<string, string> = {}): Promise<Sample[]> {
  const response = await app.inject({ method: 'GET', url: '/metrics', headers });
  assert.equal(response.statusCode, 200, response.body);
  assert.match(response.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  return parseMetrics(response.body);
}

describe('metrics', () => {
  const { app, env } = useSuiteApp();

  it('counts requests and their latency by route pattern and status, never by raw URL', async () => {
    await app.inject({ method: 'GET', url: '/health' });
    await app.inject({ method: 'GET', url: '/health' });
    const { cookie } = await login(app);
    const search = await app.inject({ method: 'GET', url: '/emp/search/%25nas%25/%25an', cookies: { session: cookie }, headers: API });
    assert.equal(search.statusCode, 403); // the seed user has no admin:read; the status is what matters here
    await app.inject({ method: 'GET', url: '/no/such/page?id=42', headers: API });

    const samples = await scrape(app);
    const health = { method: 'GET', route: '/health', status_code: '200' };
    assert.equal(valueOf(samples, 'http_requests_total', health), 2);
    assert.equal(valueOf(samples, 'http_request_duration_seconds_count', health), 2);
    assert.equal(valueOf(samples, 'http_request_duration_seconds_bucket', { ...health, le: '+Inf' }), 2);
    assert.ok(valueOf(samples, 'http_request_duration_seconds_sum', health)! > 0);
    const searchLabels = { method: 'GET', route: '/emp/search/:last_name/:first_name', status_code: '403' };
    assert.equal(valueOf(samples, 'http_requests_total', searchLabels), 1);
    assert.equal(valueOf(samples, 'http_requests_total', { route: 'unmatched', status_code: '404' }), 1);
    assert.ok(!samples.some((sample) => /nas|no\/such/.test(sample.labels.route ?? '')), 'no raw URL as a label');
  });

  it('counts logins by outcome, for programs and browsers alike', async () => {
    const before = await scrape(app);
    const attempt = (password: string, headers: Record<string, string>, url = '/auth/token') =>
      app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, payload: form({ username: U1.username, password }) });
    assert.equal((await attempt(U1.password, API)).statusCode, 200);
    assert.equal((await attempt(U1.password, BROWSER)).statusCode, 303);
    assert.equal((await attempt(U1.password, {}, '/api/login')).statusCode, 200);
    assert.equal((await attempt('wrong-password', API)).statusCode, 400);
    assert.equal((await attempt('wrong-password', BROWSER)).statusCode, 400);
    // Not login attempts: a malformed form, and a session that is already logged in.
    assert.equal(
      (await app.inject({ method: 'POST', url: '/auth/token', headers: { ...FORM, ...API }, payload: 'username=x' })).statusCode,
      422,
    );
    const { cookie } = await login(app);
    const again = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...API },
      cookies: { session: cookie },
      payload: form({ username: U1.username, password: U1.password }),
    });
    assert.deepEqual(again.json(), { message: 'Already logged in' });

    const samples = await scrape(app);
    const delta = (outcome: string) =>
      valueOf(samples, 'auth_logins_total', { outcome })! - valueOf(before, 'auth_logins_total', { outcome })!;
    assert.equal(delta('success'), 4); // three above and the helper's login
    assert.equal(delta('failure'), 2);
    assert.equal(delta('error'), 0);
  });

  it('exposes the throttled-login counter for the throttle to increment', async () => {
    const before = valueOf(await scrape(app), 'auth_login_throttled_total');
    app.metrics.loginThrottled.inc();
    assert.equal(valueOf(await scrape(app), 'auth_login_throttled_total'), before! + 1);
  });

  it('reports event-loop lag and process metrics', async () => {
    const samples = await scrape(app);
    assert.ok(valueOf(samples, 'nodejs_eventloop_lag_seconds') !== undefined);
    assert.ok(valueOf(samples, 'nodejs_eventloop_lag_p99_seconds') !== undefined);
    assert.ok(valueOf(samples, 'process_resident_memory_bytes')! > 0);
  });

  it('keeps /metrics out of the API document', async () => {
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    assert.equal(document.paths['/metrics'], undefined);
  });

  it('keeps each app its own registry: a second app starts from zero', async () => {
    const second = await env.start();
    const samples = await scrape(second);
    assert.equal(valueOf(samples, 'http_requests_total', { route: '/health' }), undefined);
  });
});

describe('metrics of outages', () => {
  // Port 1 on loopback: nothing listens there, so the store is down from the start.
  const { app } = useSuiteApp({ store: 'redis', env: { REDIS_URL: 'redis://127.0.0.1:1' }, tolerateCloseErrors: true });

  it('counts requests that failed on the session store, and a login that could not complete', async () => {
    const session = `${'a'.repeat(22)}.${'b'.repeat(22)}`;
    assert.equal((await app.inject({ method: 'GET', url: '/admin/me', cookies: { session } })).statusCode, 503);
    const token = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: FORM,
      payload: form({ username: U1.username, password: U1.password }),
    });
    assert.equal(token.statusCode, 503);
    const samples = await scrape(app);
    assert.equal(valueOf(samples, 'session_store_errors_total', { store: 'redis' }), 2);
    assert.equal(valueOf(samples, 'database_errors_total'), 0);
    assert.equal(valueOf(samples, 'auth_logins_total', { outcome: 'error' }), 1);
    assert.equal(valueOf(samples, 'sessions_live'), undefined, 'Redis cannot count its sessions cheaply');
  });

  it('counts database outages the error handler classifies', async () => {
    app.metrics.countError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' }));
    app.metrics.countError(new Error('a bug, not an outage'));
    assert.equal(valueOf(await scrape(app), 'database_errors_total'), 1);
  });
});

describe('live sessions', () => {
  const apps: FastifyInstance[] = [];
  after(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  async function withStore(sessionStore: { kind: string; countLive?: () => Promise<number> }) {
    const app = Fastify();
    apps.push(app);
    await app.register(metrics, { sessionStore, host: '127.0.0.1' });
    await app.ready();
    return app;
  }

  it('are counted on scrape when the store can count them', async () => {
    let live = 3;
    const app = await withStore({ kind: 'sqlite', countLive: async () => live });
    assert.equal(valueOf(await scrape(app), 'sessions_live', { store: 'sqlite' }), 3);
    live = 5;
    assert.equal(valueOf(await scrape(app), 'sessions_live', { store: 'sqlite' }), 5);
  });

  it('are left out, not reported stale, while the store is down', async () => {
    const app = await withStore({
      kind: 'sqlite',
      countLive: async () => {
        throw new SessionStoreUnavailableError(new Error('disk gone'));
      },
    });
    assert.equal(valueOf(await scrape(app), 'sessions_live'), undefined);
  });
});

describe('protecting /metrics', () => {
  it('asks for the bearer token when METRICS_TOKEN is set', async (t) => {
    const token = 'metrics-token-0123456789';
    const { app } = await useApp(t, { env: { METRICS_TOKEN: token } });
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${token}`, `Bearer ${token}x`]) {
      const response = await app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
      assert.equal(response.statusCode, 401, String(authorization));
      assert.equal(response.headers['www-authenticate'], 'Bearer');
      assert.deepEqual(response.json(), NOT_AUTHENTICATED);
    }
    const samples = await scrape(app, { authorization: `Bearer ${token}` });
    assert.ok(valueOf(samples, 'auth_login_throttled_total') !== undefined);
  });

  it('serves /metrics on its own port only, when METRICS_PORT is set', async (t) => {
    const { app } = await useApp(t, { env: { METRICS_PORT: '0' } });
    assert.equal((await app.inject({ method: 'GET', url: '/metrics', headers: API })).statusCode, 404);
    await app.inject({ method: 'GET', url: '/health' });

    const address = await app.metrics.listen();
    assert.ok(address && address.port > 0);
    const base = `http://127.0.0.1:${address.port}`;
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    const samples = parseMetrics(await response.text());
    assert.equal(valueOf(samples, 'http_requests_total', { route: '/health', status_code: '200' }), 1);
    assert.equal((await fetch(`${base}/health`)).status, 404);
  });

  it('does not listen anywhere else without METRICS_PORT', async (t) => {
    const { app } = await useApp(t, { env: {} });
    assert.equal(await app.metrics.listen(), null);
  });
});
