/**
 * One place that turns REDIS_URL into an ioredis client, for the three ways people run Redis:
 *
 *   redis://[user:password@]host:port[/db]                      one server (rediss:// for TLS)
 *   redis+sentinel://[user:password@]s1:26379,s2:26379/master[/db]   Redis Sentinel
 *   redis+cluster://[user:password@]n1:7000,n2:7001             Redis Cluster (seed nodes)
 *
 * (`rediss+sentinel://` and `rediss+cluster://` add TLS.) A plain URL cannot hold several hosts,
 * so the two multi-host forms are parsed here; ioredis does the rest, including following a
 * Sentinel failover and Cluster redirections.
 *
 * Sentinel: a write that lands on a primary Sentinel has already replaced is lost when that old
 * primary rejoins as a replica and resynchronises. So the client never stays with a primary once
 * a failover is announced (see `sentinelOptions`), and `checkRedis` reports a Cluster as ready only
 * when every shard is.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export type RedisTopology =
  | { mode: 'standalone'; url: string }
  | { mode: 'sentinel'; hosts: HostPort[]; masterName: string; db: number; auth: Auth; tls: boolean }
  | { mode: 'cluster'; hosts: HostPort[]; auth: Auth; tls: boolean };

interface HostPort {
  host: string;
  port: number;
}
interface Auth {
  username?: string;
  password?: string;
}

const MULTI_HOST_URL = /^(rediss?)\+(sentinel|cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(?:\/([^/?#]+))?(?:\/(\d+))?\/?$/;

function hostPorts(list: string, defaultPort: number): HostPort[] {
  return list.split(',').map((entry) => {
    const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(entry.trim());
    if (!match) throw new Error(`REDIS_URL: cannot read the host "${entry}"`);
    return { host: match[1]!, port: match[2] ? Number(match[2]) : defaultPort };
  });
}

export function parseRedisUrl(url: string): RedisTopology {
  if (/^rediss?:\/\//.test(url)) return { mode: 'standalone', url };
  const match = MULTI_HOST_URL.exec(url);
  if (!match) {
    throw new Error('REDIS_URL must be redis://, rediss://, redis+sentinel://host:port,.../master or redis+cluster://host:port,...');
  }
  const [, scheme, mode, username, password, hosts, masterName, db] = match;
  const auth: Auth = {
    ...(username ? { username: decodeURIComponent(username) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
  };
  const tls = scheme === 'rediss';
  if (mode === 'sentinel') {
    if (!masterName) throw new Error('REDIS_URL: a redis+sentinel:// URL names the master after the hosts: .../mymaster');
    return { mode, hosts: hostPorts(hosts!, 26379), masterName: decodeURIComponent(masterName), db: Number(db ?? 0), auth, tls };
  }
  return { mode: 'cluster', hosts: hostPorts(hosts!, 6379), auth, tls };
}

/** Options every node connection shares; the caller decides timeouts and reconnection. */
export type ConnectionOptions = Pick<
  RedisOptions,
  'connectTimeout' | 'commandTimeout' | 'maxRetriesPerRequest' | 'enableOfflineQueue' | 'disconnectTimeout' | 'retryStrategy'
>;

/**
 * `READONLY`: the server this connection reaches was a primary and has since been made a replica
 * (a failover while the connection stayed open). Reconnecting asks the sentinels again, and the
 * command itself fails (503) rather than being retried, since whether it ran is unknown.
 */
export function reconnectOnDemotion(error: Error): boolean {
  return error.message.startsWith('READONLY');
}

/**
 * How the Sentinel client follows a failover. By default ioredis asks the sentinels for the primary
 * only after its connection drops; a primary that hangs (rather than dies) keeps the connection
 * open, so the client would stay, and once that primary woke it would write there until Sentinel
 * demoted it: writes that then vanish at resynchronisation (ended sessions back, new ones lost).
 * - `failoverDetector`: subscribe to `+switch-master` on the sentinels and reconnect the moment a
 *   failover is announced (ioredis' SentinelConnector/FailoverDetector);
 * - `role: 'master'` (ioredis' default, kept explicit): every (re)connection checks the server's
 *   own INFO role and moves on if it is not a primary;
 * - `reconnectOnError`: a demoted primary answering READONLY makes the client reconnect.
 * Every sentinel announces a failover, so one sentinel away (its subscription is renewed after
 * ioredis' one minute) costs nothing.
 */
