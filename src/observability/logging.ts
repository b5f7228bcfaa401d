/**
 * Logs: JSON lines from pino (Fastify's own logger), one object per line, with
 * - `reqId` on every line of a request: ours, or the caller's `X-Request-Id` when it looks like an
 *   id, and echoed back in the `x-request-id` response header so a client or proxy can quote it;
 * - `empNo` on every line after the person is known (the auth plugin's `requireUser` makes
 *   `request.log` a child carrying it), the "request completed" line included;
 * - never a password, token, cookie or session id: those paths are redacted wherever they appear,
 *   and so are credential-looking query parameters in logged URLs.
 *
 * Fastify's own "request completed" line is written with `reply.log`, which is fixed when the
 * request starts, so it would not carry `empNo`. A LogController (Fastify's documented way to
 * shape its request lines) writes it with `request.log` instead.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import fp from 'fastify-plugin';
import { type pino } from 'pino';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { BatchedLogWriter } from './log-writer.js';

/** Where log lines go: any stream pino can write to (stdout in batches, a prettifier, a test's collector). */
export type LogStream = pino.DestinationStream;

export const REQUEST_ID_HEADER = 'x-request-id';
export const REQUEST_ID_LOG_LABEL = 'reqId';
/** What an incoming id must look like to be kept: short, and nothing that could forge a log line. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Credentials and session material, wherever a log call might put them: headers (if a request's
 * headers are ever logged), form bodies, token responses, and ioredis errors, which carry the
 * command's arguments (a session key, a stored record).
 *
 * None under `req` or `res`: those keys always pass through the serializers below (ours for `req`,
 * Fastify's `{ statusCode }` for `res`), whose output has a fixed set of fields with no header or
 * body, so no path under them could ever match, while each such path made pino run its redactor on
 * every request's line (`@pinojs/redact` parses its paths again at each call: 2 to 3 µs a request,
 * docs/PERFORMANCE.md). test/observability/logging.test.ts pins both shapes: a serializer that
 * starts carrying headers fails it, and must bring its paths back here.
 */
export const REDACTED_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'password',
  'body.password',
  'access_token',
  'body.access_token',
  'token',
  'sessionId',
  'sessionToken',
  'err.command.args',
  'err.cause.command.args',
];

/**
 * Query parameters whose values are credentials. The app never takes one from a URL, but a client
 * may wrongly send `?access_token=…`, `?password=…` or `?pw=…`, and request URLs are logged. Matched
 * anywhere in the name (`current_password`, `client_secret`, `api_key`), case-insensitively.
 */
const CREDENTIAL_PARAMETER = /pass|pw|token|secret|session|auth|key|jwt|code|sig/i;

/**
 * The URL with the value of every credential-looking query parameter replaced. Pairs are split on
 * `;` as well as `&`: some servers and proxies read `;` as a separator, so a value after one must
 * not slip through as part of a harmless parameter's value.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const query = url.slice(start + 1).replace(/([^&;=]*)=([^&;]*)/g, (pair: string, name: string) => {
    let decoded = name;
    try {
      decoded = decodeURIComponent(name.replaceAll('+', ' '));
    } catch {
      // A malformed escape: judge the name as sent.
    }
    return CREDENTIAL_PARAMETER.test(decoded) ? `${name}=[redacted]` : pair;
  });
  return `${url.slice(0, start)}?${query}`;
}

/** Fastify's own `req` serializer (method, url, host, client address), with the URL redacted. */
export function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** Fastify's `genReqId`: the caller's `X-Request-Id` when sane, a new UUID otherwise. */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** The pino options for the app's logger; `stream` replaces stdout (tests, a prettifier). */
export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>, stream?: LogStream) {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { req: serializeRequest },
    ...(stream ? { stream } : {}),
  };
}

/**
 * Fastify's request lines: one per request, "request completed" (or "request errored") with the
 * request's method and URL, written through `request.log` (see above). Fastify's default adds an
 * "incoming request" line, which doubled the cost of logging at `info` (docs/PERFORMANCE.md).
 */
export class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: REQUEST_ID_LOG_LABEL });
  }

  /** No line when a request arrives: the completed line carries the request (one line per request, an access log's shape). */
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) request.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/** Echoes the request id, so that a person reporting a problem can quote it. */
export const requestIdHeader = fp(
  async (app) => {
    // A callback hook: nothing to wait for, so no promise per request.
    app.addHook('onRequest', (request, reply, done) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      done();
    });
  },
  { name: 'request-id-header', fastify: '5.x' },
);

/**
 * Where `server.ts` sends the JSON lines: stdout, taken in batches of about 16 KiB and written
 * without waiting in pieces of whole lines of at most 4 KiB (so that the cluster's workers, which
 * share stdout, never split each other's lines), at least once a second, instead of one write(2) per line (which cost 8.7 µs of every
 * request's 104 µs under load, docs/PERFORMANCE.md); a quiet server's lines still appear within a
 * second, and what is waiting is written at exit, an exit after an uncaught error included. Only a
 * SIGKILL can lose the last second of lines. Why not pino's own destination: log-writer.ts.
 */
export function batchedStdout(): LogStream {
  return new BatchedLogWriter(process.stdout.fd);
}

/**
 * Human-readable lines, for `server.ts` when a person watches a development server in a terminal.
 * pino-pretty is a development dependency, loaded only then; without it (a production install)
 * the lines stay JSON.
 */
export async function prettyLogStream(): Promise<Writable | undefined> {
  try {
    const { default: pretty } = await import('pino-pretty');
    return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return undefined;
  }
}
