/**
 * The real server (`src/server.ts`) as a child process, for tests that need a whole process (exit
 * codes, signals, workers). The private Redis and PostgreSQL servers are in support/private-servers.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killProcess } from '../../support/private-servers.js';

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Everything the process wrote (JSON log lines), for asserting what it said. */
  output(): string;
  /** SIGKILLs it (and so its workers' channel) and removes its data folder. For `after` hooks. */
  stop(): Promise<void>;
}

/**
 * The real server (`src/server.ts`) as a child process on a free port, in a private data folder,
 * with the embedded session store unless `env` names another. Resolves once it has been spawned;
 * the caller polls for what it waits for (/health, /ready).
 */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'ep-server-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      SECRET_KEY: 'k'.repeat(40),
      LOG_LEVEL: 'warn',
      WORKERS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      await killProcess(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
