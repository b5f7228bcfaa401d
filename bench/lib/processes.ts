/**
 * Processes the benchmark owns: each is spawned here, on a loopback port, and stopped by the
 * handle's `stop()` (SIGTERM, then SIGKILL after a grace period). Nothing is ever found or killed
 * by name.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// The same port and connection probes the tests and chaos runs use (one implementation for all).
import { canConnect, freePort } from '../../support/private-servers.js';
export { canConnect, freePort };

export interface Owned {
  name: string;
  child: ChildProcess;
  /** Where stdout and stderr went (a file), when they were kept. */
  logFile?: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr go to this file (appended); otherwise they are discarded. */
  logFile?: string;
  /** Resolves once this port accepts connections; the start fails after `readyWithinMs`. */
  port?: number;
  readyWithinMs?: number;
}

const STOP_GRACE_MS = 5_000;

/** Spawns a process and (with `port`) waits until it listens. Its output goes to a file, never through us. */
export async function startProcess(options: StartOptions): Promise<Owned> {
  const fd = options.logFile ? openSync(options.logFile, 'a') : undefined;
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'],
  };
  const child = spawn(options.command, options.args, spawnOptions);
  if (fd !== undefined) closeSync(fd); // the child has its own copy
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const owned: Owned = {
    name: options.name,
    child,
    ...(options.logFile ? { logFile: options.logFile } : {}),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await gone;
      clearTimeout(timer);
    },
  };
  if (options.port !== undefined) {
    const deadline = Date.now() + (options.readyWithinMs ?? 30_000);
    while (!(await canConnect(options.port))) {
      if (exited || Date.now() > deadline) {
        await owned.stop();
        const tail = options.logFile ? `\n--- ${options.logFile} ---\n${tailOf(options.logFile)}` : '';
        throw new Error(`${options.name} did not listen on port ${options.port}${exited ? ' (it exited)' : ''}${tail}`);
      }
      await sleep(50);
    }
  }
  return owned;
}

function tailOf(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** Direct children of a process (Linux /proc); empty where /proc is not available. */
export function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text ? text.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** A process and all its descendants. */
export function processTree(pid: number): number[] {
  return [pid, ...childPids(pid).flatMap(processTree)];
}

/** Resident set size of one process in bytes (VmRSS), or 0 when it is gone. */
export function rssOf(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** RSS of a process and its descendants (a cluster primary and its workers). */
export function treeRss(pid: number): number {
  return processTree(pid).reduce((sum, each) => sum + rssOf(each), 0);
}

/** CPU time (user + system, in seconds) used so far by a process and its live descendants. */
export function treeCpuSeconds(pid: number): number {
  const { user, system } = treeCpuSplit(pid);
  return user + system;
}

/** The same, user and system (kernel) time apart. */
export function treeCpuSplit(pid: number): { user: number; system: number } {
  const ticks = 100; // USER_HZ on Linux
  return processTree(pid).reduce(
    (sum, each) => {
      try {
        const stat = readFileSync(`/proc/${each}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return { user: sum.user + Number(fields[11]) / ticks, system: sum.system + Number(fields[12]) / ticks };
      } catch {
        return sum;
      }
    },
    { user: 0, system: 0 },
  );
}

/** Resolves with the exit code once the process has ended (at once if it already has). */
export function exitOf(owned: Owned): Promise<number | null> {
  const { child } = owned;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
