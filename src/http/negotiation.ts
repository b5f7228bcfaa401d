/**
 * Content negotiation: one route, two faces. A browser says what it wants in `Accept`; the
 * original series' clients may also send `x-expected-format`, which wins when present.
 */
import type { FastifyRequest } from 'fastify';

const HTML = 'text/html';
const JSON_TYPE = 'application/json';

function expectedFormat(request: FastifyRequest): string | undefined {
  const header = request.headers['x-expected-format'];
  return typeof header === 'string' ? header.trim().toLowerCase() : undefined;
}

/** True when the client ranks HTML above JSON (a browser). `*\/*` and no `Accept` mean JSON. */
export function prefersHtml(request: FastifyRequest): boolean {
  const expected = expectedFormat(request);
  if (expected === HTML || expected === JSON_TYPE) return expected === HTML;
  return request.accepts().type([JSON_TYPE, HTML]) === HTML;
}

/** True when the client ranks JSON above HTML. `*\/*` and no `Accept` mean HTML. */
export function prefersJson(request: FastifyRequest): boolean {
  const expected = expectedFormat(request);
  if (expected === HTML || expected === JSON_TYPE) return expected === JSON_TYPE;
  return request.accepts().type([HTML, JSON_TYPE]) === JSON_TYPE;
}
