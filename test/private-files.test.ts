/**
 * The files the app keeps on disk (embedded database, embedded session store, generated key) are
 * 0600 in a 0700 directory, whatever the umask: the test loosens the umask to 000 and stats what a
 * real app created, and checks that existing loose files are tightened and a loose DATA_DIR is
 * warned about rather than changed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { resolveSecretKey } from '../src/secret-key.js';
import { API, FORM, form } from './helpers/app.js';
import { captureLogs } from './helpers/logs.js';
import { U1 } from './helpers/people.js';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

async function startIn(dataDir: string, logStream?: NodeJS.WritableStream) {
  const config = resolveSecretKey(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'warn', DATA_DIR: dataDir }), () => {});
  return buildApp(config, logStream ? { logStream } : {});
}

describe('files on disk', () => {
  const root = mkdtempSync(join(tmpdir(), 'ep-files-'));
  let umask: number;
  const apps: FastifyInstance[] = [];
  before(() => {
    umask = process.umask(0o000); // the loosest: every mode bit the app does not remove stays
  });
  after(async () => {
    await Promise.all(apps.map((app) => app.close()));
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  it('creates DATA_DIR 0700 and the database, session store, their WAL files and the key 0600', async () => {
    const dataDir = join(root, 'fresh', 'data');
    const app = await startIn(dataDir, captureLogs().stream);
    apps.push(app);
    // A login writes to both SQLite files, so their -wal and -shm files exist too.
    const login = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { ...FORM, ...API },
      payload: form({ username: U1.username, password: U1.password }),
    });
    assert.equal(login.statusCode, 200);

    assert.equal(modeOf(dataDir), '700');
    assert.equal(modeOf(join(root, 'fresh')), '700', 'a parent the app created too');
    const files = readdirSync(dataDir).sort();
    assert.deepEqual(files, [
      'employees.sqlite',
      'employees.sqlite-shm',
      'employees.sqlite-wal',
      'secret-key',
      'sessions.sqlite',
      'sessions.sqlite-shm',
      'sessions.sqlite-wal',
    ]);
    for (const file of files) assert.equal(modeOf(join(dataDir, file)), '600', file);
  });

  it('tightens existing loose files, and warns about a loose DATA_DIR without changing it', async () => {
    const dataDir = join(root, 'existing');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    for (const file of ['secret-key', 'sessions.sqlite']) {
      writeFileSync(join(dataDir, file), file === 'secret-key' ? `${'k'.repeat(43)}\n` : '', { mode: 0o644 });
      chmodSync(join(dataDir, file), 0o644);
    }
    const logs = captureLogs();
    const app = await startIn(dataDir, logs.stream);
    apps.push(app);

    assert.equal(modeOf(dataDir), '755', 'left as the operator made it');
    for (const file of readdirSync(dataDir)) assert.equal(modeOf(join(dataDir, file)), '600', file);
    const warnings = logs
      .lines()
      .filter((line) => line.level === 40)
      .map((line) => line.msg);
    assert.deepEqual(
      warnings.filter((msg) => String(msg).startsWith('DATA_DIR')),
      [
        `DATA_DIR (${dataDir}) has mode 0755: others than its owner can list it. The files the app keeps there are 0600; consider chmod 700 ${dataDir}.`,
      ],
    );
    assert.ok(existsSync(join(dataDir, 'employees.sqlite')));
  });
});
