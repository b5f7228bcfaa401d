/**
 * Which real servers the tests can reach, and what to do when one is missing.
 *
 * A suite that needs Redis, MariaDB or PostgreSQL asks `serviceGate(name)` first. On a developer's
 * machine without that server the suite is skipped, and the skip says why. Under `CI=true` a
 * missing server is a failure: CI must never go green by skipping the real thing.
 */
import { Socket } from 'node:net';
import { it } from 'node:test';

export type ServiceName = 'redis' | 'mysql' | 'postgres';

/** Connection URLs for the servers this machine runs; each can be overridden from the environment. */
export const SERVICE_URLS: Record<ServiceName, string> = {
  redis: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  mysql: process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306',
  postgres: process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432',
};

const reachability = new Map<ServiceName, Promise<boolean>>();

function connectOnce(url: string, timeoutMs: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port), hostname.replace(/^\[|\]$/g, ''), () => done(true));
  });
}

/**
 * Asked more than once, patiently: on a loaded 2-core machine a test file's start can block its
 * event loop past a short timer, and a SYN dropped by a busy server's backlog is only resent after
 * a second. One missed probe must not turn a running server into a CI failure (it did once).
 */
async function canConnect(url: string): Promise<boolean> {
  const attempts = process.env.CI === 'true' ? 5 : 2;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    if (await connectOnce(url, 3000)) return true;
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

export function isReachable(name: ServiceName): Promise<boolean> {
  let probe = reachability.get(name);
  if (!probe) {
    probe = canConnect(SERVICE_URLS[name]);
    reachability.set(name, probe);
  }
  return probe;
}

/**
 * `{ skip: false }` when the server answers; `{ skip: reason }` on a developer machine without it.
 * Under CI=true a missing server also adds a failing test, so the run fails instead of skipping.
 * Spread the result into node:test's options: `describe('...', await serviceGate('redis'), ...)`.
 */
export async function serviceGate(...names: ServiceName[]): Promise<{ skip: string | false }> {
  for (const name of names) {
    if (await isReachable(name)) continue;
    const reason = `${name} is not reachable at ${SERVICE_URLS[name]}`;
    if (process.env.CI === 'true') {
      // A failing test of its own, so the report names the missing server plainly.
      it(`needs ${name}`, () => {
        throw new Error(`${reason}, and CI=true requires it (start it, or run without CI=true to skip)`);
      });
    } else {
      // Counted in the summary's "skipped", not only shown beside the suite.
      it(`needs ${name}`, { skip: reason }, () => {});
    }
    return { skip: reason };
  }
  return { skip: false };
}
