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
import { describeError } from '../pages/error-page.js';
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
  error?: string;
  error_description?: string;
}

/**
 * The token endpoint's refusals also carry OAuth2's own fields (RFC 6749 §5.2), which OAuth2
 * clients read: Swagger UI's Authorize dialog shows `error_description` instead of a bare
 * "Bad Request". `detail` stays for the original series' clients.
 */
const OAUTH_ERROR_BY_CODE: Record<string, string> = {
  INVALID_CREDENTIALS: 'invalid_grant',
  // The password was right, but the sessions it would join were ended meanwhile: no grant either.
  LOGIN_INTERRUPTED: 'invalid_grant',
  UNSUPPORTED_GRANT_TYPE: 'unsupported_grant_type',
};

function classify(error: FastifyError | Error): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return classify(validationFailed(fieldErrors(fastifyError)));
  if (error instanceof AppError) {
    const body: ErrorBody = error.errors ? { detail: error.message, errors: error.errors } : { detail: error.message };
    const oauthError = OAUTH_ERROR_BY_CODE[error.code];
    if (oauthError) Object.assign(body, { error: oauthError, error_description: error.message });
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
  LOGIN_INTERRUPTED: 'session-ended',
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
    // A page asked for before login is where the person goes after it (same-origin paths only).
    if (html && notice) return redirectToLogin(reply, notice, request.method === 'GET' ? request.url : undefined);

    reply.code(status).headers(headers);
    if (html) return errorPage(request, reply, status, code, body, headers);
    return body;
  });

  app.setNotFoundHandler(async (request, reply) => {
    const detail = `Not found: ${request.method} ${request.url.split('?')[0]}`;
    reply.code(404);
    if (wantsHtml(request)) return errorPage(request, reply, 404, 'NOT_FOUND_ROUTE', { detail }, {});
    return { detail };
  });
}

/**
 * The error as a page that keeps the signed-in header (Home, Logout): who is asking is looked up
 * when the route had not got that far (an unknown address, a malformed parameter).
 */
async function errorPage(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string | undefined,
  body: ErrorBody,
  headers: Record<string, string>,
) {
  if (!request.user && status < 500) {
    const principal = await request.identify(reply).catch(() => null);
    if (principal) request.user = principal;
  }
  return reply.page('error.njk', { status, ...body, ...describeError(status, code, body.detail, headers) });
}
