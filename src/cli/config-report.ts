/**
 * `npm run admin -- config [--check]`: which database and which session store the configuration
 * points at, where the data directory is, and whether SECRET_KEY is set; with --check, whether
 * both stores answer.
 *
 * Never a secret: URLs are shown with their password (and any password-like query parameter)
 * masked, SECRET_KEY only as set or not, and error messages are scrubbed of the passwords the URLs
 * hold, in case a driver ever echoes one.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config.js';
import { createDatabase, parseDatabaseUrl, type DatabaseTarget } from '../database/connection.js';
import { pingDatabase } from '../database/open.js';
import { parseRedisUrl } from '../sessions/redis-client.js';
import { describeError, EXIT, required, type AdminIo } from './io.js';
import { openSessions, sessionStoreOptionsOf, type OpenedSessions } from './resources.js';

export interface ConfigCommand {
  kind: 'config';
  /** Also connect to the database and the session store. */
  check: boolean;
}

/**
 * Where `resolveSecretKey` (src/secret-key.ts) keeps a generated key. That module does not export
 * the name; keep the two in step.
 */
const GENERATED_SECRET_FILE = 'secret-key';
const LABEL_WIDTH = 21;
const MASK = '***';
/** Query parameters whose value may be a credential (pg's `password`, `sslpassword`, `sslkey`, ...). */
const SECRET_PARAMETER = /([?&][^=&#]*(?:pass|secret|token|key|auth|cred)[^=&#]*=)[^&#]*/gi;

/**
 * The URL with its password replaced by `***`, keeping the user name. Everything between `://`
 * and the last `@` counts as user info, so that a password holding an unescaped `@`, `/` or `?`
 * is still hidden whole (at worst more than the user info is masked, never less).
 */
export function maskUrl(url: string): string {
  const parts = userInfoOf(url);
  const masked = parts?.password === undefined ? url : `${parts.before}${parts.user}:${MASK}@${parts.after}`;
  return masked.replace(SECRET_PARAMETER, `$1${MASK}`);
}

function userInfoOf(url: string): { before: string; user: string; password?: string; after: string } | undefined {
  const start = url.indexOf('://');
  const at = url.lastIndexOf('@');
  if (start === -1 || at <= start) return undefined;
  const userInfo = url.slice(start + 3, at);
  const colon = userInfo.indexOf(':');
  return {
    before: url.slice(0, start + 3),
    user: colon === -1 ? userInfo : userInfo.slice(0, colon),
    ...(colon === -1 ? {} : { password: userInfo.slice(colon + 1) }),
    after: url.slice(at + 1),
  };
}

export async function runConfigCommand(command: ConfigCommand, io: AdminIo): Promise<number> {
  const config = required(io, 'config');
  const report = describeConfiguration(config);
  io.stdout.write(report.lines.map(line).join(''));
  if (report.invalid.length > 0) {
    io.stderr.write(report.invalid.map((problem) => `admin: ${problem}\n`).join(''));
    return EXIT.CONFIG;
  }
  if (!command.check) return EXIT.OK;

  const scrub = scrubberFor(config);
  const checks = await Promise.all([checkDatabase(config), checkSessionStore(config)]);
  const labels = ['Database check', 'Session store check'];
  io.stdout.write(checks.map((result, index) => line([labels[index]!, scrub(result.text)])).join(''));
  const failed = labels.filter((_, index) => !checks[index]!.ok).map((label) => label.replace(/ check$/, '').toLowerCase());
  if (failed.length === 0) return EXIT.OK;
  io.stderr.write(`admin: unreachable: ${failed.join(' and ')}\n`);
  return EXIT.UNAVAILABLE;
}

type Line = [label: string, text: string];

function line([label, text]: Line): string {
  return `${label.padEnd(LABEL_WIDTH)}${text}\n`;
}

interface Report {
  lines: Line[];
  /** Problems that make the configuration unusable (a URL that cannot be read). */
  invalid: string[];
}

function describeConfiguration(config: Config): Report {
  const lines: Line[] = [];
  const invalid: string[] = [];
  const dataDir = resolve(config.DATA_DIR);

  try {
    const target = parseDatabaseUrl(config.DATABASE_URL, config.DATA_DIR);
    lines.push(['Database', describeDatabase(target, config.DATABASE_URL === undefined)]);
  } catch (error) {
    // parseDatabaseUrl's message never repeats the value (it may hold a password).
    invalid.push((error as Error).message);
    lines.push(['Database', 'invalid DATABASE_URL']);
  }
  if (config.DATABASE_URL !== undefined) lines.push(['', `DATABASE_URL=${maskUrl(config.DATABASE_URL)}`]);

  if (config.REDIS_URL === undefined) {
    lines.push(['Session store', `sqlite (embedded, REDIS_URL unset), file ${resolve(sessionStoreOptionsOf(config).sqlitePath)}`]);
  } else {
    try {
      lines.push(['Session store', describeRedis(config.REDIS_URL)]);
    } catch (error) {
      invalid.push((error as Error).message);
      lines.push(['Session store', 'invalid REDIS_URL']);
    }
    lines.push(['', `REDIS_URL=${maskUrl(config.REDIS_URL)}`]);
  }
  lines.push(['', `key prefix ${JSON.stringify(config.SESSION_KEY_PREFIX)}`]);

  lines.push(['Data directory', `${dataDir}${existsSync(dataDir) ? '' : ' (does not exist yet)'}`]);
  lines.push(['SECRET_KEY', describeSecretKey(config, dataDir)]);
  return { lines, invalid };
}

function describeDatabase(target: DatabaseTarget, isDefault: boolean): string {
  if (target.dialect === 'sqlite') {
    if (target.file === ':memory:') return 'sqlite, in memory (nothing is kept)';
    return `sqlite, file ${target.file}${isDefault ? ' (DATABASE_URL unset: the default in the data directory)' : ''}`;
  }
  const { url } = target;
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(the server default)';
  const port = url.port || (target.dialect === 'mysql' ? '3306' : '5432');
  const user = url.username ? `, user ${decodeURIComponent(url.username)}` : '';
  return `${target.dialect === 'mysql' ? 'mysql/mariadb' : 'postgres'}, server ${url.hostname}:${port}, database ${database}${user}`;
}

function describeRedis(redisUrl: string): string {
  const topology = parseRedisUrl(redisUrl);
  const hosts = (list: Array<{ host: string; port: number }>) => list.map(({ host, port }) => `${host}:${port}`).join(', ');
  switch (topology.mode) {
    case 'standalone': {
      const url = new URL(redisUrl);
      const database = /^\/(\d+)/.exec(url.pathname)?.[1] ?? '0';
      return `redis, one server ${url.hostname}:${url.port || '6379'}, database ${database}, TLS ${url.protocol === 'rediss:' ? 'on' : 'off'}`;
    }
    case 'sentinel':
      return `redis sentinel, sentinels ${hosts(topology.hosts)}, master ${topology.masterName}, database ${topology.db}, TLS ${topology.tls ? 'on' : 'off'}`;
    case 'cluster':
      return `redis cluster, seed nodes ${hosts(topology.hosts)}, TLS ${topology.tls ? 'on' : 'off'}`;
  }
}

function describeSecretKey(config: Config, dataDir: string): string {
  if (config.SECRET_KEY !== undefined) return 'set (the value is not shown)';
  const file = join(dataDir, GENERATED_SECRET_FILE);
  return existsSync(file)
    ? `not set: the key generated in ${file} is used (set SECRET_KEY in production, the same on every instance)`
    : `not set: the server generates a key in ${file} at its first start`;
}

interface CheckResult {
  ok: boolean;
  text: string;
}

/** A trivial query, on a connection of its own; an SQLite file that does not exist yet is not created. */
async function checkDatabase(config: Config): Promise<CheckResult> {
  let target: DatabaseTarget;
  try {
    target = parseDatabaseUrl(config.DATABASE_URL, config.DATA_DIR);
  } catch (error) {
    return { ok: false, text: `not checked: ${(error as Error).message}` };
  }
  if (target.dialect === 'sqlite' && target.file !== ':memory:' && !existsSync(target.file)) {
    return { ok: true, text: 'no file yet (the server creates it at its first start)' };
  }
  const { db } = createDatabase(config.DATABASE_URL, { dataDir: config.DATA_DIR });
  try {
    await pingDatabase(db);
    return { ok: true, text: 'reachable' };
  } catch (error) {
    return { ok: false, text: `unreachable: ${describeError(error)}` };
  } finally {
    await db.destroy();
  }
}

/** A PING on a store opened as the server opens it; an embedded file that does not exist yet is not created. */
async function checkSessionStore(config: Config): Promise<CheckResult> {
  if (!config.REDIS_URL && !existsSync(sessionStoreOptionsOf(config).sqlitePath)) {
    return { ok: true, text: 'no file yet (the server creates it at its first start)' };
  }
  let sessions: OpenedSessions | undefined;
  try {
    sessions = openSessions(config);
    await sessions.store.ping();
    return { ok: true, text: 'reachable' };
  } catch (error) {
    return { ok: false, text: `unreachable: ${sessions?.lastConnectionError()?.message ?? describeError(error)}` };
  } finally {
    await sessions?.store.close();
  }
}

/** Replaces any password the configured URLs hold, and SECRET_KEY, should an error message repeat one. */
function scrubberFor(config: Config): (text: string) => string {
  const secrets = [config.DATABASE_URL, config.REDIS_URL]
    .flatMap((url) => {
      const password = url === undefined ? undefined : userInfoOf(url)?.password;
      return password === undefined ? [] : [password, safeDecode(password)];
    })
    .concat(config.SECRET_KEY ?? [])
    // Replacing a one- to three-character password would garble the message rather than protect anything.
    .filter((secret) => secret.length >= 4);
  return (text) => secrets.reduce((result, secret) => result.split(secret).join(MASK), text);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
