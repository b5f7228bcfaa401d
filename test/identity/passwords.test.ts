/**
 * Password hashing on its own threads (src/identity/hashing-thread.ts): the hashes and checks are
 * right, and on Linux the thread that computes them runs at a lower priority than the event loop.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, it } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { isOutage } from '../../src/auth/throttle.js';
import {
  HASHING_NICENESS,
  hashPassword,
  PasswordCheckUnavailableError,
  verifyLoginPassword,
  verifyPassword,
} from '../../src/identity/passwords.js';

/** Each thread of this process: its id, its nice value, and its CPU time in clock ticks. */
function threads(): Array<{ tid: number; nice: number; ticks: number }> {
  return readdirSync('/proc/self/task').map((tid) => {
    // Fields after the command's closing parenthesis: state is 3rd, utime 14th, stime 15th, nice 19th.
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { tid: Number(tid), nice: Number(fields[16]), ticks: Number(fields[11]) + Number(fields[12]) };
  });
}

describe('password hashing', () => {
  it('hashes with argon2id and checks argon2id and legacy bcrypt hashes, refusing a wrong password or a corrupt hash', async () => {
    const hash = await hashPassword('correct horse battery');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await verifyPassword(hash, 'correct horse battery'), true);
    assert.equal(await verifyPassword(hash, 'correct horse batterY'), false);
    const legacy = await bcryptHash('correct horse battery', 10);
    assert.equal(await verifyPassword(legacy, 'correct horse battery'), true);
    assert.equal(await verifyPassword(legacy, 'wrong'), false);
    assert.equal(await verifyPassword('$argon2id$v=19$m=19456,t=2,p=1$garbage', 'x'), false);
    assert.equal(await verifyLoginPassword(undefined, 'correct horse battery'), false);
    assert.equal(await verifyLoginPassword(hash, 'correct horse battery', false), true);
  });

  it('answers a failure on the hashing thread as unavailable (503, an outage), never as a wrong password', async () => {
    // A task the thread throws on (no password at all) stands for a thread that failed.
    await assert.rejects(
      hashPassword(undefined as unknown as string),
      (error: unknown) => error instanceof PasswordCheckUnavailableError && error.statusCode === 503,
    );
    assert.equal(isOutage(new PasswordCheckUnavailableError(new Error('gone'))), true);
    // The thread still serves the next task.
    assert.match(await hashPassword('another password'), /^\$argon2id\$/);
  });

  it(
    'computes them on a thread niced above the rest of the process',
    process.platform === 'linux' ? {} : { skip: 'a nice value per thread is Linux' },
    async () => {
      const hash = await hashPassword('correct horse battery');
      const own = getPriority();
      const before = new Map(threads().map((thread) => [thread.tid, thread.ticks]));
      // About a second of hashing: the thread that did it is the one whose CPU time grew most.
      for (let i = 0; i < 40; i++) await verifyPassword(hash, 'correct horse battery');
      const busiest = threads()
        .filter((thread) => thread.tid !== process.pid)
        .map((thread) => ({ ...thread, spent: thread.ticks - (before.get(thread.tid) ?? 0) }))
        .sort((a, b) => b.spent - a.spent)[0]!;
      assert.ok(busiest.spent > 0, JSON.stringify(busiest));
      assert.equal(busiest.nice, Math.min(19, own + HASHING_NICENESS), JSON.stringify(busiest));
      // The event loop's thread keeps the process's priority.
      assert.equal(threads().find((thread) => thread.tid === process.pid)!.nice, own);
    },
  );
});
