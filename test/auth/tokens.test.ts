/**
 * Access tokens as AccessTokens checks them, remembered verifications included: a token that has
 * been accepted is still refused the moment it expires, and a changed one is checked afresh. (The
 * HTTP side, algorithms, forged headers and claims: test/security/d-tokens-scopes.test.ts.)
 */
import { afterEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { AccessTokens, InvalidTokenError } from '../../src/auth/tokens.js';

const CLAIMS = { sub: 'pranav.furedi.10198@gmail.com', emp_no: 10198, scopes: ['user:read'], sid: 'a'.repeat(22) };

describe('AccessTokens', () => {
  afterEach(() => mock.timers.reset());

  it('refuses a token it has accepted (and remembered) the moment it expires', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 11, 3, 12) });
    const tokens = new AccessTokens('k'.repeat(43), 60);
    const { token } = await tokens.sign(CLAIMS);
    for (let i = 0; i < 3; i++) assert.deepEqual(tokens.verify(token).scopes, ['user:read']);
    mock.timers.tick(59_999);
    assert.equal(tokens.verify(token).emp_no, 10198, 'still valid a millisecond before exp');
    mock.timers.tick(1_001);
    assert.throws(() => tokens.verify(token), InvalidTokenError);
  });

  it('checks a changed token afresh, and hands every caller its own scopes', async () => {
    const tokens = new AccessTokens('k'.repeat(43), 600);
    const { token } = await tokens.sign(CLAIMS);
    const first = tokens.verify(token);
    first.scopes.push('admin:write');
    assert.deepEqual(tokens.verify(token).scopes, ['user:read'], 'a remembered token is not changed by what a caller did');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    assert.throws(() => tokens.verify(`${header}.${payload}.${flipped}`), InvalidTokenError);
    const other = new AccessTokens('o'.repeat(43), 600);
    assert.throws(() => other.verify(token), InvalidTokenError, 'another key: not accepted from any cache');
  });
});
