/**
 * What the security suites share: short ways to ask "who am I" with a cookie or a token, a
 * raw-socket client for tests about HTTP framing, and gray-box peeks into Redis (the names the app
 * stores things under). The people they log in as are in test/helpers/people.ts, the bodies they
 * expect in test/helpers/messages.ts.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export interface Credentials {
  cookie?: string | undefined;
  token?: string | undefined;
  headers?: Record<string, string>;
}

/** GET /api/me with a cookie and/or a bearer token. */
export function me(app: FastifyInstance, credentials: Credentials = {}): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'GET',
    url: '/api/me',
    headers: {
      ...(credentials.token !== undefined ? { authorization: `Bearer ${credentials.token}` } : {}),
      ...credentials.headers,
    },
    ...(credentials.cookie !== undefined ? { cookies: { session: credentials.cookie } } : {}),
  });
}

/** The JSON a JWT carries in its header and payload (no verification). */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.') as [string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
  };
}

export const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** The raw Set-Cookie header lines of a response. */
export function setCookieLines(response: LightMyRequestResponse): string[] {
  const header = response.headers['set-cookie'];
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [String(header)];
}

/** The Redis key of the session behind a cookie value: `<prefix><id>` (the id is the part before the dot). */
export function sessionKey(prefix: string, cookie: string): string {
  return `${prefix}${cookie.split('.')[0]}`;
}

/** The Redis key of a login-throttle counter for an account (src/auth/throttle.ts names it this way). */
export function accountCounterKey(prefix: string, username: string): string {
  const hash = createHash('sha256').update(username.trim().toLowerCase()).digest('base64url').slice(0, 22);
  return `${prefix}count:login:account:${hash}`;
}

export function clientCounterKey(prefix: string, address: string): string {
  return `${prefix}count:login:client:${address}`;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface RawResponse {
  /** The status code of the first response, or undefined when none came. */
  status: number | undefined;
  /** Everything the server sent, as latin1 text. */
  text: string;
  /** Whether the server closed the connection (as opposed to our timeout). */
  closedByServer: boolean;
  elapsedMs: number;
}

/**
 * Writes `request` as-is to a fresh TCP connection and collects what comes back until the server
 * closes or `timeoutMs` passes: the way to send what no HTTP library would (bad framing, CR/LF in
 * a header, duplicate headers).
 */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let settled = false;
    const finish = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : undefined, text, closedByServer, elapsedMs: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(request);
  });
}

/** The body of the first response in a raw exchange. */
export function rawBody(response: RawResponse): string {
  const start = response.text.indexOf('\r\n\r\n');
  return start === -1 ? '' : response.text.slice(start + 4);
}

/** The port an app listens on after `app.listen({ port: 0 })`. */
export function portOf(app: FastifyInstance): number {
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the app is not listening on TCP');
  return address.port;
}

/** How long a dependency may take to be served again after it comes back, by itself (checklist G). */
export const RECOVERY_MS = 5000;

/** Runs `run` and says how long it took. */
export async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}
