/**
 * Reading the audit trail over HTTP: `GET /api/audit` and the /audit page for holders of
 * `audit:read` only, its query validated, its cursor paging, and a person's own recent activity on
 * My sessions.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { API, BROWSER, login, useSuiteApp } from '../helpers/app.js';
import { ADMIN, NO_SCOPES, SUPER, U1 } from '../helpers/people.js';
import { recordAuditEvent } from '../../src/audit/events.js';
import { lastAuditId } from '../helpers/audit.js';

describe('the audit trail over HTTP', () => {
  const { app } = useSuiteApp();
  let superCookie: string;
  let adminCookie: string;
  let first = 0;
  before(async () => {
    superCookie = (await login(app, SUPER)).cookie;
    adminCookie = (await login(app, ADMIN)).cookie;
    first = (await lastAuditId(app.db)) + 1;
    for (let i = 0; i < 5; i++) {
      await recordAuditEvent(app.db, {
        action: 'scopes.change',
        outcome: 'success',
        actor: { kind: 'operator', name: 'api test' },
        targetEmpNo: NO_SCOPES.empNo,
        detail: { before: [], after: [`step ${i}`] },
        at: new Date(Date.UTC(2026, 0, 1, 12, i)),
      });
    }
  });
  const get = (url: string, cookie = superCookie, headers = API) =>
    app.inject({ method: 'GET', url, headers, cookies: { session: cookie } });

  it('answers a holder of audit:read (through super:*) with whole events, filtered, a page at a time', async () => {
    const url = '/api/audit?actor_name=api%20test&since=2026-01-01&until=2026-01-01T12:05Z&limit=2';
    const page = await get(url);
    assert.equal(page.statusCode, 200);
    const body = page.json();
    assert.deepEqual(
      body.events,
      [4, 3].map((i) => ({
        id: first + i,
        occurred_at: new Date(Date.UTC(2026, 0, 1, 12, i)).toISOString(),
        action: 'scopes.change',
        outcome: 'success',
        repeat_count: 1,
        actor: { kind: 'operator', emp_no: null, name: 'api test', session_id: null },
        client: { address: null, label: null },
        target_emp_no: NO_SCOPES.empNo,
        detail: { before: [], after: [`step ${i}`] },
      })),
    );
    const second = (await get(`${url}&cursor=${body.next_cursor}`)).json();
    const third = (await get(`${url}&cursor=${second.next_cursor}`)).json();
    assert.deepEqual(
      [second, third].map((next) => ({
        ids: next.events.map((event: { id: number }) => event.id - first),
        more: next.next_cursor !== null,
      })),
      [
        { ids: [2, 1], more: true },
        { ids: [0], more: false },
      ],
    );
    // The same filter by target; a login's event names the session it opened.
    assert.equal((await get(`/api/audit?target=${NO_SCOPES.empNo}&action=scopes.change&limit=200`)).json().events.length, 5);
    const logins = (await get(`/api/audit?actor=${SUPER.empNo}&action=login`)).json().events;
    assert.deepEqual(
      logins.map((event: { outcome: string; target_emp_no: number }) => [event.outcome, event.target_emp_no]),
      [['success', SUPER.empNo]],
    );
  });

  it('refuses an invalid filter with 422 naming it, and a cursor it never gave with 400', async () => {
    const bad = await get('/api/audit?actor=12a&since=yesterday&action=login.steal&limit=1000');
    const errors = [
      { field: 'actor', message: 'must be a whole number from 1 to 2147483647, in digits only' },
      { field: 'action', message: 'must be equal to one of the allowed values' },
      {
        field: 'since',
        message: 'must be an ISO 8601 date or date-time, e.g. 2026-11-29 or 2026-11-29T14:00:00Z (UTC unless an offset is given)',
      },
      { field: 'limit', message: 'must be <= 200' },
    ];
    assert.deepEqual(
      { status: bad.statusCode, body: bad.json() },
      { status: 422, body: { detail: `Invalid request: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, errors } },
    );
    assert.deepEqual((await get('/api/audit?cursor=bm9wZQ')).json(), {
      detail: 'cursor is not one this API gave out: pass next_cursor as it came',
    });
    assert.equal((await get('/api/audit?cursor=bm9wZQ')).statusCode, 400);
  });

  it('refuses a person without audit:read (403, page and API) and someone not logged in (401)', async () => {
    for (const url of ['/api/audit', '/audit']) {
      const refused = await get(url, adminCookie);
      assert.deepEqual({ status: refused.statusCode, body: refused.json() }, { status: 403, body: { detail: 'Not enough permissions' } });
      assert.equal((await app.inject({ method: 'GET', url, headers: API })).statusCode, 401);
    }
  });

  it('shows the page with its filters and an older-events link, and links it from home for holders only', async () => {
    const page = await get('/audit?actor=&actor_name=api+test&target=&action=&outcome=&since=&until=&limit=3', superCookie, BROWSER);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Audit trail<\/h1>/);
    assert.match(page.body, /Operator api test \(command line\)/);
    assert.match(page.body, /href="\/audit\?actor_name=api\+test&amp;limit=3&amp;cursor=[A-Za-z0-9_-]+">Older events/);
    assert.match((await get('/auth/home', superCookie, BROWSER)).body, /<a href="\/audit">Audit trail<\/a>/);
    assert.doesNotMatch((await get('/auth/home', adminCookie, BROWSER)).body, /Audit trail/);
  });

  it("shows a person's own recent activity on My sessions: what they did and what was done to their account", async () => {
    const { cookie } = await login(app, U1);
    await app.inject({
      method: 'POST',
      url: '/api/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `username=${encodeURIComponent(U1.username)}&password=wrong+password`,
    });
    const page = await get('/auth/sessions', cookie, BROWSER);
    const activity = page.body.slice(page.body.indexOf('Recent activity'));
    assert.match(
      activity,
      /<code>login<\/code><\/td>\s*<td data-label="Outcome">failure<\/td>\s*<td data-label="Who">Someone trying “behai_nguyen@hotmail.com”/,
    );
    assert.match(activity, /<code>login<\/code><\/td>\s*<td data-label="Outcome">success<\/td>\s*<td data-label="Who">You/);
    assert.doesNotMatch(activity, /api test/);
  });
});
