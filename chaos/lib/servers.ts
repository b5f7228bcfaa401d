/**
 * The private servers a chaos scenario breaks: Redis alone (with or without an append-only file),
 * a Sentinel-watched primary and replica, a Redis Cluster (with or without replicas), PostgreSQL
 * and MariaDB. Each runs on a free loopback port in a temporary directory, is registered with the
 * run's Cleanup when it starts, and is stopped by its own process id (PostgreSQL by `pg_ctl` on its
 * own data directory). None of the machine's shared servers is touched.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import {
  freePort,
  killProcess,
  pollUntil,
  startPrivatePostgres,
  startPrivateRedis,
  type PrivatePostgres,
  type PrivateRedis,
} from '../../support/private-servers.js';
import type { Cleanup } from './cleanup.js';

const run = promisify(execFile);

/** Runs `command` against one Redis node and closes the connection (no retries: a dead node answers undefined). */
export async function redisCommand(port: number, ...args: string[]): Promise<string | undefined> {
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 2000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const reply = await client.call(args[0]!, ...args.slice(1));
    return Array.isArray(reply) ? reply.map(String).join('\n') : String(reply);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** A private redis-server registered with the cleanup. */
export async function ownedRedis(cleanup: Cleanup, options: Parameters<typeof startPrivateRedis>[0] = {}): Promise<PrivateRedis> {
  const server = await startPrivateRedis(options);
  cleanup.add(`redis-server :${server.port}`, () => server.stop());
  return server;
}

/** Is this node a replica whose link to its primary is up (its data is in sync)? */
export async function isSyncedReplica(port: number): Promise<boolean> {
  const info = (await redisCommand(port, 'INFO', 'replication')) ?? '';
  return info.includes('role:slave') && info.includes('master_link_status:up');
}

export interface SentinelSet {
  masterName: string;
  url: string;
  primary: PrivateRedis;
  replica: PrivateRedis;
  sentinels: PrivateRedis[];
  /** The port of the primary the sentinels name now. */
  currentPrimaryPort(): Promise<number | undefined>;
}

/**
 * A primary, one replica and three sentinels (quorum 2), as a small production set-up. The
 * sentinels declare the primary down after 2 s without an answer.
 */
export async function startSentinelSet(cleanup: Cleanup): Promise<SentinelSet> {
  const masterName = 'portal';
  const primary = await ownedRedis(cleanup);
  const replica = await ownedRedis(cleanup, { extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
  const config = [
    `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} 2`,
    `sentinel down-after-milliseconds ${masterName} 2000`,
    `sentinel failover-timeout ${masterName} 10000`,
    `sentinel parallel-syncs ${masterName} 1`,
  ].join('\n');
  const sentinels: PrivateRedis[] = [];
  for (let i = 0; i < 3; i++) sentinels.push(await ownedRedis(cleanup, { sentinelConfig: config }));
  const set: SentinelSet = {
    masterName,
    url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${masterName}`,
    primary,
    replica,
    sentinels,
    async currentPrimaryPort() {
      const reply = await redisCommand(sentinels[0]!.port, 'SENTINEL', 'get-master-addr-by-name', masterName);
      return reply ? Number(reply.split('\n')[1]) : undefined;
    },
  };
  // A failover needs the replica in sync and every sentinel aware of the others.
  const formed = await pollUntil(
    async () => {
      if (!(await isSyncedReplica(replica.port))) return false;
      for (const sentinel of sentinels) {
        const master = (await redisCommand(sentinel.port, 'SENTINEL', 'master', masterName)) ?? '';
        if (!/num-other-sentinels\n2(\n|$)/.test(master) || !/num-slaves\n1(\n|$)/.test(master)) return false;
      }
      return true;
    },
    30_000,
    250,
  );
  if (!formed) throw new Error('the Sentinel set did not form within 30 s');
  return set;
}

export interface RedisCluster {
  url: string;
  nodes: PrivateRedis[];
  /** The ports of the nodes that are primaries now. */
  primaries(): Promise<number[]>;
  /** Every running node says cluster_state:ok, and every replica is in sync. */
  healthy(): Promise<boolean>;
}

/** Three primaries, each with `replicas` replicas; a node is declared failed after 2 s. */
export async function startRedisCluster(cleanup: Cleanup, replicas: 0 | 1): Promise<RedisCluster> {
  const nodes: PrivateRedis[] = [];
  const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'];
  for (let i = 0; i < 3 * (1 + replicas); i++) nodes.push(await ownedRedis(cleanup, { extraArgs: args }));
  await run(
    'redis-cli',
    ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
    {
      timeout: 30_000,
    },
  );
  const cluster: RedisCluster = {
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodes,
    async primaries() {
      const ports: number[] = [];
      for (const node of nodes) if (node.process && (await redisCommand(node.port, 'ROLE'))?.startsWith('master')) ports.push(node.port);
      return ports;
    },
    async healthy() {
      for (const node of nodes) {
        if (!node.process) continue;
        if (!(await redisCommand(node.port, 'CLUSTER', 'INFO'))?.includes('cluster_state:ok')) return false;
        const role = await redisCommand(node.port, 'ROLE');
        if (role?.startsWith('slave') && !(await isSyncedReplica(node.port))) return false;
      }
      return true;
    },
  };
  if (!(await pollUntil(() => cluster.healthy(), 30_000, 250))) throw new Error('the Redis Cluster did not form within 30 s');
  return cluster;
}

/** A private PostgreSQL cluster with an empty `chaos` database; `databaseUrl` points at it. */
export async function startOwnedPostgres(cleanup: Cleanup): Promise<PrivatePostgres & { databaseUrl: string }> {
  const server = await startPrivatePostgres();
  cleanup.add(`postgres :${server.port}`, () => server.stop());
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query('CREATE DATABASE chaos');
  } finally {
    await client.end();
  }
  return Object.assign(server, { databaseUrl: `${server.url}/chaos` });
}

export interface PrivateMariaDb {
  port: number;
  databaseUrl: string;
  process: ChildProcess | undefined;
  start(): Promise<void>;
  /** SIGKILL: a crash; InnoDB recovers at the next start. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private MariaDB: `mariadb-install-db` into a temporary data directory, then `mariadbd` on a
 * free loopback port (as the `mysql` user when run as root, since mariadbd refuses root), root
 * without a password over TCP, an empty `chaos` database.
 */
export async function startOwnedMariaDb(cleanup: Cleanup): Promise<PrivateMariaDb> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ep-mariadb-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout: uid } = await run('id', ['-u', 'mysql']);
    const { stdout: gid } = await run('id', ['-g', 'mysql']);
    chownSync(dir, Number(uid.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  const user = asRoot ? ['--user=mysql'] : [];
  const args = [
    '--no-defaults',
    ...user,
    `--datadir=${data}`,
    `--socket=${join(dir, 'sock')}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--pid-file=${join(dir, 'pid')}`,
    `--log-error=${join(dir, 'error.log')}`,
    '--skip-log-bin',
    '--skip-name-resolve',
    '--innodb-buffer-pool-size=64M',
    '--innodb-flush-log-at-trx-commit=2',
  ];
  const serverUrl = `mysql://root@127.0.0.1:${port}`;
  const answers = async () => {
    const connection = await mysql.createConnection({ uri: serverUrl, connectTimeout: 1000 });
    await connection.query('SELECT 1');
    await connection.end();
    return true;
  };
  const handle: PrivateMariaDb = {
    port,
    databaseUrl: `${serverUrl}/chaos`,
    process: undefined,
    async start() {
      handle.process = spawn('mariadbd', args, { stdio: 'ignore' });
      if (!(await pollUntil(answers, 60_000, 200))) {
        await handle.kill();
        throw new Error(`mariadbd did not answer on port ${port} (see ${join(dir, 'error.log')})`);
      }
    },
    async kill() {
      await killProcess(handle.process);
      handle.process = undefined;
    },
    async stop() {
      await handle.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  cleanup.add(`mariadbd :${port}`, () => handle.stop());
  await run(
    'mariadb-install-db',
    ['--no-defaults', ...user, `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
    {
      timeout: 60_000,
    },
  );
  await handle.start();
  const connection = await mysql.createConnection({ uri: serverUrl });
  await connection.query('CREATE DATABASE chaos');
  await connection.end();
  return handle;
}
