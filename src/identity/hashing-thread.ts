/**
 * A password-hashing thread (passwords.ts runs HASHING_THREADS of them with piscina): argon2id and
 * bcrypt computed here, synchronously, at a lower scheduling priority than the rest of the process.
 *
 * Why a thread of our own rather than the libraries' asynchronous calls on libuv's thread pool:
 * a thread's priority can be lowered only from inside it, and the pool's threads are shared with
 * everything else that uses them. Lowered, a hash takes the CPU the event loop leaves; while both
 * want it, the loop gets about three times the hash's share (nice 5: weights 1024 and 335), so a
 * stream of logins slows everyone else's requests less; `/admin/me` kept 0.58 to 0.63 of its quiet
 * rate beside 4 clients logging in, against 0.51 to 0.56 at the same priority, with logins a second
 * nearly unchanged (docs/PERFORMANCE.md, item 24). On a quiet machine a hash runs as fast as before.
 */
import { getPriority, setPriority } from 'node:os';
import { hashSync as argon2HashSync, verifySync as argon2VerifySync } from '@node-rs/argon2';
import { hashSync as bcryptHashSync, verifySync as bcryptVerifySync } from '@node-rs/bcrypt';

export type HashingTask =
  | { kind: 'argon2-hash'; password: string }
  | { kind: 'argon2-verify'; hash: string; password: string }
  | { kind: 'bcrypt-hash'; password: string; cost: number }
  | { kind: 'bcrypt-verify'; hash: string; password: string };

/** How much nicer than the process a hashing thread is (added to its nice value, at most 19). */
export const HASHING_NICENESS = 5;

// Linux keeps a nice value per thread, so this lowers this thread alone. Elsewhere (macOS) it
// would lower the whole process: left as it is there.
if (process.platform === 'linux') {
  try {
    setPriority(Math.min(19, getPriority() + HASHING_NICENESS));
  } catch {
    // Not allowed here (a sandbox): hashing runs at the process's priority, as it did before.
  }
}

export default function hashing(task: HashingTask): string | boolean {
  switch (task.kind) {
    case 'argon2-hash':
      return argon2HashSync(task.password);
    case 'argon2-verify':
      return argon2VerifySync(task.hash, task.password);
    case 'bcrypt-hash':
      return bcryptHashSync(task.password, task.cost);
    case 'bcrypt-verify':
      return bcryptVerifySync(task.password, task.hash);
  }
}
