import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { pipedSecretInput, readNewPassword, terminalSecretInput, type RawTerminal } from '../../src/cli/secret-input.js';
import { capture, piped, typed } from './support.js';

describe('a password piped on stdin', () => {
  it('is the first line without its line ending, spaces kept; the rest is not read', async () => {
    const stream = Readable.from([Buffer.from(' pass word \r\nsecond line\n')]);
    const input = pipedSecretInput(stream);
    assert.equal(input.interactive, false);
    assert.equal(await input.read('unused prompt'), ' pass word ');
    assert.equal(stream.destroyed, true);
    assert.equal(await input.read('again'), undefined);
  });

  it('may arrive in pieces, and may end without a newline', async () => {
    assert.equal(await pipedSecretInput(Readable.from([Buffer.from('pass'), Buffer.from('word-1\nrest')])).read(''), 'password-1');
    assert.equal(await pipedSecretInput(Readable.from([Buffer.from('no-newline-here')])).read(''), 'no-newline-here');
  });

  it('is undefined when stdin ends before anything, and empty for an empty line', async () => {
    assert.equal(await pipedSecretInput(Readable.from([])).read(''), undefined);
    assert.equal(await pipedSecretInput(Readable.from([Buffer.from('\n')])).read(''), '');
  });
});

/** A terminal that records its raw mode, fed keystrokes by the test. */
function fakeTerminal() {
  const terminal = Object.assign(new PassThrough(), {
    isRaw: false,
    modes: [] as boolean[],
    setRawMode(mode: boolean) {
      terminal.isRaw = mode;
      terminal.modes.push(mode);
      return terminal;
    },
  });
  return terminal satisfies RawTerminal;
}

describe('a password typed at a terminal', () => {
  it('is read in raw mode, not echoed, with backspace, Ctrl-U and escape sequences handled', async () => {
    const terminal = fakeTerminal();
    const prompts = capture();
    const input = terminalSecretInput(terminal, prompts.stderr);
    assert.equal(input.interactive, true);
    const reading = input.read('Password: ');
    // Typed, rubbed out, the line killed, an arrow key, a bracketed paste, then Enter.
    terminal.write('wrong\u007f\u007f\u0015sec\u001b[Aret\u001b[200~-pasted\u001b[201~\u007fD\r');
    assert.equal(await reading, 'secret-pasteD');
    assert.deepEqual(terminal.modes, [true, false]);
    assert.deepEqual(prompts.output(), { stdout: '', stderr: 'Password: \n' });
  });

  it('is undefined on Ctrl-D at an empty line', async () => {
    const terminal = fakeTerminal();
    const reading = terminalSecretInput(terminal, capture().stderr).read('Password: ');
    terminal.write('\u0004');
    assert.equal(await reading, undefined);
    assert.equal(terminal.isRaw, false);
  });
});

describe('readNewPassword', () => {
  it('asks once when piped', async () => {
    const stderr = capture();
    assert.deepEqual(await readNewPassword(piped('piped-password\n'), stderr.stderr, 'a@example.com'), {
      ok: true,
      password: 'piped-password',
    });
    assert.equal(stderr.output().stderr, '');
  });

  it('asks twice at a terminal, naming whose password it is', async () => {
    const input = typed('typed-password', 'typed-password');
    assert.deepEqual(await readNewPassword(input, capture().stderr, 'a@example.com (10001)'), { ok: true, password: 'typed-password' });
    assert.deepEqual(input.prompts, ['New password for a@example.com (10001): ', 'The same password again: ']);
  });

  it('answers 2 when the two differ, and 64 when nothing was typed', async () => {
    const differ = capture();
    assert.deepEqual(await readNewPassword(typed('typed-password', 'typed-passwort'), differ.stderr, 'a'), { ok: false, code: 2 });
    assert.equal(differ.output().stderr, 'admin: the two passwords differ; nothing was changed\n');
    const nothing = capture();
    assert.deepEqual(await readNewPassword(typed(undefined), nothing.stderr, 'a'), { ok: false, code: 64 });
    assert.equal(nothing.output().stderr, 'admin: no password given; nothing was changed\n');
  });
});
