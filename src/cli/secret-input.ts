/**
 * Reading a new password for the admin commands, never from the command line: an argument is
 * visible to every user of the machine (`ps`, /proc/<pid>/cmdline) and stays in the shell's
 * history file (CWE-214, "Invocation of Process Using Visible Sensitive Information").
 *
 * A person at a terminal types it twice, not shown; a script pipes it as the first line of stdin.
 */
import type { Readable } from 'node:stream';
import { validateNewPassword } from '../employees/validation.js';
import { EXIT, type Output } from './io.js';

export interface SecretInput {
  /** True at a terminal: a prompt is shown, and the password is asked twice. */
  readonly interactive: boolean;
  /** One line (without its line ending), or undefined when the input ended before one. */
  read(prompt: string): Promise<string | undefined>;
}

/**
 * A piped line longer than this is cut here: far above any valid password (64 characters, 72
 * bytes), so it fails validation, and a stray file piped in by mistake is not read whole.
 */
const MAX_LINE_BYTES = 4096;

/** The terminal when stdin is one, else the first line of stdin. Prompts go to `prompts` (stderr). */
export function stdinSecretInput(stdin: NodeJS.ReadStream, prompts: Output): SecretInput {
  return stdin.isTTY ? terminalSecretInput(stdin, prompts) : pipedSecretInput(stdin);
}

/**
 * The first line of a stream, read once; the stream is then destroyed, so that an open pipe does
 * not keep the process alive. Later reads answer undefined: a script sends one password, not two.
 */
export function pipedSecretInput(stream: Readable): SecretInput {
  let consumed = false;
  return {
    interactive: false,
    async read() {
      if (consumed) return undefined;
      consumed = true;
      try {
        return await firstLine(stream);
      } finally {
        stream.destroy();
      }
    },
  };
}

function firstLine(stream: Readable): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let sawData = false;
    const finish = (error?: Error) => {
      stream.off('data', onData).off('end', onEnd).off('error', onError);
      stream.pause();
      if (error) return reject(error);
      const text = Buffer.concat(chunks).subarray(0, MAX_LINE_BYTES).toString('utf8');
      const newline = text.indexOf('\n');
      const line = newline === -1 ? text : text.slice(0, newline);
      // Only the line ending goes: spaces are part of a password, as on the web form.
      resolve(sawData ? line.replace(/\r$/, '') : undefined);
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      sawData ||= buffer.length > 0;
      chunks.push(buffer);
      bytes += buffer.length;
      if (buffer.includes(0x0a) || bytes >= MAX_LINE_BYTES) finish();
    };
    const onEnd = () => finish();
    const onError = (error: Error) => finish(error);
    stream.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** The terminal as a raw-mode stream, so that it does not echo what is typed. */
export interface RawTerminal extends Readable {
  isRaw: boolean;
  setRawMode(mode: boolean): unknown;
}

/**
 * Reads a line at the terminal without echoing it. Backspace and Ctrl-U edit, Ctrl-D on an empty
 * line ends the input, escape sequences (arrow keys, bracketed paste markers) are ignored, and
 * Ctrl-C interrupts the process as it would anywhere else: raw mode turns it into a character, so
 * the signal is raised again by hand once the terminal is restored.
 */
export function terminalSecretInput(terminal: RawTerminal, prompts: Output): SecretInput {
  return {
    interactive: true,
    read(prompt: string) {
      return new Promise((resolve) => {
        let value = '';
        let escape: 'none' | 'start' | 'sequence' = 'none';
        const wasRaw = terminal.isRaw;
        const restore = () => {
          terminal.off('data', onData);
          terminal.setRawMode(wasRaw);
          terminal.pause();
          prompts.write('\n');
        };
        const onData = (chunk: Buffer | string) => {
          for (const char of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
            if (escape === 'start') {
              escape = char === '[' || char === 'O' ? 'sequence' : 'none';
              continue;
            }
            if (escape === 'sequence') {
              if (char >= '@' && char <= '~') escape = 'none';
              continue;
            }
            switch (char) {
              case '\r':
              case '\n':
                restore();
                return resolve(value);
              case '\u0003': // Ctrl-C
                restore();
                process.kill(process.pid, 'SIGINT');
                return;
              case '\u0004': // Ctrl-D
                if (value === '') {
                  restore();
                  return resolve(undefined);
                }
                break;
              case '\u007f': // Backspace (DEL on most terminals)
              case '\b':
                value = Array.from(value).slice(0, -1).join('');
                break;
              case '\u0015': // Ctrl-U
                value = '';
                break;
              case '\u001b':
                escape = 'start';
                break;
              default:
                if (char >= ' ') value += char;
            }
          }
        };
        // Raw mode before the prompt: what is typed once the prompt shows is never echoed.
        terminal.setRawMode(true);
        terminal.on('data', onData);
        terminal.resume();
        prompts.write(prompt);
      });
    },
  };
}

export type NewPassword = { ok: true; password: string } | { ok: false; code: number };

/**
 * A new password for `whose`, under the app's own rules (`validateNewPassword`, as the web forms
 * use): at a terminal asked twice, from a pipe the first line. Problems are written to `stderr`
 * and answered with the exit status to return.
 */
export async function readNewPassword(secrets: SecretInput, stderr: Output, whose: string): Promise<NewPassword> {
  const password = await secrets.read(`New password for ${whose}: `);
  if (password === undefined) {
    stderr.write(
      secrets.interactive
        ? 'admin: no password given; nothing was changed\n'
        : 'admin: no password on stdin: pipe it as the first line, or run the command at a terminal to be asked for it\n',
    );
    return { ok: false, code: EXIT.USAGE };
  }
  const checked = validateNewPassword(password, 'password');
  if (!checked.ok) {
    stderr.write(`admin: the password is refused: ${checked.errors.map((error) => error.message).join('; ')}. Nothing was changed.\n`);
    return { ok: false, code: EXIT.INVALID_VALUE };
  }
  if (secrets.interactive && (await secrets.read('The same password again: ')) !== password) {
    stderr.write('admin: the two passwords differ; nothing was changed\n');
    return { ok: false, code: EXIT.INVALID_VALUE };
  }
  return { ok: true, password: checked.value };
}
