/**
 * Password hashing. New hashes are argon2id (OWASP Password Storage Cheat Sheet: m=19 MiB, t=2,
 * p=1, the library's defaults); legacy bcrypt hashes from older systems still verify. Hashes are
 * computed on HASHING_THREADS threads of their own (hashing-thread.ts), at a lower scheduling
 * priority than the event loop, so a login never blocks it, logins never take every core, and a
 * stream of them yields the CPU to everyone else's requests.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { AppError } from '../errors.js';
import type { HashingTask } from './hashing-thread.js';

const ARGON2ID_PREFIX = '$argon2id$';
const BCRYPT_PATTERN = /^\$2[abxy]\$\d\d\$/;

/**
 * Hashes computed at once, in this process: every core but one (at least one), and at most 4, the
 * most libuv's thread pool ran before hashes had threads of their own (with WORKERS=0 every core
 * runs a process, each with its own). A hash holds a core for 10 to 60 ms; with one per core, a
 * burst of logins took both cores of a 2-core machine from every other request (docs/PERFORMANCE.md).
 * Tasks beyond them wait in the pool's queue, in order.
 */
export const HASHING_THREADS = Math.min(4, Math.max(1, availableParallelism() - 1));

/** How much nicer than the process a hashing thread is (Linux keeps a nice value per thread). */
export const HASHING_NICENESS = 5;

