/**
 * The database room's door: opens, migrates and (on the embedded default) seeds the database at
 * start, shares it as `app.db`, and closes the pool with the app.
 */
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Database, DialectName } from './schema.js';
import { openDatabase } from './open.js';

export interface DatabasePluginOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** Fill an empty database with the sample employees. */
  seed: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
    dbDialect: DialectName;
  }
}

export default fp<DatabasePluginOptions>(
  async (app, options) => {
    const database = await openDatabase(options.databaseUrl, {
      dataDir: options.dataDir,
      seed: options.seed,
      // A pooled connection that dies while idle (server restart) is replaced on next use; say so.
      onIdleConnectionError: (error) => app.log.warn({ err: error }, 'database connection lost while idle'),
    });
    app.log.info({ database: database.describe }, 'database ready');
    app.decorate('db', database.db);
    app.decorate('dbDialect', database.dialect);
    app.addHook('onClose', () => database.close());
  },
  { name: 'database', fastify: '5.x' },
);
