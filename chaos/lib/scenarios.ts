/**
 * The faults, one scenario each: what it starts (private servers only), how the app is
 * configured, what is broken, when the dependency counts as restored, and when the topology is
 * whole again (settled) so that what held and what did not can be checked.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pollUntil } from '../../support/private-servers.js';
import type { AppUnderFault } from './app.js';
import type { Cleanup } from './cleanup.js';
import {
  isSyncedReplica,
  ownedRedis,
  redisCommand,
  startOwnedMariaDb,
  startOwnedPostgres,
  startRedisCluster,
  startSentinelSet,
} from './servers.js';

export interface Timing {
  /** Clients run this long before the fault. */
  baselineMs: number;
  /** How long a killed or stopped server stays down. */
  outageMs: number;
  /** `DEBUG SLEEP` length for the Sentinel hang. */
  hangSeconds: number;
  /** Restarts per Redis restart scenario. */
  cycles: number;
  /** Restarts per database restart scenario: what an error does to a connection in use is a matter of timing, so more tries. */
  databaseCycles: number;
  /** After the dependency is back, every client must have a correct answer within this. */
  recoveryLimitMs: number;
  /** Waiting for the topology to be whole again (a replica resynced) is bounded by this. */
  settleLimitMs: number;
  /** Clients go on this long after the settle before the checks. */
  afterMs: number;
}

export const QUICK_TIMING: Timing = {
  baselineMs: 1_500,
  outageMs: 3_000,
  hangSeconds: 10,
  cycles: 1,
  databaseCycles: 2,
  recoveryLimitMs: 20_000,
  settleLimitMs: 40_000,
  afterMs: 1_500,
};
export const FULL_TIMING: Timing = {
  baselineMs: 4_000,
  outageMs: 5_000,
  hangSeconds: 30,
  cycles: 2,
  databaseCycles: 4,
  recoveryLimitMs: 30_000,
  settleLimitMs: 60_000,
  afterMs: 4_000,
};

export interface Deployment {
  redisUrl: string;
  databaseUrl?: string;
  workers: number;
  /** Breaks something; resolves when the dependency is available again (or throws if it is not). */
  inject(app: AppUnderFault): Promise<void>;
  /** Resolves true once the topology is whole again (false when not within the settle limit). */
  settle(): Promise<boolean>;
  /** Worker processes the fault itself killed (not crashes). */
  deliberateWorkerKills: number;
  /** What a reader needs to know about this scenario's expected figures. */
  notes: string[];
}

export interface ScenarioDefinition {
  name: string;
  title: (timing: Timing) => string;
  prepare(cleanup: Cleanup, timing: Timing): Promise<Deployment>;
}

const settled = async () => true;

async function restartCycles(timing: Timing, cycles: number, kill: () => Promise<void>, start: () => Promise<void>): Promise<void> {
  for (let cycle = 0; cycle < cycles; cycle++) {
    if (cycle > 0) await sleep(timing.baselineMs);
    await kill();
    await sleep(timing.outageMs);
    await start();
  }
}

function redisRestart(persistent: boolean): ScenarioDefinition {
  return {
    name: persistent ? 'redis-restart-aof' : 'redis-restart-volatile',
    title: (t) =>
      `Redis killed (SIGKILL) and started again after ${t.outageMs / 1000} s, ${t.cycles}×, ` +
      (persistent ? 'with an append-only file (appendfsync always)' : 'without persistence'),
    async prepare(cleanup, timing) {
      const redis = await ownedRedis(cleanup, { extraArgs: persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : [] });
      return {
        redisUrl: redis.url,
        workers: 1,
        deliberateWorkerKills: 0,
        inject: () =>
          restartCycles(
            timing,
            timing.cycles,
            () => redis.kill(),
            () => redis.start(),
          ),
        settle: settled,
        notes: persistent
          ? ['Every acknowledged write is on disk before Redis answers, so no session should be lost.']
          : [
              'Without persistence a restart forgets every session: sessions lost and acknowledged logins lost are expected here, not a failure.',
            ],
      };
    },
  };
}

