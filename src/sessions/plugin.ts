/**
 * The session room's HTTP door: the `session` cookie and the session manager.
 *
 * Why not @fastify/session: it loads (and may save) a session on every request, creates stored
 * sessions for anonymous visitors unless told not to, turns store errors into 500s, and keeps the
 * cookie value as the store key. We need the opposite of each (see docs/ARCHITECTURE.md), and
 * the whole of it is a cookie read, a cookie write and the manager below.
 *
 * Nothing here runs on its own: a route that needs the session asks for it (through the auth
 * plugin), so static files and public pages never touch the store.
 */
import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import type { CounterStore } from './counter-store.js';
import type { OneTimeStore } from './one-time-store.js';
import type { SessionStore, SessionStoreBackend } from './store.js';
import { SessionManager } from './session-manager.js';

export const SESSION_COOKIE_NAME = 'session';

/** The plugin takes ownership of `store`: it is closed with the app. */
export interface SessionPluginOptions {
  store: SessionStoreBackend;
  idleTimeoutSeconds: number;
  absoluteTimeoutSeconds: number;
  cookieSecure: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionManager;
    sessionStore: SessionStore;
    /** The login throttle's counters: the same store and connection as `sessionStore`. */
    counterStore: CounterStore;
    /** Short-lived values taken once (WebAuthn challenges): the same store and connection again. */
    oneTimeStore: OneTimeStore;
  }
  interface FastifyRequest {
    /** The raw `session` cookie as the client sent it, or undefined. Not validated. */
    sessionCookie(): string | undefined;
  }
  interface FastifyReply {
    setSessionCookie(token: string): FastifyReply;
    clearSessionCookie(): FastifyReply;
  }
}

export default fp<SessionPluginOptions>(
  async (app, options) => {
    await app.register(cookie);

    // Cookie attributes: OWASP Session Management Cheat Sheet. No Max-Age: the browser forgets the
    // cookie when it closes, and the server-side idle and absolute timeouts bound it anyway.
    const cookieOptions = {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      // 'auto': Secure whenever this request is HTTPS (`request.protocol`: the TLS socket, or
      // X-Forwarded-Proto from a proxy TRUST_PROXY names); always, with COOKIE_SECURE=true.
      secure: options.cookieSecure || 'auto',
    } as const;

    app.decorate('sessionStore', options.store);
    app.decorate('counterStore', options.store);
    app.decorate('oneTimeStore', options.store);
    app.decorate(
      'sessions',
      new SessionManager(options.store, {
        idleTimeoutSeconds: options.idleTimeoutSeconds,
        absoluteTimeoutSeconds: options.absoluteTimeoutSeconds,
      }),
    );

    app.decorateRequest('sessionCookie', function () {
      return this.cookies[SESSION_COOKIE_NAME];
    });
    app.decorateReply('setSessionCookie', function (token: string) {
      return this.setCookie(SESSION_COOKIE_NAME, token, cookieOptions);
    });
    app.decorateReply('clearSessionCookie', function () {
      return this.clearCookie(SESSION_COOKIE_NAME, cookieOptions);
    });

    app.addHook('onClose', async () => {
      await options.store.close();
    });
  },
  { name: 'sessions', fastify: '5.x' },
);
