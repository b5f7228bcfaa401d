/**
 * The files the app keeps on disk hold password hashes, emails, session records and the token
 * signing key: only the user the app runs as may read them (OWASP ASVS 5.0 13.3.2, secrets not
 * readable by others). Files are 0600 and a directory the app creates is 0700, whatever the
 * process umask: the mode is set explicitly after creation, since a umask only ever removes bits
 * and an operator's 000 or 002 would otherwise leave them open.
 *
 * A directory that already exists is left as it is: it may be a mount point or shared on purpose
 * (and DATA_DIR may be /tmp), so tightening it is the operator's call; `looseDirectoryWarning`
 * says so at start instead. The files in it are 0600 either way, so a looser directory shows only
 * their names.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIRECTORY_MODE = 0o700;

/** SQLite's companions of a database file in WAL mode; it creates them with the database file's mode. */
const SQLITE_COMPANIONS = ['-wal', '-shm', '-journal'];

/** Creates `dir` (and missing parents) as 0700 when missing; leaves an existing one alone. */
export function ensurePrivateDirectory(dir: string): void {
  if (existsSync(dir)) return;
  // mkdir's `recursive` returns the first directory it made: that one and those below it are ours.
  const created = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  if (created === undefined) return; // made meanwhile by another process
  const first = resolve(created);
  for (let made = resolve(dir); ; made = dirname(made)) {
    chmodSync(made, PRIVATE_DIRECTORY_MODE);
    if (made === first || made === dirname(made)) return;
  }
}

/**
 * Makes `file` exist as a 0600 file before a library (better-sqlite3) opens it with the umask's
 * mode, and brings an existing one, with SQLite's -wal/-shm/-journal files beside it, to 0600.
 * SQLite gives the files it creates later the database file's mode, so they stay 0600 too.
 */
export function preparePrivateDatabaseFile(file: string): void {
  ensurePrivateDirectory(dirname(file));
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  for (const path of [file, ...SQLITE_COMPANIONS.map((suffix) => `${file}${suffix}`)]) tighten(path);
}

/** Brings an existing file to 0600; a file of another user's that we cannot change is left as it is. */
export function tighten(path: string): void {
  try {
    if ((statSync(path).mode & 0o777) !== PRIVATE_FILE_MODE) chmodSync(path, PRIVATE_FILE_MODE);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EPERM') throw error;
  }
}

/** A warning when `dir` exists and others than its owner may enter or read it; undefined otherwise. */
export function looseDirectoryWarning(dir: string, name: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(dir).mode & 0o777;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  return (
    `${name} (${dir}) has mode ${mode.toString(8).padStart(4, '0')}: others than its owner can list it. ` +
    `The files the app keeps there are 0600; consider chmod 700 ${dir}.`
  );
}
