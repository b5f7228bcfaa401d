/**
 * Checklist group G, a login halfway through meeting a Redis fault: the password was right, the
 * pending session is in Redis, and Redis dies (or hangs) before the second factor is sent. The
 * second step answers a quick 503 and sets no cookie while Redis is away, its code is not spent nor
 * counted against the person, and once Redis is back (empty: persistence off) the half-done login is
 * gone, 401, and the person logs in again with the same code. Never a session without its second
 * factor, never a 500.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { serviceGate } from '../../helpers/services.js';
import { API, BROWSER, FORM, form, sessionCookieOf, useSuiteApp } from '../../helpers/app.js';
import { pollUntil, startPrivateRedis, type PrivateRedis } from '../../../support/private-servers.js';
import { RECOVERY_MS, timed } from '../support.js';
import { SUPER, type Person } from '../../helpers/people.js';
import { STORE_UNAVAILABLE } from '../../helpers/messages.js';
import { codeOf, enrolTotp, MFA_ENV } from '../../helpers/second-factor.js';

/** The checklist's bound for a dependency outage to be answered (the Redis command timeout is 1 s). */
const OUTAGE_ANSWER_MS = 2000;

/** A browser's password step: the pending session's cookie, once the step it owes is `owes`. */
async function passwordStep(app: FastifyInstance, person: Person, owes = '/auth/mfa'): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { ...FORM, ...BROWSER },
    payload: form({ username: person.username, password: person.password }),
  });
  assert.equal(response.statusCode, 303, response.body);
  assert.equal(response.headers.location, owes);
  return sessionCookieOf(response)!.value;
}

const secondStep = (app: FastifyInstance, cookie: string, code: string) =>
  app.inject({
    method: 'POST',
    url: '/auth/mfa/totp',
    headers: { ...FORM, ...API },
    cookies: { session: cookie },
    payload: form({ code }),
  });

describe('G. faults: a second-step login while Redis fails', await serviceGate('redis'), () => {
  let redisServer: PrivateRedis;
  before(async () => {
    redisServer = await startPrivateRedis();
  });
  const { app } = useSuiteApp({
    store: 'redis',
    env: () => ({ ...MFA_ENV, REDIS_URL: redisServer.url, LOGIN_MAX_FAILURES_PER_ACCOUNT: '5' }),
    tolerateCloseErrors: true, // the tests kill this Redis
  });
  let secret: string;
  before(async () => {
    // super:* must have a second factor: the first login is led through enrolment.
    secret = (await enrolTotp(app, await passwordStep(app, SUPER, '/auth/mfa/totp/enrol'))).secret;
  });
  after(() => redisServer?.stop());

  const verifyEvents = () =>
    app.db
      .selectFrom('audit_events')
      .select(['action', 'outcome'])
      .where('target_emp_no', '=', SUPER.empNo)
      .where('action', 'in', ['mfa.verify', 'login'])
      .orderBy('id')
      .execute();

  it('answers the second step 503 while Redis is down, spends nothing, and lets the person in again once it is back', async () => {
    const pending = await passwordStep(app, SUPER);
    const before = await verifyEvents();
    const code = codeOf(secret);
    await redisServer.kill();
    for (let attempt = 0; attempt < 8; attempt++) {
      const { value: response, ms } = await timed(() => secondStep(app, pending, code));
      assert.equal(response.statusCode, 503, `attempt ${attempt}: ${response.statusCode} ${response.body}`);
      assert.deepEqual(response.json(), STORE_UNAVAILABLE);
      assert.ok(ms < OUTAGE_ANSWER_MS, `attempt ${attempt}: answered in ${ms.toFixed(0)} ms`);
      assert.equal(response.headers['set-cookie'], undefined, `attempt ${attempt}: no cookie`);
    }
    assert.deepEqual(await verifyEvents(), before, 'nothing spent or recorded while Redis was away');

    await redisServer.start(); // persistence off: the pending session is gone with everything else
    assert.ok(await pollUntil(async () => (await app.inject({ method: 'GET', url: '/ready' })).statusCode === 200, RECOVERY_MS, 200));
    const gone = await secondStep(app, pending, code);
    assert.equal(gone.statusCode, 401, gone.body);
    assert.equal(sessionCookieOf(gone)?.value ?? '', '', 'no session for a login whose first step is gone');

    // The same code still works for a new login: the outage spent it nowhere and counted nothing
    // (8 attempts would be over a limit of 5 had they counted).
    const again = await secondStep(app, await passwordStep(app, SUPER), code);
    assert.equal(again.statusCode, 200, again.body);
    const cookie = sessionCookieOf(again)!.value;
    const me = await app.inject({ method: 'GET', url: '/admin/me', headers: API, cookies: { session: cookie } });
    assert.equal(me.json<{ emp_no: number }>().emp_no, SUPER.empNo);
  });

  it('answers 503 within 2 s while Redis hangs, and sets no session once it wakes', async () => {
    const pending = await passwordStep(app, SUPER);
    const admin = new Redis(redisServer.url, { maxRetriesPerRequest: 0 });
    try {
      await admin.client('PAUSE', 3000, 'ALL');
      const { value: response, ms } = await timed(() => secondStep(app, pending, codeOf(secret, 1)));
      assert.equal(response.statusCode, 503, response.body);
      assert.ok(ms < OUTAGE_ANSWER_MS, `answered in ${ms.toFixed(0)} ms`);
      assert.equal(response.headers['set-cookie'], undefined);
    } finally {
      admin.disconnect();
    }
    // Once Redis answers again, the pending login is still owed its step: no full session came of the timeout.
    assert.ok(await pollUntil(async () => (await app.inject({ method: 'GET', url: '/ready' })).statusCode === 200, RECOVERY_MS, 200));
    const stillPending = await app.inject({ method: 'GET', url: '/admin/me', headers: API, cookies: { session: pending } });
    assert.equal(stillPending.statusCode, 401, stillPending.body);
  });
});
