/**
 * The load generator: autocannon, in this process, with every response's latency kept (autocannon's
 * own histogram has whole-millisecond resolution, too coarse for a 1 ms p50; the `response` event
 * gives the exact time, so the percentiles here are computed from all of them).
 */
import autocannon, { type Options, type Request } from 'autocannon';

export interface LoadRun {
  /** Responses received within the measured window. */
  requests: number;
  /** Responses with a 2xx status. */
  ok: number;
  /** Anything but 2xx: status → count. */
  otherStatuses: Record<string, number>;
  /** Connection errors and timeouts. */
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoadOptions {
  url: string | string[];
  connections: number;
  /** Run for this long... */
  seconds?: number;
  /** ...or until exactly this many requests have been answered (every one waited for). */
  amount?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Requests built per call (a path or body that changes): autocannon's setupRequest. */
  requests?: Request[];
  /** Per-request timeout (s); logins queue behind argon2 for a while. */
  timeout?: number;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Runs one load and returns its figures. Statuses other than 2xx are counted, not hidden. */
export function runLoad(options: LoadOptions): Promise<LoadRun> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const statuses: Record<string, number> = {};
  let ok = 0;
  const opts: Options = {
    url: options.url,
    connections: options.connections,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.seconds ?? 10 }),
    timeout: options.timeout ?? 10,
    ...(options.method ? { method: options.method } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.requests ? { requests: options.requests } : {}),
  };
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (error, result) => {
      if (error) return reject(error);
      const seconds = (performance.now() - startedAt) / 1000;
      const sorted = latencies.subarray(0, count).sort();
      resolve({
        requests: count,
        ok,
        otherStatuses: statuses,
        errors: result.errors + result.timeouts,
        seconds,
        rps: ok / seconds,
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        p99: percentile(sorted, 99),
        max: count ? sorted[count - 1]! : Number.NaN,
      });
    });
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = responseTime;
      if (statusCode >= 200 && statusCode < 300) ok++;
      else statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
}
