/**
 * The employees database the benchmark runs on.
 *
 * Full size (300,024 employees) when the loader is there (`npm run db:load -- --size full`,
 * src/cli/db-load.ts): it is loaded once into an SQLite file under `data/bench/full-<key>/` and
 * reused by later runs. The key is a hash of everything that decides the file's contents (the
 * generator, the loader, the migrations, the seed), so a change to any of them loads afresh and
 * an unchanged tree never reloads. Each run copies the file into its own temporary DATA_DIR, so
 * the cached one stays as loaded.
 *
 * Otherwise (no loader, or `--small`): the small seed the app writes on its first start.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { exitOf, startProcess } from './processes.js';

export interface Dataset {
  size: 'full' | 'small';
  /** How it was obtained, for the report. */
  note: string;
  /** The loaded SQLite file to copy into a run's DATA_DIR (undefined: the app seeds on first start). */
  file?: string;
}

const LOADER = 'src/cli/db-load.ts';
/** Everything whose change can change the loaded file. */
const KEY_SOURCES = [
  'src/sample-data/full-size',
  'src/database/migrations',
  'src/sample-data/seed.ts',
  'src/database/schema.ts',
  'src/database/dialects.ts',
  LOADER,
];

function filesUnder(root: string, path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return [path];
  return readdirSync(full)
    .sort()
    .flatMap((name) => filesUnder(root, join(path, name)));
}

export function datasetKey(root: string): string {
  const hash = createHash('sha256');
  for (const file of KEY_SOURCES.flatMap((path) => filesUnder(root, path))) {
    hash
      .update(relative(root, join(root, file)))
      .update('\0')
      .update(readFileSync(join(root, file)))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}

export function loaderAvailable(root: string): boolean {
  if (!existsSync(join(root, LOADER))) return false;
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  return 'db:load' in scripts;
}

/** The cached full-size SQLite file, loading it first when the cache has none for this key. */
export async function fullSizeDataset(root: string, tsxLoader: string, log: (line: string) => void): Promise<Dataset> {
  const cacheRoot = join(root, 'data', 'bench');
  const key = datasetKey(root);
  const dir = join(cacheRoot, `full-${key}`);
  const file = join(dir, 'employees.sqlite');
  const marker = join(dir, 'loaded.txt');
  if (existsSync(marker) && existsSync(file)) {
    return { size: 'full', file, note: `full size, cached in ${relative(root, dir)}` };
  }
  // Older keys' files are 300+ MB each: keep only the one being made.
  if (existsSync(cacheRoot)) {
    for (const name of readdirSync(cacheRoot))
      if (name.startsWith('full-')) rmSync(join(cacheRoot, name), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  log(`loading the full-size database into ${relative(root, dir)} (once per generator version; about half a minute)...`);
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const logFile = join(dir, 'load.log');
  const startedAt = performance.now();
  const loader = await startProcess({
    name: 'db:load',
    command: process.execPath,
    args: ['--import', tsxLoader, join(root, LOADER), '--size', 'full', '--yes'],
    env,
    cwd: dir, // no .env of the developer's is read
    logFile,
  });
  const code = await exitOf(loader);
  if (code !== 0 || !existsSync(file)) {
    throw new Error(`npm run db:load -- --size full failed (exit ${code}); see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
  }
  const seconds = (performance.now() - startedAt) / 1000;
  writeFileSync(marker, `key ${key}\nloaded in ${seconds.toFixed(1)} s\n`);
  return { size: 'full', file, note: `full size, loaded now in ${seconds.toFixed(0)} s into ${relative(root, dir)}` };
}

/** Copies the dataset's SQLite file (and any WAL beside it) into a run's DATA_DIR. */
export function installDataset(dataset: Dataset, dataDir: string): void {
  if (!dataset.file) return;
  copyFileSync(dataset.file, join(dataDir, 'employees.sqlite'));
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(dataset.file + suffix)) copyFileSync(dataset.file + suffix, join(dataDir, `employees.sqlite${suffix}`));
  }
}
