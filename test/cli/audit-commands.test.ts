/**
 * The admin command line and the audit trail: every command that changes something is recorded
 * with the operator as its actor, and `audit export|prune` work through the real command, in
 * process on every engine and once as its own process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { recordAuditEvent } from '../../src/audit/events.js';
import { operatorName } from '../../src/cli/io.js';
import { ENGINES, gateFor } from '../helpers/databases.js';
import { eventsAfter, lastAuditId, type AuditRowSeen } from '../helpers/audit.js';
import { U2, UX } from '../helpers/people.js';
import { adminEnvironment, adminScript, piped, type AdminEnvironment } from './support.js';

const OPERATOR = userInfo().username;

const byOperator = (action: string, target: number | null, detail: unknown = null): AuditRowSeen => ({
  action,
  outcome: 'success',
  actor_kind: 'operator',
  actor_emp_no: null,
  actor_name: OPERATOR,
  session_id: null,
  client_address: null,
  client_label: null,
  target_emp_no: target,
  repeat_count: 1,
  detail,
});

it('names the operator by their account, and by whoever ran sudo', () => {
  assert.deepEqual(
    [operatorName('alice', undefined), operatorName('root', 'alice'), operatorName('alice', 'alice')],
    ['alice', 'root (sudo by alice)', 'alice'],
  );
});

for (const engine of ENGINES) {
  describe(`the admin command line in the audit trail, on ${engine}`, await gateFor(engine), () => {
    let env: AdminEnvironment;
    before(async () => {
      env = await adminEnvironment('sqlite', engine);
    });
    after(() => env?.cleanup());
    let mark = 0;
    beforeEach(async () => {
      mark = await lastAuditId(env.db);
    });

    it('records every change a command makes, by the operator, and nothing for what it refused', async () => {
      const session = await env.sessions.create(U2.empNo, ['user:read'], 'curl');
      await env.sessions.create(U2.empNo, ['user:read'], 'curl');
      const codes = [
        (await env.admin(['scopes', 'grant', U2.username, 'user:write'])).code,
        (await env.admin(['scopes', 'grant', 'nobody@example.com', 'user:write'])).code,
        (await env.admin(['sessions', 'end', U2.username, `--id=${session.id}`])).code,
        (await env.admin(['sessions', 'end', U2.username])).code,
        (await env.admin(['account', 'disable', UX.username])).code,
        (await env.admin(['account', 'enable', UX.username])).code,
        (await env.admin(['password', 'set', UX.username], piped('a new password for ux\n'))).code,
      ];
      const created = await env.admin(
        ['employees', 'create', '--email', 'cli.audit@example.com', '--first-name', 'Cli', '--last-name', 'Audit'].concat([
          '--birth-date',
          '1990-01-02',
          '--hire-date',
          '2020-03-04',
          '--gender',
          'M',
        ]),
        piped('a password for cli\n'),
      );
      const empNo = Number(created.stdout.trim());
      assert.deepEqual(codes, [0, 1, 0, 0, 0, 0, 0]);
      assert.deepEqual(await eventsAfter(env.db, mark), [
        byOperator('scopes.change', U2.empNo, { before: ['user:read'], after: ['user:read', 'user:write'] }),
        byOperator('session.end', U2.empNo, { session_id: session.id }),
        byOperator('sessions.end_all', U2.empNo, { ended: 1 }),
        byOperator('account.disable', UX.empNo),
        byOperator('account.enable', UX.empNo),
        byOperator('password.change', UX.empNo),
        byOperator('employee.create', empNo, {
          after: {
            emp_no: empNo,
            email: 'cli.audit@example.com',
            first_name: 'Cli',
            last_name: 'Audit',
            birth_date: '1990-01-02',
            gender: 'M',
            hire_date: '2020-03-04',
            scopes: ['user:read'],
          },
        }),
      ]);
    });

    it('exports a time range as JSON lines, oldest first, to stdout or a private file', async () => {
      for (let i = 0; i < 3; i++) {
        await recordAuditEvent(env.db, {
          action: 'logout',
          outcome: 'success',
          actor: { kind: 'employee', empNo: 10001 + i, sessionId: 'A'.repeat(22) },
          at: new Date(Date.UTC(2024, 5, 1, i)),
        });
      }
      const result = await env.admin(['audit', 'export', '--since', '2024-06-01', '--until', '2024-06-01T02:00Z']);
      const lines = result.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { actor: { emp_no: number }; occurred_at: string });
      assert.deepEqual(
        { code: result.code, stderr: result.stderr, lines: lines.map((event) => [event.actor.emp_no, event.occurred_at]) },
        {
          code: 0,
          stderr: 'Exported 2 audit events.\n',
          lines: [
            [10001, '2024-06-01T00:00:00.000Z'],
            [10002, '2024-06-01T01:00:00.000Z'],
          ],
        },
      );
      const file = join(env.config.DATA_DIR, 'audit.jsonl');
      assert.deepEqual(await env.admin(['audit', 'export', '--since', '2024-06-01', '--until', '2024-06-02', '--output', file]), {
        code: 0,
        stdout: `Exported 3 audit events to ${file}.\n`,
        stderr: '',
      });
      assert.deepEqual(
        { lines: readFileSync(file, 'utf8').trim().split('\n').length, mode: statSync(file).mode & 0o777 },
        { lines: 3, mode: 0o600 },
      );
    });

    it('refuses a bad time range before opening anything, with 64 and the usage', async () => {
      for (const argv of [
        ['audit', 'export'],
        ['audit', 'export', '--since', 'last tuesday'],
        ['audit', 'export', '--since', '7d', '--until', '8d'],
      ]) {
        const result = await env.admin(argv);
        assert.equal(result.code, 64, argv.join(' '));
        assert.match(result.stderr, /^admin: (missing --since|--since must be|--until must be later)/);
      }
    });

    it('prunes what is older than AUDIT_RETENTION_DAYS and says how many', async () => {
      await recordAuditEvent(env.db, {
        action: 'logout',
        outcome: 'success',
        actor: { kind: 'operator', name: 'old' },
        at: new Date(Date.UTC(2001, 0, 1)),
      });
      const result = await env.admin(['audit', 'prune']);
      assert.equal(result.code, 0);
      assert.match(result.stdout, /^Deleted \d+ audit events? from before \d{4}-\d\d-\d\dT[\d:.]+Z \(AUDIT_RETENTION_DAYS=365\)\.\n$/);
      const left = await env.db.selectFrom('audit_events').select('id').where('occurred_at', '<', '2002-01-01').execute();
      const [prune] = (await eventsAfter(env.db, mark)).filter((event) => event.action === 'audit.prune');
      assert.deepEqual({ left, actor: prune?.actor_name }, { left: [], actor: OPERATOR });
    });
  });
}

describe('npm run admin -- audit export, as its own process run through sudo', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ep-audit-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const script = (argv: string[], env: Record<string, string>) =>
    adminScript(argv, { DATABASE_URL: `sqlite:${join(dataDir, 'employees.sqlite')}`, DATA_DIR: dataDir, ...env });

  it('records the change by "<user> (sudo by <person>)" and exports it as a JSON line', async () => {
    const granted = await script(['scopes', 'grant', U2.username, 'user:write'], { SUDO_USER: 'alice' });
    assert.equal(granted.code, 0, granted.stderr);
    const exported = await script(['audit', 'export', '--since', '1h'], {});
    const events = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      { code: exported.code, stderr: exported.stderr, events: events.map(({ id: _id, occurred_at: _at, ...event }) => event) },
      {
        code: 0,
        stderr: 'Exported 1 audit event.\n',
        events: [
          {
            action: 'scopes.change',
            outcome: 'success',
            repeat_count: 1,
            actor: { kind: 'operator', emp_no: null, name: operatorName(OPERATOR, 'alice'), session_id: null },
            client: { address: null, label: null },
            target_emp_no: U2.empNo,
            detail: { before: ['user:read'], after: ['user:read', 'user:write'] },
          },
        ],
      },
    );
  });
});
