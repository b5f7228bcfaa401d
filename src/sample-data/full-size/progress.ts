/**
 * The loader's progress on stderr: per table, rows done of the total, the rate and the time left.
 * On a terminal one line redraws itself in place; anywhere else (a log file, CI) it prints a plain
 * line every few seconds and one when a table is done, so a log stays readable.
 *
 * Written here rather than taken from `cli-progress`: a dozen lines of drawing cover the one bar
 * this needs, and a dependency would not.
 */
export interface LoadProgress {
  /** A table starts: `total` rows are coming. */
  start(table: string, total: number): void;
  /** `rows` more rows of the current table are written. */
  advance(rows: number): void;
  /** The current table is done. */
  finish(): void;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Redraws at most this often on a terminal: drawing is cheap, but not free at a million rows a second. */
const TTY_REDRAW_MS = 100;
/** A plain line at most this often elsewhere. */
const PLAIN_LINE_MS = 5_000;
const BAR_WIDTH = 24;

export const SILENT_PROGRESS: LoadProgress = { start() {}, advance() {}, finish() {} };

export function progressOn(stream: ProgressStream, now: () => number = () => performance.now()): LoadProgress {
  const tty = stream.isTTY === true;
  let table = '';
  let total = 0;
  let done = 0;
  let startedAt = 0;
  let drawnAt = 0;

  const line = (final: boolean): string => {
    const seconds = Math.max((now() - startedAt) / 1000, 1e-3);
    const rate = done / seconds;
    const share = total > 0 ? Math.min(done / total, 1) : 1;
    const counts = `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`;
    const speed = `${Math.round(rate).toLocaleString('en-US')} rows/s`;
    const tail = final ? `in ${seconds.toFixed(1)} s` : `ETA ${rate > 0 ? formatSeconds((total - done) / rate) : '?'}`;
    const bar = tty ? `[${'#'.repeat(Math.round(share * BAR_WIDTH)).padEnd(BAR_WIDTH, '-')}] ` : '';
    return `${table.padEnd(16)}${bar}${String(Math.floor(share * 100)).padStart(3)}%  ${counts}  ${speed}  ${tail}`;
  };

  return {
    start(name, rows) {
      table = name;
      total = rows;
      done = 0;
      startedAt = now();
      drawnAt = startedAt;
      if (tty) stream.write(`\r${line(false)}\u001b[K`);
    },
    advance(rows) {
      done += rows;
      const at = now();
      if (at - drawnAt < (tty ? TTY_REDRAW_MS : PLAIN_LINE_MS)) return;
      drawnAt = at;
      stream.write(tty ? `\r${line(false)}\u001b[K` : `${line(false)}\n`);
    },
    finish() {
      stream.write(tty ? `\r${line(true)}\u001b[K\n` : `${line(true)}\n`);
    },
  };
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  return seconds < 60 ? `${Math.ceil(seconds)} s` : `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s`;
}