function sentinelFault(kind: 'hang' | 'kill'): ScenarioDefinition {
  return {
    name: `sentinel-${kind}`,
    title: (t) =>
      kind === 'hang'
        ? `Sentinel primary hangs (DEBUG SLEEP ${t.hangSeconds}); the replica is promoted, the old primary wakes and is demoted`
        : 'Sentinel primary killed (SIGKILL); the replica is promoted',
    async prepare(cleanup, timing) {
      const set = await startSentinelSet(cleanup);
      const oldPort = set.primary.port;
      const promoted = async () => {
        const ok = await pollUntil(async () => (await set.currentPrimaryPort()) === set.replica.port, timing.settleLimitMs, 200);
        if (!ok) throw new Error('Sentinel did not promote the replica');
      };
      return {
        redisUrl: set.url,
        workers: 1,
        deliberateWorkerKills: 0,
        async inject() {
          if (kind === 'hang')
            void redisCommand(oldPort, 'DEBUG', 'SLEEP', String(timing.hangSeconds)); // answers only when it wakes
          else await set.primary.kill();
          await promoted();
        },
        async settle() {
          // A killed primary stays down: the promoted replica is the whole topology now.
          if (kind === 'kill') return true;
          return pollUntil(() => isSyncedReplica(oldPort), timing.settleLimitMs + timing.hangSeconds * 1000, 250);
        },
        notes: [
          'Replication is asynchronous: a write the old primary acknowledged just before it stopped may not have reached the replica.',
          'Writes the app makes to the old primary after the promotion are discarded when it resyncs as a replica: they show as logouts undone and logins lost.',
        ],
      };
    },
  };
}

function clusterShardLoss(replicas: 0 | 1): ScenarioDefinition {
  return {
    name: replicas ? 'cluster-shard-loss-replicas' : 'cluster-shard-loss',
    title: (t) =>
      replicas
        ? 'Redis Cluster (3 primaries, 3 replicas): one primary killed, its replica takes over, it restarts as a replica'
        : `Redis Cluster (3 primaries, no replicas): one primary killed, started again empty after ${t.outageMs / 1000 + 3} s`,
    async prepare(cleanup, timing) {
      const cluster = await startRedisCluster(cleanup, replicas);
      const victimPort = (await cluster.primaries())[0]!;
      const victim = cluster.nodes.find((node) => node.port === victimPort)!;
      const failedOver = async () => (await cluster.primaries()).length === 3 && (await cluster.healthy());
      return {
        redisUrl: cluster.url,
        workers: 1,
        deliberateWorkerKills: 0,
        async inject() {
          await victim.kill();
          if (!replicas) {
            // Longer than the cluster's node timeout (2 s), so that the other nodes declare the shard failed.
            await sleep(timing.outageMs + 3_000);
            await victim.start();
          }
          if (!(await pollUntil(failedOver, timing.settleLimitMs, 250)))
            throw new Error('the cluster did not report cluster_state:ok again');
        },
        async settle() {
          if (replicas) await victim.start();
          return pollUntil(() => cluster.healthy(), timing.settleLimitMs, 250);
        },
        notes: replicas
          ? ['Replication is asynchronous: a write the killed primary acknowledged just before it died may not have reached its replica.']
          : [
              'Without a replica or persistence the sessions on the lost shard are gone (sessions lost and logins lost are expected); while the cluster lacks a shard, every node refuses requests (cluster-require-full-coverage).',
            ],
      };
    },
  };
}

