/**
 * The one configuration schema. Its TypeScript type is derived from it (no hand-written twin to
 * drift), and `loadConfig` validates a plain key/value map against it. Reading the process
 * environment and the `.env` file is `server.ts`'s job: tests build their config from literals.
 */
import envSchema from 'env-schema';
import { Type, type Static } from 'typebox';

/** A comma-separated list of origins (`https://a.example, https://b.example`). */
const ORIGIN_LIST_PATTERN = '^https?://[^/?#,\\s]+(\\s*,\\s*https?://[^/?#,\\s]+)*$';

const positiveSeconds = (defaultValue: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 31_536_000, default: defaultValue, description });

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Enum(['development', 'production', 'test'], { default: 'development' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Interface to listen on' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 5000, description: 'TCP port to listen on' }),
  WORKERS: Type.Integer({ minimum: 0, maximum: 256, default: 0, description: 'Processes serving the port; 0: one per core' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  SEED_SAMPLE_DATA: Type.Boolean({
    default: true,
    description: 'Fill an empty database with the sample employees (password "password"); false for production',
  }),
  DATA_DIR: Type.String({ minLength: 1, default: './data', description: 'Where the embedded stores and the generated secret live' }),
  DATABASE_URL: Type.Optional(
    Type.String({
      pattern: '^(mysql|mariadb|postgres|postgresql|sqlite):',
      description: 'mysql://, postgres:// or sqlite:<file>; unset: SQLite under DATA_DIR',
    }),
  ),
  REDIS_URL: Type.Optional(
    Type.String({
      pattern: '^rediss?(\\+(sentinel|cluster))?://',
      description: 'redis://, rediss://, redis+sentinel://s1,s2/master or redis+cluster://n1,n2; unset: the embedded session store',
    }),
  ),
  SESSION_KEY_PREFIX: Type.String({ minLength: 1, maxLength: 64, default: 'starsessions.' }),
  SECRET_KEY: Type.Optional(
    Type.String({ minLength: 32, description: 'Signs access tokens; unset: generated once and kept under DATA_DIR' }),
  ),
  COOKIE_SECURE: Type.Boolean({ default: false, description: 'Send the session cookie over HTTPS only' }),
  SESSION_IDLE_TIMEOUT_SECONDS: positiveSeconds(1800, 'A session unused this long ends'),
  SESSION_ABSOLUTE_TIMEOUT_SECONDS: positiveSeconds(28_800, 'A session ends this long after login, used or not'),
  ACCESS_TOKEN_EXPIRE_SECONDS: positiveSeconds(1800, 'Lifetime of a bearer token'),
  TLS_CERT_FILE: Type.Optional(
    Type.String({ minLength: 1, description: 'PEM certificate (chain) to serve HTTPS with; set with TLS_KEY_FILE' }),
  ),
  TLS_KEY_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of TLS_CERT_FILE' })),
  TRUST_PROXY: Type.String({
    minLength: 1,
    default: 'false',
    description: 'Whose X-Forwarded-For/-Proto to believe: true, false, a hop count, or comma-separated addresses/CIDRs',
  }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'When set, GET /metrics needs Authorization: Bearer <token>' })),
  METRICS_PORT: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 65535, description: 'When set, /metrics is served on this port (on HOST) instead' }),
  ),
  PUBLIC_ORIGIN: Type.Optional(
    Type.String({
      pattern: '^https?://[^/?#]+$',
      description: "The origin browsers use, e.g. https://portal.example.com; unset: the request's own Host",
    }),
  ),
  CORS_ORIGINS: Type.Optional(
    Type.String({
      pattern: ORIGIN_LIST_PATTERN,
      description: 'Comma-separated origins allowed by CORS; unset: CORS off',
    }),
  ),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 10,
    description: 'Failed logins for one account within the window before 429',
  }),
  LOGIN_MAX_FAILURES_PER_CLIENT: Type.Integer({
    minimum: 1,
    maximum: 100000,
    default: 100,
    description: 'Failed logins from one client address within the window before 429',
  }),
  LOGIN_THROTTLE_WINDOW_SECONDS: positiveSeconds(900, 'The window failed logins are counted in'),
  AUDIT_RETENTION_DAYS: Type.Integer({
    minimum: 0,
    maximum: 36_500,
    default: 365,
    description: 'Audit events older than this many days are deleted (hourly, and by `admin audit prune`); 0: kept forever',
  }),
  // The scope names of identity/scopes.ts, spelt out: this module sits below that room.
  MFA_REQUIRED_SCOPES: Type.String({
    pattern: '^([\\s,]*(user:read|user:write|admin:read|admin:write|audit:read|super:\\*))*[\\s,]*$',
    default: 'admin:write super:*',
    description: 'Scopes (space or comma separated) whose holders must have a second factor, by implication too; empty: nobody must',
  }),
  WEBAUTHN_RP_ID: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9.-]{1,253}$',
      description: "Passkeys' relying party id: the domain they are bound to; unset: the host of WEBAUTHN_ORIGIN's first origin",
    }),
  ),
  WEBAUTHN_ORIGIN: Type.Optional(
    Type.String({
      pattern: ORIGIN_LIST_PATTERN,
      description: 'Comma-separated origins passkeys may be used from; unset: PUBLIC_ORIGIN, else http://localhost:<PORT>',
    }),
  ),
});