const HASHING_THREAD_FILE = new URL(`./hashing-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
let pool: Piscina<HashingTask, string | boolean> | undefined;

/** A hashing thread failed (it could not start, or died): no answer about the password (503, like an outage). */
export class PasswordCheckUnavailableError extends AppError {
  constructor(readonly reason: unknown) {
    super(503, 'PASSWORD_CHECK_UNAVAILABLE', 'Passwords cannot be checked at this moment; try again shortly', {
      headers: { 'retry-after': '1' },
    });
    this.name = 'PasswordCheckUnavailableError';
  }
}

/**
 * Runs one task on a hashing thread. The first thread starts with the first task and is kept (it
 * loads both libraries, tens of milliseconds); the others end after a minute idle. None keeps a
 * process alive when idle. Elsewhere than Linux the threads keep the process's priority: there a
 * nice value belongs to the whole process.
 */
function onHashingThread<T extends string | boolean>(task: HashingTask): Promise<T> {
  if (!pool) {
    pool = new Piscina<HashingTask, string | boolean>({
      filename: HASHING_THREAD_FILE.href,
      minThreads: 1,
      maxThreads: HASHING_THREADS,
      idleTimeout: 60_000,
      niceIncrement: process.platform === 'linux' ? HASHING_NICENESS : 0,
    });
    // A thread that fails between tasks is replaced by piscina; unheard, the event would end the process.
    pool.on('error', (error: unknown) =>
      process.emitWarning(`a password hashing thread failed: ${String(error)}`, { code: 'EP_HASHING_THREAD' }),
    );
  }
  return pool.run(task).catch((error: unknown) => {
    throw new PasswordCheckUnavailableError(error);
  }) as Promise<T>;
}

/** argon2id with the library defaults, which are the OWASP minimums. */
export function hashPassword(password: string): Promise<string> {
  return onHashingThread({ kind: 'argon2-hash', password });
}

/** True when `password` matches `hash`; false for a wrong password or a hash in no known format. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  // A corrupt stored hash is a failed check (hashing-thread.ts); a failed thread throws PasswordCheckUnavailableError.
  if (hash.startsWith(ARGON2ID_PREFIX)) return onHashingThread({ kind: 'argon2-verify', hash, password });
  if (BCRYPT_PATTERN.test(hash)) return onHashingThread({ kind: 'bcrypt-verify', hash, password });
  return false;
}

/** Hashes in an older scheme are rewritten as argon2id after the next successful login. */
export function needsRehash(hash: string): boolean {
  return !hash.startsWith(ARGON2ID_PREFIX);
}

/** Whether a stored hash is a legacy bcrypt one (the hashes `countLegacyPasswordHashes` counts). */
export function isLegacyHash(hash: string): boolean {
  return BCRYPT_PATTERN.test(hash);
}

/**
 * bcrypt reads only the first 72 bytes of a password and ignores the rest, so a longer one would
 * be compared as a truncated prefix (CVE-2025-22228 in Spring; CS Password Storage "Input Limits
 * of bcrypt"). New passwords are capped at 72 bytes too, so one limit serves everyone: a longer
 * password is refused before any hashing, which also keeps oversized input cheap.
 */
export const MAX_PASSWORD_BYTES = 72;

export function passwordTooLong(password: string): AppError | undefined {
  if (Buffer.byteLength(password, 'utf8') <= MAX_PASSWORD_BYTES) return undefined;
  return new AppError(422, 'PASSWORD_TOO_LONG', `Invalid request: password must be at most ${MAX_PASSWORD_BYTES} bytes`, {
    errors: [{ field: 'password', message: `must be at most ${MAX_PASSWORD_BYTES} bytes` }],
  });
}

/**
 * A dummy hash that failed to be made is made again at the next login rather than failing every
 * login after it; and its rejection is handled even when no login is waiting for it.
 */
function forgottenOnFailure(made: Promise<string>, forget: () => void): Promise<string> {
  made.catch(forget);
  return made;
}

/** The cost of the legacy bcrypt hashes this system holds (the seed's, and the original's). */
const LEGACY_BCRYPT_COST = 10;
const DUMMY_PASSWORD = 'a password nobody has';
let dummyArgon2: Promise<string> | undefined;
let dummyBcrypt: Promise<string> | undefined;

/**
 * Password checks are deliberately expensive (argon2id: 19 MiB and tens of milliseconds each), and
 * only HASHING_THREADS run at a time. Without a limit, a burst of logins would queue behind each other
 * for seconds and hold their memory. Here a login waits only if the checks ahead of it should be
 * done within MAX_WAIT_MS (judged from how long checks have been taking lately); otherwise it is
 * refused at once with 429 and Retry-After (OWASP ASVS 5.0 15.2.2; docs/SECURITY.md G-05). A quiet server
 * takes a burst of dozens; a saturated one refuses early instead of answering late.
 *
 * One check per hashing thread, so that the moving average below is one check's own time. The
 * gate holds only the check, after the throttle has counted the attempt: a burst of guesses the
 * throttle refuses (cheaply) never queues here.
 */
const CONCURRENT_CHECKS = HASHING_THREADS;
/**
 * 5 s rather than 3: with one core left to requests, a login in the legacy mode (argon2id and
 * bcrypt, ~70 ms of one core) is served at about 14 a second on two cores, and a burst of 50
 * must still be answered rather than refused.
 */
const MAX_WAIT_MS = 5000;

export const loginBusy = () =>
  new AppError(429, 'LOGIN_BUSY', 'Too many logins at this moment; try again in a second', { headers: { 'retry-after': '1' } });

class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** A moving average of how long one check takes, in milliseconds. */
  private averageMs = 100;

  constructor(private readonly concurrent: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrent) {
      const expectedWaitMs = ((this.waiting.length + 1) / this.concurrent) * this.averageMs;
      if (expectedWaitMs > MAX_WAIT_MS) throw loginBusy();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.active++;
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.averageMs = 0.8 * this.averageMs + 0.2 * (performance.now() - started);
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

const hashingGate = new Gate(CONCURRENT_CHECKS);

/**
 * Runs a password check (and what must go with it) in one of the limited slots, or refuses it with
 * 429 at once. Callers enter at the same point for every account, after the throttle has counted
 * the attempt and the account was looked up, so that no kind of account reaches the hash sooner.
 */
export function withPasswordCheckSlot<T>(work: () => Promise<T>): Promise<T> {
  return hashingGate.run(work);
}

/**
 * Checks a login's password with the same work whatever the account (ASVS 5.0 6.3.8; Django's
 * CVE-2016-2513 was a timing leak between hash kinds):
 * - while legacy bcrypt hashes exist (`legacyHashesExist`), every call runs one argon2id and one
 *   bcrypt verification, one of them real (or none, for an unknown user) and the other against a
 *   throwaway hash of the same algorithm and cost, so an unknown user, an argon2id user and a
 *   bcrypt user take the same time;
 * - once none is left, every call runs one argon2id verification, real or against the dummy: the
 *   bcrypt dummy was three quarters of every login's CPU, spent to hide accounts that no longer exist.
 * A bcrypt hash met while the caller believed none was left (written by another process) is still
 * checked with both; the caller then counts it again (AuthService).
 */
export async function verifyLoginPassword(hash: string | undefined, password: string, legacyHashesExist = true): Promise<boolean> {
  dummyArgon2 ??= forgottenOnFailure(hashPassword(DUMMY_PASSWORD), () => (dummyArgon2 = undefined));
  const legacy = hash !== undefined && isLegacyHash(hash);
  const argon2Target = hash !== undefined && !legacy ? hash : await dummyArgon2;
  if (!legacyHashesExist && !legacy) {
    const matches = await verifyPassword(argon2Target, password);
    return hash !== undefined && matches;
  }
  dummyBcrypt ??= forgottenOnFailure(
    onHashingThread({ kind: 'bcrypt-hash', password: DUMMY_PASSWORD, cost: LEGACY_BCRYPT_COST }),
    () => (dummyBcrypt = undefined),
  );
  const bcryptTarget = legacy ? hash : await dummyBcrypt;
  const [argon2Ok, bcryptOk] = await Promise.all([verifyPassword(argon2Target, password), verifyPassword(bcryptTarget, password)]);
  if (hash === undefined) return false;
  return legacy ? bcryptOk : argon2Ok;
}