const workerKill: ScenarioDefinition = {
  name: 'worker-kill',
  title: () => 'WORKERS=2: each worker killed (SIGKILL) in turn, waiting for its replacement',
  async prepare(cleanup, timing) {
    const redis = await ownedRedis(cleanup);
    // Replaced means serving: until the new worker listens, the port has one worker fewer (none, if
    // the other one is killed then, and the primary closes the port).
    const replaced = (app: AppUnderFault, killed: number) =>
      pollUntil(
        async () => {
          const pids = app.workerPids();
          const listening = app.listeningPids();
          return pids.length === app.workers && !pids.includes(killed) && pids.every((pid) => listening.includes(pid));
        },
        timing.settleLimitMs,
        100,
      );
    return {
      redisUrl: redis.url,
      workers: 2,
      deliberateWorkerKills: 2,
      async inject(app) {
        for (const pid of app.workerPids().slice(0, 2)) {
          process.kill(pid, 'SIGKILL'); // a worker of the app this run started, found by its parent's id
          if (!(await replaced(app, pid))) throw new Error(`worker ${pid} was not replaced`);
          await sleep(timing.outageMs / 3);
        }
      },
      settle: settled,
      notes: [
        'A killed worker drops the connections it held: those requests fail with connection errors, and the primary starts a replacement.',
      ],
    };
  },
};

/** A private database server that a scenario can kill and start again. */
interface OwnedDatabase {
  databaseUrl: string;
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** One database engine stopped and started again, `databaseCycles` times, under the clients. */
function databaseRestart(
  name: string,
  title: ScenarioDefinition['title'],
  startOwned: (cleanup: Cleanup) => Promise<OwnedDatabase>,
): ScenarioDefinition {
  return {
    name,
    title,
    async prepare(cleanup, timing) {
      const redis = await ownedRedis(cleanup);
      const database = await startOwned(cleanup);
      return {
        redisUrl: redis.url,
        databaseUrl: database.databaseUrl,
        workers: 1,
        deliberateWorkerKills: 0,
        inject: () =>
          restartCycles(
            timing,
            timing.databaseCycles,
            () => database.kill(),
            () => database.start(),
          ),
        settle: settled,
        notes: [
          'Sessions live in Redis, so none should be lost; "who am I" reads the employee from the database and answers 503 while it is down.',
        ],
      };
    },
  };
}

const postgresRestart = databaseRestart(
  'postgres-restart',
  (t) => `PostgreSQL stopped (pg_ctl -m immediate) and started again after ${t.outageMs / 1000} s, ${t.databaseCycles}×`,
  startOwnedPostgres,
);

const mariadbRestart = databaseRestart(
  'mariadb-restart',
  (t) => `MariaDB killed (SIGKILL) and started again after ${t.outageMs / 1000} s, ${t.databaseCycles}×`,
  startOwnedMariaDb,
);

const workerKillDatabaseDown: ScenarioDefinition = {
  name: 'worker-kill-database-down',
  title: (t) =>
    `WORKERS=2 on MariaDB: the database is killed, a worker is killed 1 s later, the database starts again after ${t.outageMs / 1000 + 6} s`,
  async prepare(cleanup, timing) {
    const redis = await ownedRedis(cleanup);
    const mariadb = await startOwnedMariaDb(cleanup);
    return {
      redisUrl: redis.url,
      databaseUrl: mariadb.databaseUrl,
      workers: 2,
      deliberateWorkerKills: 1,
      async inject(app) {
        await mariadb.kill();
        await sleep(1_000);
        const [worker] = app.workerPids();
        if (worker === undefined) throw new Error('no worker to kill');
        process.kill(worker, 'SIGKILL'); // a worker of the app this run started, found by its parent's id
        // Long enough for a replacement that cannot start without the database to fail more than once.
        await sleep(timing.outageMs + 5_000);
        await mariadb.start();
      },
      settle: settled,
      notes: [
        'The replacement worker starts while the database is down: it should serve 503s and recover with the database, not die or make the primary give up.',
      ],
    };
  },
};

export const SCENARIOS: readonly ScenarioDefinition[] = [
  redisRestart(true),
  redisRestart(false),
  sentinelFault('hang'),
  sentinelFault('kill'),
  clusterShardLoss(1),
  clusterShardLoss(0),
  workerKill,
  postgresRestart,
  mariadbRestart,
  workerKillDatabaseDown,
];
