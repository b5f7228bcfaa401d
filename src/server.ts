/**
 * The process entry point: the only place that reads the environment (and `.env`), binds a port
 * and handles signals. Everything else is built by `buildApp`. With WORKERS above one, this
 * process becomes the primary of a cluster (cluster.ts) and each worker runs the same file.
 */
import { existsSync } from 'node:fs';
import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { isPrimary, superviseWorkers, workerCount } from './cluster.js';
import { openDatabase } from './database/open.js';
import { ConfigError, loadConfig } from './config.js';
import { resolveSecretKey } from './secret-key.js';
import { buildApp } from './app.js';
import { prettyLogStream } from './observability/logging.js';

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
      // Migrate and seed once, before the workers start, so that they never race to do it.
      const database = await openDatabase(config.DATABASE_URL, { dataDir: config.DATA_DIR, seed: config.SEED_SAMPLE_DATA });
      await database.close();
      const log = pino({ level: config.LOG_LEVEL, base: { role: 'primary' } });
      superviseWorkers(workers, { log: (message, fields = {}) => log.info(fields, message) });
      return;
    }
    // A person watching a development server in a terminal reads pretty lines; anything else gets JSON.
    const logStream = config.NODE_ENV === 'development' && process.stdout.isTTY ? await prettyLogStream() : undefined;
    app = await buildApp(config, { logStream }); // may stop on the TLS files or TRUST_PROXY
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

await main();
