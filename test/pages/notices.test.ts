/**
 * Where a login may send a browser afterwards (`safeNextPath`), the login page's address, and the
 * words an error page uses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loginPageUrl, safeNextPath } from '../../src/pages/notices.js';
import { describeError } from '../../src/pages/error-page.js';
import { clientLabel } from '../../src/http/client-label.js';

describe('safeNextPath', () => {
  it('keeps a path on this site, with its query', () => {
    assert.equal(safeNextPath('/emp/search?last_name=nas'), '/emp/search?last_name=nas');
    assert.equal(safeNextPath('/emp/admin-get-update/10399'), '/emp/admin-get-update/10399');
    assert.equal(safeNextPath('/%2F%2Fevil.com'), '/%2F%2Fevil.com', 'an encoded slash stays a path here');
  });

  it('drops anything that a browser would read as another site, or no path at all', () => {
    const hostile = [
      '//evil.com',
      '///evil.com',
      '/\\evil.com',
      '\\\\evil.com',
      '/\t/evil.com',
      '/\n/evil.com',
      'https://evil.com/',
      'HTTPS://evil.com',
      'javascript:alert(1)',
      '%2F%2Fevil.com',
      'evil.com',
      '',
      `/${'a'.repeat(3000)}`,
      undefined,
      42,
    ];
    assert.deepEqual(
      hostile.map(safeNextPath),
      hostile.map(() => undefined),
    );
  });

  it('carries only the search parameters of a query, never a credential put there by mistake', () => {
    assert.equal(safeNextPath('/emp/search/nas/an?page=2&size=10&access_token=abc&session=x.y'), '/emp/search/nas/an?page=2&size=10');
    assert.equal(safeNextPath('/admin/me?access_token=abc'), '/admin/me');
    assert.equal(safeNextPath('/auth/home?session=abc'), undefined);
  });

  it('drops where a login lands anyway', () => {
    assert.deepEqual(['/', '/auth/home', '/auth/login?next=/x'].map(safeNextPath), [undefined, undefined, undefined]);
  });

  it('builds the login page address with the path encoded, or without one', () => {
    assert.equal(loginPageUrl('/emp/search?last_name=nas'), '/auth/login?next=%2Femp%2Fsearch%3Flast_name%3Dnas');
    assert.equal(loginPageUrl('//evil.com'), '/auth/login');
    assert.equal(loginPageUrl(), '/auth/login');
  });
});

describe('describeError', () => {
  it('names the permissions an insufficient_scope refusal asked for', () => {
    const page = describeError(403, 'FORBIDDEN', 'Not enough permissions', {
      'www-authenticate': 'Bearer error="insufficient_scope", scope="admin:read admin:write"',
    });
    assert.deepEqual(page, {
      heading: 'You are not allowed to do this',
      explanation: 'Your login does not have the permission this needs.',
      needs: ['admin:read', 'admin:write'],
    });
  });

  it("explains a missing record with the service's own words, and hides internals of a 500", () => {
    assert.equal(describeError(404, 'NOT_FOUND', 'No employee with number 7', {}).explanation, 'No employee with number 7');
    assert.equal(
      describeError(500, undefined, 'Internal Server Error', {}).explanation,
      'The problem has been logged. Please try again in a moment.',
    );
  });
});

describe('clientLabel', () => {
  it('names the browser with its major version, the system, and how the login was made', () => {
    const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    assert.equal(clientLabel(chrome, 'Swagger UI'), 'Chrome 131 on Linux, Swagger UI');
    assert.equal(clientLabel(chrome, 'login page'), 'Chrome 131 on Linux, login page');
    assert.equal(clientLabel('Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0'), 'Firefox 128 on Windows');
    assert.equal(clientLabel('curl/8.5.0'), 'curl');
    assert.equal(clientLabel(undefined), 'Unknown client');
  });
});
