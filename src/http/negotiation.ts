/**
 * Content negotiation: one route, two faces.
 *
 * - HTML when the client ranks `text/html` above `application/json` in `Accept` (every browser
 *   does for a page or a form post);
 * - JSON otherwise: `application/json`, `*\/*` (curl, most HTTP libraries), no `Accept` at all;
 * - the original series' `x-expected-format: application/json|text/html` decides when sent, read as
 *   the original's `html_req` reads it: the form field first, then the cookie, then the header (its
 *   login page posts it as a hidden field; its login flow left it in a cookie);
 * - routes with `config: { format: 'json' }` (the `/api/*` aliases, http/route-config.ts) always
 *   answer JSON.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

const HTML = 'text/html';
const JSON_TYPE = 'application/json';

const FORMAT_FIELD = 'x-expected-format';

function expectedFormat(request: FastifyRequest): string | undefined {
  const field = (request.body as Record<string, unknown> | undefined)?.[FORMAT_FIELD];
  const cookie = request.cookies?.[FORMAT_FIELD];
  const header = request.headers[FORMAT_FIELD];
  // The first one given wins, as Python's `or` chain in the original does.
  const given = [field, cookie, header].find((value): value is string => typeof value === 'string' && value.trim() !== '');
  return given?.trim().toLowerCase();
}

function forcedJson(request: FastifyRequest): boolean {
  return request.routeOptions.config?.format === 'json';
}

/** True for a browser: the answer should be a page (or a redirect to one). */
export function wantsHtml(request: FastifyRequest): boolean {
  if (forcedJson(request)) return false;
  const expected = expectedFormat(request);
  if (expected === HTML || expected === JSON_TYPE) return expected === HTML;
  // What programs send, answered without building a negotiator (every API request asks this).
  const accept = request.headers.accept;
  if (accept === undefined || accept === JSON_TYPE || accept === '*/*') return false;
  return request.accepts().type([JSON_TYPE, HTML]) === HTML;
}

/**
 * The mirror image, for the one route whose default answer is a page (logout sends a browser to
 * the login page): true when the client ranks JSON above HTML, or when a script in a browser
 * (`fetch`, as Swagger UI's "Try it out" does) rather than a navigation asks: its answer is read
 * by code, which a redirect to a page would not help (Fetch Metadata: `Sec-Fetch-Mode`).
 */
export function prefersJson(request: FastifyRequest): boolean {
  if (forcedJson(request)) return true;
  const expected = expectedFormat(request);
  if (expected === HTML || expected === JSON_TYPE) return expected === JSON_TYPE;
  const mode = request.headers['sec-fetch-mode'];
  if (typeof mode === 'string' && mode !== 'navigate' && mode !== 'nested-navigate') return true;
  return request.accepts().type([HTML, JSON_TYPE]) === JSON_TYPE;
}

/** Page or JSON: the page is rendered only for a browser. */
export function pageOrJson<T>(
  request: FastifyRequest,
  page: () => FastifyReply | Promise<FastifyReply>,
  json: () => T,
): FastifyReply | Promise<FastifyReply> | T {
  return wantsHtml(request) ? page() : json();
}
