import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { planAdmin, runAdmin } from '../../src/cli/admin.js';
import { findScopes } from '../../src/employees/scope-repository.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';

const VALID_SCOPES = 'Valid scopes: user:read, user:write, admin:read, admin:write, super:*';

/** Collects what a command writes. */
function capture() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout: { write: (text: string) => stdout.push(text) },
    stderr: { write: (text: string) => stderr.push(text) },
    output: () => ({ stdout: stdout.join(''), stderr: stderr.join('') }),
  };
}

describe('the admin command line, before any database work', () => {
  it('prints the general help for --help, -h and help, exiting 0', () => {
    const plans = [['--help'], ['-h'], ['help']].map((argv) => planAdmin(argv));
    for (const plan of plans) {
      assert.equal(plan.kind, 'answer');
      if (plan.kind !== 'answer') continue;
      assert.equal(plan.code, 0);
      assert.match(plan.stdout ?? '', /^Usage: npm run admin -- <command> \[arguments\]\n/);
      assert.match(plan.stdout ?? '', /\n {2}scopes grant <email> <scope\.\.\.> +Adds scopes/);
    }
  });

  it('prints a verb\'s own help for help <verb> and <verb> --help', () => {
    const expected = {
      kind: 'answer',
      code: 0,
      stdout: [
        'Usage: npm run admin -- scopes revoke <email> <scope...>',
        '',
        'Takes scopes away; those not held are ignored.',
        '',
        "Scopes: user:read, user:write, admin:read, admin:write, super:*. Quote 'super:*' in a shell.",
        '',
      ].join('\n'),
    };
    assert.deepEqual(planAdmin(['help', 'scopes', 'revoke']), expected);
    assert.deepEqual(planAdmin(['scopes', 'revoke', '--help']), expected);
    assert.deepEqual(planAdmin(['scopes', 'revoke', 'someone@example.com', '-h']), expected);
  });

  it('answers a usage error with 64 and the usage on stderr', () => {
    const cases: [string[], string][] = [
      [[], 'missing command'],
      [['frob'], 'unknown command "frob"'],
      [['scopes'], 'missing scopes verb (list, grant, revoke or set)'],
      [['scopes', 'frob', 'a@example.com'], 'unknown scopes verb "frob"'],
      [['scopes', 'list'], 'missing <email>'],
      [['scopes', 'list', 'a@example.com', 'user:read'], 'unexpected argument "user:read"'],
      [['scopes', 'grant', 'a@example.com'], 'name at least one scope'],
      [['scopes', 'revoke', 'a@example.com'], 'name at least one scope'],
      [['help', 'frob'], 'unknown command "frob"'],
      [['help', 'scopes', 'frob'], 'unknown scopes verb "frob"'],
    ];
    assert.deepEqual(
      cases.map(([argv]) => {
        const plan = planAdmin(argv);
        return plan.kind === 'answer' ? { code: plan.code, problem: plan.stderr?.split('\n')[0], usage: /\nUsage: /.test(plan.stderr ?? ''), stdout: plan.stdout } : plan;
      }),
      cases.map(([, problem]) => ({ code: 64, problem: `admin: ${problem}`, usage: true, stdout: undefined })),
    );
  });

  it('answers an unknown option with 64, naming it', () => {
    const plan = planAdmin(['scopes', 'list', 'a@example.com', '--force']);
    assert.equal(plan.kind === 'answer' && plan.code, 64);
    assert.match(plan.kind === 'answer' ? plan.stderr ?? '' : '', /^admin: Unknown option '--force'/);
  });

  it('answers unknown scope names with 2, naming them and the valid ones', () => {
    assert.deepEqual(planAdmin(['scopes', 'grant', 'a@example.com', 'user:read', 'root', 'admin:*']), {
      kind: 'answer',
      code: 2,
      stderr: `admin: unknown scope "root", "admin:*". ${VALID_SCOPES}\n`,
    });
  });

  it('reads a valid command, keeping the scopes in the order given', () => {
    assert.deepEqual(planAdmin(['scopes', 'set', ' Mary.Sluis.10011@gmail.com ', 'super:*', 'user:read']), {
      kind: 'scopes',
      verb: 'set',
      email: 'Mary.Sluis.10011@gmail.com',
      scopes: ['super:*', 'user:read'],
    });
  });
});

