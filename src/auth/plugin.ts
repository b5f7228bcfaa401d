/**
 * The auth room's door: `request.identify(reply)` finds who is asking (the session cookie first,
 * then `Authorization: Bearer`, as the seed's OAuth2PasswordBearerRedis does), and
 * `app.requireUser` / `app.requireScopes(...)` are the preHandlers protected routes use.
 *
 * A login halfway through (a pending session: the password was right, a second factor is still
 * owed) is NOT someone `identify` returns: every route that asks for a user treats it as not logged
 * in, failing closed, and a browser is sent on to the step it owes. Only the second-factor routes
 * reach it, through `app.requirePending(...)` (`request.pending`).
 */
import fp from 'fastify-plugin';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AuthService } from './auth-service.js';
import type { PendingPrincipal, Principal } from './principal.js';
import { SecondFactorService } from './second-factor-service.js';
import type { PendingStep } from '../sessions/store.js';
import { AccessTokens, InvalidTokenError } from './tokens.js';
import { hasScopes, type ScopeName } from '../identity/scopes.js';
import { LoginThrottle, type ThrottleOptions } from './throttle.js';
import { AppError, forbidden, invalidToken, notAuthenticated, sessionEnded } from '../errors.js';

export interface AuthPluginOptions {
  secretKey: string;
  accessTokenTtlSeconds: number;
  throttle: ThrottleOptions;
  /** MFA_REQUIRED_SCOPES, parsed. */
  mfaRequiredScopes: readonly ScopeName[];
}

/**
 * A protected route asked for by someone halfway through a login: not logged in (401, as for
 * anyone else), with a code that lets a browser be sent on to the step it owes.
 */
export const secondStepOwed = (step: PendingStep) =>
  new AppError(
    401,
    step === 'verify' ? 'SECOND_FACTOR_PENDING' : 'SECOND_FACTOR_ENROLMENT_PENDING',
    'Not authenticated: this login still owes its second factor',
    {
      headers: { 'www-authenticate': 'Bearer' },
    },
  );

interface Identification {
  principal: Principal | null;
  /** A `session` cookie names a login halfway through; `principal` is then null. */
  pending?: PendingPrincipal;
  /** A `session` cookie was sent but names no live session (expired, ended, forged). */
  staleSession?: boolean;
  /** A bearer token was sent but is not (or no longer) valid. */
  tokenError?: InvalidTokenError;
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
    secondFactor: SecondFactorService;
    /** preHandler: someone must be logged in; sets `request.user`. */
    requireUser: preHandlerAsyncHookHandler;
    /** preHandler: someone must be logged in and hold every one of `scopes` (directly or by implication). */
    requireScopes: (...scopes: ScopeName[]) => preHandlerAsyncHookHandler;
    /**
     * preHandler of the second-factor routes: a login halfway through, owing one of `steps`, sets
     * `request.pending`; with `orUser`, a logged-in person passes too (sets `request.user`), for
     * the routes both use (enrolment). Anyone else: 401.
     */
    requirePending: (steps: PendingStep[], options?: { orUser?: boolean }) => preHandlerAsyncHookHandler;
  }
  interface FastifyRequest {
    /**
     * Who is asking, or null. Loads the session at most once per request. Takes the reply because
     * the answer shapes it: `Cache-Control: no-store`, and a stale cookie is cleared.
     */
    identify(reply: FastifyReply): Promise<Principal | null>;
    /** The principal of a route guarded by `requireUser` / `requireScopes`. */
    user: Principal;
    /** The login halfway through of a route guarded by `requirePending` (null when `request.user` is set instead). */
    pending: PendingPrincipal | null;
    /** Someone halfway through a login, or null; like `identify`, at most one session lookup per request. */
    identifyPending(reply: FastifyReply): Promise<PendingPrincipal | null>;
    identification: Promise<Identification> | null;
  }
}

