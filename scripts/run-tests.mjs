#!/usr/bin/env node
/**
 * Runs the test suite with Node's own test runner.
 *
 * Why a script: on Node 20, `node --test` does not expand globs itself, and with no file list it
 * finds no `.ts` files and exits 0 having run nothing. This lists the files, runs them, and fails
 * when no test ran at all, so a green run always means tests passed.
 *
 * Usage: npm test [-- <file or folder>...]   (default: every test/**\/*.test.ts)
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(path) {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((entry) => {
      const full = join(path, entry.name);
      if (entry.isDirectory()) return testFiles(full);
      return entry.name.endsWith('.test.ts') ? [full] : [];
    })
    .sort();
}

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['test']).flatMap(testFiles);
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString();
  if (output.length > 1_000_000) output = output.slice(-100_000);
});
child.on('close', (code, signal) => {
  const ran = /^\S*\s*tests (\d+)\s*$/m.exec(output);
  if (code === 0 && (!ran || Number(ran[1]) === 0)) {
    console.error('run-tests: the runner exited 0 but ran no test');
    process.exit(1);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
