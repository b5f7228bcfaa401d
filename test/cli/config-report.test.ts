import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runAdmin } from '../../src/cli/admin.js';
import { maskUrl } from '../../src/cli/config-report.js';
import { openSessions } from '../../src/cli/resources.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { freePort } from '../../support/private-servers.js';
import { SERVICE_URLS } from '../helpers/services.js';
import { capture, STORE_KINDS, storeGate } from './support.js';

const SECRET_KEY = 'k'.repeat(20) + 'SECRET-KEY-VALUE' + 'k'.repeat(20);

describe('maskUrl', () => {
  it('hides the password and keeps the user name, host and path', () => {
    assert.deepEqual(
      [
        'postgres://app:s3cret@db.example.com:5432/employees',
        'redis://:s3cret@127.0.0.1:6379/2',
        'redis+sentinel://default:s3cret@s1:26379,s2:26379/mymaster',
        'mysql://root@127.0.0.1:3306/employees',
        'sqlite:data/employees.sqlite',
      ].map(maskUrl),
      [
        'postgres://app:***@db.example.com:5432/employees',
        'redis://:***@127.0.0.1:6379/2',
        'redis+sentinel://default:***@s1:26379,s2:26379/mymaster',
        'mysql://root@127.0.0.1:3306/employees',
        'sqlite:data/employees.sqlite',
      ],
    );
  });

  it('hides a password holding unescaped @, / or ? whole', () => {
    assert.equal(maskUrl('redis://user:p@ss/w?rd@cache:6379/0'), 'redis://user:***@cache:6379/0');
  });

  it('hides password-like query parameters', () => {
    assert.equal(
      maskUrl('postgres://app@db/employees?sslmode=require&sslpassword=s3cret&application_name=portal&password=s3cret'),
      'postgres://app@db/employees?sslmode=require&sslpassword=***&application_name=portal&password=***',
    );
  });
});

