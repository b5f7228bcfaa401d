/**
 * The database room's door: opens the database, brings its schema up to date (or, in a cluster
 * worker, waits for the primary to have done so), shares it as `app.db`, and closes the pool with
 * the app.
 *
 * A database that is away at start does not stop the start: the app serves, answering 503 for
 * whatever needs the database (and /ready says so), and keeps trying in the background.
 */
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Database, DialectName } from './schema.js';
import { createDatabase } from './connection.js';
import { isDatabaseOutage } from './errors.js';
import { assertSchemaCurrent, prepareDatabase, type Seeder } from './open.js';
import { retryWhileUnavailable, SchemaGate } from './readiness.js';
import { shareSqliteReads, warmSqliteReads } from './sqlite-reads.js';

export interface DatabasePluginOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** Fills an empty database with the sample employees (only when `prepare`); none: no seeding. */
  seed?: Seeder | undefined;
  /**
   * Migrate (and seed) here. False in a cluster worker: the primary migrates once, and the worker
   * only waits until the schema is current, so that a worker never needs the database to start.
   * Default true.
   */
  prepare?: boolean | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
    dbDialect: DialectName;
  }
}

export default fp<DatabasePluginOptions>(
  async (app, options) => {
    const handle = createDatabase(options.databaseUrl, {
      dataDir: options.dataDir,
      // A pooled connection that dies outside a query (server restart) is replaced on next use; say so.
      onConnectionError: (error) => app.log.warn({ err: error }, 'database connection lost'),
    });
    const gate = new SchemaGate();
    const prepare =
      (options.prepare ?? true) ? () => prepareDatabase(handle.db, { seed: options.seed }) : () => assertSchemaCurrent(handle.db);
    const stop = new AbortController();
    let background: Promise<void> = Promise.resolve();
    try {
      await prepare();
      gate.open();
      app.log.info({ database: handle.describe }, 'database ready');
    } catch (error) {
      if (!isDatabaseOutage(error)) {
        await handle.db.destroy();
        throw error; // a failed migration: a bad deployment, which waiting would not mend
      }
      app.log.warn({ err: error, database: handle.describe }, 'database unavailable at start: serving 503 until it answers');
      background = retryWhileUnavailable(prepare, { what: 'database start', log: app.log, signal: stop.signal }).then(
        () => {
          gate.open();
          app.log.info({ database: handle.describe }, 'database ready');
        },
        (failure: unknown) => {
          if (!stop.signal.aborted) app.log.error({ err: failure }, 'database could not be prepared: serving 503');
        },
      );
    }
    const db = handle.db.withPlugin(gate);
    // The gated instance reads through the same side connections, behind the same gate.
    shareSqliteReads(handle.db, db, () => gate.assertOpen());
    warmSqliteReads(handle.db);
    app.decorate('db', db);
    app.decorate('dbDialect', handle.dialect);
    app.addHook('onClose', async () => {
      stop.abort();
      await background;
      await handle.db.destroy();
    });
  },
  { name: 'database', fastify: '5.x' },
);
