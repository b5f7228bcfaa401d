/**
 * Employee search and maintenance through HTTP, on every database engine: scopes, two faces per
 * route, and the original's holes closed (ownership checked before any write, no hashes out).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../helpers/databases.js';
import { API, BROWSER, FORM, form, login, useSuiteApp } from '../helpers/app.js';
import { findEmployeeByNumber } from '../../src/employees/employee-repository.js';
import { NOT_AUTHENTICATED, NOT_ENOUGH_PERMISSIONS } from '../helpers/messages.js';
import { ADMIN, ADMIN_READ, credentials, NO_SCOPES, SUPER, U1, USER_READ } from '../helpers/people.js';

const USERS = {
  behai: U1, // user:read, user:write
  moss: NO_SCOPES, // no scopes
  nidapan: USER_READ, // user:read
  kyoichi: ADMIN, // admin:read, admin:write
  weijing: ADMIN_READ, // admin:read
  mary: SUPER, // super:*
} as const;
type Who = keyof typeof USERS;

const EMP_NO_MESSAGE = 'Employee number must be a whole number from 1 to 2147483647, in digits only';
/** 10011 (mary, super:*) as `Number()` or a schema's type coercion would also read it. */
const SPELLINGS_OF_10011 = ['+10011', '10011.0', '0x271b', ' 10011', '10011 ', '1.0011e4', '１００１１'];
/** Anything of mary's record: her name, email, birth and hire dates in either format. */
const MARYS_DATA = /mary|sluis|1953|07\/11|1990-01-22|22\/01\/1990/i;
const NO_HASH = /password|\$argon2|\$2[aby]\$/;

