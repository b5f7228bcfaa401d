/**
 * Builds the app for a test exactly as production does (`buildApp` from a validated config), in a
 * private data folder, with a private session-key prefix when Redis is used, and cleans up after.
 * A test asks for one with `useApp(t, options)`; a suite that shares one app across its tests with
 * `useSuiteApp(options)`. Both close themselves: no test writes its own before/after for the app.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp, type BuildOptions } from '../../src/app.js';
import { loadConfig, type ResolvedConfig } from '../../src/config.js';
import { U1 } from './people.js';
import { SERVICE_URLS } from './services.js';

export type StoreKind = 'sqlite' | 'redis';
export const STORE_KINDS: StoreKind[] = ['sqlite', 'redis'];

export interface TestEnvironment {
  config: ResolvedConfig;
  dataDir: string;
  keyPrefix: string;
  /** Builds (another) app on this environment: same data folder, same store, same key. */
  start(options?: BuildOptions): Promise<FastifyInstance>;
  /** Closes every app started here and removes every trace (files, Redis keys). */
  cleanup(): Promise<void>;
}

/** A fresh environment for one suite. `env` overrides configuration variables. */
export function testEnvironment(store: StoreKind, env: Record<string, string> = {}): TestEnvironment {
  const dataDir = mkdtempSync(join(tmpdir(), 'ep-test-'));
  const keyPrefix = `ep-test:${randomBytes(6).toString('hex')}:`;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    SESSION_KEY_PREFIX: keyPrefix,
    SECRET_KEY: randomBytes(32).toString('hex'),
    // Production requires a second factor of admin:write and super:* (MFA_REQUIRED_SCOPES). The
    // suites that are not about it log administrators in with a password alone, as programs do
    // in one request; the second factor's own suites (test/auth/second-factor*.test.ts) pass
    // the production default back in through `env`.
    MFA_REQUIRED_SCOPES: '',
    ...(store === 'redis' ? { REDIS_URL: SERVICE_URLS.redis } : {}),
    ...env,
  }) as ResolvedConfig; // SECRET_KEY is always given above
  const apps: FastifyInstance[] = [];
  return {
    config,
    dataDir,
    keyPrefix,
    async start(options?: BuildOptions) {
      const app = await buildApp(config, options);
      apps.push(app);
      return app;
    },
    async cleanup() {
      await Promise.all(apps.map((app) => app.close()));
      if (config.REDIS_URL) await deleteRedisKeys(config.REDIS_URL, keyPrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface AppOptions {
  /** The session store (the embedded SQLite one unless told). */
  store?: StoreKind;
  /**
   * Configuration variables over the test defaults (`DATABASE_URL`, `LOGIN_MAX_FAILURES_PER_ACCOUNT` ...).
   * A function is read when the app is built: in a suite, after the `before` hooks above it, for
   * values they make (a private server's URL).
   */
  env?: Record<string, string> | (() => Record<string, string>);
  /** `buildApp`'s own options (a log stream to read). */
  build?: BuildOptions;
  /** Apps built on the one environment (two instances sharing a store); `apps[0]` is `app`. */
  instances?: number;
  /**
   * Close without failing the suite when closing fails: for suites that leave the store dead or
   * unreachable on purpose, where a refused QUIT at close says nothing about the code under test.
   */
  tolerateCloseErrors?: boolean;
}

export interface TestApp {
  app: FastifyInstance;
  /** Every app built for this fixture (`instances`), the first being `app`. */
  apps: FastifyInstance[];
  env: TestEnvironment;
}

async function buildTestApp(options: AppOptions): Promise<TestApp> {
  const env = testEnvironment(options.store ?? 'sqlite', typeof options.env === 'function' ? options.env() : options.env);
  const apps: FastifyInstance[] = [];
  try {
    for (let i = 0; i < (options.instances ?? 1); i++) apps.push(await env.start(options.build));
  } catch (error) {
    await env.cleanup().catch(() => undefined);
    throw error;
  }
  return { app: apps[0]!, apps, env };
}

async function closeTestApp(built: TestApp | undefined, options: AppOptions): Promise<void> {
  const closing = built?.env.cleanup();
  await (options.tolerateCloseErrors ? closing?.catch(() => undefined) : closing);
}

/**
 * One app for one test, built exactly as production builds it, and closed (every trace removed)
 * by the test itself when it ends, as fastify/demo's test helper does:
 * `const { app } = await useApp(t, { store: 'redis' })`.
 */
export async function useApp(t: TestContext, options: AppOptions = {}): Promise<TestApp> {
  const built = await buildTestApp(options);
  t.after(() => closeTestApp(built, options));
  return built;
}

/** `N` apps as a tuple, so that `const { apps: [first, second] } = useSuiteApp({ instances: 2 })` types both. */
type Apps<N extends number, Built extends FastifyInstance[] = []> = Built['length'] extends N
  ? Built
  : Apps<N, [...Built, FastifyInstance]>;

export interface SuiteApp<N extends number = 1> extends Omit<TestApp, 'apps'> {
  apps: Apps<N>;
  /** Closes `app` and builds it again on the same environment (same data, same store): a restart. */
  restart: () => Promise<void>;
}

/**
 * One app shared by the tests of a `describe`, built in its `before` hook and closed in its `after`
 * hook, which this registers: `const { app, env } = useSuiteApp({ store })` at the top of the suite.
 * The app is only built when the suite runs, so `app`, `apps` and `env` stand in for it: the tests
 * use them as they are (`app.inject(...)`), and a use outside a test or hook throws.
 */
export function useSuiteApp<const N extends number = 1>(options: AppOptions & { instances?: N } = {}): SuiteApp<N> {
  let built: TestApp | undefined;
  before(async () => {
    built = await buildTestApp(options);
  });
  after(() => closeTestApp(built, options));
  const current = (): TestApp => {
    if (!built) throw new Error("the suite's app is built in its before hook: use it inside a test or a hook");
    return built;
  };
  return {
    app: standIn(() => current().app),
    apps: Array.from({ length: options.instances ?? 1 }, (_, i) => standIn(() => current().apps[i]!)) as Apps<N>,
    env: {
      get config() {
        return current().env.config;
      },
      get dataDir() {
        return current().env.dataDir;
      },
      get keyPrefix() {
        return current().env.keyPrefix;
      },
      start: (buildOptions) => current().env.start(buildOptions),
      cleanup: () => current().env.cleanup(),
    },
    async restart() {
      const running = current();
      await running.app.close();
      running.app = running.apps[0] = await running.env.start(options.build);
    },
  };
}

/**
 * An object that forwards every use to the one `target()` returns at that moment. Hand-written (a
 * Proxy) because node:test has no suite-level fixture value: this lets a suite's tests read
 * `app.inject(...)` though the app only exists once the `before` hook has run.
 */
function standIn<T extends object>(target: () => T): T {
  return new Proxy({} as T, {
    get(_, key) {
      const real = target();
      const value: unknown = Reflect.get(real, key, real);
      return typeof value === 'function' ? value.bind(real) : value;
    },
    set: (_, key, value) => Reflect.set(target(), key, value),
    has: (_, key) => Reflect.has(target(), key),
  });
}

export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  // One try, no reconnect loop: a suite that points at a dead Redis has nothing to clean there.
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect().catch(() => undefined);
    if (redis.status !== 'ready') return;
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
export const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
export const API = { accept: 'application/json' };

export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/** The `session` cookie a response set (its value and attributes), or undefined. */
export function sessionCookieOf(response: LightMyRequestResponse) {
  return response.cookies.find((cookie) => cookie.name === 'session');
}

/** Logs in as a program and returns the session cookie value and the access token. */
export async function login(
  app: FastifyInstance,
  user: { username: string; password: string } = U1,
): Promise<{ cookie: string; token: string }> {
  const attempt = () =>
    app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...API },
      payload: form({ username: user.username, password: user.password }),
    });
  let response = await attempt();
  // The hashing gate (identity/passwords.ts) refuses a burst it cannot hash within 5 s with 429
  // LOGIN_BUSY and Retry-After, as a real client is told; a test that logs in 50 people at once
  // on a loaded 2-core machine does what such a client does: it comes back (a few times, soon).
  // The gate's own refusals are tested in test/security/g-faults/saturation.test.ts.
  const busy = () => response.statusCode === 429 && response.body.includes('Too many logins at this moment');
  for (let retry = 1; retry <= 10 && busy(); retry++) {
    await new Promise((resolve) => setTimeout(resolve, 200 * retry));
    response = await attempt();
  }
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  const cookie = sessionCookieOf(response)?.value;
  if (!cookie) throw new Error('login set no session cookie');
  return { cookie, token: response.json<{ access_token: string }>().access_token };
}
