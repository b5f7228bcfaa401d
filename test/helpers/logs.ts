/**
 * Captures what an app logs: pass `capture.stream` as buildApp's `logStream`, then read the lines
 * as parsed JSON objects (and as raw text, to prove something never appears anywhere).
 */
import { Writable } from 'node:stream';

export interface LogCapture {
  stream: Writable;
  /** Every line so far, parsed. */
  lines(): Array<Record<string, unknown>>;
  /** Everything written so far, as written. */
  text(): string;
}

export function captureLogs(): LogCapture {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    stream,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
