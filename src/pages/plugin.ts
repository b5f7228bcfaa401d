/**
 * The pages room: Nunjucks templates (the closest kin of the original's Jinja2), the static files
 * under /static/, and `reply.page()`, which renders a template with what every page needs: the
 * person, what their scopes let them do, and the app's name.
 */
import fp from 'fastify-plugin';
import view from '@fastify/view';
import fastifyStatic from '@fastify/static';
import nunjucks from 'nunjucks';
import type { FastifyReply } from 'fastify';
import { STATIC_DIR, TEMPLATES_DIR, WEBAUTHN_BROWSER_DIR, WEBAUTHN_BROWSER_FILE } from '../paths.js';
import { hasScopes, SCOPE_NAMES, type ScopeName } from '../identity/scopes.js';
import { answerWithErrorPage } from './error-page.js';

export const APP_TITLE = 'Employees Portal';

/**
 * What each scope lets a person do, in the words the pages use. The scope names themselves
 * (`user:read`) are for programs and the API document; people read these.
 */
export const SCOPE_LABELS: Record<ScopeName, string> = {
  'user:read': 'See own details',
  'user:write': 'Change own details',
  'admin:read': 'See every employee',
  'admin:write': 'Change and add employees',
  'audit:read': 'See the audit trail',
  'super:*': 'Everything, including other administrators',
};

/** A scope as people read it; an unknown name is shown as it is. */
export function scopeLabel(scope: unknown): string {
  return typeof scope === 'string' && Object.hasOwn(SCOPE_LABELS, scope) ? SCOPE_LABELS[scope as ScopeName] : String(scope);
}

declare module 'fastify' {
  interface FastifyReply {
    /** Renders `template` as an HTML page for the current person. */
    page(template: string, data?: Record<string, unknown>): FastifyReply;
  }
}

/** `yyyy-mm-dd` → `dd/mm/yyyy`, the format people type into the forms (the original's). */
export function isoToDmy(iso: unknown): string {
  if (typeof iso !== 'string') return '';
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  return match ? `${match[3]}/${match[2]}/${match[1]}` : iso;
}

const AMOUNT = new Intl.NumberFormat('en-GB');

/** A whole amount with thousands separators: 118336 → 118,336. */
export function formatAmount(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? AMOUNT.format(value) : String(value ?? '');
}

/** An ISO timestamp as people read it: `2026-11-27 15:23 UTC`. */
export function formatWhen(iso: unknown): string {
  if (typeof iso !== 'string') return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export default fp(
  async (app) => {
    // The pages pass everything they show as data and never use `reply.locals`: declared here so
    // that @fastify/view does not add an onRequest hook giving every request (JSON ones included)
    // an empty object for it.
    app.decorateReply('locals', null);
    await app.register(view, {
      engine: { nunjucks },
      root: TEMPLATES_DIR,
      // Autoescape is nunjucks' default; stated here because every page depends on it (XSS).
      options: {
        autoescape: true,
        throwOnUndefined: false,
        onConfigure: (env: nunjucks.Environment) => {
          env.addFilter('dmy', isoToDmy);
          env.addFilter('when', formatWhen);
          env.addFilter('scopeLabel', scopeLabel);
          env.addFilter('amount', formatAmount);
        },
      },
      defaultContext: { appTitle: APP_TITLE },
    });
    await app.register(fastifyStatic, {
      root: STATIC_DIR,
      prefix: '/static/',
      index: false,
      maxAge: '1h',
    });
    // The passkey pages' WebAuthn library: that one file of the package, nothing else of node_modules.
    await app.register(fastifyStatic, {
      root: WEBAUTHN_BROWSER_DIR,
      prefix: '/static/vendor/simplewebauthn/',
      decorateReply: false,
      index: false,
      maxAge: '1h',
      allowedPath: (path) => path === `/${WEBAUTHN_BROWSER_FILE}`,
    });

    app.decorateReply('page', function (this: FastifyReply, template: string, data: Record<string, unknown> = {}) {
      const user = this.request.user;
      // One flag per scope, so templates can grey out what the person may not use.
      const can = Object.fromEntries(SCOPE_NAMES.map((scope) => [scope, user ? hasScopes(user.scopes, [scope]) : false]));
      return this.type('text/html; charset=utf-8').view(template, { user, can, csrfToken: this.request.csrfToken(), ...data });
    });
    // Errors are answered centrally (http/errors.ts); what a browser sees of one is a page, so ours.
    app.decorate('errorPage', answerWithErrorPage);
  },
  { name: 'pages', fastify: '5.x' },
);