function addVary(reply: FastifyReply, fields: string): void {
  const existing = reply.getHeader('vary');
  reply.header('vary', existing ? `${String(existing)}, ${fields}` : fields);
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header && /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

export default fp<AuthPluginOptions>(
  async (app, options) => {
    const tokens = new AccessTokens(options.secretKey, options.accessTokenTtlSeconds);
    const throttle = new LoginThrottle(app.counterStore, options.throttle, () => {
      app.log.warn('login throttled');
      app.metrics?.loginThrottled.inc();
    });
    const secondFactor = new SecondFactorService(
      app.db,
      app.sessions,
      throttle,
      { secretKey: options.secretKey, requiredScopes: options.mfaRequiredScopes },
      app.log,
    );
    const auth = new AuthService(app.db, app.sessions, tokens, throttle, app.log, secondFactor);
    // Not a condition of starting: a database that is not ready yet is counted at a later login.
    await auth.countLegacyHashes().catch((error: unknown) => app.log.info({ err: error }, 'legacy password hashes not counted yet'));
    app.decorate('auth', auth);
    app.decorate('secondFactor', secondFactor);

    async function runIdentification(request: FastifyRequest, reply: FastifyReply): Promise<Identification> {
      // Whatever the outcome, this response depends on credentials: no cache may keep it (ASVS 8.2.1),
      // and a shared cache must not hand it to a request with other credentials.
      reply.header('cache-control', 'no-store');
      addVary(reply, 'Cookie, Authorization');
      let staleSession = false;
      const cookieValue = request.sessionCookie();
      if (cookieValue !== undefined) {
        const principal = await app.auth.fromSessionToken(cookieValue);
        if (principal && 'step' in principal) return { principal: null, pending: principal };
        if (principal) return { principal };
        // Malformed, unknown, expired or tampered: treat as no session, and tell the browser to drop it.
        staleSession = true;
        reply.clearSessionCookie();
      }
      const token = bearerToken(request);
      if (token === undefined) return { principal: null, staleSession };
      try {
        return { principal: await app.auth.fromBearerToken(token) };
      } catch (error) {
        if (error instanceof InvalidTokenError) {
          request.log.info({ reason: error.message }, 'rejected a bearer token');
          return { principal: null, staleSession, tokenError: error };
        }
        throw error;
      }
    }

    app.decorateRequest('identification', null);
    app.decorateRequest('user', null as unknown as Principal);
    app.decorateRequest('identify', async function (this: FastifyRequest, reply: FastifyReply) {
      this.identification ??= runIdentification(this, reply);
      return (await this.identification).principal;
    });
    app.decorateRequest('pending', null);
    app.decorateRequest('identifyPending', async function (this: FastifyRequest, reply: FastifyReply) {
      this.identification ??= runIdentification(this, reply);
      return (await this.identification).pending ?? null;
    });

    async function requireUser(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const principal = await request.identify(reply);
      if (principal) {
        request.user = principal;
        // Bound on the request's own (pino) logger: no second child logger per request. (A Fastify
        // built with `logger: false`, as bench/ladder-server.ts's lower rungs are, has no bindings.)
        (request.log as FastifyBaseLogger & { setBindings?(bindings: Record<string, unknown>): void }).setBindings?.({
          empNo: principal.empNo,
        });
        return;
      }
      const { tokenError, staleSession, pending } = await request.identification!;
      if (pending) throw secondStepOwed(pending.step);
      if (tokenError) throw invalidToken();
      throw staleSession ? sessionEnded() : notAuthenticated();
    }

    app.decorate('requirePending', (steps: PendingStep[], { orUser = false }: { orUser?: boolean } = {}) => {
      return async function requirePending(request: FastifyRequest, reply: FastifyReply) {
        const pending = await request.identifyPending(reply);
        if (pending && steps.includes(pending.step)) {
          request.pending = pending;
          return;
        }
        if (pending) throw secondStepOwed(pending.step);
        if (orUser) return requireUser(request, reply);
        const { staleSession } = await request.identification!;
        throw staleSession ? sessionEnded() : notAuthenticated();
      };
    });

    app.decorate('requireUser', requireUser);
    app.decorate('requireScopes', (...scopes: ScopeName[]) => {
      return async function requireScopes(request: FastifyRequest, reply: FastifyReply) {
        await requireUser(request, reply);
        if (!hasScopes(request.user.scopes, scopes)) throw forbidden(scopes);
      };
    });
  },
  { name: 'auth', dependencies: ['sessions', 'database'], fastify: '5.x' },
);
