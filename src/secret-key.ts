/**
 * The key that signs access tokens. Given through SECRET_KEY in production; on a bare machine it is
 * generated once and kept under DATA_DIR, so tokens survive a restart without anyone configuring it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, ResolvedConfig } from './config.js';
import { ensurePrivateDirectory, tighten } from './private-files.js';

const SECRET_FILE = 'secret-key';

export function resolveSecretKey(config: Config, warn: (message: string) => void): ResolvedConfig {
  if (config.SECRET_KEY) return { ...config, SECRET_KEY: config.SECRET_KEY };
  const path = join(config.DATA_DIR, SECRET_FILE);
  let secret: string;
  try {
    secret = readFileSync(path, 'utf8').trim();
  } catch {
    ensurePrivateDirectory(config.DATA_DIR);
    secret = randomBytes(32).toString('base64url');
    // 'wx': never overwrite a key another instance wrote meanwhile; 0600: only this user reads it.
    try {
      writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    } catch {
      secret = readFileSync(path, 'utf8').trim();
    }
  }
  tighten(path); // 0600 whatever the umask was when it was written
  if (secret.length < 32) throw new Error(`${path} holds a key shorter than 32 characters; delete it or set SECRET_KEY`);
  warn(`SECRET_KEY is not set: using the generated key in ${path}. Set SECRET_KEY in production, the same on every instance.`);
  return { ...config, SECRET_KEY: secret };
}
