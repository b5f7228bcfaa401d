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
import { pollUntil, startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { login, testEnvironment, type TestEnvironment } from '../helpers/app.js';

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
  let env: TestEnvironment;
  let first: FastifyInstance;
  let second: FastifyInstance;

  before(async () => {
    for (let i = 0; i < 3; i++) {
      nodes.push(await startPrivateRedis({ extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'] }));
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    const probe = new Redis(nodes[0]!.port, '127.0.0.1');
    const ready = await pollUntil(async () => (await probe.cluster('INFO')).includes('cluster_state:ok'), 15_000);
    probe.disconnect();
    assert.ok(ready, 'the cluster formed');
    env = testEnvironment('redis', { REDIS_URL: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}` });
    first = await env.start();
    second = await env.start();
  });
  after(async () => {
    await env?.cleanup().catch(() => undefined);
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
});

describe('two app instances on Redis Sentinel, through a failover', await serviceGate('redis'), () => {
  let primary: PrivateRedis;
  let replica: PrivateRedis;
  let sentinel: PrivateRedis;
  let env: TestEnvironment;
  let first: FastifyInstance;
  let second: FastifyInstance;

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
    assert.ok(await pollUntil(async () => (await client.info('replication')).includes('connected_slaves:1'), 10_000), 'the replica attached');
    client.disconnect();
    env = testEnvironment('redis', { REDIS_URL: `redis+sentinel://127.0.0.1:${sentinel.port}/portal` });
    first = await env.start();
    second = await env.start();
  });
  after(async () => {
    await env?.cleanup().catch(() => undefined);
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