function sentinelOptions(options: ConnectionOptions): RedisOptions {
  return {
    role: 'master',
    failoverDetector: true,
    reconnectOnError: reconnectOnDemotion,
    // A hung sentinel must not hold up the search for the primary.
    ...(options.commandTimeout !== undefined ? { sentinelCommandTimeout: options.commandTimeout } : {}),
  };
}

/**
 * Every topology auto-pipelines (ioredis' `enableAutoPipelining`): the commands issued while the
 * event loop handles one batch of ready sockets leave in one write, sent at `setImmediate`, instead
 * of one write(2) each. Under load that is many requests' session checks per write: it cut the
 * `/admin/me` CPU per request by about 6% and raised its rate by about 11% (`bench/ab.ts`,
 * docs/PERFORMANCE.md). Each command keeps its own reply, error and `commandTimeout`.
 */
const AUTO_PIPELINING = { enableAutoPipelining: true } as const;

export function createRedisClient(url: string, options: ConnectionOptions): RedisClient {
  const topology = parseRedisUrl(url);
  switch (topology.mode) {
    case 'standalone':
      return new Redis(url, { ...options, ...AUTO_PIPELINING, lazyConnect: false });
    case 'sentinel': {
      const client = new Redis({
        ...options,
        ...AUTO_PIPELINING,
        ...sentinelOptions(options),
        sentinels: topology.hosts,
        name: topology.masterName,
        db: topology.db,
        ...topology.auth,
        // The same credentials for the sentinels, the usual set-up; TLS to both.
        ...(topology.auth.password ? { sentinelPassword: topology.auth.password } : {}),
        ...(topology.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
      });
      // QUIT leaves the failover subscriptions open (ioredis issue 1362), holding the process
      // open and reconnecting to sentinels forever; disconnect() closes them once the client ends.
      client.once('end', () => client.disconnect());
      return client;
    }
    case 'cluster': {
      const { retryStrategy, enableOfflineQueue, ...nodeOptions } = options;
      const clusterOptions: ClusterOptions = {
        enableOfflineQueue: enableOfflineQueue ?? false,
        clusterRetryStrategy: (attempt) => (retryStrategy ? (retryStrategy(attempt) ?? null) : Math.min(100 * attempt, 2000)),
        redisOptions: { ...nodeOptions, ...topology.auth, ...(topology.tls ? { tls: {} } : {}) },
        // Also several GETs of one request travel together per node (listing sessions).
        ...AUTO_PIPELINING,
      };
      return new Cluster(topology.hosts, clusterOptions);
    }
  }
}

/**
 * Resolves when the deployment can serve every session, as requests will find it; throws otherwise
 * (for /ready). One server or Sentinel: the primary answers PING. Redis Cluster: a PING to one node
 * says nothing of the shards that hold other sessions, so every primary the client routes to is
 * asked CLUSTER INFO, and each must answer `cluster_state:ok` (the cluster's own verdict, which
 * turns to `fail` when a slot is uncovered), and as many must answer as the cluster has shards
 * (`cluster_size`): a lost shard fails the check at once, before the cluster itself notices.
 * A probe GET would have tested one slot only; CLUSTER INFO from one node would have missed a
 * shard lost moments ago (before cluster-node-timeout), which requests for its slots already meet.
 */
export async function checkRedis(client: RedisClient): Promise<void> {
  if (!(client instanceof Cluster)) {
    await client.ping();
    return;
  }
  const primaries = client.nodes('master');
  const infos = await Promise.all(primaries.map((node) => node.cluster('INFO')));
  let shards = 0;
  for (const [index, info] of infos.entries()) {
    const state = /cluster_state:(\w+)/.exec(info)?.[1];
    const { host, port } = primaries[index]!.options;
    if (state !== 'ok') throw new Error(`Redis Cluster node ${host}:${port} reports cluster_state:${state ?? 'unknown'}`);
    shards = Math.max(shards, Number(/cluster_size:(\d+)/.exec(info)?.[1] ?? 0));
  }
  if (primaries.length === 0 || primaries.length < shards) {
    // ioredis drops a node whose connection ended and learns of it again only from a redirection;
    // asking for the slot map here lets a returned shard count without waiting for a request.
    client.refreshSlotsCache();
    throw new Error(`Redis Cluster: ${primaries.length} of ${shards} primaries answer`);
  }
}
