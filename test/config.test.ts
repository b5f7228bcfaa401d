import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config.js';
import { resolveSecretKey } from '../src/secret-key.js';

describe('configuration', () => {
  it('fills every default on an empty environment', () => {
    assert.deepEqual(loadConfig({}), {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: 5000,
      SEED_SAMPLE_DATA: true,
      WORKERS: 0,
      LOG_LEVEL: 'info',
      DATA_DIR: './data',
      SESSION_KEY_PREFIX: 'starsessions.',
      COOKIE_SECURE: false,
      SESSION_IDLE_TIMEOUT_SECONDS: 1800,
      SESSION_ABSOLUTE_TIMEOUT_SECONDS: 28800,
      ACCESS_TOKEN_EXPIRE_SECONDS: 1800,
      TRUST_PROXY: 'false',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: 10,
      LOGIN_MAX_FAILURES_PER_CLIENT: 100,
      LOGIN_THROTTLE_WINDOW_SECONDS: 900,
      AUDIT_RETENTION_DAYS: 365,
      MFA_REQUIRED_SCOPES: 'admin:write super:*',
    });
  });

  it('keeps the audit trail forever with AUDIT_RETENTION_DAYS=0, and names the variable of a bad value', () => {
    assert.equal(loadConfig({ AUDIT_RETENTION_DAYS: '0' }).AUDIT_RETENTION_DAYS, 0);
    assert.throws(() => loadConfig({ AUDIT_RETENTION_DAYS: '-1' }), /AUDIT_RETENTION_DAYS must be >= 0/);
    assert.throws(() => loadConfig({ AUDIT_RETENTION_DAYS: 'a year' }), /AUDIT_RETENTION_DAYS must be integer/);
  });

  it('reads MFA_REQUIRED_SCOPES empty as nobody, and refuses a name that is not a scope', () => {
    assert.equal(loadConfig({ MFA_REQUIRED_SCOPES: '' }).MFA_REQUIRED_SCOPES, '');
    assert.equal(loadConfig({ MFA_REQUIRED_SCOPES: 'admin:read, super:*' }).MFA_REQUIRED_SCOPES, 'admin:read, super:*');
    assert.throws(
      () => loadConfig({ MFA_REQUIRED_SCOPES: 'admin:write root' }),
      (error: Error) =>
        error.name === 'ConfigError' && error.message.startsWith('Invalid configuration: MFA_REQUIRED_SCOPES must match pattern'),
    );
  });

  it('treats an empty value as unset', () => {
    const config = loadConfig({ PORT: '', REDIS_URL: '', DATABASE_URL: '' });
    assert.equal(config.PORT, 5000);
    assert.equal(config.REDIS_URL, undefined);
    assert.equal(config.DATABASE_URL, undefined);
  });

  it('converts numbers and booleans from their text', () => {
    const config = loadConfig({ PORT: '8080', COOKIE_SECURE: 'true', REDIS_URL: 'rediss://cache:6380/1' });
    assert.equal(config.PORT, 8080);
    assert.equal(config.COOKIE_SECURE, true);
    assert.equal(config.REDIS_URL, 'rediss://cache:6380/1');
  });

  for (const [env, message] of [
    [{ PORT: 'eighty' }, 'Invalid configuration: PORT must be integer'],
    [{ PORT: '70000' }, 'Invalid configuration: PORT must be <= 65535'],
    [{ SECRET_KEY: 'too-short' }, 'Invalid configuration: SECRET_KEY must NOT have fewer than 32 characters'],
    [{ REDIS_URL: 'http://localhost' }, 'Invalid configuration: REDIS_URL must match pattern "^rediss?(\\+(sentinel|cluster))?://"'],
    [
      { DATABASE_URL: 'oracle://db' },
      'Invalid configuration: DATABASE_URL must match pattern "^(mysql|mariadb|postgres|postgresql|sqlite):"',
    ],
    [{ COOKIE_SECURE: 'maybe' }, 'Invalid configuration: COOKIE_SECURE must be boolean'],
    [{ METRICS_TOKEN: 'short' }, 'Invalid configuration: METRICS_TOKEN must NOT have fewer than 16 characters'],
    [{ METRICS_PORT: '-1' }, 'Invalid configuration: METRICS_PORT must be >= 0'],
    [
      { TLS_CERT_FILE: 'cert.pem' },
      'Invalid configuration: TLS_KEY_FILE must be set too: HTTPS needs TLS_CERT_FILE and TLS_KEY_FILE together',
    ],
    [{ SESSION_IDLE_TIMEOUT_SECONDS: '0' }, 'Invalid configuration: SESSION_IDLE_TIMEOUT_SECONDS must be >= 1'],
    [
      { SESSION_IDLE_TIMEOUT_SECONDS: '7200', SESSION_ABSOLUTE_TIMEOUT_SECONDS: '3600' },
      'Invalid configuration: SESSION_IDLE_TIMEOUT_SECONDS must not exceed SESSION_ABSOLUTE_TIMEOUT_SECONDS',
    ],
  ] as const) {
    it(`stops with a message naming the variable: ${Object.keys(env).join(', ')}`, () => {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.message, message);
          return true;
        },
      );
    });
  }

  it('generates a secret once, keeps it under DATA_DIR, and warns', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ep-config-'));
    try {
      const warnings: string[] = [];
      const first = resolveSecretKey(loadConfig({ DATA_DIR: dataDir }), (m) => warnings.push(m));
      const second = resolveSecretKey(loadConfig({ DATA_DIR: dataDir }), (m) => warnings.push(m));
      assert.ok(first.SECRET_KEY.length >= 32);
      assert.equal(second.SECRET_KEY, first.SECRET_KEY);
      assert.equal(readFileSync(join(dataDir, 'secret-key'), 'utf8').trim(), first.SECRET_KEY);
      assert.equal(statSync(join(dataDir, 'secret-key')).mode & 0o777, 0o600);
      assert.equal(warnings.length, 2);
      assert.match(warnings[0]!, /SECRET_KEY is not set/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('uses SECRET_KEY when given, silently', () => {
    const warnings: string[] = [];
    const key = 'k'.repeat(40);
    const config = resolveSecretKey(loadConfig({ SECRET_KEY: key }), (m) => warnings.push(m));
    assert.equal(config.SECRET_KEY, key);
    assert.deepEqual(warnings, []);
  });
});
