/**
 * Builds the app for a test exactly as production does (`buildApp` from a validated config), in a
 * private data folder, with a private session-key prefix when Redis is used, and cleans up after.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  const response = await app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { ...FORM, ...API },
    payload: form({ username: user.username, password: user.password }),
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  const cookie = sessionCookieOf(response)?.value;
  if (!cookie) throw new Error('login set no session cookie');
  return { cookie, token: response.json<{ access_token: string }>().access_token };
}
