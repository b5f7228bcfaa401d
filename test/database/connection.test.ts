import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDatabase, type DatabaseHandle } from '../../src/database/connection.js';
import { dialectOf } from '../../src/database/dialects.js';
import { pingDatabase } from '../../src/database/open.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';

const ACCEPTED =
  'Accepted: sqlite:<path>, sqlite::memory:, mysql://, mariadb://, postgres:// or postgresql:// (unset: SQLite in the data directory)';

describe('createDatabase', () => {
  let scratch: string;
  const opened: DatabaseHandle[] = [];
  /** createDatabase, with the handle closed by the `after` hook. */
  const open = (url: string | undefined, dataDir = scratch) => {
    const handle = createDatabase(url, { dataDir });
    opened.push(handle);
    return handle;
  };

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'ep-connection-'));
  });
  after(async () => {
    await Promise.all(opened.map((handle) => handle.db.destroy()));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('uses employees.sqlite in the data directory, creating the directory, when DATABASE_URL is unset', async () => {
    const dataDir = join(scratch, 'not', 'yet', 'there');
    const handle = open(undefined, dataDir);
    assert.deepEqual(
      { dialect: handle.dialect, describe: handle.describe },
      { dialect: 'sqlite', describe: `sqlite ${join(dataDir, 'employees.sqlite')}` },
    );
    await pingDatabase(handle.db);
    assert.equal(existsSync(join(dataDir, 'employees.sqlite')), true);
  });

  it('reads sqlite: followed by a relative path, an absolute path, or ///absolute path', () => {
    const file = join(scratch, 'named.db');
    const forms = [`sqlite:${relative(process.cwd(), file)}`, `sqlite:${file}`, `sqlite://${file}`];
    assert.deepEqual(
      forms.map((url) => open(url).describe),
      forms.map(() => `sqlite ${file}`),
    );
  });

  it('opens an in-memory SQLite database for sqlite::memory:', async () => {
    const handle = open('sqlite::memory:');
    assert.equal(handle.describe, 'sqlite :memory:');
    await pingDatabase(handle.db);
  });

  it('turns on WAL journaling, foreign keys and a busy timeout in a SQLite file', async () => {
    const { db } = open(`sqlite:${join(scratch, 'pragmas.db')}`);
    const pragma = async (name: string) => (await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(db)).rows[0];
    assert.deepEqual(
      { journal: await pragma('journal_mode'), foreignKeys: await pragma('foreign_keys'), busy: await pragma('busy_timeout') },
      { journal: { journal_mode: 'wal' }, foreignKeys: { foreign_keys: 1 }, busy: { timeout: 5000 } },
    );
  });

  it('maps mysql://, mariadb://, postgres:// and postgresql:// to their dialects', () => {
    assert.deepEqual(
      ['mysql://h/db', 'mariadb://h/db', 'postgres://h/db', 'postgresql://h/db'].map((url) => open(url).dialect),
      ['mysql', 'mysql', 'postgres', 'postgres'],
    );
  });

  it('describes a server database by host, port and name, never with its credentials', () => {
    assert.deepEqual(
      [
        open('mysql://app:s3cret@db.example:3307/employees').describe,
        open('mariadb://app:s3cret@db.example/employees').describe,
        open('postgresql://app:s3cret@db.example/employees?sslmode=require').describe,
        open('postgres://app:s3cret@db.example:6432').describe,
      ],
      [
        'mysql db.example:3307/employees',
        'mysql db.example:3306/employees',
        'postgres db.example:5432/employees',
        'postgres db.example:6432/(default database)',
      ],
    );
  });

  it('rejects an unknown scheme with a message naming DATABASE_URL and the accepted schemes', () => {
    assert.throws(() => open('redis://127.0.0.1:6379'), {
      name: 'Error',
      message: `DATABASE_URL is invalid: the scheme "redis:" is not supported. ${ACCEPTED}`,
    });
  });

  it('rejects a value without a scheme, and sqlite: without a path', () => {
    assert.throws(() => open('employees.db'), { message: `DATABASE_URL is invalid: it has no scheme. ${ACCEPTED}` });
    assert.throws(() => open('sqlite:'), {
      message: `DATABASE_URL is invalid: sqlite: needs a file path, e.g. sqlite:data/employees.sqlite. ${ACCEPTED}`,
    });
  });

  it('rejects a malformed server URL without echoing it, since it may hold a password', () => {
    assert.throws(() => open('postgres://app:s3cret@db.example:99999/x'), {
      message: `DATABASE_URL is invalid: it is not a valid postgres:// URL. ${ACCEPTED}`,
    });
  });

  it('fails fast, with the connection error, when the server does not answer', async () => {
    // Port 1 on the loopback: nothing listens there, so the connection is refused at once.
    for (const url of ['mysql://root@127.0.0.1:1/employees', 'postgres://postgres@127.0.0.1:1/employees']) {
      await assert.rejects(pingDatabase(open(url).db), { code: 'ECONNREFUSED' }, url);
    }
  });
});

for (const engine of ENGINES) {
  describe(`a database connection on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine, { seed: false });
    });
    after(() => testDb?.cleanup());

    it('answers pingDatabase', async () => {
      await pingDatabase(testDb.db);
    });

    it('knows its engine, also inside a transaction', async () => {
      const inTransaction = await testDb.db.transaction().execute(async (trx) => dialectOf(trx));
      assert.deepEqual([testDb.dialect, dialectOf(testDb.db), inTransaction], [engine, engine, engine]);
    });
  });
}
