/**
 * Where the server's JSON log lines go: a file descriptor (stdout), written in batches.
 *
 * Hand-written rather than pino's own destination (sonic-boom, with `minLength`): sonic-boom
 * measures the UTF-8 length of the whole pending batch again at every line it is given (a
 * `Buffer.byteLength` of the batch's last string, to keep each write under `maxWrite`), so a line
 * cost more the fuller the batch; in the app under load it took about 5 µs of every request.
 * This one keeps the lines in an array and counts their length as it goes (docs/PERFORMANCE.md,
 * item 19).
 *
 * The writes are synchronous, on the event loop's thread, each of whole lines and at most
 * PIPE_BUF (4096) bytes, and they never wait: a pipe or socket descriptor is non-blocking (Node
 * makes it so), a full one answers EAGAIN at once, and the rest waits for a timer; a file takes
 * 4 KiB into the page cache in microseconds. So every byte not yet written is here, in order,
 * and nothing is in flight elsewhere when the process exits. (A terminal is the exception: Node
 * makes it blocking, and a terminal paused with Ctrl-S pauses the server, as console.log would.)
 *
 * What a log needs beyond speed, each tested in test/observability/log-writer.test.ts:
 * - in order, whole: a partial write goes on from where it stopped, before anything newer;
 * - whole lines when several processes share a pipe (the cluster's workers inherit the primary's
 *   stdout): a pipe takes a write of at most PIPE_BUF bytes all at once or not at all, so no other
 *   process's bytes land inside a line. A line longer than that, or a socket (journald's stdout
 *   stream), has no such guarantee;
 * - a reader that is slow (a full pipe) gets the same bytes again a little later;
 * - a reader that stops reading does not grow the process without bound: past `maxPendingChars`
 *   new lines are counted and dropped, and a line saying how many takes their place once there is
 *   room again;
 * - a reader that is gone (EPIPE, a closed descriptor) never ends the process: the lines are
 *   dropped from then on, with one note on stderr; a passing failure (a full disk) costs the lines
 *   of that write, counted like the others, and the next write tries again;
 * - nothing waiting is lost when the process exits: `flushSync` (pino calls it after a fatal line,
 *   and this calls it on `exit`) writes what is waiting, and waits up to 2 s for a full pipe.
 */
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';

export interface LogWriterOptions {
  /** A write starts once this many characters are waiting (sooner on the timer). */
  batchChars?: number;
  /** What is waiting is written at least this often, so a quiet server's lines still appear. */
  flushEveryMs?: number;
  /** Beyond this many characters waiting (the reader has stopped), new lines are dropped and counted. */
  maxPendingChars?: number;
  /** How long to wait before trying again when the reader is full (EAGAIN). */
  retryAfterMs?: number;
}

const DEFAULTS: Required<LogWriterOptions> = {
  batchChars: 16_384,
  flushEveryMs: 1_000,
  maxPendingChars: 32 * 1024 * 1024,
  retryAfterMs: 10,
};

/** What a pipe writes atomically (POSIX's minimum and Linux's PIPE_BUF): the most one write carries, unless one line is longer. */
const ATOMIC_WRITE_BYTES = 4096;
/** How long `flushSync` keeps trying a full pipe before giving up on the rest (the process is ending). */
const FLUSH_SYNC_PATIENCE_MS = 2_000;
/** Errors after which the descriptor will never take a line again. */
const GONE = new Set(['EPIPE', 'EBADF', 'EINVAL', 'ECONNRESET']);
const pause = new Int32Array(new SharedArrayBuffer(4));

export class BatchedLogWriter {
  readonly #options: Required<LogWriterOptions>;
  /** Lines waiting, oldest first, from `#next` on (a read index: shifting an array is O(n)). */
  #pending: string[] = [];
  #next = 0;
  #pendingChars = 0;
  /** What is left of the chunk being written (whole lines, at most ATOMIC_WRITE_BYTES unless one line is longer), and how many lines it holds. */
  #chunk: Buffer | undefined;
  #chunkLines = 0;
  /** Lines dropped since the last note about them. */
  #dropped = 0;
  /** Why the descriptor cannot be written any more (EPIPE, EBADF...), once it failed so. */
  #broken: string | undefined;
  /** Set while a full reader is given time (EAGAIN). */
  #retry: NodeJS.Timeout | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #onExit = () => this.flushSync();

