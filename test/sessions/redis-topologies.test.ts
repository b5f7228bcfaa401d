/**
 * Sessions on the Redis people run at scale: a three-node Redis Cluster and a Sentinel-watched
 * primary with a replica. Two app instances share each; a Sentinel failover is survived.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { parseRedisUrl } from '../../src/sessions/redis-client.js';
import { serviceGate } from '../helpers/services.js';
import { pollUntil, startPrivateRedis, type PrivateRedis } from '../../support/private-servers.js';
import { API, FORM, form, login, useSuiteApp } from '../helpers/app.js';
import { SUPER, U1 } from '../helpers/people.js';

const run = promisify(execFile);

describe('reading REDIS_URL', () => {
  it('tells a single server, a Sentinel set and a Cluster apart', () => {
    assert.deepEqual(parseRedisUrl('rediss://user:pw@cache:6380/2'), { mode: 'standalone', url: 'rediss://user:pw@cache:6380/2' });
    assert.deepEqual(parseRedisUrl('redis+sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2/mymaster/3'), {
      mode: 'sentinel',
      hosts: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      masterName: 'mymaster',
      db: 3,
      auth: { password: 's@cret' },
      tls: false,
    });
    assert.deepEqual(parseRedisUrl('rediss+cluster://a:7000,b:7001'), {
      mode: 'cluster',
      hosts: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      auth: {},
      tls: true,
    });
    assert.throws(() => parseRedisUrl('redis+sentinel://a:1,b:2'), /names the master/);
  });
});

async function me(app: FastifyInstance, cookie: string) {
  return app.inject({ method: 'GET', url: '/api/me', cookies: { session: cookie } });
}

describe('two app instances on a three-node Redis Cluster', await serviceGate('redis'), () => {
  const nodes: PrivateRedis[] = [];

  before(async () => {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await startPrivateRedis({
          extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'],
        }),
      );
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    const probe = new Redis(nodes[0]!.port, '127.0.0.1');
    const ready = await pollUntil(async () => (await probe.cluster('INFO')).includes('cluster_state:ok'), 15_000);
    probe.disconnect();
    assert.ok(ready, 'the cluster formed');
  });
  const {
    apps: [first, second],
  } = useSuiteApp({
    store: 'redis',
    env: () => ({
      REDIS_URL: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
      // The racing logins below fail on purpose, more often than the default throttle allows.
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000',
    }),
    instances: 2,
    tolerateCloseErrors: true,
  });
  after(async () => {
    for (const node of nodes) await node.stop();
  });

  it('logs in through one instance and is recognised by the other', async () => {
    const { cookie, token } = await login(first);
    assert.equal((await me(second, cookie)).json().emp_no, 500222);
    const byToken = await second.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(byToken.statusCode, 200);
  });

  it('spreads sessions over the nodes, lists them, and ends them all', async () => {
    // One after another: concurrent logins to one account count against its throttle until they succeed.
    const logins = [];
    for (let i = 0; i < 12; i++) logins.push(await login(second));
    const listed = await first.inject({ method: 'GET', url: '/api/sessions', cookies: { session: logins[0]!.cookie } });
    assert.ok(listed.json().sessions.length >= 12);
    const ended = await first.inject({ method: 'POST', url: '/api/sessions/end-all', cookies: { session: logins[0]!.cookie } });
    assert.ok(ended.json().ended >= 12);
    for (const { cookie } of logins) assert.equal((await me(second, cookie)).statusCode, 401);
  });

  it('leaves no session of logins on one instance racing a disable on the other (3 rounds of 4)', async () => {
    const admin = await login(first, SUPER);
    const victim = { username: 'mayuko.warwick.10020@gmail.com', password: 'password' };
    for (let round = 0; round < 3; round++) {
      const logins = Array.from({ length: 4 }, () => login(second, victim).catch((error: Error) => error));
      await new Promise((resolve) => setTimeout(resolve, round * 40));
      const disabled = await first.inject({
        method: 'POST',
        url: '/emp/account/10020',
        headers: { accept: 'application/json' },
        cookies: { session: admin.cookie },
        payload: { disabled: true },
      });
      assert.equal(disabled.statusCode, 200, disabled.body);
      for (const outcome of await Promise.all(logins)) {
        if (outcome instanceof Error) {
          assert.match(outcome.message, /^login failed: 400 /);
          continue;
        }
        assert.equal((await me(first, outcome.cookie)).statusCode, 401, `round ${round}: a cookie survived`);
        const byToken = await first.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${outcome.token}` } });
        assert.equal(byToken.statusCode, 401, `round ${round}: a token survived`);
      }
      const listed = await first.inject({
        method: 'GET',
        url: '/emp/sessions/10020',
        headers: { accept: 'application/json' },
        cookies: { session: admin.cookie },
      });
      assert.deepEqual(listed.json().sessions, []);
      await first.inject({
        method: 'POST',
        url: '/emp/account/10020',
        headers: { accept: 'application/json' },
        cookies: { session: admin.cookie },
        payload: { disabled: false },
      });
    }
  });

  it('is not ready the moment a shard is lost, as requests find it, and ready again once it returns', { timeout: 60_000 }, async () => {
    const NOT_READY = { status: 'unavailable', checks: { sessionStore: 'unavailable', database: 'ok' } };
    const { cookie } = await login(first);
    const lost = nodes[2]!;
    await lost.kill();
    for (const app of [first, second]) {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      assert.equal(ready.statusCode, 503, 'a shard down is an unready store, before the cluster itself notices');
      assert.deepEqual(ready.json(), NOT_READY);
    }
    // After cluster-node-timeout the surviving nodes refuse every key (cluster_state:fail).
    const survivor = new Redis(nodes[0]!.port, '127.0.0.1');
    const failed = await pollUntil(async () => (await survivor.cluster('INFO')).includes('cluster_state:fail'), 15_000, 200);
    survivor.disconnect();
    assert.ok(failed, 'the cluster noticed');
    const refused = await first.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...API },
      payload: form({ username: U1.username, password: U1.password }),
    });
    assert.equal(refused.statusCode, 503);
    assert.equal((await me(first, cookie)).statusCode, 503);
    const ready = await second.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.statusCode, 503, 'what every request meets, /ready says');
    assert.deepEqual(ready.json(), NOT_READY);

    await lost.start(); // its nodes.conf brings it back with its slots (and no data: persistence is off)
    const back = Date.now();
    for (const app of [first, second]) {
      assert.ok(
        await pollUntil(async () => (await app.inject({ method: 'GET', url: '/ready' })).statusCode === 200, 20_000, 200),
        'ready again by itself',
      );
    }
    const fresh = await login(second);
    assert.equal((await me(first, fresh.cookie)).statusCode, 200);
    console.log(`Redis Cluster shard back: ready again after ${((Date.now() - back) / 1000).toFixed(1)} s`);
  });
});

describe('two app instances on Redis Sentinel, through a failover', await serviceGate('redis'), () => {
  let primary: PrivateRedis;
  let replica: PrivateRedis;
  let sentinel: PrivateRedis;

  before(async () => {
    primary = await startPrivateRedis();
    replica = await startPrivateRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
    sentinel = await startPrivateRedis({
      sentinelConfig: [
        `sentinel monitor portal 127.0.0.1 ${primary.port} 1`,
        'sentinel down-after-milliseconds portal 1000',
        'sentinel failover-timeout portal 5000',
        'sentinel parallel-syncs portal 1',
      ].join('\n'),
    });
    const client = new Redis(primary.port, '127.0.0.1');
    assert.ok(
      await pollUntil(async () => (await client.info('replication')).includes('connected_slaves:1'), 10_000),
      'the replica attached',
    );
    client.disconnect();
  });
  const {
    apps: [first, second],
    env,
  } = useSuiteApp({
    store: 'redis',
    env: () => ({ REDIS_URL: `redis+sentinel://127.0.0.1:${sentinel.port}/portal` }),
    instances: 2,
    tolerateCloseErrors: true,
  });
  after(async () => {
    for (const server of [sentinel, replica, primary]) await server?.stop();
  });

  it('shares a login between instances, and keeps it when the primary dies', async () => {
    const { cookie } = await login(first);
    assert.equal((await me(second, cookie)).statusCode, 200);

    // Replication is asynchronous: let the replica receive the session before the primary goes.
    const onReplica = new Redis(replica.port, '127.0.0.1');
    const replicated = await pollUntil(async () => (await onReplica.exists(`${env.keyPrefix}${cookie.split('.')[0]}`)) === 1, 5000);
    onReplica.disconnect();
    assert.ok(replicated, 'the replica holds the session');
    await primary.stop();

    const recovered = await pollUntil(async () => (await me(second, cookie)).statusCode === 200, 20_000, 250);
    assert.ok(recovered, 'the session answers again once Sentinel has promoted the replica');
    assert.equal((await me(first, cookie)).json().emp_no, 500222);
    const fresh = await login(first);
    assert.equal((await me(second, fresh.cookie)).statusCode, 200, 'new logins work on the new primary');
  });
});

/** The replies an app instance gives while Redis fails over: 503 is allowed, a wrong answer never. */
interface FailoverLedger {
  /** Logins answered 200 (acknowledged), with when. */
  logins: Array<{ cookie: string; at: number }>;
  /** Logouts answered "logged out" (acknowledged). */
  logouts: string[];
  statuses: Map<number, number>;
  /** The first 503, and the first 200 after it: the error window. */
  firstUnavailable?: number;
  recovered?: number;
}

