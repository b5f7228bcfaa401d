import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { adminEnvironment, IDLE_TIMEOUT_SECONDS, STORE_KINDS, storeGate, type AdminEnvironment } from './support.js';

const BEHAI = { email: 'behai_nguyen@hotmail.com', empNo: 500222 };
const PRANAV = { email: 'pranav.furedi.10198@gmail.com', empNo: 10198 };

/** The table's time format: UTC, to the second. */
function utc(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

for (const kind of STORE_KINDS) {
  describe(`sessions list|end, with the ${kind} session store`, await storeGate(kind), () => {
    let env: AdminEnvironment;
    let startedAt: number;
    before(async () => {
      env = await adminEnvironment(kind);
      startedAt = env.clock.now;
    });
    after(() => env?.cleanup());
    afterEach(async () => {
      env.clock.now = startedAt;
      await env.sessions.endAllForEmployee(BEHAI.empNo);
      await env.sessions.endAllForEmployee(PRANAV.empNo);
    });

    /** Be Hai logs in from Firefox, and a minute later from a client that gave no label; Pranav once. */
    async function logins() {
      const firefox = await env.sessions.create(BEHAI.empNo, ['user:read'], 'Firefox on Linux');
      env.clock.now += 60_000;
      const unlabelled = await env.sessions.create(BEHAI.empNo, ['user:read']);
      const other = await env.sessions.create(PRANAV.empNo, ['user:read'], 'curl');
      return { firefox, unlabelled, other };
    }

    it("lists a person's live sessions oldest first, one line each", async () => {
      const { firefox, unlabelled } = await logins();
      const first = [firefox.id, 'Firefox on Linux', utc(startedAt), utc(startedAt), utc(startedAt + IDLE_TIMEOUT_SECONDS * 1000)];
      const second = [
        unlabelled.id,
        '(unknown)       ',
        utc(startedAt + 60_000),
        utc(startedAt + 60_000),
        utc(startedAt + 60_000 + IDLE_TIMEOUT_SECONDS * 1000),
      ];
      assert.deepEqual(await env.admin(['sessions', 'list', 'BEHAI_NGUYEN@hotmail.com']), {
        code: 0,
        stdout: [
          `ID${' '.repeat(22)}CLIENT            CREATED               LAST SEEN             EXPIRES`,
          first.join('  '),
          second.join('  '),
          '',
        ].join('\n'),
        stderr: '',
      });
    });

    it('lists them as JSON with --json, with the names the API uses', async () => {
      const { firefox, unlabelled } = await logins();
      const result = await env.admin(['sessions', 'list', BEHAI.email, '--json']);
      assert.equal(result.code, 0);
      assert.equal(result.stderr, '');
      assert.deepEqual(JSON.parse(result.stdout), [
        {
          id: firefox.id,
          client: 'Firefox on Linux',
          created_at: new Date(startedAt).toISOString(),
          last_seen_at: new Date(startedAt).toISOString(),
          expires_at: new Date(startedAt + IDLE_TIMEOUT_SECONDS * 1000).toISOString(),
        },
        {
          id: unlabelled.id,
          client: null,
          created_at: new Date(startedAt + 60_000).toISOString(),
          last_seen_at: new Date(startedAt + 60_000).toISOString(),
          expires_at: new Date(startedAt + 60_000 + IDLE_TIMEOUT_SECONDS * 1000).toISOString(),
        },
      ]);
    });

    it('says so when there is none, and prints [] with --json', async () => {
      assert.deepEqual(await env.admin(['sessions', 'list', BEHAI.email]), {
        code: 0,
        stdout: 'behai_nguyen@hotmail.com (500222) has no live sessions.\n',
        stderr: '',
      });
      assert.deepEqual(await env.admin(['sessions', 'list', BEHAI.email, '--json']), { code: 0, stdout: '[]\n', stderr: '' });
    });

    it('leaves out a session past its idle timeout, as the app would refuse it', async () => {
      await logins();
      env.clock.now = startedAt + IDLE_TIMEOUT_SECONDS * 1000;
      const result = await env.admin(['sessions', 'list', BEHAI.email, '--json']);
      assert.equal(result.code, 0);
      assert.equal((JSON.parse(result.stdout) as unknown[]).length, 1);
    });

    it('ends one session by its id, leaving the others', async () => {
      const { firefox, unlabelled, other } = await logins();
      // `--id=<id>`: one id in 64 starts with '-', which `--id <id>` refuses as ambiguous (admin.test.ts).
      assert.deepEqual(await env.admin(['sessions', 'end', BEHAI.email, `--id=${firefox.id}`]), {
        code: 0,
        stdout: `Ended session ${firefox.id} of behai_nguyen@hotmail.com (500222), and its tokens.\n`,
        stderr: '',
      });
      assert.equal(await env.sessions.validateToken(firefox.token), null);
      assert.deepEqual(
        (await env.sessions.listForEmployee(BEHAI.empNo)).map((session) => session.id),
        [unlabelled.id],
      );
      assert.equal((await env.sessions.validateToken(other.token))?.empNo, PRANAV.empNo);
    });

    it("answers 1 for an id that is not one of the person's live sessions, ending nothing", async () => {
      const { other } = await logins();
      for (const id of [other.id, 'AAAAAAAAAAAAAAAAAAAAAA', 'not-an-id']) {
        assert.deepEqual(await env.admin(['sessions', 'end', BEHAI.email, `--id=${id}`]), {
          code: 1,
          stdout: '',
          stderr: `admin: behai_nguyen@hotmail.com (500222) has no live session with the id ${id}\n`,
        });
      }
      assert.equal((await env.sessions.listForEmployee(BEHAI.empNo)).length, 2);
      assert.equal((await env.sessions.validateToken(other.token))?.empNo, PRANAV.empNo);
    });

    it("ends all of a person's sessions without --id, and no one else's", async () => {
      const { firefox, unlabelled, other } = await logins();
      assert.deepEqual(await env.admin(['sessions', 'end', BEHAI.email]), {
        code: 0,
        stdout: 'Ended 2 sessions of behai_nguyen@hotmail.com (500222), and their tokens.\n',
        stderr: '',
      });
      assert.deepEqual(await Promise.all([firefox, unlabelled].map(({ token }) => env.sessions.validateToken(token))), [null, null]);
      assert.equal((await env.sessions.validateToken(other.token))?.empNo, PRANAV.empNo);
      assert.deepEqual(await env.admin(['sessions', 'end', BEHAI.email]), {
        code: 0,
        stdout: 'Ended 0 sessions of behai_nguyen@hotmail.com (500222), and their tokens.\n',
        stderr: '',
      });
    });

    it('answers 1 for an unknown email', async () => {
      for (const verb of ['list', 'end']) {
        assert.deepEqual(await env.admin(['sessions', verb, 'spider_man@hotmail.com']), {
          code: 1,
          stdout: '',
          stderr: 'admin: no employee has the email spider_man@hotmail.com\n',
        });
      }
    });
  });
}