describe('admin config', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ep-admin-config-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  async function config(env: Record<string, string>, ...argv: string[]) {
    const io = capture();
    const code = await runAdmin(['config', ...argv], {
      config: loadConfig({ DATA_DIR: dataDir, ...env }),
      stdout: io.stdout,
      stderr: io.stderr,
    });
    return { code, ...io.output() };
  }

  it('shows the embedded defaults: SQLite files in the data directory, and a key generated there', async () => {
    assert.deepEqual(await config({}), {
      code: 0,
      stdout: [
        `Database             sqlite, file ${dataDir}/employees.sqlite (DATABASE_URL unset: the default in the data directory)`,
        `Session store        sqlite (embedded, REDIS_URL unset), file ${dataDir}/sessions.sqlite`,
        '                     key prefix "starsessions."',
        `Data directory       ${dataDir}`,
        `SECRET_KEY           not set: the server generates a key in ${dataDir}/secret-key at its first start`,
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('says when a generated key is in use', async () => {
    writeFileSync(join(dataDir, 'secret-key'), `${'g'.repeat(43)}\n`);
    const { stdout } = await config({});
    assert.match(
      stdout,
      new RegExp(
        `\\nSECRET_KEY {11}not set: the key generated in ${dataDir}/secret-key is used \\(set SECRET_KEY in production, the same on every instance\\)\\n$`,
      ),
    );
    assert.doesNotMatch(stdout, /gggg/);
  });

  it('describes servers and never shows a password or the secret key', async () => {
    const result = await config({
      DATABASE_URL: 'postgres://app:db-pass-123@db.example.com:6543/employees?sslpassword=key-pass-456',
      REDIS_URL: 'rediss://default:redis-pass-789@cache.example.com:6380/2',
      SESSION_KEY_PREFIX: 'portal:',
      SECRET_KEY,
    });
    assert.deepEqual(result, {
      code: 0,
      stdout: [
        'Database             postgres, server db.example.com:6543, database employees, user app',
        '                     DATABASE_URL=postgres://app:***@db.example.com:6543/employees?sslpassword=***',
        'Session store        redis, one server cache.example.com:6380, database 2, TLS on',
        '                     REDIS_URL=rediss://default:***@cache.example.com:6380/2',
        '                     key prefix "portal:"',
        `Data directory       ${dataDir}`,
        'SECRET_KEY           set (the value is not shown)',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('describes Redis Sentinel and Cluster, and MySQL on its default port', async () => {
    const sentinel = await config({
      DATABASE_URL: 'mysql://root@127.0.0.1/employees',
      REDIS_URL: 'redis+sentinel://:pw-sentinel@s1,s2:26380/mymaster/1',
    });
    assert.match(sentinel.stdout, /^Database {13}mysql\/mariadb, server 127\.0\.0\.1:3306, database employees, user root\n/);
    assert.match(
      sentinel.stdout,
      /\nSession store {8}redis sentinel, sentinels s1:26379, s2:26380, master mymaster, database 1, TLS off\n {21}REDIS_URL=redis\+sentinel:\/\/:\*\*\*@s1,s2:26380\/mymaster\/1\n/,
    );
    const cluster = await config({ REDIS_URL: 'redis+cluster://n1:7000,n2:7001' });
    assert.match(cluster.stdout, /\nSession store {8}redis cluster, seed nodes n1:7000, n2:7001, TLS off\n/);
  });

  it('answers 78 for a database URL that cannot be used, naming the problem and not the URL', async () => {
    const result = await config({ DATABASE_URL: 'mysql://:db-pass-123@' });
    assert.equal(result.code, 78);
    assert.match(result.stdout, /^Database {13}invalid DATABASE_URL\n {21}DATABASE_URL=mysql:\/\/:\*\*\*@\n/);
    assert.match(result.stderr, /^admin: DATABASE_URL is invalid: /);
    assert.doesNotMatch(result.stdout + result.stderr, /db-pass-123/);
  });

  it('answers 69 with --check when neither answers, saying why without any password', async () => {
    const [databasePort, redisPort] = [await freePort(), await freePort()];
    const result = await config(
      {
        DATABASE_URL: `postgres://postgres:db-pass-123@127.0.0.1:${databasePort}/employees`,
        REDIS_URL: `redis://:redis-pass-789@127.0.0.1:${redisPort}`,
        SECRET_KEY,
      },
      '--check',
    );
    assert.equal(result.code, 69);
    assert.match(
      result.stdout,
      new RegExp(
        `\\nDatabase check {7}unreachable: .*ECONNREFUSED.*\\nSession store check  unreachable: connect ECONNREFUSED 127\\.0\\.0\\.1:${redisPort}\\n$`,
      ),
    );
    assert.equal(result.stderr, 'admin: unreachable: database and session store\n');
    assert.doesNotMatch(result.stdout + result.stderr, /db-pass-123|redis-pass-789|SECRET-KEY-VALUE/);
  });

  it('with --check, does not create SQLite files that do not exist yet', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ep-admin-config-'));
    try {
      const io = capture();
      const code = await runAdmin(['config', '--check'], { config: loadConfig({ DATA_DIR: empty }), stdout: io.stdout, stderr: io.stderr });
      assert.equal(code, 0);
      assert.match(
        io.output().stdout,
        /\nDatabase check {7}no file yet \(the server creates it at its first start\)\nSession store check {2}no file yet \(the server creates it at its first start\)\n$/,
      );
      assert.deepEqual(readdirSync(empty), []);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

for (const kind of STORE_KINDS) {
  describe(`admin config --check, with a live database and ${kind} session store`, await storeGate(kind), () => {
    let testDb: TestDatabase;
    let dataDir: string;
    before(async () => {
      testDb = await createTestDatabase('sqlite');
      dataDir = mkdtempSync(join(tmpdir(), 'ep-admin-config-'));
    });
    after(async () => {
      await testDb?.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('answers 0 when both answer', async () => {
      const config = loadConfig({
        DATA_DIR: dataDir,
        DATABASE_URL: testDb.url,
        ...(kind === 'redis' ? { REDIS_URL: SERVICE_URLS.redis } : {}),
      });
      // The embedded store's file exists once a server (here: the admin command's own opener) has used it.
      await openSessions(config).store.close();
      const io = capture();
      const code = await runAdmin(['config', '--check'], { config, stdout: io.stdout, stderr: io.stderr });
      assert.deepEqual({ code, stderr: io.output().stderr }, { code: 0, stderr: '' });
      assert.match(io.output().stdout, /\nDatabase check {7}reachable\nSession store check {2}reachable\n$/);
    });
  });
}
