/** The benchmark's figures, its targets (docs/PERFORMANCE.md), and the table they are printed as. */

export interface Scenario {
  id: string;
  label: string;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  requests: number;
  /** Non-2xx answers and connection errors, summed over the rounds. */
  failures: string;
  /** Redis commands per response, and which ones ("get 1.00"). */
  redisPerRequest?: number;
  redisBreakdown?: string;
  /** CPU of the server (every process of it) per response, microseconds. */
  serverCpuUs?: number;
  /** Cores used by the load generator, and by programs not part of the benchmark. */
  generatorCores?: number;
  redisCores?: number;
  foreignCores?: number;
  eventLoop?: { p99: number; max: number };
  rounds: number;
  /** Each round's figures, in the order the rounds ran (for ratios taken round by round). */
  perRound: Array<{ rps: number; p99: number }>;
  note?: string;
}

/**
 * `a` ÷ `b` for `key`, taken round by round and then the median: the two runs of a round are
 * seconds apart, so a spell of noise on the machine (which comes and goes over tens of seconds
 * here) mostly hits both; the ratio of two medians compares runs up to a minute apart. With one
 * round each (or rounds that do not pair up), the plain ratio.
 */
export function pairedRatio(a: Scenario, b: Scenario, key: 'rps' | 'p99'): number {
  if (a.perRound.length < 2 || a.perRound.length !== b.perRound.length) return a[key] / b[key];
  const ratios = a.perRound.map((round, i) => round[key] / b.perRound[i]![key]).sort((x, y) => x - y);
  const middle = ratios.length / 2;
  return ratios.length % 2 ? ratios[Math.floor(middle)]! : (ratios[middle - 1]! + ratios[middle]!) / 2;
}

/** 'n/a': not judged in this kind of run (--quick, the small seed); 'not measured': its server did not answer. */
export type Verdict = 'met' | 'MISSED' | 'n/a' | 'not measured';

export interface TargetCheck {
  target: string;
  measured: string;
  verdict: Verdict;
}

const fixed = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
export const ms = (value: number | undefined) => fixed(value, value !== undefined && value >= 100 ? 0 : 2);
export const thousands = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? '–' : Math.round(value).toLocaleString('en-US');
export const ratio = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(2)}×`);

export function verdict(ok: boolean | undefined): Verdict {
  return ok === undefined ? 'n/a' : ok ? 'met' : 'MISSED';
}

/** How far RSS may grow from a quarter into the memory run to its end (V8's heap has found its size by then). */
export const RSS_GROWTH_BOUND = 0.05;
export const RSS_SLOPE_BOUND_MIB_PER_MINUTE = 2;

/**
 * The memory target: steady means no growth beyond the bounds. RSS that holds or falls (the heap
 * settling after the sessions were written, or giving memory back) is steady; only growth is a
 * leak's sign.
 */
export function rssSteady(atQuarterMiB: number, endMiB: number, slopeMiBPerMinute: number): boolean {
  return slopeMiBPerMinute <= RSS_SLOPE_BOUND_MIB_PER_MINUTE && endMiB <= atQuarterMiB * (1 + RSS_GROWTH_BOUND);
}

export interface Table {
  header: string[];
  rows: string[][];
  /** Columns aligned right (numbers). */
  right: boolean[];
}

export function throughputTable(scenarios: Scenario[], baseline: Scenario | undefined, targets: Map<string, string>): Table {
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    '÷ baseline req/s',
    '÷ baseline p99',
    'Redis cmd/req',
    'server CPU µs/req',
    'target',
  ];
  const rows = scenarios.map((s) => [
    s.label,
    thousands(s.rps),
    ms(s.p50),
    ms(s.p99),
    baseline ? ratio(pairedRatio(s, baseline, 'rps')) : '–',
    baseline ? ratio(pairedRatio(s, baseline, 'p99')) : '–',
    fixed(s.redisPerRequest, 2),
    fixed(s.serverCpuUs, 0),
    targets.get(s.id) ?? '',
  ]);
  return { header, rows, right: [false, true, true, true, true, true, true, true, false] };
}

export function targetsTable(checks: TargetCheck[]): Table {
  return {
    header: ['target', 'measured', 'verdict'],
    rows: checks.map((check) => [check.target, check.measured, check.verdict]),
    right: [false, false, false],
  };
}

export function renderText(table: Table): string {
  const widths = table.header.map((title, column) => Math.max(title.length, ...table.rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (table.right[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(table.header), widths.map((width) => '-'.repeat(width)).join('  '), ...table.rows.map(line)].join('\n');
}

export function renderMarkdown(table: Table): string {
  const escape = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${table.header.map(escape).join(' | ')} |`,
    `|${table.right.map((right) => (right ? '---:' : '---')).join('|')}|`,
    ...table.rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

/**
 * Seconds of RSS samples summed up by their lowest value: V8's heap grows and drops by tens of MiB
 * between two full collections (one every 10 to 15 s under this load), so one sample compared the
 * sawtooth's phase, not the trend, and even a window's median moves with the phase. What a full
 * collection leaves (the floor) is what grows when memory leaks.
 */
export const RSS_WINDOW_SECONDS = 15;

