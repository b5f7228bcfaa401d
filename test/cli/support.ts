/**
 * What the admin command suites share: capturing output, password inputs, and an environment of a
 * private database and a real session store (an SQLite file, or Redis under a private key prefix),
 * opened with the same `openSessions(config)` as `npm run admin`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runAdmin } from '../../src/cli/admin.js';
import { openSessions } from '../../src/cli/resources.js';
import { pipedSecretInput, type SecretInput } from '../../src/cli/secret-input.js';
import { loadConfig, type Config } from '../../src/config.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import type { DialectName } from '../../src/database/schema.js';
import { SessionManager } from '../../src/sessions/session-manager.js';
import type { SessionStore } from '../../src/sessions/store.js';
import { deleteRedisKeys, type StoreKind } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { SERVICE_URLS, serviceGate } from '../helpers/services.js';

export { STORE_KINDS, type StoreKind } from '../helpers/app.js';

/** node:test options for a suite on this store: Redis is skipped (or fails under CI) when absent. */
export function storeGate(kind: StoreKind): Promise<{ skip: string | false }> {
  return kind === 'redis' ? serviceGate('redis') : Promise.resolve({ skip: false });
}

/** Collects what a command writes. */
export function capture() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout: { write: (text: string) => stdout.push(text) },
    stderr: { write: (text: string) => stderr.push(text) },
    output: () => ({ stdout: stdout.join(''), stderr: stderr.join('') }),
  };
}

/** stdin as a pipe holding `text`. */
export function piped(text: string): SecretInput {
  return pipedSecretInput(Readable.from([Buffer.from(text)]));
}

/** A person at a terminal typing `answers` in turn; `prompts` records what they were asked. */
export function typed(...answers: Array<string | undefined>): SecretInput & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    interactive: true,
    prompts,
    async read(prompt: string) {
      prompts.push(prompt);
      return answers.shift();
    },
  };
}

/** An input that fails the test if a password is asked for at all. */
export const NOT_ASKED: SecretInput = {
  interactive: false,
  read: () => Promise.reject(new Error('a password was asked for')),
};

export interface AdminEnvironment {
  config: Config;
  db: TestDatabase['db'];
  store: SessionStore;
  /** The manager the commands use. Its clock is `clock.now` (epoch ms, a whole second), which tests may move. */
  sessions: SessionManager;
  clock: { now: number };
  /** Runs the command line in-process; `secrets` defaults to an input that must not be read. */
  admin(argv: readonly string[], secrets?: SecretInput): Promise<{ code: number; stdout: string; stderr: string }>;
  cleanup(): Promise<void>;
}

export const IDLE_TIMEOUT_SECONDS = 1800;
export const ABSOLUTE_TIMEOUT_SECONDS = 28_800;

/** A private database on `engine` and a private session store of `kind`, as `npm run admin` would open them. */
export async function adminEnvironment(kind: StoreKind, engine: DialectName = 'sqlite'): Promise<AdminEnvironment> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ep-admin-'));
  const keyPrefix = `ep-test:${randomBytes(6).toString('hex')}:`;
  const config = loadConfig({
    DATA_DIR: dataDir,
    SESSION_KEY_PREFIX: keyPrefix,
    SESSION_IDLE_TIMEOUT_SECONDS: String(IDLE_TIMEOUT_SECONDS),
    SESSION_ABSOLUTE_TIMEOUT_SECONDS: String(ABSOLUTE_TIMEOUT_SECONDS),
    ...(kind === 'redis' ? { REDIS_URL: SERVICE_URLS.redis } : {}),
  });
  let testDb: TestDatabase | undefined;
  let opened: ReturnType<typeof openSessions> | undefined;
  const cleanup = async () => {
    await opened?.store.close();
    if (config.REDIS_URL) await deleteRedisKeys(config.REDIS_URL, keyPrefix);
    await testDb?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    testDb = await createTestDatabase(engine);
    opened = openSessions(config);
    const clock = { now: Math.floor(Date.now() / 1000) * 1000 };
    const sessions = new SessionManager(opened.store, {
      idleTimeoutSeconds: config.SESSION_IDLE_TIMEOUT_SECONDS,
      absoluteTimeoutSeconds: config.SESSION_ABSOLUTE_TIMEOUT_SECONDS,
      now: () => clock.now,
    });
    const db = testDb.db;
    return {
      config,
      db,
      store: opened.store,
      sessions,
      clock,
      async admin(argv, secrets = NOT_ASKED) {
        const io = capture();
        const code = await runAdmin(argv, { db, sessions, secrets, config, stdout: io.stdout, stderr: io.stderr });
        return { code, ...io.output() };
      },
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * `node --import tsx src/cli/admin.ts ...argv` as its own process, with `env` over this one's (REDIS_URL
 * empty: the embedded session store in DATA_DIR) and `stdin` piped in; killed (and reported) if it does
 * not exit by itself.
 */
export function adminScript(
  argv: readonly string[],
  env: Record<string, string>,
  stdin = '',
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', ...argv], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, REDIS_URL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}
