/**
 * How requests reach the app: plain HTTP, HTTPS served straight from certificate files, or through
 * a reverse proxy. Turns TLS_CERT_FILE / TLS_KEY_FILE / TRUST_PROXY into Fastify's factory options,
 * checked at start with errors that name the variable.
 *
 * With a certificate the server speaks HTTP/2 and falls back to HTTP/1.1 for clients that do not
 * offer h2 in ALPN (curl without --http2, most HTTP libraries, load-balancer health checks). Fastify
 * serves both through Node's compatibility API, so routes, cookies, @fastify/view and
 * @fastify/static see the same request and reply either way; `app.inject` (light-my-request) never
 * goes through the server at all.
 *
 * The scheme and client address come from the socket, or from X-Forwarded-Proto/-For only when the
 * connection comes from a proxy TRUST_PROXY names: anyone else could send those headers too.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2';
import fp from 'fastify-plugin';
import { ConfigError, type Config } from '../config.js';

/** What Fastify's `trustProxy` accepts: all, none, a hop count, or addresses and CIDR ranges. */
export type TrustProxy = boolean | number | string[];

export interface Transport {
  trustProxy: TrustProxy;
  /** Key and certificate (PEM) when the app serves HTTPS itself; undefined for plain HTTP. */
  tls: { key: Buffer; cert: Buffer } | undefined;
}

/** proxy-addr's names for well-known ranges, accepted in TRUST_PROXY lists as Fastify documents. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrRange(entry: string): boolean {
  if (NAMED_RANGES.has(entry) || isIP(entry)) return true;
  const [address, bits, ...rest] = entry.split('/');
  if (rest.length || !address || !bits) return false;
  const family = isIP(address);
  if (!family) return false;
  // A prefix length, or (IPv4 only) a dotted netmask as proxy-addr allows.
  if (/^\d{1,3}$/.test(bits)) return Number(bits) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(bits) === 4;
}

/** `true`, `false`, a hop count, or a comma-separated list of addresses, CIDRs and named ranges. */
export function parseTrustProxy(value: string): TrustProxy {
  const text = value.trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => !isAddressOrRange(entry));
  if (bad !== undefined) {
    throw new ConfigError(
      `Invalid configuration: TRUST_PROXY must be true, false, a hop count, or comma-separated addresses/CIDRs; "${bad}" is none of these`,
    );
  }
  return entries;
}

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${variable} cannot be read (${(error as Error).message})`);
  }
}

/**
 * Reads and checks the certificate and its key now, so that a wrong path, a swapped pair or a
 * key that does not match stops the start with a message, not the first TLS handshake.
 */
export function readTlsFiles(certFile: string, keyFile: string): { key: Buffer; cert: Buffer } {
  const cert = readPem('TLS_CERT_FILE', certFile);
  const key = readPem('TLS_KEY_FILE', keyFile);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new ConfigError(`Invalid configuration: TLS_CERT_FILE (${certFile}) is not a PEM certificate`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError(`Invalid configuration: TLS_KEY_FILE (${keyFile}) is not an unencrypted PEM private key`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError('Invalid configuration: TLS_KEY_FILE is not the private key of the certificate in TLS_CERT_FILE');
  }
  return { key, cert };
}

/** The transport a config asks for; throws ConfigError naming the variable when it cannot be had. */
export function transportOf(config: Config): Transport {
  const trustProxy = parseTrustProxy(config.TRUST_PROXY);
  const tls =
    config.TLS_CERT_FILE !== undefined && config.TLS_KEY_FILE !== undefined
      ? readTlsFiles(config.TLS_CERT_FILE, config.TLS_KEY_FILE)
      : undefined;
  return { trustProxy, tls };
}

/**
 * The Fastify factory options for a transport. Typed loosely on purpose: with `http2` Fastify's
 * types would make every request an Http2ServerRequest, while the compatibility API gives the app
 * the same interface as HTTP/1.1 (nothing here touches HTTP/2-only APIs).
 */
export function factoryOptions(transport: Transport): Record<string, unknown> {
  if (!transport.tls) return { trustProxy: transport.trustProxy };
  return { trustProxy: transport.trustProxy, http2: true, https: { allowHTTP1: true, ...transport.tls } };
}

/**
 * Why this start leaves the session cookie without `Secure` on some requests, or undefined.
 * The cookie follows each request's scheme; in production over plain HTTP with no trusted proxy to
 * say "this was HTTPS", every login cookie would travel in clear.
 */
export function plainHttpWarning(config: Config, transport: Transport): string | undefined {
  const trustsAProxy = transport.trustProxy !== false && transport.trustProxy !== 0;
  if (config.NODE_ENV !== 'production' || transport.tls || trustsAProxy || config.COOKIE_SECURE) {
    return undefined;
  }
  return (
    'serving plain HTTP in production without TRUST_PROXY or COOKIE_SECURE: the session cookie travels ' +
    'unencrypted. Set TLS_CERT_FILE and TLS_KEY_FILE, or put the app behind an HTTPS proxy and set TRUST_PROXY'
  );
}

export interface Http2ServerOptions {
  /** The HTTP/1.1 request timeout Fastify sets on its own HTTP/1.1 servers (and not on HTTP/2 ones). */
  requestTimeoutMs: number;
}

/**
 * What Fastify leaves undone for an HTTP/2 server with HTTP/1.1 fallback on Node 20:
 * - its `requestTimeout` only reaches HTTP/1.1 servers, so the fallback connections would get
 *   Node's 5 minutes instead of ours (slow-request protection, ASVS 13.x);
 * - `close()` waits for every open HTTP/2 session, and a browser keeps one open until the 72 s
 *   idle timeout, which outlasts the shutdown grace. At close each session is told GOAWAY
 *   (`session.close()`): streams in flight finish, no new one starts. (Fastify's own
 *   `forceCloseConnections: true` would do this too, but would also destroy HTTP/1.1 keep-alive
 *   sockets with requests still in flight.)
 */
export const http2Server = fp<Http2ServerOptions>(
  async (app, options) => {
    const server = app.server as unknown as Http2SecureServer & { requestTimeout: number };
    server.requestTimeout = options.requestTimeoutMs;
    const sessions = new Set<ServerHttp2Session>();
    server.on('session', (session: ServerHttp2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
    });
    app.addHook('preClose', async () => {
      for (const session of sessions) session.close();
    });
  },
  { name: 'http2-server', fastify: '5.x' },
);
