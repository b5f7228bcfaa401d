/**
 * `npm run chaos` measures what it claims: one short scenario end to end (a private Redis with an
 * append-only file killed and started again under three logged-in clients), whose table must show
 * the outage it caused, nothing lost, and every process it started stopped again.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareEntry } from '../../bench/lib/app.js';
import { Cleanup } from '../../chaos/lib/cleanup.js';
import { chaosPeople } from '../../chaos/lib/people.js';
import { scenarioTable, summaryTable } from '../../chaos/lib/report.js';
import { failed, runScenario } from '../../chaos/lib/runner.js';
import { SCENARIOS, type Timing } from '../../chaos/lib/scenarios.js';
import { SEED_PASSWORD } from '../../src/sample-data/seed.js';
import { canConnect } from '../../support/private-servers.js';
import { serviceGate } from '../helpers/services.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHORT: Timing = {
  baselineMs: 1_000,
  outageMs: 1_500,
  hangSeconds: 0,
  cycles: 1,
  databaseCycles: 1,
  recoveryLimitMs: 10_000,
  settleLimitMs: 10_000,
  afterMs: 1_000,
};

describe('npm run chaos', await serviceGate('redis'), () => {
  it('runs a Redis restart with persistence end to end and reports it', { timeout: 60_000 }, async () => {
    const scenario = SCENARIOS.find((each) => each.name === 'redis-restart-aof')!;
    const people = chaosPeople();
    assert.equal(new Set(people.map((p) => p.empNo)).size, people.length, 'every client is a different employee');
    const logDir = mkdtempSync(join(tmpdir(), 'ep-chaos-test-'));
    const cleanup = new Cleanup();
    try {
      const result = await runScenario(scenario, cleanup, {
        entry: prepareEntry(ROOT, import.meta.resolve('tsx'), true, () => undefined),
        timing: SHORT,
        mainPeople: people.slice(0, 3),
        churnPeople: people.slice(3, 5),
        password: SEED_PASSWORD,
        logDir,
        pauseMs: 25,
        churnPauseMs: 300,
        log: () => undefined,
      });
      assert.equal(result.error, undefined);
      assert.equal(result.clients, 3);
      assert.ok(result.answers.correct > 20, `correct answers: ${result.answers.correct}`);
      assert.equal(result.answers.wrongIdentity, 0);
      // Redis was down for 1.5 s: the app said so with 503s, and not with 401s or 500s.
      assert.ok(result.answers.unavailable > 0, 'the outage was seen as 503');
      assert.equal(result.answers.unauthorized, 0);
      assert.equal(result.answers.serverError, 0);
      assert.ok(result.errorWindowSeconds >= 1 && result.errorWindowSeconds < 10, `error window ${result.errorWindowSeconds} s`);
      assert.deepEqual(
        { ...result.checks, checked: { ...result.checks.checked, logouts: 0, logins: 0 } },
        {
          sessionsLost: 0,
          logoutsUndone: 0,
          loginsLost: 0,
          wrongIdentity: 0,
          undecided: 0,
          checked: { sessions: 3, logouts: 0, logins: 0 },
        },
      );
      assert.ok(
        result.checks.checked.logouts > 0 && result.checks.checked.logouts === result.acknowledged.logouts,
        'acknowledged logouts were checked',
      );
      assert.ok(
        result.checks.checked.logins > 0 && result.checks.checked.logins === result.acknowledged.logins,
        'acknowledged logins were checked',
      );
      assert.equal(result.crashes, 0);
      assert.ok(result.recoverySeconds !== undefined && result.recoverySeconds < 10);
      assert.equal(result.settled, true);
      assert.equal(failed(result), false);
      assert.equal(failed({ ...result, checks: { ...result.checks, logoutsUndone: 1 } }), true, 'an undone logout fails the run');
      assert.equal(failed({ ...result, recoverySeconds: undefined }), true, 'no recovery fails the run');

      const table = scenarioTable(result);
      for (const row of [
        'correct answers',
        'wrong identities',
        '401',
        '503',
        'other 5xx',
        'connection errors',
        'error window (s)',
        'sessions lost',
        'logouts undone',
        'acknowledged logins lost',
        'process crashes',
      ]) {
        assert.match(table, new RegExp(`^  ${row.replace(/[()]/g, '\\$&')} +\\S`, 'm'), row);
      }
      assert.match(table, new RegExp(`^  correct answers +${result.answers.correct}$`, 'm'));
      assert.match(table, /^ {2}sessions lost +0 of 3$/m);
      assert.match(table, /^ {2}verdict: ok$/m);
      assert.match(
        summaryTable([result]),
        new RegExp(
          `^\\| redis-restart-aof \\| ${result.answers.correct} \\| 0 \\| 0 \\| ${result.answers.unavailable} \\| 0 \\|.* \\| ok \\|$`,
          'm',
        ),
      );

      assert.equal(cleanup.size, 0, 'the scenario stopped everything it started');
      // The ports of what it started (the labels end in them): Redis and the app.
      const ports = cleanup.history.flatMap((label) => /:(\d+)$/.exec(label)?.slice(1).map(Number) ?? []);
      assert.equal(ports.length, 2, cleanup.history.join(', '));
      for (const port of ports) assert.equal(await canConnect(port), false, `port ${port} is closed`);
    } finally {
      await cleanup.stopAll();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});
