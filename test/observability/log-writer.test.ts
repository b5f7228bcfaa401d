/**
 * The log writer behind the server's stdout (src/observability/log-writer.ts), against real
 * descriptors: a file, a FIFO whose reader the test controls (full, stopped, gone), and a child
 * process that exits straight after logging.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchedLogWriter } from '../../src/observability/log-writer.js';
import { until } from '../helpers/wait.js';

const WRITER_MODULE = fileURLToPath(new URL('../../src/observability/log-writer.ts', import.meta.url));
const line = (n: number, width = 100) => `${JSON.stringify({ n, pad: 'x'.repeat(Math.max(0, width - 20)) })}\n`;
/** The complete lines received so far (a read may end inside one). */
const numbersIn = (text: string) =>
  text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((each) => JSON.parse(each) as { n?: number; dropped?: number; msg?: string });

describe('the batched log writer', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ep-log-writer-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A FIFO opened at both ends without blocking: the test reads when it chooses to. */
  function fifo(name: string) {
    const path = join(dir, name);
    execFileSync('mkfifo', [path]);
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    let received = '';
    const chunk = Buffer.alloc(1 << 16);
    return {
      reader,
      writer,
      /** Everything the pipe holds now. */
      drain(): string {
        for (;;) {
          let n: number;
          try {
            n = readSync(reader, chunk, 0, chunk.length, null);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
            throw error;
          }
          if (n === 0) break;
          received += chunk.toString('latin1', 0, n);
        }
        return received;
      },
    };
  }

  it('writes every line, in order, in batches: nothing before a batch fills or the timer comes', async () => {
    const file = join(dir, 'ordered.log');
    const fd = openSync(file, 'w');
    const writer = new BatchedLogWriter(fd, { batchChars: 16_384, flushEveryMs: 1_000 });
    try {
      for (let n = 0; n < 10; n++) writer.write(line(n));
      await sleep(20);
      assert.equal(readFileSync(file, 'utf8'), '', 'ten short lines wait for the batch or the timer');
      assert.ok(await until(() => numbersIn(readFileSync(file, 'utf8')).length === 10, 5_000), 'the timer writes them');
      for (let n = 10; n < 20_000; n++) writer.write(line(n));
      assert.ok(await until(() => readFileSync(file, 'utf8').length >= 20_000 * 100 - 16_384, 5_000));
    } finally {
      writer.close();
      closeSync(fd);
    }
    assert.deepEqual(
      numbersIn(readFileSync(file, 'utf8')).map(({ n }) => n),
      Array.from({ length: 20_000 }, (_, n) => n),
    );
  });

  it('waits for a full pipe (EAGAIN, partial writes) and then delivers every byte once, in order', async () => {
    const pipe = fifo('slow');
    const writer = new BatchedLogWriter(pipe.writer, { batchChars: 4_096, flushEveryMs: 50, retryAfterMs: 5 });
    try {
      // 1 MB against a pipe of 64 KiB that nobody reads for half a second.
      for (let n = 0; n < 10_000; n++) writer.write(line(n));
      await sleep(500);
      assert.ok(pipe.drain().length <= 1 << 20, 'the pipe held only what fits');
      assert.ok(
        await until(() => {
          pipe.drain();
          return numbersIn(pipe.drain()).length === 10_000;
        }, 10_000),
        'every line arrives once the reader reads',
      );
      assert.deepEqual(
        numbersIn(pipe.drain()).map(({ n }) => n),
        Array.from({ length: 10_000 }, (_, n) => n),
      );
      assert.equal(writer.dropped, 0);
    } finally {
      writer.close();
      closeSync(pipe.writer);
      closeSync(pipe.reader);
    }
  });

  it('holds a bounded amount for a reader that has stopped, counts what it drops, and says so once the reader is back', async () => {
    const pipe = fifo('stopped');
    const writer = new BatchedLogWriter(pipe.writer, { batchChars: 4_096, flushEveryMs: 50, maxPendingChars: 200_000, retryAfterMs: 5 });
    const total = 20_000; // 2 MB: 64 KiB in the pipe, 200 KB waiting, the rest dropped
    let refused = 0;
    try {
      for (let n = 0; n < total; n++) if (!writer.write(line(n))) refused++;
      assert.ok(refused > 10_000, `refused ${refused}`);
      assert.equal(writer.dropped, refused);
      await sleep(200);
      const received = await (async () => {
        await until(() => {
          pipe.drain();
          return numbersIn(pipe.drain()).some((each) => each.dropped !== undefined);
        }, 10_000);
        return numbersIn(pipe.drain());
      })();
      const note = received.find((each) => each.dropped !== undefined);
      assert.ok(note, 'a line says lines were dropped');
      assert.equal(note.dropped, refused);
      assert.match(String(note.msg), /dropped/);
      const kept = received.filter((each) => each.n !== undefined).map(({ n }) => n!);
      assert.equal(kept.length + refused, total, 'every line is either delivered or counted');
      assert.deepEqual(
        kept,
        [...kept].sort((a, b) => a - b),
        'in order',
      );
      // The reader is back: new lines flow again.
      writer.write(line(total));
      assert.ok(await until(() => numbersIn(pipe.drain()).some(({ n }) => n === total), 2_000));
    } finally {
      writer.close();
      closeSync(pipe.writer);
      closeSync(pipe.reader);
    }
  });

  it('keeps lines whole when two processes write to one pipe at once (the cluster workers share stdout)', async () => {
    const pipe = fifo('shared');
    const script = `
      const { BatchedLogWriter } = await import(${JSON.stringify(WRITER_MODULE)});
      const { setImmediate: turn } = await import('node:timers/promises');
      const writer = new BatchedLogWriter(1, { batchChars: 65_536, retryAfterMs: 1 });
      for (let n = 0; n < 20_000; n++) {
        writer.write(JSON.stringify({ who: process.argv[1], n, pad: 'y'.repeat(60 + (n % 50)) }) + '\\n');
        if (n % 500 === 0) await turn();
      }`;
    const children = ['a', 'b'].map((who) =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, who], { stdio: ['ignore', pipe.writer, 'inherit'] }),
    );
    const exited = Promise.all(children.map((child) => once(child, 'exit')));
    let done = false;
    void exited.then(() => (done = true));
    // A reader slower than the writers, so that the pipe is full and they meet EAGAIN and partial writes.
    while (!done) {
      pipe.drain();
      await sleep(5);
    }
    for (const [code] of await exited) assert.equal(code, 0);
    const text = pipe.drain();
    closeSync(pipe.writer);
    closeSync(pipe.reader);
    const lines = text.split('\n').filter(Boolean);
    const parsed = lines.map((each, i) => {
      try {
        return JSON.parse(each) as { who: string; n: number };
      } catch {
        throw new Error(`line ${i} is not whole: ${each.slice(0, 120)}`);
      }
    });
    for (const who of ['a', 'b'])
      assert.deepEqual(
        parsed.filter((each) => each.who === who).map(({ n }) => n),
        Array.from({ length: 20_000 }, (_, n) => n),
        who,
      );
  });

  it('never ends the process when the reader is gone (EPIPE): it drops the lines from then on', async () => {
    const pipe = fifo('gone');
    closeSync(pipe.reader);
    const writer = new BatchedLogWriter(pipe.writer, { batchChars: 1_024, flushEveryMs: 20 });
    try {
      for (let n = 0; n < 100; n++) writer.write(line(n));
      assert.ok(await until(() => !writer.write(line(100)), 5_000), 'refused once the descriptor failed');
      writer.flushSync(); // no throw either
    } finally {
      writer.close();
      closeSync(pipe.writer);
    }
  });

  it('at exit, waits for a full pipe and writes every line still waiting, in order', async () => {
    const pipe = fifo('exit');
    const script = `
      const { BatchedLogWriter } = await import(${JSON.stringify(WRITER_MODULE)});
      const writer = new BatchedLogWriter(1, { batchChars: 1_024, retryAfterMs: 5 });
      for (let n = 0; n < 5_000; n++) writer.write(JSON.stringify({ n, pad: 'z'.repeat(80) }) + '\\n');
      process.exit(0);`;
    // 500 KB into a 64 KiB pipe nobody reads until the child is exiting: most of it is still here then.
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', pipe.writer, 'inherit'],
    });
    const exited = once(child, 'exit');
    await sleep(300);
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      pipe.drain();
      await sleep(5);
    }
    const [code] = await exited;
    assert.equal(code, 0);
    const received = numbersIn(pipe.drain());
    closeSync(pipe.writer);
    closeSync(pipe.reader);
    assert.deepEqual(
      received.map(({ n }) => n),
      Array.from({ length: 5_000 }, (_, n) => n),
    );
  });

  for (const [how, code, ending] of [
    ['process.exit()', 0, 'process.exit(0);'],
    ['an uncaught error', 1, "throw new Error('boom');"],
  ] as const) {
    it(`writes what is waiting when the process ends by ${how}`, () => {
      const script = `
        const { BatchedLogWriter } = await import(${JSON.stringify(WRITER_MODULE)});
        const writer = new BatchedLogWriter(1, { batchChars: 1 << 20 });
        for (let n = 0; n < 1000; n++) writer.write(JSON.stringify({ n }) + '\\n');
        ${ending}`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(child.status, code, child.stderr);
      assert.deepEqual(
        numbersIn(child.stdout).map(({ n }) => n),
        Array.from({ length: 1000 }, (_, n) => n),
      );
    });
  }
});
