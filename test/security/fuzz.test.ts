/**
 * G-11: a short, deterministic fuzz run (a seeded PRNG, so a failure replays exactly) over the
 * login form, the Cookie header, the search path and query, and the maintenance form: random
 * bytes, invalid UTF-8, huge values, prototype-pollution keys. No answer may be a 5xx (no
 * dependency is down here), the process must stay up with bounded memory and event-loop lag, and
 * a normal login must work afterwards. `FUZZ_SEED=<n>` replays another seed.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { InjectOptions } from 'fastify';
import { serviceGate } from '../helpers/services.js';
import { FORM, login, useSuiteApp } from '../helpers/app.js';
import { ADMIN, U1, U2 } from '../helpers/people.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const CASES = 800;

/** mulberry32: tiny, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('G-11 fuzzing', await serviceGate('redis'), () => {
  // Throttling as in production, low per client so that random logins stay cheap; the fuzz
  // rotates over three client addresses.
  const { app } = useSuiteApp({ store: 'redis', env: { LOGIN_MAX_FAILURES_PER_CLIENT: '25' } });
  let adminCookie: string;
  let userCookie: string;

  before(async () => {
    adminCookie = (await login(app, ADMIN)).cookie;
    userCookie = (await login(app, U1)).cookie;
  });

  it('G-11 answers 800 random requests without a 5xx, keeps memory and event-loop lag bounded, and logs in after', async (t) => {
    const random = prng(SEED);
    const int = (max: number) => Math.floor(random() * max);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
    /** encodeURIComponent, which throws on a lone surrogate (sent raw as %ED%A0%80 elsewhere). */
    const encode = (value: string) => encodeURIComponent(value.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));
    const bytes = (length: number) => Buffer.from(Array.from({ length }, () => int(256)));
    const NASTY = [
      '',
      '%',
      '%%',
      '%00',
      '%C3%28',
      '%ED%A0%80',
      '%C0%AF',
      '%FF%FE',
      '\u0000',
      '\uFFFD',
      '\uD800',
      '🐎',
      'é',
      'e\u0301',
      "' OR '1'='1",
      '"; DROP TABLE employees;--',
      '\\',
      '_',
      '*',
      '../../etc/passwd',
      '<script>alert(1)</script>',
      '__proto__',
      'constructor',
      'prototype',
      '{{7*7}}',
      '${7*7}',
      'a'.repeat(300),
      'a'.repeat(70_000),
      '1e309',
      '-1',
      'NaN',
    ];
    const text = () => {
      switch (int(4)) {
        case 0:
          return pick(NASTY);
        case 1:
          return bytes(int(40)).toString('latin1');
        case 2:
          return Array.from({ length: int(5) }, () => pick(NASTY)).join(pick(['', '%', '&', '=', ' ']));
        default:
          return encode(bytes(int(30)).toString('utf8'));
      }
    };
    const rawForm = (keys: readonly string[]) => {
      const fields = Array.from(
        { length: 1 + int(6) },
        () => `${pick([...keys, ...keys, '__proto__[admin]', 'constructor[prototype][admin]', '__proto__', text()])}=${text()}`,
      );
      return random() < 0.2 ? Buffer.concat([Buffer.from(fields.join('&')), bytes(int(50))]) : fields.join('&');
    };
    const loginKeys = ['username', 'password', 'grant_type', 'scope', 'client_id', 'client_secret', '_csrf'];
    const formKeys = ['empNo', 'email', 'password', 'birthDate', 'firstName', 'lastName', 'gender', 'hireDate', '_csrf'];

    const generators: Array<() => InjectOptions> = [
      () => ({
        method: 'POST',
        url: pick(['/auth/token', '/api/login']),
        headers: { ...FORM, ...(random() < 0.3 ? { accept: 'text/html' } : {}) },
        payload: random() < 0.5 ? `username=${encode(text())}&password=${encode(text())}&${rawForm(loginKeys)}` : rawForm(loginKeys),
        remoteAddress: pick(['10.0.0.1', '10.0.0.2', '10.0.0.3']),
      }),
      () => ({
        method: pick(['GET', 'POST'] as const),
        url: pick(['/api/me', '/auth/home', '/', '/auth/logout', '/auth/sessions']),
        headers: {
          cookie: pick([
            `session=${text()}`,
            `session=${userCookie}; session=${text()}`,
            `${text()}=${text()}; session=${userCookie}`,
            bytes(int(60))
              .toString('latin1')
              .replace(/[\r\n\0]/g, ''),
          ]),
        },
      }),
      () => ({
        method: pick(['GET', 'POST'] as const),
        url: `/api/emp/search/${pick([encode(text()), text().replace(/[/?#\s]/g, ''), '%25' + encode(text())])}/${encode(text())}?${pick(['page', 'size', 'sort', '__proto__[x]'])}=${encode(text())}`,
        cookies: { session: adminCookie },
      }),
      () => ({
        method: 'GET',
        url: `/api/emp/search?last_name=${encode(text())}&first_name=${encode(text())}`,
        cookies: { session: adminCookie },
      }),
      () => ({
        method: 'POST',
        url: pick(['/api/emp/admin-save', '/api/emp/user-save', '/emp/admin-save']),
        headers: { ...FORM, ...(random() < 0.3 ? { accept: 'text/html' } : {}) },
        payload: rawForm(formKeys),
        cookies: { session: pick([adminCookie, userCookie]) },
      }),
      () => ({
        method: 'GET',
        url: `/api/emp/${pick(['admin-get-update', 'own-get-update', 'scopes', 'sessions'])}/${encode(text())}`,
        cookies: { session: adminCookie },
      }),
    ];

    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const rssBefore = process.memoryUsage().rss;
    const statuses = new Map<number, number>();
    let rejectedByClient = 0;
    const started = Date.now();
    for (let i = 0; i < CASES; i++) {
      const request = pick(generators)();
      let status: number;
      try {
        status = (await app.inject(request)).statusCode;
      } catch {
        rejectedByClient++; // light-my-request refused to send it (an invalid header value)
        continue;
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      assert.ok(status < 500, `case ${i} (seed ${SEED}): ${status} for ${request.method} ${String(request.url).slice(0, 120)}`);
    }
    lag.disable();
    const rssGrowth = (process.memoryUsage().rss - rssBefore) / rssBefore;
    t.diagnostic(
      `seed ${SEED}: ${JSON.stringify(Object.fromEntries(statuses))}, ${rejectedByClient} not sendable, ${Date.now() - started} ms, event-loop p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, RSS +${(rssGrowth * 100).toFixed(1)}%`,
    );
    assert.ok(rejectedByClient < CASES / 10);
    assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype pollution');
    assert.ok(lag.percentile(99) / 1e6 < 100, `event-loop lag p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms`);
    assert.ok(rssGrowth < 0.2, `RSS grew ${(rssGrowth * 100).toFixed(1)}%`);

    // The process is whole: the administrator's session still works (U1's may have been logged
    // out by a fuzzed POST /auth/logout, as it should), and a normal login does.
    assert.equal((await app.inject({ method: 'GET', url: '/api/me', cookies: { session: adminCookie } })).json().username, ADMIN.username);
    const fresh = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: FORM,
      remoteAddress: '10.0.0.99',
      payload: new URLSearchParams({ username: U2.username, password: U2.password }).toString(),
    });
    assert.equal(fresh.statusCode, 200);
  });
});
