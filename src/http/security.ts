/**
 * Browser-facing protections, in one place:
 * - security headers (helmet): a CSP without inline scripts, no framing, nosniff, a strict
 *   Referrer-Policy (OWASP ASVS 14.4 / 3.4), computed once at start and set on every response;
 * - CORS, off unless an allow-list is configured; never `*` with credentials, never `null`;
 * - a cross-site request guard on unsafe methods that use or set the session cookie.
 *
 * The guard follows the shape of Go 1.25's CrossOriginProtection, which the OWASP CSRF cheat sheet
 * cites: a browser always tells where a request comes from (`Sec-Fetch-Site`, else `Origin`); a
 * request from another site is refused with 403; so is one whose only hint, a `Referer`, names
 * another site. A request with none of them is not from a browser (curl, scripts), which cannot be
 * tricked into sending someone's cookie, and passes.
 * Bearer-only requests are exempt: browsers never attach `Authorization` by themselves.
 * SameSite=Lax alone is not enough: it does not stop login CSRF (a cross-site POST may set cookies).
 * HTML forms also carry a token bound to the session (`_csrf`), checked when present: defence in
 * depth for browsers or proxies that strip both headers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import cors from '@fastify/cors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

export interface SecurityOptions {
  /** The origin browsers use (scheme://host[:port]); unset: the request's own. */
  publicOrigin: string | undefined;
  /** Origins allowed to make credentialed cross-origin calls; empty: CORS off. */
  corsOrigins: string[];
  /** Keys the form tokens. */
  secretKey: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The form token for the current session (empty before login). */
    csrfToken(): string;
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export const crossSiteRefused = () =>
  new AppError(403, 'CROSS_SITE_REQUEST', 'Cross-site request refused: this action must come from the application itself');

/** The security headers' options, also what bench/micro.ts prices. */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  referrerPolicy: { policy: 'same-origin' },
  crossOriginEmbedderPolicy: false,
  // HSTS only means something over HTTPS; browsers ignore it on plain HTTP.
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
};

/**
 * The headers helmet sets with HELMET_OPTIONS, taken once by running its middleware against a
 * recording response: the set depends only on the options, never on the request, so helmet stays
 * the one source of their values.
 */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let failure: unknown;
  helmet(HELMET_OPTIONS)({} as never, recorder as never, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  return headers;
}

export default fp<SecurityOptions>(
  async (app, options) => {
    // One synchronous hook with a fixed set: @fastify/helmet rebuilds helmet's middleware (and
    // re-parses the CSP) on every request, which cost ~40 µs a request (docs/PERFORMANCE.md).
    const headers = securityHeaders();
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });

    if (options.corsOrigins.length > 0) {
      const allowed = new Set(options.corsOrigins);
      await app.register(cors, {
        origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
        credentials: true,
        methods: ['GET', 'POST'],
        maxAge: 600,
      });
    }

    const expectedOrigin = (request: FastifyRequest) => options.publicOrigin ?? `${request.protocol}://${request.host}`;

    const formToken = (sessionId: string) => createHmac('sha256', options.secretKey).update(`csrf:${sessionId}`).digest('base64url');

    app.decorateRequest('csrfToken', function (this: FastifyRequest) {
      // A login halfway through has forms too (the second step): bound to its pending session.
      const session = this.user ?? this.pending;
      return session ? formToken(session.sessionId) : '';
    });

    // A callback hook that answers a safe method at once: an async hook would cost every GET a promise.
    app.addHook('preHandler', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
      if (!UNSAFE_METHODS.has(request.method)) return done();
      guardAgainstCrossSite(request, reply).then(() => done(), done);
    });

    async function guardAgainstCrossSite(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const usesCookie = request.sessionCookie() !== undefined;
      // A route that sets the session cookie (`config.setsSession`, http/route-config.ts) is guarded
      // even without one: login CSRF is an attack too (CS-CSRF "Login Forms").
      if (!usesCookie && request.routeOptions.config?.setsSession !== true) return;

      const fetchSite = request.headers['sec-fetch-site'];
      const origin = request.headers.origin;
      if (typeof fetchSite === 'string') {
        if (fetchSite !== 'same-origin' && fetchSite !== 'none') throw crossSiteRefused();
      } else if (typeof origin === 'string') {
        if (origin !== expectedOrigin(request)) throw crossSiteRefused();
      } else if (typeof request.headers.referer === 'string') {
        // The last hint a browser may leave (CS-CSRF "Verifying origin with standard headers").
        if (originOf(request.headers.referer) !== expectedOrigin(request)) throw crossSiteRefused();
      }

      const submitted = (request.body as Record<string, unknown> | undefined)?._csrf;
      if (typeof submitted === 'string' && usesCookie) {
        const principal = (await request.identify(reply)) ?? (await request.identifyPending(reply));
        const expected = principal ? Buffer.from(formToken(principal.sessionId)) : Buffer.alloc(0);
        const actual = Buffer.from(submitted);
        if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw crossSiteRefused();
      }
    }
  },
  { name: 'security', dependencies: ['sessions', 'auth'], fastify: '5.x' },
);
