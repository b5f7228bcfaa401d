/**
 * Expected failures as typed, coded errors, and the one place that turns any error into a response.
 *
 * Every JSON error body has a `detail` (the FastAPI shape the original series' clients expect);
 * validation errors add per-field `errors`. A 5xx body never carries internals: the real cause is
 * logged with the request id and the client sees a generic message. A browser's answer (a page, or
 * the login page) is the pages room's: it registers `app.errorPage` (pages/error-page.ts), so this
 * layer knows no template and no login notice.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseOutage } from '../database/errors.js';
import { wantsHtml } from './negotiation.js';
import { isAppError, validationFailed, type FieldError } from '../errors.js';
import { FORMAT_MESSAGES } from './schemas.js';

export interface ErrorBody {
  detail: string;
  errors?: FieldError[];
  error?: string;
  error_description?: string;
}

/** A failure as classified here: what a JSON client gets, and what a page needs to say it. */
export interface Failure {
  status: number;
  /** The error's stable code (`NOT_AUTHENTICATED`, `FST_ERR_VALIDATION`), when it has one. */
  code: string | undefined;
  body: ErrorBody;
  headers: Record<string, string>;
}

/** Answers a browser's failed request: a page, or a redirect (the pages room registers it). */
export type ErrorPageAnswer = (request: FastifyRequest, reply: FastifyReply, failure: Failure) => Promise<FastifyReply>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by the pages plugin; without it a browser gets the JSON answer too. */
    errorPage?: ErrorPageAnswer;
  }
}

/** Routes recognise an expected failure the one way there is (src/errors.ts). */
export { isAppError };

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
  // The second factor (auth/second-factor-service.ts): RFC 6749 §5.2 lets an endpoint add error
  // codes; `mfa_required` is the name Auth0 and others use for "send the second factor".
  MFA_REQUIRED: 'mfa_required',
  MFA_ENROLMENT_REQUIRED: 'mfa_enrolment_required',
  INVALID_SECOND_FACTOR: 'invalid_grant',
};

const RETRY_SOON = { 'retry-after': '5' };

/**
 * An outage a lower room typed itself: its error carries status 503, a code and a message that
 * names the service (the session store's `SessionStoreUnavailableError`), so this layer need not
 * know the class.
 */
function isTypedOutage(error: Error): boolean {
  const { statusCode, code } = error as Partial<FastifyError>;
  return statusCode === 503 && typeof code === 'string';
}

function classify(error: FastifyError | Error): Omit<Failure, 'code'> {
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return classify(validationFailed(fieldErrors(fastifyError)));
  if (isAppError(error)) {
    const body: ErrorBody = error.errors ? { detail: error.message, errors: error.errors } : { detail: error.message };
    const oauthError = OAUTH_ERROR_BY_CODE[error.code];
    if (oauthError) Object.assign(body, { error: oauthError, error_description: error.message });
    return { status: error.statusCode, body, headers: error.headers };
  }
  if (isTypedOutage(error)) return { status: 503, body: { detail: `${error.message}; try again shortly` }, headers: RETRY_SOON };
  if (isDatabaseOutage(error)) {
    return { status: 503, body: { detail: 'The database is unavailable; try again shortly' }, headers: RETRY_SOON };
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // Fastify's own client errors (bad media type, body too large, malformed body) carry safe messages.
    return { status, body: { detail: fastifyError.message }, headers: {} };
  }
  return { status: 500, body: { detail: 'Internal Server Error' }, headers: {} };
}

function answer(request: FastifyRequest, reply: FastifyReply, failure: Failure) {
  const page = wantsHtml(request) ? request.server.errorPage : undefined;
  if (page) return page(request, reply, failure);
  reply.code(failure.status).headers(failure.headers);
  return failure.body;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const failure = { ...classify(error), code: error.code };
    request.server.metrics?.countError(error);
    if (failure.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: failure.code, status: failure.status }, failure.body.detail);
    return answer(request, reply, failure);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const detail = `Not found: ${request.method} ${request.url.split('?')[0]}`;
    return answer(request, reply, { status: 404, code: 'NOT_FOUND_ROUTE', body: { detail }, headers: {} });
  });
}
