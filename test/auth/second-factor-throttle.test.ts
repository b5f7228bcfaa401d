/**
 * Second-factor checks (TOTP and recovery codes, passkey answers) count against the employee's own
 * code throttle, like passwords: refusals add up to a 429, a pass starts the count afresh, and a
 * check that met an outage (the database or the session store away) is given back, since it proved
 * nothing about the code and must not lock the person out once the outage is over.
 * Checked on LoginThrottle.secondFactorAttempt, the one door every such check goes through.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle } from '../../src/auth/throttle.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-store.js';
import { SessionStoreUnavailableError } from '../../src/sessions/store.js';
import { AppError } from '../../src/errors.js';

const LIMIT = 3;

describe('the second-factor code throttle', () => {
  const store = new SqliteSessionStore({ path: ':memory:', sweepIntervalMs: 60_000 });
  const throttle = new LoginThrottle(store, { maxFailuresPerAccount: LIMIT, maxFailuresPerClient: 100, windowSeconds: 60 });
  after(() => store.close());

  const wrongCode = () => Promise.reject(new AppError(400, 'INVALID_SECOND_FACTOR', 'wrong code'));
  const outages: Array<[string, () => Error]> = [
    ['database', () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['session store', () => new SessionStoreUnavailableError(new Error('connection lost'))],
  ];

  for (const [index, [kind, outage]] of outages.entries()) {
    it(`gives a check back when the ${kind} is away, so that more than the limit of them locks nobody out`, async () => {
      const empNo = 700_001 + index;
      for (let attempt = 0; attempt < LIMIT + 2; attempt++) {
        await assert.rejects(
          throttle.secondFactorAttempt(empNo, () => Promise.reject(outage())),
          (error: Error) => error.constructor === outage().constructor,
        );
      }
      // Had the outages counted, this employee would be over the limit: 429 instead of an answer.
      assert.equal(await throttle.secondFactorAttempt(empNo, async () => 'totp'), 'totp');
    });
  }

  it('counts refused codes up to a 429, which runs no check at all', async () => {
    const empNo = 700_010;
    for (let attempt = 0; attempt < LIMIT; attempt++) {
      await assert.rejects(throttle.secondFactorAttempt(empNo, wrongCode), { code: 'INVALID_SECOND_FACTOR' });
    }
    let checked = false;
    await assert.rejects(
      throttle.secondFactorAttempt(empNo, async () => {
        checked = true;
      }),
      { statusCode: 429, code: 'TOO_MANY_ATTEMPTS' },
    );
    assert.equal(checked, false, 'a throttled attempt must not reach the check');
  });

  it('starts the count afresh after a right code', async () => {
    const empNo = 700_020;
    for (let attempt = 0; attempt < LIMIT - 1; attempt++) await assert.rejects(throttle.secondFactorAttempt(empNo, wrongCode));
    assert.equal(await throttle.secondFactorAttempt(empNo, async () => 'recovery'), 'recovery');
    for (let attempt = 0; attempt < LIMIT; attempt++) {
      await assert.rejects(throttle.secondFactorAttempt(empNo, wrongCode), { code: 'INVALID_SECOND_FACTOR' });
    }
  });
});
