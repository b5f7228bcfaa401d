/**
 * Tells a database outage (server down, restarting, unreachable) from a bug. An outage is answered
 * with 503 and heals by itself once the pool reconnects; anything else is a 500.
 */
/**
 * The database answers but is not yet usable by this process: its schema has not been brought up
 * to date (the server was away at start, or another process is still migrating). Heals by itself
 * like any outage, so it is answered the same way.
 */
export class DatabaseNotReadyError extends Error {
  readonly code = 'DATABASE_NOT_READY';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`The database is not ready: ${reason}`, options);
    this.name = 'DatabaseNotReadyError';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST', // mysql2
  'ER_CON_COUNT_ERROR', // mysql2: too many connections
  'SQLITE_BUSY',
  'DATABASE_NOT_READY',
]);

// PostgreSQL SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, restart).
const POSTGRES_OUTAGE = /^(08|57P)/;

export function isDatabaseOutage(error: unknown): boolean {
  // Wrapped errors (a failed migration at start, a pool error) keep the driver's error as `cause`.
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (isOutageItself(current)) return true;
  }
  return false;
}

function isOutageItself(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_OUTAGE.test(code))) return true;
  const message = (error as Error | null)?.message ?? '';
  // pg reports a dead pool connection and a connect timeout without a code.
  return /Connection terminated|timeout exceeded when trying to connect|connect ETIMEDOUT/i.test(message);
}
