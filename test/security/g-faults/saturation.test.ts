/**
 * Checklist group G, saturation (G-05): bursts of logins and searches beyond the hashing capacity.
 *
 * The other fault kinds are beside this file; docs/SECURITY.md lists them by checklist id.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceGate } from '../../helpers/services.js';
import { FORM, form, login, useSuiteApp } from '../../helpers/app.js';
import { percentile, timed } from '../support.js';
import { ADMIN, credentials, U2 } from '../../helpers/people.js';

describe('G-05 saturation', await serviceGate('redis'), () => {
  const { app } = useSuiteApp({ store: 'redis', env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_CLIENT: '100000' } });
  let admin: { cookie: string };
  before(async () => {
    admin = await login(app, ADMIN);
  });

  async function burst() {
    const probes: number[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const { ms } = await timed(() => app.inject({ method: 'GET', url: '/health' }));
        probes.push(ms);
        await sleep(10);
      }
    })();
    const rssBefore = process.memoryUsage().rss;
    const logins = Array.from({ length: 100 }, () =>
      timed(() => app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form(credentials(U2)) })),
    );
    const searches = Array.from({ length: 100 }, () =>
      app.inject({ method: 'GET', url: '/api/emp/search/%25a%25/%25', cookies: { session: admin.cookie } }),
    );
    const [loginResults, searchResults] = await Promise.all([Promise.all(logins), Promise.all(searches)]);
    probing = false;
    await prober;
    return { probes, loginResults, searchResults, rssGrowth: process.memoryUsage().rss - rssBefore };
  }

  let measured: Awaited<ReturnType<typeof burst>> | undefined;

  it('G-05 keeps memory bounded and /health fast under 100 concurrent logins and 100 searches, with no 5xx', async () => {
    measured = await burst();
    const { probes, loginResults, searchResults, rssGrowth } = measured;
    for (const { value } of loginResults) assert.ok([200, 429, 503].includes(value.statusCode), `login ${value.statusCode}`);
    for (const response of searchResults) assert.equal(response.statusCode, 200);
    // Hashing runs on libuv's four threads: at most four argon2 buffers (19 MiB) at once.
    assert.ok(rssGrowth < 300 * 1024 * 1024, `RSS grew by ${(rssGrowth / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(percentile(probes, 99) < 1000, `/health p99 ${percentile(probes, 99).toFixed(0)} ms`);
  });

  it('G-05 answers logins beyond the hashing capacity at once with 429 and Retry-After instead of queueing them', async () => {
    // Far more logins than the checks the server can finish within its 5 s waiting bound.
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 250 }, () =>
        timed(() => app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload: form(credentials(U2)) })),
      ),
    );
    const refused = results.filter(({ value }) => value.statusCode === 429);
    const served = results.filter(({ value }) => value.statusCode === 200);
    assert.equal(refused.length + served.length, 250, 'only 200 or 429');
    assert.ok(refused.length > 0, 'some logins were refused');
    assert.ok(served.length > 0, 'some logins were served');
    for (const { value } of refused) {
      assert.equal(value.headers['retry-after'], '1');
      assert.deepEqual(value.json(), { detail: 'Too many logins at this moment; try again in a second' });
    }
    const fastestRefusal = Math.min(...refused.map(({ ms }) => ms));
    assert.ok(fastestRefusal < 1000, `a refusal took ${fastestRefusal.toFixed(0)} ms`);
    const whole = performance.now() - started;
    assert.ok(whole < 15_000, `the burst took ${whole.toFixed(0)} ms: nothing piled up without bound`);
  });
});
