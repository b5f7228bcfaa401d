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

const MULTI_HOST_URL =
  /^(rediss?)\+(sentinel|cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(?:\/([^/?#]+))?(?:\/(\d+))?\/?$/;

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

export function createRedisClient(url: string, options: ConnectionOptions): RedisClient {
  const topology = parseRedisUrl(url);
  switch (topology.mode) {
    case 'standalone':
      return new Redis(url, { ...options, lazyConnect: false });
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: topology.hosts,
        name: topology.masterName,
        db: topology.db,
        ...topology.auth,
        // The same credentials for the sentinels, the usual set-up; TLS to both.
        ...(topology.auth.password ? { sentinelPassword: topology.auth.password } : {}),
        ...(topology.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
      });
    case 'cluster': {
      const { retryStrategy, enableOfflineQueue, ...nodeOptions } = options;
      const clusterOptions: ClusterOptions = {
        enableOfflineQueue: enableOfflineQueue ?? false,
        clusterRetryStrategy: (attempt) => (retryStrategy ? (retryStrategy(attempt) ?? null) : Math.min(100 * attempt, 2000)),
        redisOptions: { ...nodeOptions, ...topology.auth, ...(topology.tls ? { tls: {} } : {}) },
        // Several GETs of one request travel together per node (listing sessions).
        enableAutoPipelining: true,
      };
      return new Cluster(topology.hosts, clusterOptions);
    }
  }
}