for (const engine of ENGINES) {
  describe(`employee routes on ${engine}`, await gateFor(engine), () => {
    let database: TestDatabase;
    const cookies = new Map<Who, string>();
    before(async () => {
      database = await createTestDatabase(engine, { seed: false });
    });
    const { app } = useSuiteApp({ env: () => ({ DATABASE_URL: database.url }) });
    before(async () => {
      for (const who of Object.keys(USERS) as Who[]) {
        cookies.set(who, (await login(app, USERS[who])).cookie);
      }
    });
    after(async () => {
      await database?.cleanup();
    });

    const as = (who: Who) => ({ session: cookies.get(who)! });
    const get = (who: Who, url: string, headers: Record<string, string> = API) =>
      app.inject({ method: 'GET', url, headers, cookies: as(who) });
    const post = (who: Who, url: string, fields: Record<string, string>, headers: Record<string, string> = API) =>
      app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, cookies: as(who), payload: form(fields) });

    describe('scopes', () => {
      it('refuses My Info to someone without user:read, naming the scope it needs', async () => {
        const response = await get('moss', '/admin/me');
        assert.equal(response.statusCode, 403);
        assert.deepEqual(response.json(), NOT_ENOUGH_PERMISSIONS);
        assert.equal(response.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="user:read"');
      });

      it('shows a person without the scope a clear page', async () => {
        const response = await get('moss', '/admin/me', BROWSER);
        assert.equal(response.statusCode, 403);
        assert.match(response.headers['content-type'] as string, /^text\/html/);
        // Still signed in (Home, Logout), told what happened and what it would need.
        assert.match(response.body, /<li><a href="\/auth\/home">Home<\/a><\/li>/);
        assert.match(response.body, /<button type="submit">Logout<\/button>/);
        assert.match(response.body, /<h1 id="error-heading">You are not allowed to do this<\/h1>/);
        assert.match(response.body, /This needs the permission\s*<strong>See own details<\/strong>\.\s*Yours: none\./);
      });

      it('keeps the signed-in header on a 404 and a 422 page, saying what happened', async () => {
        const missing = await get('kyoichi', '/emp/admin-get-update/499999', BROWSER);
        assert.equal(missing.statusCode, 404);
        assert.match(missing.body, /<p class="error-box" role="alert">No employee with number 499999<\/p>/);
        assert.match(missing.body, /<li><a href="\/emp\/search">Search employees<\/a><\/li>/);
        const unknownRoute = await get('kyoichi', '/no/such/page', BROWSER);
        assert.equal(unknownRoute.statusCode, 404);
        assert.match(unknownRoute.body, /<button type="submit">Logout<\/button>/);
        const malformed = await get('kyoichi', '/emp/admin-get-update/abc', BROWSER);
        assert.equal(malformed.statusCode, 422);
        assert.match(malformed.body, /<h1 id="error-heading">Some of what was sent is not valid<\/h1>/);
        assert.match(malformed.body, /<button type="submit">Logout<\/button>/);
      });

      it('gives super:* everything, whatever the order of grants', async () => {
        for (const url of ['/admin/me', '/emp/search/%25nas%25/%25An', '/emp/admin-get-update/10001', '/emp/new']) {
          assert.equal((await get('mary', url)).statusCode, 200, url);
        }
      });

      it('narrows a login to the scopes it asks for', async () => {
        const response = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: FORM,
          payload: form({ ...credentials(USERS.kyoichi), scope: 'user:read super:* nonsense' }),
        });
        assert.equal(response.json().scope, 'user:read');
        const token = response.json().access_token as string;
        const search = await app.inject({
          method: 'GET',
          url: '/emp/search/%25nas%25/%25An',
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(search.statusCode, 403);
        const me = await app.inject({ method: 'GET', url: '/admin/me', headers: { authorization: `Bearer ${token}` } });
        assert.deepEqual(me.json().scopes, ['user:read']);
      });

      it('lists the scopes in the OpenAPI document for the Authorize dialog', async () => {
        const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
        assert.deepEqual(Object.keys(document.components.securitySchemes.OAuth2PasswordBearer.flows.password.scopes), [
          'user:read',
          'user:write',
          'admin:read',
          'admin:write',
          'audit:read',
          'super:*',
        ]);
        assert.deepEqual(document.paths['/emp/admin-save'].post.security[0], { OAuth2PasswordBearer: ['admin:write'] });
      });
    });

    describe('search', () => {
      it('finds employees by partial names with raw % in the path, as a browser sends it', async () => {
        const response = await get('kyoichi', '/emp/search/%nas%/%An');
        assert.equal(response.statusCode, 200);
        const { items, page, size, has_more } = response.json();
        assert.deepEqual({ page, size, has_more }, { page: 1, size: 50, has_more: false });
        const numbers = items.map((e: { emp_no: number }) => e.emp_no);
        assert.ok(numbers.includes(12483) && numbers.includes(496044), String(numbers));
        assert.deepEqual(
          items.find((e: { emp_no: number }) => e.emp_no === 12483),
          {
            emp_no: 12483,
            email: 'niranjan.gornas.12483@gmail.com',
            first_name: 'Niranjan',
            last_name: 'Gornas',
            birth_date: '1959-10-19',
            gender: items.find((e: { emp_no: number }) => e.emp_no === 12483).gender,
            hire_date: '1990-01-10',
          },
        );
        assert.deepEqual(
          [...numbers].sort((a, b) => a - b),
          numbers,
          'ordered by number',
        );
        assert.doesNotMatch(response.body, NO_HASH);
      });

      it('ignores case on every engine', async () => {
        const lower = (await get('kyoichi', '/emp/search/%25nas%25/%25an')).json().items;
        const upper = (await get('kyoichi', '/emp/search/%25NAS%25/%25AN')).json().items;
        assert.ok(lower.length > 0);
        assert.deepEqual(upper, lower);
      });

      it('pages through results with a hard page-size limit', async () => {
        const first = (await get('kyoichi', '/emp/search/%25/%25?size=5')).json();
        assert.equal(first.items.length, 5);
        assert.equal(first.has_more, true);
        const second = (await get('kyoichi', '/emp/search/%25/%25?size=5&page=2')).json();
        assert.equal(second.page, 2);
        assert.ok(second.items[0].emp_no > first.items[4].emp_no);
        const tooBig = await get('kyoichi', '/emp/search/%25/%25?size=101');
        assert.equal(tooBig.statusCode, 422);
        assert.equal(tooBig.json().errors[0].field, 'size');
      });

      it('finds names containing a plain name, as people type it', async () => {
        const plain = (await get('kyoichi', '/emp/search/gornas/%25')).json().items.map((e: { emp_no: number }) => e.emp_no);
        assert.deepEqual(plain, [12483, 496044]);
        const part = (await get('kyoichi', '/emp/search/nas/an')).json().items.map((e: { emp_no: number }) => e.emp_no);
        const pattern = (await get('kyoichi', '/emp/search/%25nas%25/%25an%25')).json().items.map((e: { emp_no: number }) => e.emp_no);
        assert.deepEqual(part, pattern);
        assert.ok(part.includes(12483));
      });

      it('refuses a name longer than the column can hold, naming the field', async () => {
        const response = await get('kyoichi', `/emp/search/${'a'.repeat(17)}/%25`);
        assert.equal(response.statusCode, 422);
        assert.deepEqual(response.json().errors, [
          { field: 'lastName', message: 'Please enter at most 16 characters of the last name, not counting %. E.g. nas, or Gor%' },
        ]);
      });

      it('treats SQL metacharacters as plain text', async () => {
        const response = await get('kyoichi', `/emp/search/${encodeURIComponent("%' OR '1'='1")}/%25`);
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json().items, []);
      });

      it('refuses search to someone without admin:read', async () => {
        const response = await get('behai', '/emp/search/%nas%/%An');
        assert.equal(response.statusCode, 403);
        assert.deepEqual(response.json(), NOT_ENOUGH_PERMISSIONS);
      });

      it('sends the search form on to the results, and shows them as a page', async () => {
        const redirect = await get('kyoichi', '/emp/search?last_name=%25nas%25&first_name=%25An', BROWSER);
        assert.equal(redirect.statusCode, 303);
        assert.equal(redirect.headers.location, '/emp/search/%25nas%25/%25An');
        const page = await get('kyoichi', redirect.headers.location, BROWSER);
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /<td><a href="\/emp\/admin-get-update\/12483">12483<\/a><\/td>/);
        assert.match(page.body, /<td>19\/10\/1959<\/td><td>Niranjan<\/td><td>Gornas<\/td>/);
      });

      it('searches for what a person types: a plain name, or nothing for any', async () => {
        const plain = await get('kyoichi', '/emp/search?last_name=Gornas&first_name=', BROWSER);
        assert.equal(plain.headers.location, '/emp/search/Gornas/%25');
        const page = await get('kyoichi', plain.headers.location, BROWSER);
        assert.match(page.body, /<h1>Employees matching “Gornas”, any first name<\/h1>/);
        assert.match(page.body, /<td>Gopalakrishnan<\/td><td>Gornas<\/td>/);
        const empty = await get('kyoichi', '/emp/search?last_name=&first_name=', BROWSER);
        assert.equal(empty.headers.location, '/emp/search/%25/%25');
      });

      it('shows a wrong search on the form, values kept and each field marked', async () => {
        const long = 'x'.repeat(17);
        const response = await get('kyoichi', `/emp/search?last_name=${long}&first_name=${'y'.repeat(15)}`, BROWSER);
        assert.equal(response.statusCode, 422);
        assert.match(
          response.body,
          new RegExp(
            `<input id="last_name" name="last_name" maxlength="64" placeholder="e.g. nas" value="${long}" aria-invalid="true" aria-describedby="lastName-error search-hint">`,
          ),
        );
        assert.match(
          response.body,
          /<p class="field-error" id="lastName-error">Please enter at most 16 characters of the last name, not counting %\. E\.g\. nas, or Gor%<\/p>/,
        );
        assert.match(response.body, /<input id="first_name" [^>]*aria-invalid="true" aria-describedby="firstName-error search-hint">/);
        const fromPath = await get('kyoichi', `/emp/search/${long}/%25`, BROWSER);
        assert.equal(fromPath.statusCode, 422);
        assert.match(fromPath.body, /<form id="searchForm"/);
        const form = await get('kyoichi', '/emp/search', BROWSER);
        assert.match(
          form.body,
          /<input id="last_name" name="last_name" maxlength="64" placeholder="e.g. nas" value="" aria-describedby="search-hint">/,
        );
      });
    });

    describe('one employee', () => {
      it("lets a person read their own record, and nobody else's", async () => {
        const own = await get('behai', '/emp/own-get-update/500222');
        assert.equal(own.statusCode, 200);
        assert.equal(own.json().emp_no, 500222);
        assert.doesNotMatch(own.body, NO_HASH);
        const other = await get('kyoichi', '/emp/own-get-update/67010');
        assert.equal(other.statusCode, 403);
      });

      it('lets an administrator read anyone', async () => {
        const response = await get('weijing', '/emp/admin-get-update/10399');
        assert.deepEqual(response.json(), {
          emp_no: 10399,
          email: 'guenter.marchegay.10399@gmail.com',
          first_name: 'Guenter',
          last_name: 'Marchegay',
          birth_date: '1957-06-13',
          gender: 'F',
          hire_date: '1985-05-07',
        });
        assert.equal((await get('behai', '/emp/admin-get-update/10399')).statusCode, 403);
      });

      it('answers an unknown number with 404 and a malformed one with 422', async () => {
        const missing = await get('kyoichi', '/emp/admin-get-update/999999');
        assert.equal(missing.statusCode, 404);
        assert.deepEqual(missing.json(), { detail: 'No employee with number 999999' });
        const malformed = await get('kyoichi', '/emp/admin-get-update/abc');
        assert.equal(malformed.statusCode, 422);
        assert.equal(malformed.json().errors[0].field, 'emp_no');
      });

      it('shows the maintenance form to a browser, editable only with the write scope', async () => {
        const editable = await get('kyoichi', '/emp/admin-get-update/10399', BROWSER);
        assert.match(editable.body, /<input id="firstName" name="firstName" required maxlength="14" value="Guenter">/);
        assert.match(
          editable.body,
          /<input id="birthDate" name="birthDate" required maxlength="10" inputmode="numeric" placeholder="dd\/mm\/yyyy" value="13\/06\/1957">/,
        );
        assert.match(editable.body, /<button type="submit">Save<\/button>/);
        const readOnly = await get('weijing', '/emp/admin-get-update/10399', BROWSER);
        assert.match(readOnly.body, /<input id="firstName" name="firstName" required maxlength="14" value="Guenter" readonly>/);
        assert.doesNotMatch(
          readOnly.body,
          />Save<\/button>|Save permissions|Disable login|End all sessions/,
          'nothing offered that would be refused',
        );
        assert.match(readOnly.body, /that needs the permission “Change and add employees”/);
      });

      it('shows the current department, title and manager, and to admin:read the whole history', async () => {
        const page = await get('weijing', '/emp/admin-get-update/10399', BROWSER);
        assert.match(
          page.body,
          /<dt>Department<\/dt><dd>Sales<\/dd>\s*<dt>Title<\/dt><dd>Senior Staff<\/dd>\s*<dt>Manager<\/dt><dd>Tzvetan Zielinski \(10007\)<\/dd>/,
        );
        assert.match(page.body, /<li>Senior Staff: 07\/05\/1991 – now<\/li><li>Staff: 07\/05\/1985 – 07\/05\/1991<\/li>/);
        assert.match(page.body, /<li>Sales: 07\/05\/1985 – now<\/li>/);
        assert.equal(page.body.match(/<tr><td>\d\d\/05\/\d{4}<\/td>/g)?.length, 18, 'a salary row a year, 1985 to 2002');
        assert.match(page.body, /<tr><td>07\/05\/2002<\/td><td>now<\/td><td class="number">118,336<\/td><\/tr>/);
        const own = await get('behai', '/emp/own-get-update/500222', BROWSER);
        assert.match(own.body, /<dt>Department<\/dt><dd>Development<\/dd>/);
        assert.doesNotMatch(own.body, /id="history-heading"/, 'the history is for administrators');
        const me = await get('behai', '/admin/me', BROWSER);
        assert.match(
          me.body,
          /<dt>Department<\/dt><dd>Development<\/dd>\s*<dt>Title<\/dt><dd>Engineer<\/dd>\s*<dt>Manager<\/dt><dd>Kyoichi Maliniak \(10005\)<\/dd>/,
        );
      });

      it('offers an administrator no account actions on their own record or on someone holding more', async () => {
        for (const [who, empNo, reason] of [
          ['kyoichi', 10005, /This is your own account/],
          ['kyoichi', 10011, /holds permissions you do not have/],
        ] as const) {
          const page = await get(who, `/emp/admin-get-update/${empNo}`, BROWSER);
          assert.match(page.body, reason);
          assert.doesNotMatch(page.body, /Save permissions|Disable login|End all sessions/);
          if (empNo === 10011) assert.doesNotMatch(page.body, />Save<\/button>/, "a super:*'s record is not theirs to save either");
          assert.match(page.body, /<input type="checkbox" name="scopes" value="user:read"[^>]* disabled>/);
        }
        const other = await get('kyoichi', '/emp/admin-get-update/10399', BROWSER);
        assert.match(other.body, /<button type="submit">Save permissions<\/button>/);
        assert.match(other.body, /<button type="submit" class="danger">Disable login<\/button>/);
      });

      it('offers a read-only employee no Save on their own record', async () => {
        const page = await get('nidapan', '/emp/own-get-update/262556', BROWSER);
        assert.equal(page.statusCode, 200);
        assert.doesNotMatch(page.body, />Save<\/button>/);
        assert.match(page.body, /that needs the permission “Change own details”/);
      });
    });

    describe('employee numbers, read one strict way', () => {
      it("refuses every other spelling of a number in a save with 422, showing nobody's record", async () => {
        for (const empNo of [...SPELLINGS_OF_10011, '1e4']) {
          const fields = { empNo, birthDate: '1/1/1960', firstName: '', lastName: 'X', gender: 'F', hireDate: '1/1/1990' };
          for (const [who, url] of [
            ['behai', '/emp/user-save'],
            ['kyoichi', '/emp/admin-save'],
          ] as const) {
            const json = await post(who, url, fields);
            assert.equal(json.statusCode, 422, `${url} ${JSON.stringify(empNo)}`);
            const errors = url === '/emp/user-save' ? [{ field: 'empNo', message: EMP_NO_MESSAGE }] : json.json().errors;
            assert.deepEqual(json.json(), {
              detail: `Invalid request: ${errors.map((e: { field: string; message: string }) => `${e.field} ${e.message}`).join('; ')}`,
              errors,
            });
            assert.ok(errors.some((e: { field: string; message: string }) => e.field === 'empNo' && e.message === EMP_NO_MESSAGE));
            const page = await post(who, url, fields, BROWSER);
            assert.equal(page.statusCode, 422);
            assert.match(page.body, new RegExp(`<p class="field-error" id="empNo-error">${EMP_NO_MESSAGE}</p>`));
            assert.match(page.body, /<input id="email" value="" readonly>/, 'no stored email is shown');
            assert.doesNotMatch(page.body, MARYS_DATA, `${url} ${JSON.stringify(empNo)}`);
          }
        }
      });

      it('refuses every other spelling of a number in a path with 422, before anyone is looked up or changed', async () => {
        const routes: Array<[Who, 'GET' | 'POST', (n: string) => string, unknown]> = [
          ['kyoichi', 'GET', (n) => `/emp/admin-get-update/${n}`, undefined],
          ['mary', 'GET', (n) => `/emp/own-get-update/${n}`, undefined],
          ['kyoichi', 'GET', (n) => `/emp/scopes/${n}`, undefined],
          ['kyoichi', 'GET', (n) => `/emp/sessions/${n}`, undefined],
          ['mary', 'POST', (n) => `/api/emp/scopes/${n}`, { scopes: [] }],
          ['mary', 'POST', (n) => `/emp/sessions/${n}/end-all`, undefined],
          ['mary', 'POST', (n) => `/emp/account/${n}`, { disabled: true }],
        ];
        const rule = 'must be a whole number from 1 to 2147483647, in digits only';
        const expected = { detail: `Invalid request: emp_no ${rule}`, errors: [{ field: 'emp_no', message: rule }] };
        for (const spelling of [...SPELLINGS_OF_10011, '1e4', '-10011', '0', '2147483648']) {
          for (const [who, method, url, payload] of routes) {
            const target = url(encodeURIComponent(spelling));
            const response = await app.inject({ method, url: target, headers: API, cookies: as(who), ...(payload ? { payload } : {}) });
            assert.equal(response.statusCode, 422, `${method} ${target}`);
            assert.deepEqual(response.json(), expected, `${method} ${target}`);
          }
        }
        // '+' unescaped in a path is a plus sign too.
        assert.deepEqual((await get('kyoichi', '/emp/admin-get-update/+10011')).json(), expected);
        // Nothing happened to mary: still logged in, still super:*.
        assert.equal((await get('mary', '/admin/me')).statusCode, 200);
        assert.deepEqual((await get('kyoichi', '/emp/scopes/10011')).json(), { emp_no: 10011, scopes: ['super:*'] });
      });

      it('documents the path parameter as digits only', async () => {
        const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
        const parameter = document.paths['/emp/admin-get-update/{emp_no}'].get.parameters.find(
          (p: { name: string }) => p.name === 'emp_no',
        );
        assert.deepEqual(parameter, {
          schema: { type: 'string', format: 'emp-no' },
          example: '10001',
          in: 'path',
          name: 'emp_no',
          required: true,
          description: 'An employee number: digits only, from 1 to 2147483647',
        });
      });
    });

    describe('saving', () => {
      const OWN = {
        empNo: '500222',
        birthDate: '9/12/1978',
        firstName: 'Be Hai',
        lastName: 'Doe',
        gender: 'M',
        hireDate: '18/1/2018',
      };

      it("updates one's own record, ignoring any email or password sent along", async () => {
        const response = await post('behai', '/emp/user-save', { ...OWN, email: 'x@example.com', password: 'newpassword1' });
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), {
          emp_no: 500222,
          email: 'behai_nguyen@hotmail.com',
          first_name: 'Be Hai',
          last_name: 'Doe',
          birth_date: '1978-12-09',
          gender: 'M',
          hire_date: '2018-01-18',
        });
        await login(app, USERS.behai); // password unchanged
      });

      it("refuses to save someone else's record through user-save, before writing anything", async () => {
        const before = await findEmployeeByNumber(app.db, 10399);
        const response = await post('behai', '/emp/user-save', { ...OWN, empNo: '10399', firstName: 'Hacked' });
        assert.equal(response.statusCode, 403);
        assert.deepEqual(response.json(), NOT_ENOUGH_PERMISSIONS);
        assert.deepEqual(await findEmployeeByNumber(app.db, 10399), before);
      });

      it('refuses user-save without user:write, and without an employee number', async () => {
        assert.equal((await post('nidapan', '/emp/user-save', { ...OWN, empNo: '262556' })).statusCode, 403);
        const missing = await post('behai', '/emp/user-save', { ...OWN, empNo: '' });
        assert.equal(missing.statusCode, 422);
        assert.deepEqual(missing.json().errors, [{ field: 'empNo', message: 'Missing employee number' }]);
      });

      it('lets an administrator update anyone, and refuses admin:read alone', async () => {
        const fields = {
          empNo: '10399',
          birthDate: '13/06/1957',
          firstName: 'Guenter',
          lastName: 'Marchegay',
          gender: 'F',
          hireDate: '1/11/2022',
        };
        assert.equal((await post('weijing', '/emp/admin-save', fields)).statusCode, 403);
        const response = await post('kyoichi', '/emp/admin-save', fields);
        assert.equal(response.statusCode, 200);
        assert.equal(response.json().hire_date, '2022-11-01');
      });

      it('refuses admin:write the record of a super:* employee, as it refuses ending their sessions, showing none of it', async () => {
        const before = await findEmployeeByNumber(app.db, 10011);
        const fields = {
          empNo: '10011',
          birthDate: '7/11/1953',
          firstName: 'Hijacked',
          lastName: 'Sluis',
          gender: 'F',
          hireDate: '22/1/1990',
        };
        const json = await post('kyoichi', '/emp/admin-save', fields);
        assert.equal(json.statusCode, 403);
        assert.deepEqual(json.json(), NOT_ENOUGH_PERMISSIONS);
        const page = await post('kyoichi', '/emp/admin-save', { ...fields, firstName: '' }, BROWSER);
        assert.equal(page.statusCode, 403);
        assert.match(page.body, /<h1 id="error-heading">You are not allowed to do this<\/h1>/);
        assert.match(page.body, /<p class="muted">Details: Not enough permissions<\/p>/);
        assert.doesNotMatch(page.body, MARYS_DATA);
        assert.equal((await post('kyoichi', '/emp/sessions/10011/end-all', {})).statusCode, 403, 'the same rule');
        assert.deepEqual(await findEmployeeByNumber(app.db, 10011), before);
      });

      it("lets an administrator save their own record's details through admin-save, as user-save would", async () => {
        const fields = {
          empNo: '10005',
          birthDate: '21/1/1955',
          firstName: 'Kyoichi',
          lastName: 'Maliniak',
          gender: 'M',
          hireDate: '12/9/1989',
        };
        const response = await post('kyoichi', '/emp/admin-save', fields);
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), {
          emp_no: 10005,
          email: USERS.kyoichi.username,
          first_name: 'Kyoichi',
          last_name: 'Maliniak',
          birth_date: '1955-01-21',
          gender: 'M',
          hire_date: '1989-09-12',
        });
        // Invalid fields show their own record again, and only it.
        const page = await post('kyoichi', '/emp/admin-save', { ...fields, firstName: '' }, BROWSER);
        assert.equal(page.statusCode, 422);
        assert.match(page.body, new RegExp(`<input id="email" value="${USERS.kyoichi.username}" readonly>`));
      });

      it('adds a new employee with a fresh number, who can then log in', async () => {
        const response = await post('kyoichi', '/emp/admin-save', {
          email: 'Be.Hai.New@Example.com',
          password: ',[(/V(w8#);("KG5~$',
          birthDate: '25/12/1971',
          firstName: 'Be Hai',
          lastName: 'Doe',
          gender: 'M',
          hireDate: '17/9/1995',
        });
        assert.equal(response.statusCode, 201);
        const created = response.json();
        assert.ok(created.emp_no > 500222);
        assert.equal(response.headers.location, `/emp/admin-get-update/${created.emp_no}`);
        assert.deepEqual(created, {
          emp_no: created.emp_no,
          email: 'be.hai.new@example.com',
          first_name: 'Be Hai',
          last_name: 'Doe',
          birth_date: '1971-12-25',
          gender: 'M',
          hire_date: '1995-09-17',
        });
        const { token } = await login(app, { username: 'be.hai.new@example.com', password: ',[(/V(w8#);("KG5~$' });
        const me = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
        assert.deepEqual(me.json().scopes, ['user:read']);
      });

      it('refuses a duplicate email whatever its case', async () => {
        const response = await post('kyoichi', '/emp/admin-save', {
          email: 'BEHAI_NGUYEN@hotmail.com',
          password: 'longenough1',
          birthDate: '1/1/1980',
          firstName: 'Dup',
          lastName: 'Licate',
          gender: 'F',
          hireDate: '1/1/2000',
        });
        assert.equal(response.statusCode, 422);
        assert.deepEqual(response.json().errors, [{ field: 'email', message: "Can't accept this email. Please specify another" }]);
      });

      it('echoes invalid dates as typed, and marks every invalid field', async () => {
        const response = await post(
          'behai',
          '/emp/user-save',
          { ...OWN, birthDate: '2099-13-45', firstName: '', hireDate: 'soon' },
          BROWSER,
        );
        assert.equal(response.statusCode, 422);
        assert.match(
          response.body,
          /<input id="birthDate" name="birthDate" [^>]*value="2099-13-45" aria-invalid="true" aria-describedby="birthDate-error">/,
        );
        for (const field of ['birthDate', 'firstName', 'hireDate']) {
          assert.match(response.body, new RegExp(`id="${field}" [^>]*aria-invalid="true" aria-describedby="${field}-error"`), field);
          assert.match(response.body, new RegExp(`<p class="field-error" id="${field}-error">`), field);
        }
        assert.match(response.body, /value="soon"/);
      });
      it('names every invalid field, in form order', async () => {
        const response = await post('kyoichi', '/emp/admin-save', { hireDate: '31/02/2001' });
        assert.equal(response.statusCode, 422);
        const fields = response.json().errors.map((e: { field: string }) => e.field);
        assert.deepEqual(fields, ['birthDate', 'firstName', 'lastName', 'gender', 'hireDate', 'email', 'email', 'password']);
      });

      it('sends a browser back to the form with its messages and input, or on to the saved record', async () => {
        const invalid = await post('kyoichi', '/emp/admin-save', { ...OWN, empNo: '10399', firstName: '' }, BROWSER);
        assert.equal(invalid.statusCode, 422);
        assert.match(
          invalid.body,
          /<p class="field-error" id="firstName-error">For first name, please enter between 1 and 14 characters<\/p>/,
        );
        assert.match(invalid.body, /<input id="lastName" name="lastName" required maxlength="16" value="Doe">/);
        const saved = await post(
          'kyoichi',
          '/emp/admin-save',
          { ...OWN, empNo: '10399', firstName: 'Guenter', lastName: 'Marchegay', gender: 'F', birthDate: '13/06/1957' },
          BROWSER,
        );
        assert.equal(saved.statusCode, 303);
        assert.equal(saved.headers.location, '/emp/admin-get-update/10399?saved=1');
        const page = await get('kyoichi', saved.headers.location, BROWSER);
        assert.match(page.body, /<p class="success" role="status">Saved.<\/p>/);
      });

      it('offers the new-employee form only to admin:write', async () => {
        assert.equal((await get('weijing', '/emp/new', BROWSER)).statusCode, 403);
        const page = await get('kyoichi', '/emp/new', BROWSER);
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /<form id="empForm" method="post" action="\/emp\/admin-save" novalidate>/);
        assert.match(page.body, /<input id="password" name="password" type="password" required minlength="10" maxlength="64"/);
      });
    });

    describe('scope administration', () => {
      const setScopes = (who: Who, empNo: number, scopes: unknown) =>
        app.inject({ method: 'POST', url: `/emp/scopes/${empNo}`, headers: API, cookies: as(who), payload: { scopes } });

      it("lets an administrator read anyone's scopes", async () => {
        const response = await get('weijing', '/emp/scopes/10011');
        assert.deepEqual(response.json(), { emp_no: 10011, scopes: ['super:*'] });
      });

      it("grants scopes within the administrator's own, effective at the next login", async () => {
        const response = await setScopes('kyoichi', 262556, ['user:read', 'user:write']);
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), { emp_no: 262556, scopes: ['user:read', 'user:write'] });
        const before = await get('nidapan', '/api/me');
        assert.deepEqual(before.json().scopes, ['user:read'], 'the live session keeps its scopes');
        const { cookie } = await login(app, USERS.nidapan);
        const after = await app.inject({ method: 'GET', url: '/api/me', cookies: { session: cookie } });
        assert.deepEqual(after.json().scopes, ['user:read', 'user:write']);
      });

      it('accepts the names as one space-separated string, as a form or a script sends them', async () => {
        const response = await setScopes('mary', 262556, 'user:read');
        assert.deepEqual(response.json().scopes, ['user:read']);
      });

      it('accepts names separated by spaces or commas, repeated form fields and JSON arrays alike', async () => {
        const expected = { emp_no: 262556, scopes: ['admin:read', 'user:read'] };
        const forms = [
          'scopes=user:read%20admin:read',
          'scopes=user:read+admin:read',
          'scopes=user:read,admin:read',
          'scopes=user:read,%20admin:read',
          'scopes=user:read&scopes=admin:read',
        ];
        for (const payload of forms) {
          const response = await app.inject({
            method: 'POST',
            url: '/emp/scopes/262556',
            headers: { ...FORM, ...API },
            cookies: as('kyoichi'),
            payload,
          });
          assert.equal(response.statusCode, 200, payload);
          assert.deepEqual(response.json(), expected, payload);
          assert.deepEqual((await setScopes('kyoichi', 262556, [])).json(), { emp_no: 262556, scopes: [] });
        }
        for (const scopes of ['user:read admin:read', 'user:read,admin:read', ['user:read', 'admin:read'], ['user:read admin:read']]) {
          assert.deepEqual((await setScopes('kyoichi', 262556, scopes)).json(), expected, JSON.stringify(scopes));
        }
        const unknown = await setScopes('kyoichi', 262556, 'user:read root,admin:read');
        assert.equal(unknown.statusCode, 422);
        assert.deepEqual(unknown.json().errors, [
          { field: 'scopes', message: 'Unknown scope root; valid: user:read, user:write, admin:read, admin:write, audit:read, super:*' },
        ]);
        assert.deepEqual((await setScopes('kyoichi', 262556, 'user:read')).json(), { emp_no: 262556, scopes: ['user:read'] });
      });

      it('refuses to grant or take away more than the administrator holds, or to change oneself', async () => {
        assert.equal((await setScopes('kyoichi', 262556, ['super:*'])).statusCode, 403);
        assert.equal((await setScopes('kyoichi', 10011, ['user:read'])).statusCode, 403, 'cannot demote super:*');
        assert.equal((await setScopes('kyoichi', 10005, ['user:read'])).statusCode, 403, 'not oneself');
        assert.equal((await setScopes('weijing', 262556, ['user:read'])).statusCode, 403, 'admin:read only');
        assert.deepEqual((await get('mary', '/emp/scopes/10011')).json().scopes, ['super:*']);
      });

      it('names an unknown scope', async () => {
        const response = await setScopes('mary', 262556, ['user:read', 'root']);
        assert.equal(response.statusCode, 422);
        assert.equal(response.json().errors[0].field, 'scopes');
        assert.match(response.json().errors[0].message, /Unknown scope root/);
      });

      it('shows the scopes on the maintenance page and saves them from its form', async () => {
        const page = await get('kyoichi', '/emp/admin-get-update/262556', BROWSER);
        assert.match(page.body, /<input type="checkbox" name="scopes" value="user:read" checked>/);
        assert.match(page.body, /<input type="checkbox" name="scopes" value="admin:read">/);
        const saved = await post('kyoichi', '/emp/scopes/262556', { scopes: 'user:read' }, BROWSER);
        assert.equal(saved.statusCode, 303);
        assert.equal(saved.headers.location, '/emp/admin-get-update/262556?saved=scopes');
      });

      it("answers a browser's GET of the scopes and sessions routes with pages", async () => {
        const scopes = await get('kyoichi', '/emp/scopes/262556', BROWSER);
        assert.equal(scopes.statusCode, 303);
        assert.equal(scopes.headers.location, '/emp/admin-get-update/262556#access-heading');
        const sessions = await get('kyoichi', '/emp/sessions/500222', BROWSER);
        assert.equal(sessions.statusCode, 200);
        assert.match(sessions.body, /<h1>Sessions of Be Hai Doe \(500222\)<\/h1>/);
        assert.match(sessions.body, /<button type="submit" class="danger">End all sessions<\/button>/);
        const own = await get('kyoichi', '/emp/sessions/10005', BROWSER);
        assert.match(own.body, /These are your own sessions/);
        assert.doesNotMatch(own.body, /End all sessions<\/button>/);
      });

      it('asks a browser to confirm ending sessions or disabling a login, and changes nothing until then', async () => {
        const ask = await post('kyoichi', '/emp/account/262556', { disabled: 'true' }, BROWSER);
        assert.equal(ask.statusCode, 200);
        assert.match(ask.body, /<h1 id="confirm-heading">Disable the login of Nidapan Samarati\?<\/h1>/);
        assert.match(ask.body, /<input type="hidden" name="disabled" value="true">\s*<input type="hidden" name="confirmed" value="yes">/);
        assert.equal((await get('kyoichi', '/emp/admin-get-update/262556', BROWSER)).body.includes('This login is enabled.'), true);
        const endAll = await post('kyoichi', '/emp/sessions/262556/end-all', {}, BROWSER);
        assert.match(endAll.body, /<h1 id="confirm-heading">End all sessions of Nidapan Samarati\?<\/h1>/);
        assert.match(endAll.body, /<a class="button secondary" href="\/emp\/admin-get-update\/262556">Cancel<\/a>/);
        const confirmed = await post('kyoichi', '/emp/sessions/262556/end-all', { confirmed: 'yes' }, BROWSER);
        assert.equal(confirmed.statusCode, 303);
        assert.equal(confirmed.headers.location, '/emp/admin-get-update/262556?saved=sessions');
      });
    });

    describe('the /api aliases', () => {
      it('always answer JSON, even to a browser', async () => {
        const me = await get('behai', '/api/me', BROWSER);
        assert.match(me.headers['content-type'] as string, /^application\/json/);
        assert.equal(me.json().emp_no, 500222);
        const search = await get('kyoichi', '/api/emp/search/%nas%/%An', BROWSER);
        assert.ok(search.json().items.length > 0);
        const unauthenticated = await app.inject({ method: 'GET', url: '/api/me', headers: BROWSER });
        assert.equal(unauthenticated.statusCode, 401);
        assert.deepEqual(unauthenticated.json(), NOT_AUTHENTICATED);
      });

      it('log in and out as JSON', async () => {
        const loginResponse = await app.inject({
          method: 'POST',
          url: '/api/login',
          headers: { ...FORM, ...BROWSER },
          payload: form(credentials(USERS.nidapan)),
        });
        assert.equal(loginResponse.statusCode, 200);
        const { access_token: token } = loginResponse.json();
        const logout = await app.inject({ method: 'POST', url: '/api/logout', headers: { ...BROWSER, authorization: `Bearer ${token}` } });
        assert.deepEqual(logout.json(), { message: 'You have been logged out' });
      });

      it('honour the original x-expected-format header on page routes', async () => {
        const json = await get('behai', '/admin/me', { 'x-expected-format': 'application/json', ...BROWSER });
        assert.equal(json.json().emp_no, 500222);
        const html = await get('behai', '/admin/me', { 'x-expected-format': 'text/html' });
        assert.match(html.body, /<h1>My details<\/h1>/);
      });

      it('honour x-expected-format as the original reads it: form field, then cookie, then header', async () => {
        const cookieJson = await app.inject({
          method: 'GET',
          url: '/admin/me',
          headers: BROWSER,
          cookies: { ...as('behai'), 'x-expected-format': 'application/json' },
        });
        assert.equal(cookieJson.json().emp_no, 500222);
        const cookieBeatsHeader = await app.inject({
          method: 'GET',
          url: '/admin/me',
          headers: { 'x-expected-format': 'text/html' },
          cookies: { ...as('behai'), 'x-expected-format': 'application/json' },
        });
        assert.equal(cookieBeatsHeader.json().emp_no, 500222);
        const fieldBeatsAll = await app.inject({
          method: 'POST',
          url: '/auth/token',
          headers: { ...FORM, 'x-expected-format': 'application/json' },
          cookies: { 'x-expected-format': 'application/json' },
          payload: form({ ...credentials(USERS.nidapan), 'x-expected-format': 'text/html' }),
        });
        assert.equal(fieldBeatsAll.statusCode, 303);
        assert.equal(fieldBeatsAll.headers.location, '/auth/home');
      });

      it('name the address email in /admin/me and /api/me, keeping username', async () => {
        for (const url of ['/admin/me', '/api/me']) {
          const me = (await get('behai', url)).json();
          assert.equal(me.email, 'behai_nguyen@hotmail.com', url);
          assert.equal(me.username, 'behai_nguyen@hotmail.com', url);
        }
      });
    });
  });
}
