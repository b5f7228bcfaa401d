import { sql, type Kysely } from 'kysely';
import { createDatabase, type CreateDatabaseOptions, type DatabaseHandle } from './connection.js';
import { DatabaseNotReadyError } from './errors.js';
import { migrateToLatest, pendingMigrations } from './migrate.js';
import type { Database } from './schema.js';

/**
 * Fills an empty database with sample data (`seedIfEmpty`, sample-data/seed.ts). Handed in by the
 * caller rather than imported: the seed writes through the employees room's repositories, which
 * sit above this room.
 */
export type Seeder = (db: Kysely<Database>) => Promise<unknown>;

export interface OpenDatabaseOptions extends CreateDatabaseOptions {
  /** Run after migrating: inserts the sample employees when the employees table is empty. */
  seed?: Seeder | undefined;
}

export interface OpenedDatabase extends DatabaseHandle {
  /** Closes the pool (or the SQLite file); the database is unusable afterwards. */
  close(): Promise<void>;
}

/**
 * Connects, brings the schema up to date and, if asked, seeds: the database as the app needs it.
 * On failure the pool is closed again, so a failed start leaves no open handles behind.
 */
export async function openDatabase(databaseUrl: string | undefined, options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const { seed, ...createOptions } = options;
  const handle = createDatabase(databaseUrl, createOptions);
  try {
    await prepareDatabase(handle.db, { seed });
  } catch (error) {
    await handle.db.destroy();
    throw error;
  }
  return { ...handle, close: () => handle.db.destroy() };
}

/** Migrates to the latest schema and, given a seeder, seeds an empty database. */
export async function prepareDatabase(db: Kysely<Database>, { seed }: { seed?: Seeder | undefined }): Promise<void> {
  await migrateToLatest(db);
  if (seed) await seed(db);
}

/**
 * Resolves when every migration this code knows has run; throws DatabaseNotReadyError otherwise
 * (another process, the cluster's primary, is to run them), or the driver's error when unreachable.
 */
export async function assertSchemaCurrent(db: Kysely<Database>): Promise<void> {
  const pending = await pendingMigrations(db);
  if (pending.length > 0) throw new DatabaseNotReadyError(`migrations not yet run: ${pending.join(', ')}`);
}

/** Resolves when the database answers a trivial query; throws the driver's error otherwise (for /ready). */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
