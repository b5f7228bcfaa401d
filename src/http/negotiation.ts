/**
 * Content negotiation: one route, two faces.
 *
 * - HTML when the client ranks `text/html` above `application/json` in `Accept` (every browser
 *   does for a page or a form post);
 * - JSON otherwise: `application/json`, `*\/*` (curl, most HTTP libraries), no `Accept` at all;
 * - the original series' header `x-expected-format: application/json|text/html` decides when sent;
 * - routes registered with `config: { format: 'json' }` (the `/api/*` aliases) always answer JSON.
 */
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'json': this route always answers JSON, whatever the client's Accept says. */
    format?: 'json';
  }
}

const HTML = 'text/html';
const JSON_TYPE = 'application/json';

function expectedFormat(request: FastifyRequest): string | undefined {
  const header = request.headers['x-expected-format'];
  return typeof header === 'string' ? header.trim().toLowerCase() : undefined;
}

function forcedJson(request: FastifyRequest): boolean {
  return request.routeOptions.config?.format === 'json';
}

/** True for a browser: the answer should be a page (or a redirect to one). */
export function wantsHtml(request: FastifyRequest): boolean {
  if (forcedJson(request)) return false;
  const expected = expectedFormat(request);
  if (expected === HTML || expected === JSON_TYPE) return expected === HTML;
  return request.accepts().type([JSON_TYPE, HTML]) === HTML;
}

/**
 * The mirror image, for the one route whose default answer is a page (logout answers with the
 * login page): true only when the client ranks JSON above HTML.
 */
export function prefersJson(request: FastifyRequest): boolean {
  if (forcedJson(request)) return true;
  const expected = expectedFormat(request);
  if (expected === HTML || expected === JSON_TYPE) return expected === JSON_TYPE;
  return request.accepts().type([HTML, JSON_TYPE]) === JSON_TYPE;
}
