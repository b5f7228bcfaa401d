import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { planAdmin, runAdmin } from '../../src/cli/admin.js';
import { openSessions } from '../../src/cli/resources.js';
import { loadConfig } from '../../src/config.js';
import { verifyPassword } from '../../src/identity/passwords.js';
import { openDatabase } from '../../src/database/open.js';
import { findEmployeeByEmail } from '../../src/employees/employee-repository.js';
import { findScopes } from '../../src/employees/scope-repository.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';
import { freePort } from '../../support/private-servers.js';
import { adminScript, capture } from './support.js';

const VALID_SCOPES = 'Valid scopes: user:read, user:write, admin:read, admin:write, audit:read, super:*';

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

  it("prints a verb's own help for help <verb> and <verb> --help", () => {
    const expected = {
      kind: 'answer',
      code: 0,
      stdout: [
        'Usage: npm run admin -- scopes revoke <email> <scope...>',
        '',
        'Takes scopes away; those not held are ignored.',
        '',
        'Scopes: user:read, user:write, admin:read, admin:write, audit:read, super:*.',
        "Quote 'super:*' in a shell.",
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
        return plan.kind === 'answer'
          ? { code: plan.code, problem: plan.stderr?.split('\n')[0], usage: /\nUsage: /.test(plan.stderr ?? ''), stdout: plan.stdout }
          : plan;
      }),
      cases.map(([, problem]) => ({ code: 64, problem: `admin: ${problem}`, usage: true, stdout: undefined })),
    );
  });

  it('answers an unknown option with 64, naming it', () => {
    const plan = planAdmin(['scopes', 'list', 'a@example.com', '--force']);
    assert.equal(plan.kind === 'answer' && plan.code, 64);
    assert.match(plan.kind === 'answer' ? (plan.stderr ?? '') : '', /^admin: Unknown option '--force'/);
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

  it('reads several scopes in one argument, separated by spaces or commas, as the web form does', () => {
    assert.deepEqual(planAdmin(['scopes', 'grant', 'a@example.com', 'user:read admin:read', 'user:write,admin:write']), {
      kind: 'scopes',
      verb: 'grant',
      email: 'a@example.com',
      scopes: ['user:read', 'admin:read', 'user:write', 'admin:write'],
    });
  });

  const COMMANDS = [
    'employees create',
    'password set',
    'account disable',
    'account enable',
    'sessions list',
    'sessions end',
    'scopes list',
    'scopes grant',
    'scopes revoke',
    'scopes set',
    'config',
  ];

  it('gives every command a help of its own, the same for help <command> and <command> --help, and lists it', () => {
    const general = planAdmin(['help']);
    for (const name of COMMANDS) {
      const words = name.split(' ');
      const viaHelp = planAdmin(['help', ...words]);
      assert.deepEqual(planAdmin([...words, '--help']), viaHelp, name);
      assert.equal(viaHelp.kind === 'answer' && viaHelp.code, 0, name);
      assert.ok(viaHelp.kind === 'answer' && viaHelp.stdout?.startsWith(`Usage: npm run admin -- ${name} `), name);
      assert.ok(general.kind === 'answer' && general.stdout?.includes(`\n  ${name} `), name);
    }
  });

  it('explains in the help of password set where the password comes from', () => {
    assert.deepEqual(planAdmin(['password', 'set', '--help']), {
      kind: 'answer',
      code: 0,
      stdout: [
        'Usage: npm run admin -- password set <email>',
        '',
        "Sets a new password; ends the person's sessions and tokens.",
        '',
        'Every session of the person ends, and every token issued with one, as after a password change on the',
        'web; the number ended is printed.',
        '',
        'The password (10 to 64 characters, at most 72 bytes) is asked twice at a terminal, without',
        'being shown, or read from the first line of stdin when stdin is a pipe or a file. Never from the',
        'command line, where other users (ps) and the shell history would see it: --password is refused.',
        '',
      ].join('\n'),
    });
  });

  it('lists the verbs of a group for help <group> and <group> --help', () => {
    const expected = {
      kind: 'answer',
      code: 0,
      stdout: [
        'Usage: npm run admin -- account <disable|enable> <email>',
        '',
        "  account disable <email>                   Disables the login; ends the person's sessions and tokens.",
        '  account enable <email>                    Enables a disabled login again.',
        '',
      ].join('\n'),
    };
    assert.deepEqual(planAdmin(['help', 'account']), expected);
    assert.deepEqual(planAdmin(['account', '--help']), expected);
    assert.deepEqual(planAdmin(['employees', '--help']), planAdmin(['help', 'employees', 'create']));
  });

  it("answers the new commands' usage errors with 64 and the command's usage", () => {
    const ALL_FIELDS = [
      '--email',
      'a@example.com',
      '--first-name',
      'A',
      '--last-name',
      'B',
      '--birth-date',
      '1/1/1990',
      '--hire-date',
      '1/1/2020',
      '--gender',
      'F',
    ];
    const cases: [string[], string][] = [
      [['employees'], 'missing employees verb (create)'],
      [['employees', 'create', '--email', 'a@example.com'], 'missing --first-name, --last-name, --birth-date, --hire-date, --gender'],
      [['employees', 'create', 'extra', ...ALL_FIELDS], 'unexpected argument "extra"'],
      [['password', 'set'], 'missing <email>'],
      [['password', 'reset', 'a@example.com'], 'unknown password verb "reset"'],
      [['account'], 'missing account verb (disable or enable)'],
      [['account', 'disable', 'a@example.com', 'b@example.com'], 'unexpected argument "b@example.com"'],
      [['sessions', 'list', 'a@example.com', '--id', 'x'], 'sessions list does not take --id'],
      [['sessions', 'end', 'a@example.com', '--json'], 'sessions end does not take --json'],
      [['sessions', 'end', 'a@example.com', '--id='], '--id needs a session id (as `sessions list` shows it)'],
      [['scopes', 'list', 'a@example.com', '--check'], 'scopes list does not take --check'],
      [['config', 'now'], 'unexpected argument "now"'],
      [['help', 'config', 'now'], 'config has no verb "now"'],
      [['sessions', 'end', 'a@example.com', '--id', '-dashed'], "Option '--id' argument is ambiguous."],
    ];
    assert.deepEqual(
      cases.map(([argv]) => {
        const plan = planAdmin(argv);
        return plan.kind === 'answer'
          ? { code: plan.code, problem: plan.stderr?.split('\n')[0], usage: /\nUsage: /.test(plan.stderr ?? ''), stdout: plan.stdout }
          : plan;
      }),
      cases.map(([, problem]) => ({ code: 64, problem: `admin: ${problem}`, usage: true, stdout: undefined })),
    );
  });

  it('refuses --password anywhere with 64, saying why, and never repeats the value', () => {
    for (const argv of [
      ['password', 'set', 'a@example.com', '--password', 'hunter2-secret'],
      ['employees', 'create', '--password=hunter2-secret', '--email', 'a@example.com'],
      ['--password', 'hunter2-secret', 'password', 'set', 'a@example.com'],
      ['password', 'set', '--help', '--password'],
    ]) {
      const plan = planAdmin(argv);
      assert.equal(plan.kind === 'answer' && plan.code, 64, argv.join(' '));
      const stderr = plan.kind === 'answer' ? (plan.stderr ?? '') : '';
      assert.match(
        stderr,
        /^admin: --password is refused: on the command line a password is visible to other users \(ps\) and is kept in\nthe shell history\./,
      );
      assert.doesNotMatch(stderr, /hunter2/);
    }
  });

  it('reads the new commands into plans', () => {
    assert.deepEqual(
      planAdmin([
        'employees',
        'create',
        '--email',
        'Jane@Example.com',
        '--first-name',
        'Jane',
        '--last-name',
        'Doe',
        '--birth-date',
        '25/2/1990',
        '--hire-date',
        '2020-01-06',
        '--gender',
        'F',
      ]),
      {
        kind: 'employees',
        verb: 'create',
        fields: {
          email: 'Jane@Example.com',
          firstName: 'Jane',
          lastName: 'Doe',
          birthDate: '25/2/1990',
          hireDate: '2020-01-06',
          gender: 'F',
        },
      },
    );
    assert.deepEqual(planAdmin(['password', 'set', ' A@example.com ']), { kind: 'password', verb: 'set', email: 'A@example.com' });
    assert.deepEqual(planAdmin(['account', 'enable', 'a@example.com']), { kind: 'account', verb: 'enable', email: 'a@example.com' });
    assert.deepEqual(planAdmin(['sessions', 'list', 'a@example.com']), {
      kind: 'sessions',
      verb: 'list',
      email: 'a@example.com',
      json: false,
    });
    assert.deepEqual(planAdmin(['sessions', 'list', '--json', 'a@example.com']), {
      kind: 'sessions',
      verb: 'list',
      email: 'a@example.com',
      json: true,
    });
    assert.deepEqual(planAdmin(['sessions', 'end', 'a@example.com']), { kind: 'sessions', verb: 'end', email: 'a@example.com' });
    assert.deepEqual(planAdmin(['sessions', 'end', 'a@example.com', '--id=-x_Y']), {
      kind: 'sessions',
      verb: 'end',
      email: 'a@example.com',
      id: '-x_Y',
    });
    assert.deepEqual(planAdmin(['config']), { kind: 'config', check: false });
    assert.deepEqual(planAdmin(['config', '--check']), { kind: 'config', check: true });
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

    it("lists an employee's scopes one per line, whatever the case of the email", async () => {
      assert.deepEqual(await admin('scopes', 'list', 'BEHAI_NGUYEN@hotmail.com'), {
        code: 0,
        stdout: 'user:read\nuser:write\n',
        stderr: '',
      });
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
    assert.deepEqual(await npmAdmin('scopes', 'list', 'kazuhisa.ranta.10199@gmail.com'), {
      code: 0,
      stdout: 'user:read\nuser:write\n',
      stderr: '',
    });
  });

  it('exits 1 for an unknown email and 64 for a usage error', async () => {
    assert.deepEqual(await npmAdmin('scopes', 'list', 'spider_man@hotmail.com'), {
      code: 1,
      stdout: '',
      stderr: 'admin: no employee has the email spider_man@hotmail.com\n',
    });
    const usage = await npmAdmin('scopes', 'grant', 'spider_man@hotmail.com');
    assert.deepEqual(
      { code: usage.code, stdout: usage.stdout, firstLine: usage.stderr.split('\n')[0] },
      { code: 64, stdout: '', firstLine: 'admin: name at least one scope' },
    );
  });
});

describe('the admin script run by node, with a password piped on stdin', () => {
  let dataDir: string;
  let databaseUrl: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ep-admin-'));
    databaseUrl = `sqlite:${join(dataDir, 'employees.sqlite')}`;
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  /** The script on this suite's database and data folder (support.ts `adminScript`). */
  function script(argv: string[], stdin = '', env: Record<string, string> = {}) {
    return adminScript(argv, { DATABASE_URL: databaseUrl, DATA_DIR: dataDir, ...env }, stdin);
  }

  it("sets the password, ends the person's sessions in the configured store, and exits by itself", async () => {
    // Two sessions in the store the script will open: the embedded file in DATA_DIR.
    const { store, manager } = openSessions(loadConfig({ DATA_DIR: dataDir }));
    try {
      await manager.create(500222, ['user:read'], 'Firefox on Linux');
      await manager.create(500222, ['user:read'], 'curl');
    } finally {
      await store.close();
    }

    assert.deepEqual(await script(['password', 'set', 'behai_nguyen@hotmail.com'], 'piped-password-1\n'), {
      code: 0,
      signal: null,
      stdout: 'Set the password of behai_nguyen@hotmail.com (500222). Ended 2 sessions and their tokens.\n',
      stderr: '',
    });
    const database = await openDatabase(databaseUrl, { dataDir });
    try {
      const employee = await findEmployeeByEmail(database.db, 'behai_nguyen@hotmail.com');
      assert.equal(await verifyPassword(employee?.password ?? '', 'piped-password-1'), true);
    } finally {
      await database.close();
    }
    assert.deepEqual(await script(['sessions', 'list', 'behai_nguyen@hotmail.com', '--json']), {
      code: 0,
      signal: null,
      stdout: '[]\n',
      stderr: '',
    });
  });

  it('creates an employee from a piped password, and refuses --password', async () => {
    const created = await script(
      [
        'employees',
        'create',
        '--email',
        'jane.doe@example.com',
        '--first-name',
        'Jane',
        '--last-name',
        'Doe',
        '--birth-date',
        '1990-02-25',
        '--hire-date',
        '2020-01-06',
        '--gender',
        'F',
      ],
      'piped-password-2\n',
    );
    assert.deepEqual({ ...created, stdout: /^\d+\n$/.test(created.stdout) }, { code: 0, signal: null, stdout: true, stderr: '' });

    const refused = await script(['password', 'set', 'jane.doe@example.com', '--password=hunter2-secret']);
    assert.deepEqual(
      { code: refused.code, stdout: refused.stdout, firstLine: refused.stderr.split('\n')[0] },
      {
        code: 64,
        stdout: '',
        firstLine: 'admin: --password is refused: on the command line a password is visible to other users (ps) and is kept in',
      },
    );
  });

  it('exits 69, before asking for a password, when the session store does not answer', async () => {
    const result = await script(['password', 'set', 'behai_nguyen@hotmail.com'], 'never-read-password\n', {
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    assert.equal(result.code, 69);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^admin: The session store is unavailable: connect ECONNREFUSED 127\.0\.0\.1:\d+\n$/);
  });

  it('exits 69 when the database does not answer', async () => {
    const result = await script(['scopes', 'list', 'behai_nguyen@hotmail.com'], '', {
      DATABASE_URL: `postgres://postgres:db-pass-123@127.0.0.1:${await freePort()}/employees`,
    });
    assert.equal(result.code, 69);
    assert.match(result.stderr, /^admin: cannot open the database: .*ECONNREFUSED/);
    assert.doesNotMatch(result.stderr, /db-pass-123/);
  });
});
