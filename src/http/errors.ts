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
import { wantsHtml } from './negotiation.js';
import { redirectToLogin, type LoginNotice } from '../pages/notices.js';
import { AppError, validationFailed, type FieldError } from '../errors.js';
import { FORMAT_MESSAGES } from './schemas.js';

/** Turns Fastify's ajv validation errors into "username is required"-style field errors. */
function fieldErrors(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((issue) => {
    const missing = (issue.params as { missingProperty?: string }).missingProperty;
    const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const field = missing ?? (path || error.validationContext || 'request');
    const format = issue.keyword === 'format' ? FORMAT_MESSAGES[(issue.params as { format?: string }).format ?? ''] : undefined;
    const message = missing ? 'is required' : (format ?? issue.message ?? 'is invalid');
    return { field, message };
  });
}

interface ErrorBody {
  detail: string;
  errors?: FieldError[];
}

function classify(error: FastifyError | Error): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return classify(validationFailed(fieldErrors(fastifyError)));
  if (error instanceof AppError) {
    const body: ErrorBody = error.errors ? { detail: error.message, errors: error.errors } : { detail: error.message };
    return { status: error.statusCode, body, headers: error.headers };
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

/** A browser that is not (or no longer) logged in goes to the login page, which says why. */
const LOGIN_NOTICE_BY_CODE: Record<string, LoginNotice> = {
  NOT_AUTHENTICATED: 'login-required',
  SESSION_ENDED: 'session-ended',
  INVALID_TOKEN: 'invalid-token',
  TOO_MANY_ATTEMPTS: 'throttled',
};

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, headers } = classify(error);
    request.server.metrics?.countError(error);
    const code = error instanceof AppError ? error.code : error.code;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code, status }, body.detail);

    const html = wantsHtml(request);
    const notice = LOGIN_NOTICE_BY_CODE[code];
    if (html && notice) return redirectToLogin(reply, notice);

    reply.code(status).headers(headers);
    if (html) return reply.type('text/html; charset=utf-8').view('error.njk', { status, ...body });
    return body;
  });

  app.setNotFoundHandler(async (request, reply) => {
    const detail = `Not found: ${request.method} ${request.url.split('?')[0]}`;
    reply.code(404);
    if (wantsHtml(request)) return reply.type('text/html; charset=utf-8').view('error.njk', { status: 404, detail });
    return { detail };
  });
}
