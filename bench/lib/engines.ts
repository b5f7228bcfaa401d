/**
 * The MariaDB/MySQL and PostgreSQL databases the benchmark searches, beside the SQLite file of
 * dataset.ts. On the local servers (BENCH_MYSQL_URL, BENCH_POSTGRES_URL; default the test
 * servers, root@127.0.0.1:3306 and postgres@127.0.0.1:5432), in databases of the benchmark's own:
 * - full size: `ep_bench_full_<key>`, loaded once with `npm run db:load -- --size full` and kept for
 *   later runs (the key is dataset.ts's; an older key's database is dropped when a new one loads);
 * - small: a fresh `ep_bench_<random>` the app seeds at its first start, dropped at the end.
 * An unreachable server is reported and its rows are left out.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { datasetKey } from './dataset.js';
import { exitOf, startProcess } from './processes.js';

export type ServerEngine = 'mysql' | 'postgres';

export interface ServerDatabase {
  engine: ServerEngine;
  url: string;
  note: string;
  /** Drops a database made for this run only. */
  drop(): Promise<void>;
}

const SERVER_URLS: Record<ServerEngine, string> = {
  mysql: process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306',
  postgres: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};
const FULL_EMPLOYEES = 300_024;

interface Admin {
  databases(prefix: string): Promise<string[]>;
  employees(database: string): Promise<number | undefined>;
  run(statement: string): Promise<void>;
  close(): Promise<void>;
}

async function admin(engine: ServerEngine): Promise<Admin> {
  if (engine === 'mysql') {
    const connection = await createConnection({ uri: SERVER_URLS.mysql, connectTimeout: 3000 });
    return {
      databases: async (prefix) =>
        ((await connection.query('show databases'))[0] as Array<Record<string, string>>)
          .map((row) => Object.values(row)[0]!)
          .filter((name) => name.startsWith(prefix)),
      employees: async (database) => {
        try {
          const [rows] = await connection.query(`select count(*) as n from \`${database}\`.employees`);
          return Number((rows as Array<{ n: number }>)[0]!.n);
        } catch {
          return undefined;
        }
      },
      run: async (statement) => void (await connection.query(statement)),
      close: () => connection.end(),
    };
  }
  const client = new Client({ connectionString: SERVER_URLS.postgres, connectionTimeoutMillis: 3000 });
  await client.connect();
  return {
    databases: async (prefix) =>
      (await client.query<{ datname: string }>('select datname from pg_database')).rows
        .map((row) => row.datname)
        .filter((name) => name.startsWith(prefix)),
    employees: async (database) => {
      const other = new Client({ connectionString: urlFor('postgres', database) });
      try {
        await other.connect();
        return Number((await other.query<{ n: string }>('select count(*) as n from employees')).rows[0]!.n);
      } catch {
        return undefined;
      } finally {
        await other.end().catch(() => {});
      }
    },
    run: async (statement) => void (await client.query(statement)),
    close: () => client.end(),
  };
}

function urlFor(engine: ServerEngine, database: string): string {
  const url = new URL(SERVER_URLS[engine]);
  url.pathname = `/${database}`;
  return url.href;
}

const quote = (engine: ServerEngine, name: string) => (engine === 'mysql' ? `\`${name}\`` : `"${name}"`);

/** A database on `engine` for this run, or undefined (logged) when the server cannot be reached. */
export async function serverDatabase(
  engine: ServerEngine,
  size: 'full' | 'small',
  context: { root: string; tsxLoader: string; logDir: string; log: (line: string) => void },
): Promise<ServerDatabase | undefined> {
  let server: Admin;
  try {
    server = await admin(engine);
  } catch (error) {
    context.log(
      `${engine}: not reachable at ${SERVER_URLS[engine].replace(/\/\/[^@]*@/, '//')} (${(error as Error).message}); its rows are left out`,
    );
    return undefined;
  }
  try {
    if (size === 'small') {
      const name = `ep_bench_${randomBytes(5).toString('hex')}`;
      await server.run(`create database ${quote(engine, name)}`);
      return {
        engine,
        url: urlFor(engine, name),
        note: `${engine}: the small seed, in ${name}`,
        drop: async () => {
          const again = await admin(engine);
          await again.run(`drop database if exists ${quote(engine, name)}`).finally(() => again.close());
        },
      };
    }
    const name = `ep_bench_full_${datasetKey(context.root)}`;
    const noDrop = async () => {};
    if ((await server.employees(name)) === FULL_EMPLOYEES)
      return { engine, url: urlFor(engine, name), note: `${engine}: full size, kept in ${name}`, drop: noDrop };
    for (const stale of await server.databases('ep_bench_full_')) await server.run(`drop database if exists ${quote(engine, stale)}`);
    await server.run(`create database ${quote(engine, name)}`);
    context.log(`${engine}: loading the full-size database into ${name} (once per generator version)...`);
    const startedAt = performance.now();
    const loader = await startProcess({
      name: `db:load ${engine}`,
      command: process.execPath,
      args: ['--import', context.tsxLoader, join(context.root, 'src/cli/db-load.ts'), '--size', 'full', '--yes'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: urlFor(engine, name), LOG_LEVEL: 'warn' },
      cwd: context.logDir,
      logFile: join(context.logDir, `db-load-${engine}.log`),
    });
    if ((await exitOf(loader)) !== 0) throw new Error(`loading ${engine} failed; see ${join(context.logDir, `db-load-${engine}.log`)}`);
    const seconds = (performance.now() - startedAt) / 1000;
    return {
      engine,
      url: urlFor(engine, name),
      note: `${engine}: full size, loaded now in ${seconds.toFixed(0)} s into ${name}`,
      drop: noDrop,
    };
  } finally {
    await server.close();
  }
}