for (const engine of ENGINES) {
  describe(`the admin command line on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine);
    });
    after(() => testDb?.cleanup());

    async function admin(...argv: string[]) {
      const io = capture();
      const code = await runAdmin(argv, { db: testDb.db, stdout: io.stdout, stderr: io.stderr });
      return { code, ...io.output() };
    }

    it('lists an employee\'s scopes one per line, whatever the case of the email', async () => {
      assert.deepEqual(await admin('scopes', 'list', 'BEHAI_NGUYEN@hotmail.com'), { code: 0, stdout: 'user:read\nuser:write\n', stderr: '' });
      assert.deepEqual(await admin('scopes', 'list', 'moss.shanbhogue.10045@gmail.com'), { code: 0, stdout: '', stderr: '' });
    });

    it('grants scopes idempotently and prints the result', async () => {
      const expected = {
        code: 0,
        stdout: 'Granted admin:read user:read to moss.shanbhogue.10045@gmail.com (10045). Scopes now: admin:read user:read.\n',
        stderr: '',
      };
      assert.deepEqual(await admin('scopes', 'grant', 'moss.shanbhogue.10045@gmail.com', 'admin:read', 'user:read'), expected);
      assert.deepEqual(await admin('scopes', 'grant', 'moss.shanbhogue.10045@gmail.com', 'admin:read', 'user:read'), expected);
      assert.deepEqual(await findScopes(testDb.db, 10045), ['admin:read', 'user:read']);
    });

    it('revokes scopes, counting those actually held', async () => {
      assert.deepEqual(await admin('scopes', 'revoke', 'moss.shanbhogue.10045@gmail.com', 'admin:read', 'super:*'), {
        code: 0,
        stdout: 'Revoked 1 of admin:read super:* from moss.shanbhogue.10045@gmail.com (10045). Scopes now: user:read.\n',
        stderr: '',
      });
    });

    it('sets scopes exactly, and to none when none are named', async () => {
      assert.deepEqual(await admin('scopes', 'set', 'moss.shanbhogue.10045@gmail.com', 'super:*', 'user:write'), {
        code: 0,
        stdout: 'Set the scopes of moss.shanbhogue.10045@gmail.com (10045). Scopes now: super:* user:write.\n',
        stderr: '',
      });
      assert.deepEqual(await admin('scopes', 'set', 'moss.shanbhogue.10045@gmail.com'), {
        code: 0,
        stdout: 'Set the scopes of moss.shanbhogue.10045@gmail.com (10045). Scopes now: (none).\n',
        stderr: '',
      });
    });

    it('answers an unknown email with 1 and a message on stderr, changing nothing', async () => {
      assert.deepEqual(await admin('scopes', 'grant', 'spider_man@hotmail.com', 'super:*'), {
        code: 1,
        stdout: '',
        stderr: 'admin: no employee has the email spider_man@hotmail.com\n',
      });
    });

    it('answers an unknown scope with 2 before looking anything up', async () => {
      assert.deepEqual(await admin('scopes', 'grant', 'mary.sluis.10011@gmail.com', 'root'), {
        code: 2,
        stdout: '',
        stderr: `admin: unknown scope "root". ${VALID_SCOPES}\n`,
      });
      assert.deepEqual(await findScopes(testDb.db, 10011), ['super:*']);
    });
  });
}

describe('npm run admin, as a separate process', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ep-admin-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  /** Runs the package script against an SQLite file of its own; resolves with the exit code and output. */
  function npmAdmin(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        'npm',
        ['run', '--silent', 'admin', '--', ...argv],
        { cwd: PROJECT_ROOT, env: { ...process.env, DATABASE_URL: `sqlite:${join(dataDir, 'admin.sqlite')}`, DATA_DIR: dataDir } },
        (error, stdout, stderr) => resolve({ code: typeof error?.code === 'number' ? error.code : error ? -1 : 0, stdout, stderr }),
      );
    });
  }

  it('opens (and seeds) the database named by DATABASE_URL, runs the verb and exits 0', async () => {
    assert.deepEqual(await npmAdmin('scopes', 'grant', 'kazuhisa.ranta.10199@gmail.com', 'user:write'), {
      code: 0,
      stdout: 'Granted user:write to kazuhisa.ranta.10199@gmail.com (10199). Scopes now: user:read user:write.\n',
      stderr: '',
    });
    assert.deepEqual(await npmAdmin('scopes', 'list', 'kazuhisa.ranta.10199@gmail.com'), { code: 0, stdout: 'user:read\nuser:write\n', stderr: '' });
  });

  it('exits 1 for an unknown email and 64 for a usage error', async () => {
    assert.deepEqual(await npmAdmin('scopes', 'list', 'spider_man@hotmail.com'), {
      code: 1,
      stdout: '',
      stderr: 'admin: no employee has the email spider_man@hotmail.com\n',
    });
    const usage = await npmAdmin('scopes', 'grant', 'spider_man@hotmail.com');
    assert.deepEqual({ code: usage.code, stdout: usage.stdout, firstLine: usage.stderr.split('\n')[0] }, { code: 64, stdout: '', firstLine: 'admin: name at least one scope' });
  });
});