  constructor(
    readonly fd: number,
    options: LogWriterOptions = {},
  ) {
    this.#options = { ...DEFAULTS, ...options };
    this.#timer = setInterval(() => this.#drain(), this.#options.flushEveryMs);
    this.#timer.unref();
    process.on('exit', this.#onExit);
  }

  /** Takes one line (pino's stream interface). False when it was dropped. */
  write(line: string): boolean {
    if (this.#broken !== undefined) return false;
    if (this.#pendingChars >= this.#options.maxPendingChars) {
      this.#dropped++;
      return false;
    }
    this.#noteDropped();
    this.#pending.push(line);
    this.#pendingChars += line.length;
    if (this.#retry === undefined && this.#pendingChars >= this.#options.batchChars) this.#drain();
    return true;
  }

  /** Lines dropped since the last note about them (the note takes their place once there is room). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Writes everything waiting now, waiting up to 2 s for a full reader: at exit, and after a fatal line. */
  flushSync(): void {
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#retry = undefined;
    const giveUpAt = Date.now() + FLUSH_SYNC_PATIENCE_MS;
    while (!this.#writeAll() && Date.now() < giveUpAt) Atomics.wait(pause, 0, 0, this.#options.retryAfterMs);
  }

  /** Stops the timers and the exit hook (tests; the server's writer lives as long as the process). */
  close(): void {
    this.flushSync(); // also stops a pending retry
    clearInterval(this.#timer);
    process.off('exit', this.#onExit);
  }

  /** Writes what it can now; when the reader is full, tries again after `retryAfterMs`. */
  #drain(): void {
    if (this.#retry !== undefined || this.#writeAll()) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#drain();
    }, this.#options.retryAfterMs);
    this.#retry.unref(); // at exit, flushSync writes the rest
  }

  /** Writes chunk after chunk until nothing waits (true) or the reader is full (false). */
  #writeAll(): boolean {
    this.#noteDropped();
    while (this.#broken === undefined) {
      const chunk = this.#chunk ?? this.#takeChunk();
      if (chunk === undefined) return true;
      let written: number;
      try {
        written = writeSync(this.fd, chunk);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'EAGAIN') return false;
        if (GONE.has(code ?? '')) {
          this.#breakOn(code!);
          return true;
        }
        // A passing failure (ENOSPC, EIO): this chunk's lines are lost and counted; the next write tries again.
        this.#dropped += this.#chunkLines;
        this.#chunk = undefined;
        return true;
      }
      this.#chunk = written < chunk.length ? chunk.subarray(written) : undefined;
    }
    return true;
  }

  /** The next chunk: whole lines from the front of `#pending`, at most ATOMIC_WRITE_BYTES (a longer line alone). */
  #takeChunk(): Buffer | undefined {
    if (this.#next === this.#pending.length) return undefined;
    const start = this.#next;
    let bytes = 0;
    while (this.#next < this.#pending.length) {
      const size = Buffer.byteLength(this.#pending[this.#next]!);
      if (bytes + size > ATOMIC_WRITE_BYTES && this.#next > start) break;
      bytes += size;
      this.#next++;
    }
    const lines = this.#pending.slice(start, this.#next);
    for (const line of lines) this.#pendingChars -= line.length;
    if (this.#next === this.#pending.length) {
      this.#pending = [];
      this.#next = 0;
    } else if (this.#next > 4096) {
      this.#pending = this.#pending.slice(this.#next);
      this.#next = 0;
    }
    this.#chunk = Buffer.from(lines.join(''));
    this.#chunkLines = lines.length;
    return this.#chunk;
  }

  /** Where lines were dropped, once there is room again: a line (in pino's shape) saying how many. */
  #noteDropped(): void {
    if (this.#dropped === 0 || this.#pendingChars >= this.#options.maxPendingChars) return;
    const line = `${JSON.stringify({
      level: 40,
      time: Date.now(),
      pid: process.pid,
      hostname: hostname(),
      dropped: this.#dropped,
      msg: 'log lines dropped: the log reader had stopped taking them',
    })}\n`;
    this.#dropped = 0;
    this.#pending.push(line);
    this.#pendingChars += line.length;
  }

  #breakOn(code: string): void {
    this.#broken = code;
    this.#pending = [];
    this.#next = 0;
    this.#pendingChars = 0;
    this.#chunk = undefined;
    try {
      writeSync(2, `log lines can no longer be written to fd ${this.fd} (${code}): dropping them from now on\n`);
    } catch {
      // stderr is gone too: nothing left to tell.
    }
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
