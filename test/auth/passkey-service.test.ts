/**
 * PasskeyService on every engine, with the session store's one-time values holding the challenges:
 * registration, use as a second factor, single-use challenges, counters, other people's passkeys,
 * and the audit events of each, written with the change they record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { PasskeyService, type PasskeySetup, type SecondFactorLink } from '../../src/auth/passkey-service.js';
import { LoginThrottle } from '../../src/auth/throttle.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-store.js';
import { findPasskey } from '../../src/employees/passkey-repository.js';
import type { AuditEventsTable } from '../../src/database/schema.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';
import { U1, U2, UX } from '../helpers/people.js';
import { SoftPasskey } from '../helpers/webauthn.js';

const ORIGIN = 'https://portal.example';
const RP: PasskeySetup = { id: 'portal.example', name: 'Employees Portal', origins: [ORIGIN] };
const CLIENT = { address: '192.0.2.7', label: 'Firefox on Linux' };
const U1_SESSION = { empNo: U1.empNo, sessionId: 'u1-session-aaaaaaaaaaa' };
const U2_SESSION = { empNo: U2.empNo, sessionId: 'u2-session-aaaaaaaaaaa' };

const notVerified = { code: 'PASSKEY_NOT_VERIFIED', statusCode: 400, message: 'The passkey could not be verified' };
const noChallenge = { code: 'PASSKEY_CHALLENGE_MISSING', statusCode: 400 };

for (const engine of ENGINES) {
  describe(`PasskeyService on ${engine}`, await gateFor(engine), () => {
    let testDb: TestDatabase;
    let store: SqliteSessionStore;
    let service: PasskeyService;
    let lastEventId = 0;
    /** Whether the people of these tests must keep a second factor (MFA_REQUIRED_SCOPES). */
    let required = false;
    const link = (): SecondFactorLink => ({
      throttle: new LoginThrottle(store, { maxFailuresPerAccount: 3, maxFailuresPerClient: 100, windowSeconds: 60 }, () => {}),
      required: () => required,
      status: async () => ({ totp: false, recoveryCodes: 0, passkeys: 0, required }),
      completeSecondStep: async (pending) => ({ empNo: pending.empNo, scopes: [], sessionToken: `full-session-of-${pending.sessionId}` }),
    });
    before(async () => {
      testDb = await createTestDatabase(engine);
      store = new SqliteSessionStore({ path: ':memory:' });
      service = new PasskeyService(testDb.db, store, RP, 'k'.repeat(32), pino({ level: 'silent' }), link());
    });
    after(async () => {
      await store?.close();
      await testDb?.cleanup();
    });

    /** The audit events written since the last call, as [action, outcome, target, detail]. */
    async function newEvents(): Promise<Array<[string, string, number | null, unknown]>> {
      const rows: AuditEventsTable[] = (await testDb.db
        .selectFrom('audit_events')
        .selectAll()
        .where('id', '>', lastEventId)
        .orderBy('id')
        .execute()) as unknown as AuditEventsTable[];
      if (rows.length) lastEventId = Number(rows[rows.length - 1]!.id);
      for (const row of rows) {
        assert.deepEqual([row.actor_kind, row.client_address, row.client_label], ['employee', CLIENT.address, CLIENT.label]);
      }
      return rows.map((row) => [row.action, row.outcome, row.target_emp_no, row.detail && JSON.parse(row.detail)]);
    }

    async function register(session = U1_SESSION, name = 'Laptop'): Promise<SoftPasskey> {
      const passkey = new SoftPasskey(ORIGIN, 'portal.example');
      const options = await service.startRegistration(session);
      await service.finishRegistration(session, passkey.register(options), name, CLIENT);
      return passkey;
    }

    let laptop: SoftPasskey;

    it('offers registration options for our RP, with a fresh challenge and a keyed user handle', async () => {
      const [first, second] = [await service.startRegistration(U1_SESSION), await service.startRegistration(U1_SESSION)];
      assert.deepEqual(
        [first.rp, first.user.name, first.user.displayName, first.attestation],
        [{ name: 'Employees Portal', id: 'portal.example' }, U1.username, 'Be Hai Doe', 'none'],
      );
      assert.notEqual(first.challenge, second.challenge);
      assert.equal(first.user.id, second.user.id);
      assert.doesNotMatch(Buffer.from(first.user.id, 'base64url').toString('latin1'), /500222/);
    });

    it('registers a passkey, audited once as mfa.enrol, and lists it', async () => {
      await newEvents();
      laptop = await register(U1_SESSION, '  Laptop  ');
      assert.deepEqual(await newEvents(), [['mfa.enrol', 'success', U1.empNo, { method: 'passkey', name: 'Laptop' }]]);
      const listed = await service.list(U1.empNo);
      assert.equal(listed.length, 1);
      assert.deepEqual(
        { ...listed[0], publicKey: '', createdAt: '' },
        {
          credentialId: laptop.id,
          empNo: U1.empNo,
          publicKey: '',
          signCount: 0,
          transports: ['internal'],
          name: 'Laptop',
          createdAt: '',
          lastUsedAt: null,
        },
      );
    });

    it('answers a registration once: the same answer again finds no challenge, and stores nothing more', async () => {
      const passkey = new SoftPasskey(ORIGIN, 'portal.example');
      const answer = passkey.register(await service.startRegistration(U2_SESSION));
      await service.finishRegistration(U2_SESSION, answer, 'Phone', CLIENT);
      await assert.rejects(service.finishRegistration(U2_SESSION, answer, 'Phone', CLIENT), noChallenge);
      assert.equal((await service.list(U2.empNo)).length, 1);
      await newEvents();
    });

    it('refuses a registration signed for another origin, and spends its challenge all the same', async () => {
      const passkey = new SoftPasskey(ORIGIN, 'portal.example');
      const options = await service.startRegistration(U1_SESSION);
      await assert.rejects(
        service.finishRegistration(U1_SESSION, passkey.register(options, { origin: 'https://evil.example' }), 'Evil', CLIENT),
        notVerified,
      );
      await assert.rejects(service.finishRegistration(U1_SESSION, passkey.register(options), 'Evil', CLIENT), noChallenge);
      assert.equal((await service.list(U1.empNo)).length, 1);
      assert.deepEqual(await newEvents(), []);
    });

    it('refuses an empty or overlong name before spending the challenge', async () => {
      const passkey = new SoftPasskey(ORIGIN, 'portal.example');
      const options = await service.startRegistration(U1_SESSION);
      await assert.rejects(service.finishRegistration(U1_SESSION, passkey.register(options), ' ', CLIENT), {
        statusCode: 422,
        errors: [{ field: 'name', message: 'must not be empty' }],
      });
      await assert.rejects(service.finishRegistration(U1_SESSION, passkey.register(options), 'x'.repeat(65), CLIENT), {
        statusCode: 422,
        errors: [{ field: 'name', message: 'must be at most 64 characters' }],
      });
      await service.finishRegistration(U1_SESSION, passkey.register(options), 'Spare key', CLIENT);
      assert.deepEqual(
        (await service.list(U1.empNo)).map((one) => one.name),
        ['Laptop', 'Spare key'],
      );
      await service.remove(U1_SESSION, passkey.id, CLIENT);
      await newEvents();
    });

    it("uses a passkey as the second factor: only the person's own allowed, counter and time recorded, audited as mfa.verify", async () => {
      const options = await service.startAuthentication(U1_SESSION);
      assert.deepEqual(
        [options.rpId, options.allowCredentials],
        ['portal.example', [{ id: laptop.id, type: 'public-key', transports: ['internal'] }]],
      );
      await service.finishAuthentication(U1_SESSION, laptop.authenticate(options), CLIENT);
      const stored = await findPasskey(testDb.db, U1.empNo, laptop.id);
      assert.equal(stored?.signCount, 1);
      assert.ok(stored?.lastUsedAt && Date.now() - Date.parse(stored.lastUsedAt) < 60_000);
      assert.deepEqual(await newEvents(), [['mfa.verify', 'success', U1.empNo, { method: 'passkey' }]]);
    });

    it('refuses a replayed authentication answer, and a fresh answer whose counter went back (a clone)', async () => {
      const options = await service.startAuthentication(U1_SESSION);
      const answer = laptop.authenticate(options);
      await service.finishAuthentication(U1_SESSION, answer, CLIENT);
      await assert.rejects(service.finishAuthentication(U1_SESSION, answer, CLIENT), noChallenge);
      const again = await service.startAuthentication(U1_SESSION);
      await assert.rejects(service.finishAuthentication(U1_SESSION, laptop.authenticate(again, { counter: 1 }), CLIENT), notVerified);
      assert.equal((await findPasskey(testDb.db, U1.empNo, laptop.id))?.signCount, 2);
      assert.deepEqual(await newEvents(), [
        ['mfa.verify', 'success', U1.empNo, { method: 'passkey' }],
        ['mfa.verify', 'failure', U1.empNo, { method: 'passkey', reason: 'no_challenge' }],
        ['mfa.verify', 'failure', U1.empNo, { method: 'passkey', reason: 'not_verified' }],
      ]);
    });

    it('lets exactly one of many racing copies of one answer through', async () => {
      const answer = laptop.authenticate(await service.startAuthentication(U1_SESSION));
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => service.finishAuthentication(U1_SESSION, answer, CLIENT)));
      assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
      const events = await newEvents();
      assert.deepEqual(
        events.filter(([, outcome]) => outcome === 'success'),
        [['mfa.verify', 'success', U1.empNo, { method: 'passkey' }]],
      );
      assert.equal(events.length, 6);
    });

    it("refuses someone else's passkey at login, and will not rename or remove it", async () => {
      const options = await service.startAuthentication(U2_SESSION);
      await assert.rejects(service.finishAuthentication(U2_SESSION, laptop.authenticate(options), CLIENT), notVerified);
      await assert.rejects(service.rename(U2.empNo, laptop.id, 'Mine'), { statusCode: 404, message: 'No such passkey of yours' });
      await assert.rejects(service.remove(U2_SESSION, laptop.id, CLIENT), { statusCode: 404 });
      assert.equal((await findPasskey(testDb.db, U1.empNo, laptop.id))?.name, 'Laptop');
      assert.deepEqual(await newEvents(), [['mfa.verify', 'failure', U2.empNo, { method: 'passkey', reason: 'unknown_passkey' }]]);
    });

    it('asks someone without a passkey to use another factor', async () => {
      await assert.rejects(service.startAuthentication({ empNo: UX.empNo, sessionId: 'ux-session-aaaaaaaaaaa' }), {
        statusCode: 409,
        code: 'NO_PASSKEY',
      });
    });

    it('renames, then removes, a passkey, the removal audited as mfa.remove', async () => {
      await service.rename(U1.empNo, laptop.id, ' Work laptop ');
      assert.equal((await findPasskey(testDb.db, U1.empNo, laptop.id))?.name, 'Work laptop');
      await service.remove(U1_SESSION, laptop.id, CLIENT);
      assert.deepEqual(await service.list(U1.empNo), []);
      assert.deepEqual(await newEvents(), [['mfa.remove', 'success', U1.empNo, { method: 'passkey', name: 'Work laptop' }]]);
      await assert.rejects(service.remove(U1_SESSION, laptop.id, CLIENT), { statusCode: 404 });
    });

    it('completes a pending login with a passkey (verify step only), counted by the code throttle', async () => {
      const phone = await register(U2_SESSION, 'Phone 2');
      const pending = { empNo: U2.empNo, sessionId: 'u2-pending-aaaaaaaaaaa', step: 'verify' as const };
      const completed = await service.completeLogin(pending, phone.authenticate(await service.startAuthentication(pending)), CLIENT);
      assert.deepEqual(completed, { empNo: U2.empNo, scopes: [], sessionToken: 'full-session-of-u2-pending-aaaaaaaaaaa' });
      const enrolling = { ...pending, step: 'enrol' as const };
      await assert.rejects(service.startAuthentication(enrolling), { statusCode: 401, code: 'SESSION_ENDED' });
      await assert.rejects(service.completeLogin(enrolling, phone.authenticate({ challenge: 'x' }), CLIENT), { statusCode: 401 });
      // Three wrong answers fill the window (maxFailuresPerAccount 3 here): the fourth is not even checked.
      for (let i = 0; i < 3; i++)
        await assert.rejects(service.completeLogin(pending, phone.authenticate({ challenge: 'x' }), CLIENT), noChallenge);
      const options = await service.startAuthentication(pending);
      await assert.rejects(service.completeLogin(pending, phone.authenticate(options), CLIENT), { statusCode: 429 });
      await newEvents();
    });

    it('completes a login led through enrolment once the new passkey is stored', async () => {
      const enrolling = { empNo: UX.empNo, sessionId: 'ux-pending-aaaaaaaaaaa', step: 'enrol' as const };
      const passkey = new SoftPasskey(ORIGIN, 'portal.example');
      const answer = passkey.register(await service.startRegistration(enrolling));
      const { passkey: stored, completed } = await service.finishRegistration(enrolling, answer, 'Key', CLIENT);
      assert.deepEqual(
        [stored.name, completed],
        ['Key', { empNo: UX.empNo, scopes: [], sessionToken: 'full-session-of-ux-pending-aaaaaaaaaaa' }],
      );
      await assert.rejects(service.startRegistration({ ...enrolling, step: 'verify' }), { statusCode: 401 });
      assert.deepEqual(await newEvents(), [['mfa.enrol', 'success', UX.empNo, { method: 'passkey', name: 'Key' }]]);
    });

    it('keeps the last passkey of someone who must have a second factor, also against two removals racing', async () => {
      const ux = { empNo: UX.empNo, sessionId: 'ux-session-aaaaaaaaaaa' };
      const spare = await register(ux, 'Spare');
      const [first] = await service.list(UX.empNo);
      required = true;
      try {
        const results = await Promise.allSettled([service.remove(ux, first!.credentialId, CLIENT), service.remove(ux, spare.id, CLIENT)]);
        assert.deepEqual(
          results.map((result) => (result.status === 'fulfilled' ? 'removed' : (result.reason as { code: string }).code)).sort(),
          ['SECOND_FACTOR_KEPT', 'removed'],
        );
        assert.equal((await service.list(UX.empNo)).length, 1);
      } finally {
        required = false;
      }
      assert.deepEqual(
        (await newEvents()).map(([action]) => action),
        ['mfa.enrol', 'mfa.remove'],
      );
    });

    it('refuses every ceremony when passkeys are off, saying so', async () => {
      const off = new PasskeyService(testDb.db, store, { unavailable: 'no domain' }, 'k'.repeat(32), pino({ level: 'silent' }), link());
      assert.equal(off.available, false);
      await assert.rejects(off.startRegistration(U1_SESSION), { statusCode: 409, code: 'PASSKEYS_UNAVAILABLE' });
      await assert.rejects(off.startAuthentication(U1_SESSION), { statusCode: 409, code: 'PASSKEYS_UNAVAILABLE' });
    });
  });
}
