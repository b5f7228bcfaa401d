/**
 * Where the server's JSON log lines go: a file descriptor (stdout), written in batches by libuv's
 * thread pool, one write in flight at a time, so the event loop never waits for the reader.
 *
 * Hand-written rather than pino's own destination (sonic-boom, with `minLength`): sonic-boom
 * measures the UTF-8 length of the whole pending batch again at every line it is given (a
 * `Buffer.byteLength` of the batch's last string, to keep each write under `maxWrite`), so a line
 * cost more the fuller the batch; in the app under load it took about 5 µs of every request.
 * This one keeps the lines in an array and counts their length as it goes: `bench/ab.ts`, the two
 * builds in turn on `/admin/me` by cookie, +4.8% req/s and −4% CPU per request
 * (docs/PERFORMANCE.md, item 19).
 *
 * What a log needs beyond speed, each tested in test/observability/log-writer.test.ts:
 * - in order, whole: a partial write goes on from where it stopped, before anything newer;
 * - whole lines even when several processes share the descriptor (the cluster's workers inherit
 *   the primary's stdout): each write(2) carries whole lines and at most PIPE_BUF (4096) bytes,
 *   which a pipe takes all at once or not at all, so no other process's bytes land inside a line
 *   (a single longer line goes alone);
 * - a reader that is slow (a full pipe, EAGAIN) gets the same bytes again a little later;
 * - a reader that stops reading does not grow the process without bound: past `maxPendingChars`
 *   new lines are counted and dropped, and a line saying how many is written once it reads again;
 * - a reader that is gone (EPIPE, a closed descriptor) never ends the process: the lines are
 *   dropped from then on, with one note on stderr;
 * - nothing waiting is lost when the process exits: `flushSync` (pino calls it after a fatal line,
 *   and this calls it on `exit`) writes what is pending synchronously.
 */
import { writeSync, write } from 'node:fs';
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
const pause = new Int32Array(new SharedArrayBuffer(4));

export class BatchedLogWriter {
  readonly #options: Required<LogWriterOptions>;
  #pending: string[] = [];
  #pendingChars = 0;
  /** The chunks being written, the one in flight first; empty when no write is in flight. */
  #chunks: Buffer[] = [];
  #dropped = 0;
  /** Why the descriptor cannot be written any more (EPIPE, EBADF...), once it failed so. */
  #broken: string | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #onExit = () => this.flushSync();

  constructor(
    readonly fd: number,
    options: LogWriterOptions = {},
  ) {
    this.#options = { ...DEFAULTS, ...options };
    this.#timer = setInterval(() => this.#startWrite(), this.#options.flushEveryMs);
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
    this.#pending.push(line);
    this.#pendingChars += line.length;
    if (this.#pendingChars >= this.#options.batchChars) this.#startWrite();
    return true;
  }

  /** Lines dropped so far because the reader had stopped (reset once the note about them is queued). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Writes everything waiting now, synchronously: at exit, and after a fatal line. */
  flushSync(): void {
    if (this.#broken !== undefined) return;
    this.#queueDroppedNote();
    if (this.#pendingChars === 0) return;
    // The chunk in flight belongs to the thread pool; the chunks queued behind it and the pending
    // lines were taken after it, and go out now in their order.
    const chunks = [...this.#chunks.slice(1), ...this.#takeChunks()];
    this.#chunks.splice(1);
    const giveUpAt = Date.now() + FLUSH_SYNC_PATIENCE_MS;
    for (let data of chunks) {
      while (data.length > 0) {
        try {
          data = data.subarray(writeSync(this.fd, data));
        } catch (error) {
          if (errorCode(error) !== 'EAGAIN' || Date.now() > giveUpAt) {
            this.#breakOn(error);
            return;
          }
          Atomics.wait(pause, 0, 0, this.#options.retryAfterMs);
        }
      }
    }
  }

  /** Stops the timer and the exit hook (tests; the server's writer lives as long as the process). */
  close(): void {
    this.flushSync();
    clearInterval(this.#timer);
    process.off('exit', this.#onExit);
  }

  #startWrite(): void {
    if (this.#chunks.length > 0 || this.#broken !== undefined) return;
    this.#queueDroppedNote();
    if (this.#pendingChars === 0) return;
    this.#chunks = this.#takeChunks();
    this.#writeOut(this.#chunks[0]!);
  }

  /** Writes `data`, the first of `#chunks` (or what is left of it), then the chunks after it. */
  #writeOut(data: Buffer): void {
    write(this.fd, data, 0, data.length, null, (error, written) => {
      if (error) {
        if (errorCode(error) === 'EAGAIN') {
          setTimeout(() => this.#writeOut(data), this.#options.retryAfterMs);
          return;
        }
        this.#chunks = [];
        this.#breakOn(error);
        return;
      }
      if (written < data.length) {
        this.#writeOut(data.subarray(written));
        return;
      }
      this.#chunks.shift();
      if (this.#chunks.length > 0) this.#writeOut(this.#chunks[0]!);
      else if (this.#pendingChars >= this.#options.batchChars || this.#dropped > 0) this.#startWrite();
    });
  }

  /** The pending lines, as chunks of whole lines of at most ATOMIC_WRITE_BYTES each (a longer line alone). */
  #takeChunks(): Buffer[] {
    const chunks: Buffer[] = [];
    let group: string[] = [];
    let groupBytes = 0;
    for (const line of this.#pending) {
      const bytes = Buffer.byteLength(line);
      if (groupBytes + bytes > ATOMIC_WRITE_BYTES && group.length > 0) {
        chunks.push(Buffer.from(group.join('')));
        group = [];
        groupBytes = 0;
      }
      group.push(line);
      groupBytes += bytes;
    }
    if (group.length > 0) chunks.push(Buffer.from(group.join('')));
    this.#pending = [];
    this.#pendingChars = 0;
    return chunks;
  }

  /** Once the reader takes lines again, a line (in pino's shape) saying how many were dropped. */
  #queueDroppedNote(): void {
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

  #breakOn(error: unknown): void {
    this.#broken = errorCode(error) ?? 'error';
    this.#pending = [];
    this.#pendingChars = 0;
    try {
      writeSync(2, `log lines can no longer be written to fd ${this.fd} (${this.#broken}): dropping them from now on\n`);
    } catch {
      // stderr is gone too: nothing left to tell.
    }
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