export interface RssTrend {
  rssAtQuarterMiB: number;
  rssEndMiB: number;
  rssMaxMiB: number;
  /** Theil–Sen slope over the window floors: the median of the slopes between every two windows. */
  rssSlopeMiBPerMinute: number;
  /** The floor (lowest sample) of each RSS_WINDOW_SECONDS window from a quarter into the run to its end, in order. */
  rssWindowsMiB: number[];
}

/**
 * Samples from a quarter into the run (`runSeconds`, or the last sample's time) to its end, cut into
 * RSS_WINDOW_SECONDS windows, each summed up by `pick`; the first window stands for "a quarter into
 * the run", the last for "the end", and the slope (per second) is the Theil–Sen estimate over them:
 * the median of the slopes between every two windows. Windows without a sample are left out.
 */
function windowedTrend(
  samples: Array<[seconds: number, value: number]>,
  pick: (values: number[]) => number,
  runSeconds = samples[samples.length - 1]?.[0] ?? 0,
): { windows: Array<{ t: number; value: number }>; slopePerSecond: number } {
  const last = runSeconds;
  const start = last / 4;
  const windows: Array<{ t: number; value: number }> = [];
  for (let from = start; from < last; from += RSS_WINDOW_SECONDS) {
    // The last window ends at the end of the run and is as long as the others: it may overlap the one before.
    const [lo, hi] =
      from + RSS_WINDOW_SECONDS > last ? [Math.max(start, last - RSS_WINDOW_SECONDS), last] : [from, from + RSS_WINDOW_SECONDS];
    const inside = samples.filter(([t]) => t >= lo && (t < hi || (hi === last && t <= hi))).map(([, value]) => value);
    if (inside.length > 0) windows.push({ t: (lo + hi) / 2, value: pick(inside) });
    if (hi === last) break;
  }
  const slopes: number[] = [];
  for (let i = 0; i < windows.length; i++)
    for (let j = i + 1; j < windows.length; j++) {
      const dt = windows[j]!.t - windows[i]!.t;
      if (dt > 0) slopes.push((windows[j]!.value - windows[i]!.value) / dt);
    }
  return { windows, slopePerSecond: median(slopes) };
}

/** The upper middle value (NaN when there is none). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const toMiB = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));

/**
 * RSS over the run, each window summed up by its floor (what a full collection leaves). A
 * least-squares line through the raw samples followed the sawtooth: in one run it read
 * +7.5 MiB/min while the medians of the first and last 15 s were 274.2 and 273.3 MiB.
 */
export function rssTrend(rss: Array<[seconds: number, bytes: number]>): RssTrend {
  const { windows, slopePerSecond } = windowedTrend(rss, (values) => Math.min(...values));
  return {
    rssAtQuarterMiB: toMiB(windows[0]?.value ?? NaN),
    rssEndMiB: toMiB(windows[windows.length - 1]?.value ?? NaN),
    rssMaxMiB: toMiB(Math.max(...rss.map(([, b]) => b))),
    rssSlopeMiBPerMinute: Number(((slopePerSecond * 60) / 2 ** 20).toFixed(2)),
    rssWindowsMiB: windows.map(({ value }) => toMiB(value)),
  };
}

export interface HeapTrend {
  heapAtQuarterMiB: number;
  heapEndMiB: number;
  heapSlopeMiBPerMinute: number;
  /** The median heap in use after the full collections of each window, in order. */
  heapWindowsMiB: number[];
  /** How many full collections were read. */
  heapCollections: number;
}

/**
 * The heap in use right after each full collection (scripts/heap-after-gc.mjs): what the process
 * holds on to, without the young generation's filling and emptying or the allocator's pages that
 * move the RSS. Each window is summed up by its median, over the same windows as the RSS.
 */
export function heapTrend(afterCollections: Array<[seconds: number, bytes: number]>, runSeconds: number): HeapTrend {
  const { windows, slopePerSecond } = windowedTrend(afterCollections, median, runSeconds);
  return {
    heapAtQuarterMiB: toMiB(windows[0]?.value ?? NaN),
    heapEndMiB: toMiB(windows[windows.length - 1]?.value ?? NaN),
    heapSlopeMiBPerMinute: Number(((slopePerSecond * 60) / 2 ** 20).toFixed(2)),
    heapWindowsMiB: windows.map(({ value }) => toMiB(value)),
    heapCollections: afterCollections.filter(([t]) => t >= runSeconds / 4 && t <= runSeconds).length,
  };
}

/**
 * Reads scripts/heap-after-gc.mjs's lines (`… heap used 41.2 MiB, RSS 280 MiB, at <epoch ms>`) as
 * [seconds after `startedAt` (epoch ms), bytes]; lines of other forms are skipped.
 */
export function parseHeapAfterGc(text: string, startedAt: number): Array<[seconds: number, bytes: number]> {
  const samples: Array<[number, number]> = [];
  for (const line of text.split('\n')) {
    const match = /heap used ([\d.]+) MiB, .*at (\d+)$/.exec(line.trim());
    if (match) samples.push([(Number(match[2]) - startedAt) / 1000, Number(match[1]) * 2 ** 20]);
  }
  return samples;
}
