#!/usr/bin/env node
/**
 * `node --test` over a list of files, started in the order given, with the spec reporter. Used by
 * scripts/run-tests.mjs as `node --import tsx scripts/run-in-order.mjs <concurrency> <file>...`.
 *
 * Why not `node --test` itself: it sorts the files by name, so with two at a time the longest file
 * may start last and run on alone. node:test's own `run()` keeps the order; each file still runs in
 * its own process, which gets this process's flags (`--import tsx`). Exits 1 when a test failed or
 * was cancelled, as `node --test` does (a failing `todo` test fails nothing, as there).
 */
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const [concurrency, ...files] = process.argv.slice(2);
const stream = run({ files, concurrency: Number(concurrency) });
stream.on('test:fail', (data) => {
  if (data.todo === undefined) process.exitCode = 1;
});
stream.compose(spec).pipe(process.stdout);
