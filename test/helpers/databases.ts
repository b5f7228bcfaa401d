/**
 * One test suite, every engine: suites loop over ENGINES, and each suite gets a brand-new private
 * database (a server database named ep_test_<random>, or a temporary SQLite file) that its `after`
 * hook drops again. Nothing is shared between suites or with a developer's own data.
 *
 * `TEST_ENGINES=sqlite,mysql` narrows the loop. MySQL and PostgreSQL go through `serviceGate`: skipped
 * (saying why) on a machine without the server, a failure under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { createDatabase } from '../../src/database/connection.js';
import { openDatabase } from '../../src/database/open.js';
import { seedIfEmpty } from '../../src/sample-data/seed.js';
import type { Database, DialectName } from '../../src/database/schema.js';
import { SERVICE_URLS, serviceGate } from './services.js';

export const ALL_ENGINES: readonly DialectName[] = ['sqlite', 'mysql', 'postgres'];

function enginesFromEnv(value: string | undefined): DialectName[] {
  if (value === undefined || value.trim() === '') return [...ALL_ENGINES];
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(ALL_ENGINES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(`TEST_ENGINES names unknown engines: ${unknown.join(', ')} (known: ${ALL_ENGINES.join(', ')})`);
  }
  return names as DialectName[];
}

export const ENGINES: readonly DialectName[] = enginesFromEnv(process.env.TEST_ENGINES);

/** node:test options for a suite on `engine`: spread into `describe(name, await gateFor(engine), ...)`. */
export function gateFor(engine: DialectName): Promise<{ skip: string | false }> {
  return engine === 'sqlite' ? Promise.resolve({ skip: false }) : serviceGate(engine);
}

export interface TestDatabase {
  /** The DATABASE_URL of this private database. */
  url: string;
  db: Kysely<Database>;
  dialect: DialectName;
  /** Closes the pool and deletes the database (or the file). Call from an `after` hook. */
  cleanup(): Promise<void>;
}

/**
 * A new private database on `engine`, opened through `openDatabase` (so migrated, and seeded
 * unless `seed: false`), exactly as the app opens its own.
 */
export async function createTestDatabase(engine: DialectName, { seed = true }: { seed?: boolean } = {}): Promise<TestDatabase> {
  const name = `ep_test_${randomBytes(6).toString('hex')}`;
  const dataDir = tmpdir();
  let url: string;
  let dropDatabase: () => Promise<void>;

  if (engine === 'sqlite') {
    const file = join(tmpdir(), `${name}.sqlite`);
    url = `sqlite:${file}`;
    dropDatabase = async () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    };
  } else {
    const server = SERVICE_URLS[engine];
    await onServer(server, (admin) => sql`create database ${sql.id(name)}`.execute(admin));
    const databaseUrl = new URL(server);
    databaseUrl.pathname = `/${name}`;
    url = databaseUrl.href;
    dropDatabase = () =>
      onServer(server, (admin) =>
        // WITH (FORCE) ends any connection still open on it (a test that leaked a pool), PostgreSQL 13+.
        engine === 'postgres'
          ? sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin)
          : sql`drop database if exists ${sql.id(name)}`.execute(admin),
      );
  }

  try {
    const opened = await openDatabase(url, { dataDir, seed: seed ? seedIfEmpty : undefined });
    return {
      url,
      db: opened.db,
      dialect: opened.dialect,
      async cleanup() {
        try {
          await opened.close();
        } finally {
          await dropDatabase();
        }
      },
    };
  } catch (error) {
    await dropDatabase();
    throw error;
  }
}

/** Runs `work` on a short-lived connection to the server's default database. */
async function onServer(serverUrl: string, work: (admin: Kysely<any>) => Promise<unknown>): Promise<void> {
  const { db } = createDatabase(serverUrl, { dataDir: tmpdir() });
  try {
    await work(db);
  } finally {
    await db.destroy();
  }
}