/** Variables where an empty value is a value (nothing), not "unset, take the default". */
const EMPTY_IS_A_VALUE: ReadonlySet<string> = new Set(['MFA_REQUIRED_SCOPES']);

export type Config = Static<typeof ConfigSchema>;
/** A config whose secret has been settled (given, or generated and kept). */
export type ResolvedConfig = Config & { SECRET_KEY: string };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Validates `source` (an environment-like map) and returns the typed config with defaults filled.
 * An empty value counts as unset (but for EMPTY_IS_A_VALUE). Throws ConfigError naming the variable and what it expected.
 */
export function loadConfig(source: Record<string, string | undefined>): Config {
  const data: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = source[key];
    if (value !== undefined && (value !== '' || EMPTY_IS_A_VALUE.has(key))) data[key] = value;
  }
  let config: Config;
  try {
    config = envSchema<Config>({ schema: ConfigSchema, data, env: false, dotenv: false });
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${describeSchemaErrors(error)}`);
  }
  if (config.SESSION_IDLE_TIMEOUT_SECONDS > config.SESSION_ABSOLUTE_TIMEOUT_SECONDS) {
    throw new ConfigError('Invalid configuration: SESSION_IDLE_TIMEOUT_SECONDS must not exceed SESSION_ABSOLUTE_TIMEOUT_SECONDS');
  }
  if ((config.TLS_CERT_FILE === undefined) !== (config.TLS_KEY_FILE === undefined)) {
    const missing = config.TLS_CERT_FILE === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE';
    throw new ConfigError(`Invalid configuration: ${missing} must be set too: HTTPS needs TLS_CERT_FILE and TLS_KEY_FILE together`);
  }
  relyingPartyOf(config);
  return config;
}

/** Where passkeys work: the WebAuthn relying party id and the origins a browser may use them from. */
export interface RelyingPartyConfig {
  rpId: string;
  origins: string[];
}

const DOMAIN_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A domain name WebAuthn accepts as RP id: labels of letters, digits and hyphens, and not an IPv4 address. */
function isDomainName(host: string): boolean {
  const labels = host.split('.');
  return labels.every((label) => DOMAIN_LABEL.test(label)) && !/^\d+$/.test(labels[labels.length - 1]!);
}

/**
 * The passkeys' relying party, from configuration only: never from a request's Host header, which a
 * client chooses (WebAuthn binds a credential to its RP id; the server checks the origin the browser
 * signed against this list). Unset, the origin is PUBLIC_ORIGIN, else the default local address
 * (`localhost`, since WebAuthn takes no IP address as RP id, and browsers treat http://localhost as
 * secure), and the RP id is that origin's host. Returns a reason instead when a derived value cannot
 * serve (PUBLIC_ORIGIN names an IP address): passkeys are then unavailable, and the start says so.
 * Throws ConfigError for values that were set and cannot work.
 */
export function relyingPartyOf(config: Config): RelyingPartyConfig | { unavailable: string } {
  const explicit = config.WEBAUTHN_ORIGIN !== undefined || config.WEBAUTHN_RP_ID !== undefined;
  const scheme = config.TLS_CERT_FILE === undefined ? 'http' : 'https';
  const origins = (config.WEBAUTHN_ORIGIN ?? config.PUBLIC_ORIGIN ?? `${scheme}://localhost:${config.PORT}`)
    .split(',')
    .map((origin) => new URL(origin.trim()).origin);
  const rpId = (config.WEBAUTHN_RP_ID ?? new URL(origins[0]!).hostname).toLowerCase();
  const problem = relyingPartyProblem(rpId, origins);
  if (problem === undefined) return { rpId, origins };
  if (explicit) throw new ConfigError(`Invalid configuration: WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN: ${problem}`);
  return { unavailable: `passkeys are off: ${problem}; set WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN` };
}

function relyingPartyProblem(rpId: string, origins: string[]): string | undefined {
  if (!isDomainName(rpId)) return `the RP id must be a domain name (WebAuthn takes no IP address or port), got ${rpId}`;
  for (const origin of origins) {
    const { protocol, hostname } = new URL(origin);
    if (hostname !== rpId && !hostname.endsWith(`.${rpId}`)) return `the origin ${origin} is not on the RP id ${rpId} nor below it`;
    const local = hostname === 'localhost' || hostname.endsWith('.localhost');
    if (protocol !== 'https:' && !local) return `the origin ${origin} must be https (browsers allow passkeys over http on localhost only)`;
  }
  return undefined;
}

interface SchemaError {
  instancePath: string;
  message?: string;
  params?: { allowedValues?: unknown[] };
}

/** "PORT must be integer; LOG_LEVEL must be one of: fatal, error, ..." from ajv's errors. */
function describeSchemaErrors(error: unknown): string {
  const errors = (error as { errors?: SchemaError[] }).errors;
  if (!errors?.length) return (error as Error).message;
  return errors
    .map(({ instancePath, message, params }) => {
      const name = instancePath.replace(/^\//, '');
      const allowed = params?.allowedValues ? ` (one of: ${params.allowedValues.join(', ')})` : '';
      return `${name} ${message ?? 'is invalid'}${allowed}`;
    })
    .join('; ');
}
