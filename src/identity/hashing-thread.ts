/**
 * A password-hashing thread (passwords.ts runs a few with piscina): argon2id and bcrypt computed
 * here, synchronously, at a lower scheduling priority than the event loop (piscina's
 * `niceIncrement`, set by passwords.ts).
 *
 * Why threads of our own rather than the libraries' asynchronous calls on libuv's thread pool: a
 * thread's priority can be lowered only from inside it, and libuv's threads are shared with
 * everything else that uses them. Lowered, a hash takes the CPU the event loop leaves; while both
 * want it, the loop gets about three times the hash's share (nice 5: weights 1024 and 335), so a
 * stream of logins slows everyone else's requests less: `/admin/me` kept 0.58 to 0.63 of its quiet
 * rate beside 4 clients logging in, against 0.47 to 0.54 at the same priority, with logins a
 * second nearly unchanged (docs/PERFORMANCE.md, item 24). On a quiet machine a hash runs as fast.
 */
import { hashSync as argon2HashSync, verifySync as argon2VerifySync } from '@node-rs/argon2';
import { hashSync as bcryptHashSync, verifySync as bcryptVerifySync } from '@node-rs/bcrypt';

export type HashingTask =
  | { kind: 'argon2-hash'; password: string }
  | { kind: 'argon2-verify'; hash: string; password: string }
  | { kind: 'bcrypt-hash'; password: string; cost: number }
  | { kind: 'bcrypt-verify'; hash: string; password: string };

export default function hashing(task: HashingTask): string | boolean {
  switch (task.kind) {
    case 'argon2-hash':
      return argon2HashSync(task.password);
    case 'bcrypt-hash':
      return bcryptHashSync(task.password, task.cost);
    // A stored hash the library cannot read (corrupt, or of another variant) is a failed check,
    // answered here: a failure of the thread itself must not read as a wrong password (passwords.ts).
    case 'argon2-verify':
      try {
        return argon2VerifySync(task.hash, task.password);
      } catch {
        return false;
      }
    case 'bcrypt-verify':
      try {
        return bcryptVerifySync(task.password, task.hash);
      } catch {
        return false;
      }
  }
}