const LOGGED_OUT = { message: 'You have been logged out' };

describe('Redis Sentinel: the primary hangs, is replaced, and wakes up', await serviceGate('redis'), () => {
  const HANG_SECONDS = 8;
  let primary: PrivateRedis;
  let replica: PrivateRedis;
  const sentinels: PrivateRedis[] = [];
  /** The test's own connections to the servers. */
  const probes: Redis[] = [];

  before(async () => {
    primary = await startPrivateRedis();
    replica = await startPrivateRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
    for (let i = 0; i < 3; i++) {
      sentinels.push(
        await startPrivateRedis({
          sentinelConfig: [
            `sentinel monitor portal 127.0.0.1 ${primary.port} 2`,
            'sentinel down-after-milliseconds portal 1000',
            'sentinel failover-timeout portal 3000',
            'sentinel parallel-syncs portal 1',
          ].join('\n'),
        }),
      );
    }
    // The replica has finished its first full copy (diskless sync waits 5 s for more replicas);
    // promoted before that, it would hold nothing.
    const onReplica = new Redis(replica.port, '127.0.0.1');
    const synced = await pollUntil(async () => /master_link_status:up/.test(await onReplica.info('replication')), 15_000, 200);
    onReplica.disconnect();
    assert.ok(synced, 'the replica is in sync');
    // Three sentinels that know each other and the replica: a real quorum of two.
    for (const sentinel of sentinels) {
      const client = new Redis(sentinel.port, '127.0.0.1');
      const formed = await pollUntil(
        async () => {
          const fields = (await client.call('SENTINEL', 'MASTER', 'portal')) as string[];
          const value = (name: string) => fields[fields.indexOf(name) + 1];
          return value('num-other-sentinels') === '2' && value('num-slaves') === '1';
        },
        15_000,
        200,
      );
      client.disconnect();
      assert.ok(formed, 'the sentinels found each other and the replica');
    }
  });
  const { app } = useSuiteApp({
    store: 'redis',
    env: () => ({
      REDIS_URL: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/portal`,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000',
      LOGIN_MAX_FAILURES_PER_CLIENT: '100000',
    }),
    tolerateCloseErrors: true,
  });
  after(async () => {
    for (const probe of probes) probe.disconnect();
    for (const server of [...sentinels, replica, primary]) await server?.stop();
  });

  /** Logs in, ends an earlier session, and reads one, once; records what was acknowledged. */
  async function step(ledger: FailoverLedger): Promise<void> {
    const note = (status: number) => {
      ledger.statuses.set(status, (ledger.statuses.get(status) ?? 0) + 1);
      if (status === 503) ledger.firstUnavailable ??= Date.now();
      else if (ledger.firstUnavailable) ledger.recovered ??= Date.now();
    };
    const loggedIn = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...API },
      payload: form({ username: U1.username, password: U1.password }),
    });
    note(loggedIn.statusCode);
    const cookie = loggedIn.cookies.find((c) => c.name === 'session')?.value;
    if (loggedIn.statusCode === 200 && cookie) ledger.logins.push({ cookie, at: Date.now() });
    const live = ledger.logins.filter(({ cookie: c }) => !ledger.logouts.includes(c));
    // End every other acknowledged session, oldest first, so that both kinds are left to check.
    if (live.length >= 2) {
      const victim = live[0]!.cookie;
      const logout = await app.inject({ method: 'POST', url: '/auth/logout', headers: API, cookies: { session: victim } });
      note(logout.statusCode);
      if (logout.statusCode === 200) {
        assert.deepEqual(logout.json(), LOGGED_OUT);
        ledger.logouts.push(victim);
      }
    }
    const newest = live.at(-1);
    if (newest) note((await me(app, newest.cookie)).statusCode);
  }

  it('loses no acknowledged login and undoes no acknowledged logout', { timeout: 60_000 }, async () => {
    const ledger: FailoverLedger = { logins: [], logouts: [], statuses: new Map() };
    for (let i = 0; i < 4; i++) await step(ledger);
    assert.equal(ledger.statuses.get(503), undefined, 'all is well before the fault');

    const sleeper = new Redis(primary.port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
    probes.push(sleeper);
    sleeper.on('error', () => {});
    const hangStarted = Date.now();
    const hang = sleeper.call('DEBUG', 'SLEEP', String(HANG_SECONDS)).catch(() => undefined);
    const oldPrimary = new Redis(primary.port, '127.0.0.1', { commandTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    probes.push(oldPrimary);
    oldPrimary.on('error', () => {});
    // Requests run through the hang, the promotion, the old primary's waking and its demotion,
    // and on until it has resynchronised as a replica (when Sentinel's writes to it are final).
    let rejoined = 0;
    while (Date.now() - hangStarted < 45_000) {
      await step(ledger);
      if (Date.now() - hangStarted < HANG_SECONDS * 1000) continue;
      const info = await oldPrimary.info('replication').catch(() => '');
      const synced = /role:slave/.test(info) && /master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info);
      if (synced && (rejoined ||= Date.now()) && Date.now() - rejoined > 1000) break;
    }
    await hang;
    assert.ok(rejoined, 'the old primary rejoined as a replica');

    const statuses = Object.fromEntries(ledger.statuses);
    for (const status of ledger.statuses.keys())
      assert.ok(status === 200 || status === 503, `only 200 and 503: ${JSON.stringify(statuses)}`);
    const duringOrAfter = ledger.logins.filter(({ at }) => at > hangStarted);
    assert.ok(duringOrAfter.length >= 5, `logins acknowledged after the hang began: ${duringOrAfter.length}`);
    assert.ok(ledger.logouts.length >= 5, `logouts acknowledged: ${ledger.logouts.length}`);
    const ended = ledger.logouts.filter((cookie) => ledger.logins.some((l) => l.cookie === cookie));
    for (const cookie of ended) assert.equal((await me(app, cookie)).statusCode, 401, 'an acknowledged logout stays ended');
    const kept = ledger.logins.filter(({ cookie }) => !ledger.logouts.includes(cookie));
    for (const { cookie } of kept) assert.equal((await me(app, cookie)).statusCode, 200, 'an acknowledged login is kept');
    assert.ok(ledger.recovered, 'served again');
    const windowSeconds = ((ledger.recovered - hangStarted) / 1000).toFixed(1);
    console.log(
      `sentinel hang: ${ledger.logins.length} logins, ${ledger.logouts.length} logouts acknowledged; statuses ${JSON.stringify(statuses)}; 200 again ${windowSeconds} s after the hang began`,
    );
  });
});
