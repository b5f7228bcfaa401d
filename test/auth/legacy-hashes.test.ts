/**
 * The bcrypt dummy check that keeps timing equal costs three quarters of a login's CPU; it runs only
 * while legacy bcrypt hashes exist. Timing stays equal between unknown and known users in both
 * states, and a bcrypt hash written behind the app's back brings the dummy back.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { API, FORM, form, login, useSuiteApp } from '../helpers/app.js';
import { captureLogs, type LogCapture } from '../helpers/logs.js';
import { U2 } from '../helpers/people.js';
import { LEGACY_BCRYPT_EMP_NOS, SEED_EMPLOYEES, SEED_PASSWORD } from '../../src/sample-data/seed.js';

const UNKNOWN = { username: 'nobody.at.all@example.com', password: 'a wrong password' };
const ARGON2_WRONG = { username: U2.username, password: 'a wrong password' };
const LEGACY_USERS = SEED_EMPLOYEES.filter((employee) => LEGACY_BCRYPT_EMP_NOS.includes(employee.emp_no));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('legacy bcrypt hashes and equal login timing', () => {
  const startLogs = captureLogs();
  const { app, env } = useSuiteApp({
    env: { LOG_LEVEL: 'info', LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_CLIENT: '100000' },
    build: { logStream: startLogs.stream },
  });
  const legacyHashesIn = (logs: LogCapture) => logs.lines().find((entry) => typeof entry.legacyHashes === 'number')?.legacyHashes;

  const attempt = async (fields: Record<string, string>) => {
    const started = performance.now();
    const response = await app.inject({ method: 'POST', url: '/auth/token', headers: { ...FORM, ...API }, payload: form(fields) });
    return { status: response.statusCode, ms: performance.now() - started };
  };
  /** Median times of the cases, interleaved one at a time so that machine load hits them alike. */
  const timings = async (cases: Record<string, Record<string, string>>, rounds = 15) => {
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
    for (const fields of Object.values(cases)) await attempt(fields); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const [name, fields] of Object.entries(cases)) {
        const { status, ms } = await attempt(fields);
        assert.equal(status, 400, name);
        times[name]!.push(ms);
      }
    }
    return Object.fromEntries(Object.entries(times).map(([name, values]) => [name, median(values)]));
  };
  const assertEqualTiming = (medians: Record<string, number>) => {
    const values = Object.values(medians);
    const overall = median(values);
    for (const value of values) assert.ok(Math.abs(value - overall) / overall < 0.25, JSON.stringify(medians));
  };
  const startLogged = async () => {
    const logs = captureLogs();
    const started = await env.start({ logStream: logs.stream });
    return { app: started, legacyHashes: legacyHashesIn(logs) };
  };

  before(() => {
    assert.equal(legacyHashesIn(startLogs), LEGACY_USERS.length, 'the seed has four legacy hashes, counted at start');
  });

  it('drops the bcrypt dummy once every legacy hash is upgraded, keeping unknown and known users alike', async () => {
    const withLegacy = await timings({
      unknown: UNKNOWN,
      argon2id: ARGON2_WRONG,
      bcrypt: { username: LEGACY_USERS[0]!.email, password: 'a wrong password' },
    });
    assertEqualTiming(withLegacy);

    for (const user of LEGACY_USERS) await login(app, { username: user.email, password: SEED_PASSWORD });
    const hashes = await app.db
      .selectFrom('employees')
      .select('password')
      .where('emp_no', 'in', [...LEGACY_BCRYPT_EMP_NOS])
      .execute();
    for (const { password } of hashes) assert.match(password, /^\$argon2id\$/);

    const withoutLegacy = await timings({ unknown: UNKNOWN, argon2id: ARGON2_WRONG });
    assertEqualTiming(withoutLegacy);
    // One argon2id check (~10 ms) instead of argon2id and bcrypt (~60 ms more): far below, whatever the load.
    assert.ok(withoutLegacy.unknown! < 0.6 * withLegacy.unknown!, `${JSON.stringify(withoutLegacy)} against ${JSON.stringify(withLegacy)}`);

    const restarted = await startLogged();
    assert.equal(restarted.legacyHashes, 0, 'a new process counts none');
  });

  it('checks with both hashes again when a bcrypt hash appears behind its back', async () => {
    const legacy = LEGACY_USERS[1]!;
    await app.db
      .updateTable('employees')
      .set({ password: await bcryptHash(SEED_PASSWORD, 10) })
      .where('emp_no', '=', legacy.emp_no)
      .execute();
    const before = await timings({ unknown: UNKNOWN }, 7);
    // Meeting it (a wrong password) turns the dummy back on; the right one then logs in and upgrades it.
    assert.equal((await attempt({ username: legacy.email, password: 'a wrong password' })).status, 400);
    const medians = await timings({
      unknown: UNKNOWN,
      argon2id: ARGON2_WRONG,
      bcrypt: { username: legacy.email, password: 'a wrong password' },
    });
    assertEqualTiming(medians);
    assert.ok(medians.unknown! > 1.5 * before.unknown!, `${JSON.stringify(medians)} against ${JSON.stringify(before)}`);
    await login(app, { username: legacy.email, password: SEED_PASSWORD });
  });
});
