/**
 * The audit room on every engine: the failed-login rule under concurrency, a change whose
 * transaction fails leaving no event, the filters and cursor paging, and pruning in batches.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';
import { eventsAfter, lastAuditId } from '../helpers/audit.js';
import { recordAuditEvent, type AuditContext } from '../../src/audit/events.js';
import { FAILED_LOGIN_ROWS_PER_WINDOW, recordFailedLogin } from '../../src/audit/failed-logins.js';
import { auditEventBatches, deleteAuditEventsBefore, listAuditEvents, recentActivity } from '../../src/audit/trail.js';
import { pruneAuditTrail, scheduleAuditPruning } from '../../src/audit/retention.js';
import { accountRecords } from '../../src/employees/account-records.js';
import { replacePassword, type AccountRecords } from '../../src/identity/account-actions.js';
import { findPasswordHash } from '../../src/employees/employee-repository.js';
import { getEmployee, updateEmployee } from '../../src/employees/employee-service.js';
import { SessionManager } from '../../src/sessions/session-manager.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-store.js';
import { U1, U2, updateForm } from '../helpers/people.js';

const OPERATOR: AuditContext = { actor: { kind: 'operator', name: 'trail test' } };
const HOUR = Date.UTC(2026, 10, 29, 14);

for (const engine of ENGINES) {
  describe(`the audit room on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(engine);
    });
    after(() => testDb?.cleanup());
    let mark = 0;
    beforeEach(async () => {
      mark = await lastAuditId(testDb.db);
    });

    it('keeps racing failed logins to a few rows per name and address an hour, whose counts add up exactly', async () => {
      const attempt = (name: string, address: string, outcome: 'failure' | 'throttled', minute: number) =>
        recordFailedLogin(testDb.db, { outcome, name, client: { address, label: 'curl' }, at: new Date(HOUR + minute * 60_000) });
      await Promise.all([
        ...Array.from({ length: 120 }, (_, i) => attempt('victim@example.com', '192.0.2.1', 'failure', i % 60)),
        ...Array.from({ length: 30 }, (_, i) => attempt('victim@example.com', '192.0.2.2', 'failure', i % 60)),
        // Throttled attempts count per address, whatever the name: rotating names does not add rows.
        ...Array.from({ length: 50 }, (_, i) => attempt(`guess${i}@example.com`, '192.0.2.3', 'throttled', i % 60)),
        // The next hour is another window.
        ...Array.from({ length: 7 }, () => attempt('victim@example.com', '192.0.2.1', 'failure', 61)),
      ]);
      const rows = await eventsAfter(testDb.db, mark);
      const summary = (address: string) => {
        const mine = rows.filter((row) => row.client_address === address);
        return { rows: mine.length, attempts: mine.reduce((sum, row) => sum + row.repeat_count, 0) };
      };
      const limit = FAILED_LOGIN_ROWS_PER_WINDOW + 1;
      // 192.0.2.1: two windows (this hour and the next), the others one each.
      assert.deepEqual(
        { one: summary('192.0.2.1'), two: summary('192.0.2.2'), throttled: summary('192.0.2.3') },
        { one: { rows: 2 * limit, attempts: 127 }, two: { rows: limit, attempts: 30 }, throttled: { rows: limit, attempts: 50 } },
      );
      assert.deepEqual(
        rows.filter((row) => row.repeat_count > 1 && row.client_address === '192.0.2.2').map((row) => row.detail),
        [{ aggregated: { from: new Date(HOUR).toISOString(), to: new Date(HOUR + 3_600_000).toISOString(), per: 'name and address' } }],
      );
    });

    it('leaves no event, and no change, when the transaction of the change fails', async () => {
      const hashBefore = await findPasswordHash(testDb.db, U2.empNo);
      // The event is written, then the transaction fails after it: both are undone.
      const failing = (records: AccountRecords): AccountRecords => ({
        ...records,
        recordEvent: async (event) => {
          await records.recordEvent(event);
          throw new Error('made to fail');
        },
        inTransaction: (work) => records.inTransaction((inner) => work(failing(inner))),
      });
      const store = new SqliteSessionStore({ path: ':memory:', sweepIntervalMs: 60_000 });
      const sessions = new SessionManager(store, { idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 120 });
      try {
        await assert.rejects(
          replacePassword(failing(accountRecords(testDb.db)), sessions, U2.empNo, 'a new password here', OPERATOR),
          /made to fail/,
        );
      } finally {
        await store.close();
      }
      const mine = await getEmployee(testDb.db, U1.empNo);
      const update = updateForm(mine, { firstName: 'Rolled', lastName: 'Back' });
      await assert.rejects(
        testDb.db.transaction().execute(async (trx) => {
          await updateEmployee(trx, { empNo: U1.empNo, scopes: ['user:write'] }, update, OPERATOR);
          throw new Error('the caller failed after the update');
        }),
        /the caller failed/,
      );
      assert.deepEqual(
        {
          events: await eventsAfter(testDb.db, mark),
          hash: await findPasswordHash(testDb.db, U2.empNo),
          employee: await getEmployee(testDb.db, U1.empNo),
        },
        { events: [], hash: hashBefore, employee: mine },
      );
    });

    describe('filters and paging', () => {
      const at = (minutes: number) => new Date(Date.UTC(2025, 0, 1) + minutes * 60_000);
      let first = 0;
      before(async () => {
        first = (await lastAuditId(testDb.db)) + 1;
        for (let i = 0; i < 25; i++) {
          await recordAuditEvent(testDb.db, {
            action: i % 2 === 0 ? 'employee.update' : 'scopes.change',
            outcome: i % 5 === 0 ? 'refused' : 'success',
            actor: i % 3 === 0 ? { kind: 'operator', name: 'alice' } : { kind: 'employee', empNo: 10005, sessionId: 'S'.repeat(22) },
            client: { address: '192.0.2.9' },
            targetEmpNo: 20000 + (i % 4),
            detail: { i },
            at: at(i),
          });
        }
      });
      const ids = (events: Array<{ detail: Record<string, unknown> | null }>) => events.map((event) => (event.detail as { i: number }).i);
      const window = { since: at(0).toISOString(), until: at(25).toISOString() };

      it('filters by actor, operator, target, action, outcome and time, newest first', async () => {
        const list = async (filter: Parameters<typeof listAuditEvents>[1]) =>
          ids((await listAuditEvents(testDb.db, { ...window, ...filter })).events);
        assert.deepEqual(await list({ actor: 10005, target: 20001 }), [17, 13, 5, 1]);
        assert.deepEqual(await list({ actorName: 'alice', action: 'scopes.change' }), [21, 15, 9, 3]);
        assert.deepEqual(await list({ outcome: 'refused' }), [20, 15, 10, 5, 0]);
        assert.deepEqual(await list({ since: at(22).toISOString() }), [24, 23, 22]);
        assert.deepEqual(await list({ until: '2025-01-01T00:02+00:00' }), [1, 0]);
      });

      it('pages with an opaque cursor until next_cursor is null, every event once', async () => {
        const seen: number[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await listAuditEvents(testDb.db, { ...window, limit: 10, ...(cursor ? { cursor } : {}) });
          seen.push(...ids(page.events));
          cursor = page.next_cursor ?? undefined;
          pages++;
        } while (cursor);
        assert.deepEqual({ pages, seen }, { pages: 3, seen: Array.from({ length: 25 }, (_, i) => 24 - i) });
        await assert.rejects(listAuditEvents(testDb.db, { cursor: 'bm90LWEtY3Vyc29y' }), { statusCode: 400, code: 'INVALID_CURSOR' });
      });

      it("exports a range in batches, oldest first, and shows a person's own recent activity", async () => {
        const batches: number[][] = [];
        for await (const batch of auditEventBatches(testDb.db, window, 10)) batches.push(ids(batch));
        assert.deepEqual(
          batches.map((batch) => batch.length),
          [10, 10, 5],
        );
        assert.deepEqual(
          batches.flat(),
          Array.from({ length: 25 }, (_, i) => i),
        );
        const recent = await recentActivity(testDb.db, 20002, 3);
        assert.deepEqual(ids(recent), [22, 18, 14]);
        assert.ok(recent.every((event) => event.id >= first));
      });
    });

    it('prunes what is older than the retention in batches, records the pruning, and keeps everything with 0 days', async () => {
      const now = new Date();
      const cutoff = new Date(now.getTime() - 365 * 86_400_000);
      const old = Array.from({ length: 7 }, (_, i) => new Date(now.getTime() - (400 + i) * 86_400_000));
      for (const time of old) await recordAuditEvent(testDb.db, { action: 'login', outcome: 'success', ...OPERATOR, at: time });
      await recordAuditEvent(testDb.db, { action: 'logout', outcome: 'success', ...OPERATOR, at: new Date(now.getTime() - 86_400_000) });
      const olderThan = async (time: Date) =>
        Number(
          (
            await testDb.db
              .selectFrom('audit_events')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('occurred_at', '<', time.toISOString())
              .executeTakeFirstOrThrow()
          ).n,
        );
      assert.deepEqual(await pruneAuditTrail(testDb.db, 0, OPERATOR, now), { deleted: 0, cutoff: undefined });
      const older = await olderThan(cutoff);
      const oldest = await olderThan(old[3]!);
      // Two rows a statement here, to see the batches join up; the app's are AUDIT_BATCH_SIZE.
      assert.equal(await deleteAuditEventsBefore(testDb.db, old[3]!, 2), oldest);
      const { deleted } = await pruneAuditTrail(testDb.db, 365, OPERATOR, now);
      const [prune] = (await eventsAfter(testDb.db, mark)).filter((event) => event.action === 'audit.prune');
      assert.deepEqual(
        { deleted, left: await olderThan(cutoff), prune },
        {
          deleted: older - oldest,
          left: 0,
          prune: {
            action: 'audit.prune',
            outcome: 'success',
            actor_kind: 'operator',
            actor_emp_no: null,
            actor_name: 'trail test',
            session_id: null,
            client_address: null,
            client_label: null,
            target_emp_no: null,
            repeat_count: 1,
            detail: { deleted: older - oldest, before: cutoff.toISOString(), retention_days: 365 },
          },
        },
      );
    });

    it('prunes on a schedule until stopped, as the app does', async () => {
      await recordAuditEvent(testDb.db, { action: 'login', outcome: 'success', ...OPERATOR, at: new Date(Date.now() - 3 * 86_400_000) });
      const logged: string[] = [];
      const log = {
        info: (_: object, message: string) => logged.push(message),
        warn: (_: object, message: string) => logged.push(message),
      };
      const schedule = scheduleAuditPruning(testDb.db, { retentionDays: 2, log, firstDelayMs: 1, intervalMs: 10 });
      try {
        while (!logged.includes('pruned old audit events')) await new Promise((resolve) => setTimeout(resolve, 5));
      } finally {
        await schedule.stop();
      }
      const stale = await testDb.db
        .selectFrom('audit_events')
        .select('id')
        .where('occurred_at', '<', new Date(Date.now() - 2 * 86_400_000).toISOString())
        .execute();
      assert.deepEqual({ stale, logged: [...new Set(logged)] }, { stale: [], logged: ['pruned old audit events'] });
    });
  });
}
