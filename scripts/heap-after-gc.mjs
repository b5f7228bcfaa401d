/**
 * A preload that tells whether the heap grows: after each full collection (what is left is what
 * the process holds on to), one line with the seconds since start, the heap in use, the RSS and
 * the wall clock, appended to $HEAP_AFTER_GC_FILE, or else to bench/results/heap-after-gc-<pid>.txt.
 * `npm run bench` preloads it in its memory run (bench/run.ts reads the file); by hand, with
 * bench/ab.ts, e.g.
 *
 *   node --import tsx bench/ab.ts --a dist/server.js --b dist/server.js \
 *     --a-node-args="--import $PWD/scripts/heap-after-gc.mjs" --rounds 1 --seconds 150
 *
 * (an absolute path: each server runs in its own data folder). Plain JavaScript, so the built
 * server can preload it without tsx. The main thread only: the search threads' heaps are their own.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  let file = process.env.HEAP_AFTER_GC_FILE;
  if (!file) {
    const results = new URL('../bench/results/', import.meta.url);
    mkdirSync(results, { recursive: true });
    file = new URL(`heap-after-gc-${process.pid}.txt`, results);
  }
  const start = Date.now();
  const MiB = 2 ** 20;

  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      // Read once the collection has finished and the loop runs again.
      setImmediate(() => {
        const now = Date.now();
        appendFileSync(
          file,
          `${((now - start) / 1000).toFixed(0)} s: heap used ${(getHeapStatistics().used_heap_size / MiB).toFixed(1)} MiB, RSS ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB, at ${now}\n`,
        );
      });
    }
  }).observe({ entryTypes: ['gc'] });
}
