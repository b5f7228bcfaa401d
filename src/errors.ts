/**
 * Expected failures: typed, coded errors that carry the HTTP status they deserve. Services throw
 * them without knowing about requests or replies; `http/errors.ts` turns them into responses.
 */

export interface FieldError {
  /** The input's name as the client sent it (form field or JSON property). */
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly headers: Record<string, string>;
  readonly errors: FieldError[] | undefined;

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options: { headers?: Record<string, string>; errors?: FieldError[] } = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.headers = options.headers ?? {};
    this.errors = options.errors;
  }
}

/**
 * The one way to recognise an expected failure, optionally of one status (422: a form to show
 * again with its field errors). Anything else, a driver's error or a bug, is not one.
 */
export function isAppError(error: unknown, statusCode?: number): error is AppError {
  return error instanceof AppError && (statusCode === undefined || error.statusCode === statusCode);
}

export const NOT_AUTHENTICATED = 'Not authenticated';
export const INVALID_CREDENTIALS = 'Incorrect username or password';
export const NOT_ENOUGH_PERMISSIONS = 'Not enough permissions';

/** 401 with the `WWW-Authenticate` challenge RFC 6750 asks for. */
export const notAuthenticated = (detail = NOT_AUTHENTICATED) =>
  new AppError(401, 'NOT_AUTHENTICATED', detail, { headers: { 'www-authenticate': 'Bearer' } });

/** A `session` cookie that names no live session: the same answer, another code (the login page says why). */
export const sessionEnded = () => new AppError(401, 'SESSION_ENDED', NOT_AUTHENTICATED, { headers: { 'www-authenticate': 'Bearer' } });

export const invalidToken = () =>
  new AppError(401, 'INVALID_TOKEN', 'Could not validate credentials', {
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  });

/** 403: who is asking is known, and may not do this. `scopes` names what would be needed (RFC 6750 §3). */
export const forbidden = (scopes?: readonly string[]) =>
  new AppError(403, 'FORBIDDEN', NOT_ENOUGH_PERMISSIONS, {
    headers: scopes?.length ? { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scopes.join(' ')}"` } : {},
  });

export const notFound = (detail: string) => new AppError(404, 'NOT_FOUND', detail);

/** 422 with one entry per problem, each naming its field. */
export const validationFailed = (errors: FieldError[]) =>
  new AppError(422, 'VALIDATION_FAILED', `Invalid request: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, {
    errors,
  });
