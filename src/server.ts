/**
 * The process entry point: the only place that reads the environment (and `.env`), binds a port
 * and handles signals. Everything else is built by `buildApp`. With WORKERS above one, this
 * process becomes the primary of a cluster (cluster.ts) and each worker runs the same file.
 */
import { existsSync } from 'node:fs';
import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { isPrimary, superviseWorkers, workerCount } from './cluster.js';
import { createDatabase } from './database/connection.js';
import { isDatabaseOutage } from './database/errors.js';
import { prepareDatabase } from './database/open.js';
import { seedIfEmpty } from './sample-data/seed.js';
import { retryWhileUnavailable } from './database/readiness.js';
import { ConfigError, loadConfig, type ResolvedConfig } from './config.js';
import { resolveSecretKey } from './secret-key.js';
import { buildApp } from './app.js';
import { batchedStdout, prettyLogStream } from './observability/logging.js';
import { scheduleAuditPruning, type WithDatabase } from './audit/retention.js';

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config;
  let app;
  try {
    config = resolveSecretKey(loadConfig(process.env), (message) => console.warn(`warning: ${message}`));
    const workers = workerCount(config.WORKERS);
    if (workers > 1 && isPrimary()) {
      await startPrimary(config, workers);
      return;
    }
    // A person watching a development server in a terminal reads pretty lines; anything else gets JSON, in batches.
    const logStream = (config.NODE_ENV === 'development' && process.stdout.isTTY ? await prettyLogStream() : undefined) ?? batchedStdout();
    // A worker leaves migrating and pruning the audit trail to its primary; one process alone does both itself.
    app = await buildApp(config, { logStream, prepareDatabase: isPrimary(), pruneAuditTrail: isPrimary() }); // may stop on the TLS files or TRUST_PROXY
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }

  closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
  });
  await app.listen({ host: config.HOST, port: config.PORT });
  await app.metrics.listen(); // the separate /metrics listener, when METRICS_PORT is set
}

/**
 * The cluster's primary migrates and seeds once, so that workers never race to do it, and then
 * looks after the workers. A database that is away does not hold the workers back (they serve
 * 503 until the schema is current): the primary forks them and migrates once the database answers.
 * It also does the one job no two processes should do at once: pruning the audit trail
 * (audit/retention.ts), hourly once the schema is current, on a connection opened for each turn
 * (held open, an SQLite connection keeps the whole seed in its write-ahead log while the workers start).
 */
async function startPrimary(config: ResolvedConfig, workers: number): Promise<void> {
  const log = pino({ level: config.LOG_LEVEL, base: { role: 'primary' } });
  const handle = createDatabase(config.DATABASE_URL, {
    dataDir: config.DATA_DIR,
    onConnectionError: (error) => log.warn({ err: error }, 'database connection lost'),
  });
  const migrate = () => prepareDatabase(handle.db, { seed: config.SEED_SAMPLE_DATA ? seedIfEmpty : undefined });
  const prune = () => scheduleAuditPruning(pruningConnection(config), { retentionDays: config.AUDIT_RETENTION_DAYS, log });
  try {
    await migrate();
    await handle.db.destroy();
    prune();
    superviseWorkers(workers, log);
    return;
  } catch (error) {
    if (!isDatabaseOutage(error)) {
      await handle.db.destroy();
      throw error; // a failed migration: a bad deployment
    }
    log.warn({ err: error }, 'database unavailable: starting the workers (they answer 503) and migrating once it answers');
  }
  const supervision = superviseWorkers(workers, log);
  void retryWhileUnavailable(migrate, { what: 'migrations', log })
    .then(
      () => {
        log.info({}, 'database migrated');
        prune();
      },
      (error: unknown) => {
        log.error({ err: error }, 'database migration failed: stopping');
        supervision.stop(1);
      },
    )
    .finally(() => handle.db.destroy());
}

/** A connection for one pruning turn of the primary, closed after it. */
function pruningConnection(config: ResolvedConfig): WithDatabase {
  return async (work) => {
    const { db } = createDatabase(config.DATABASE_URL, { dataDir: config.DATA_DIR });
    try {
      await work(db);
    } finally {
      await db.destroy();
    }
  };
}

await main();
