/**
 * Expected failures as typed, coded errors, and the one place that turns any error into a response.
 *
 * Every JSON error body has a `detail` (the FastAPI shape the original series' clients expect);
 * validation errors add per-field `errors`. A 5xx body never carries internals: the real cause is
 * logged with the request id and the client sees a generic message.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SessionStoreUnavailableError } from '../sessions/store.js';
import { isDatabaseOutage } from '../database/errors.js';
import { prefersHtml } from './negotiation.js';

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const NOT_AUTHENTICATED = 'Not authenticated';
export const INVALID_CREDENTIALS = 'Incorrect username or password';

/** 401 with the `WWW-Authenticate` challenge RFC 6750 asks for. */
export const notAuthenticated = (detail = NOT_AUTHENTICATED) =>
  new AppError(401, 'NOT_AUTHENTICATED', detail, { 'www-authenticate': 'Bearer' });

export const invalidToken = () =>
  new AppError(401, 'INVALID_TOKEN', 'Could not validate credentials', {
    'www-authenticate': 'Bearer error="invalid_token"',
  });

export interface FieldError {
  field: string;
  message: string;
}

/** Turns Fastify's ajv validation errors into "username is required"-style field errors. */
function fieldErrors(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((issue) => {
    const missing = (issue.params as { missingProperty?: string }).missingProperty;
    const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const field = missing ?? (path || error.validationContext || 'request');
    const message = missing ? 'is required' : (issue.message ?? 'is invalid');
    return { field, message };
  });
}

interface ErrorBody {
  detail: string;
  errors?: FieldError[];
}

function classify(error: FastifyError | Error): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof AppError) {
    return { status: error.statusCode, body: { detail: error.message }, headers: error.headers };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const errors = fieldErrors(fastifyError);
    const detail = `Invalid request: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`;
    return { status: 422, body: { detail, errors }, headers: {} };
  }
  if (error instanceof SessionStoreUnavailableError) {
    return { status: 503, body: { detail: 'The session store is unavailable; try again shortly' }, headers: { 'retry-after': '5' } };
  }
  if (isDatabaseOutage(error)) {
    return { status: 503, body: { detail: 'The database is unavailable; try again shortly' }, headers: { 'retry-after': '5' } };
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // Fastify's own client errors (bad media type, body too large, malformed body) carry safe messages.
    return { status, body: { detail: fastifyError.message }, headers: {} };
  }
  return { status: 500, body: { detail: 'Internal Server Error' }, headers: {} };
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, headers } = classify(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: (error as AppError).code ?? error.code, status }, body.detail);
    reply.code(status).headers(headers);
    if (prefersHtml(request)) {
      return reply.type('text/html; charset=utf-8').view('error.njk', { status, ...body });
    }
    return body;
  });

  app.setNotFoundHandler(async (request, reply) => {
    const detail = `Not found: ${request.method} ${request.url.split('?')[0]}`;
    reply.code(404);
    if (prefersHtml(request)) return reply.type('text/html; charset=utf-8').view('error.njk', { status: 404, detail });
    return { detail };
  });
}
