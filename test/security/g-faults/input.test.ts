/**
 * Checklist group G, odd input on every engine (G-09, G-10): encodings in the login form, and SQL
 * metacharacters in every search field and in the login name.
 *
 * The other fault kinds are beside this file; docs/SECURITY.md lists them by checklist id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hash as argon2Hash } from '@node-rs/argon2';
import { FORM, form, login, useSuiteApp } from '../../helpers/app.js';
import { createTestDatabase, ENGINES, gateFor, type TestDatabase } from '../../helpers/databases.js';
import { me, timed } from '../support.js';
import { ADMIN, U1 } from '../../helpers/people.js';
import { INCORRECT } from '../../helpers/messages.js';

for (const engine of ENGINES) {
  describe(`G-09 and G-10 on ${engine}`, await gateFor(engine), () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase(engine);
    });
    const { app } = useSuiteApp({
      store: 'redis',
      env: () => ({ DATABASE_URL: database.url, LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_CLIENT: '100000' }),
    });
    after(async () => {
      await database?.cleanup();
    });
    let admin: { cookie: string };
    before(async () => {
      admin = await login(app, ADMIN);
    });

    const postLogin = (payload: string) => app.inject({ method: 'POST', url: '/auth/token', headers: FORM, payload });

    it(`G-09 answers odd encodings in the login form with 400 or 422, never a 5xx, and pollutes no prototype (${engine})`, async () => {
      const bodies = [
        'username=%C3%28&password=%FF%FE',
        'username=%',
        'username=%&password=%',
        'username=%C0%AF&password=%C0%AF',
        'username=%ED%A0%80&password=%ED%A0%80',
        Array.from({ length: 10_000 }, () => 'a=1').join('&'),
        '__proto__[admin]=1&constructor[prototype][admin]=1&__proto__=x&username=a%40b.c&password=x',
        'username[]=a&password[]=b',
        'username=a&username=b&password=x',
      ];
      for (const body of bodies) {
        const response = await postLogin(body);
        assert.ok([400, 413, 422].includes(response.statusCode), `${body.slice(0, 50)}: ${response.statusCode} ${response.body}`);
      }
      assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype pollution');
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'admin'), false);
      assert.deepEqual((await me(app, { cookie: admin.cookie })).json().username, ADMIN.username, 'later requests are normal');
    });

    it(`G-09 does not truncate a username at a NUL byte (${engine})`, {}, async () => {
      const response = await postLogin(form({ username: `${U1.username}\u0000x`, password: U1.password }));
      assert.equal(response.statusCode, 400);
      assert.deepEqual(response.json(), INCORRECT);
    });

    it(`G-09 compares login names after one normalisation, the same on every engine (${engine})`, async () => {
      // The rule (docs/SECURITY.md): an email is trimmed, NFKC-normalised and lower-cased when stored
      // and when looked up, and then compared exactly (MariaDB's column is utf8mb4_bin). So an NFD
      // spelling is the same person everywhere, and a spelling without the accent is nobody, on
      // MariaDB too (its old accent-insensitive collation let `zoe` log in as `zoë`).
      const nfc = 'zoë.nfc.test@example.com'.normalize('NFC');
      await app.db
        .insertInto('employees')
        .values({
          emp_no: 900_001,
          birth_date: '1990-01-01',
          first_name: 'Zoë',
          last_name: 'Unicode',
          gender: 'F',
          hire_date: '2020-01-01',
          email: nfc,
          password: await argon2Hash('password'),
        })
        .execute();
      const status = async (username: string) => (await postLogin(form({ username, password: 'password' }))).statusCode;
      assert.equal(await status(nfc), 200);
      assert.equal(await status(nfc.toUpperCase()), 200, 'case never matters');
      assert.equal(await status(nfc.normalize('NFD')), 200, 'NFD is the same name');
      assert.equal(await status('zoe.nfc.test@example.com'), 400, 'without the diaeresis');
    });

    describe(`G-10 (${engine})`, () => {
      const search = (last: string, first = '%', query = '') =>
        app.inject({
          method: 'GET',
          url: `/api/emp/search/${encodeURIComponent(last)}/${encodeURIComponent(first)}${query}`,
          cookies: { session: admin.cookie },
        });

      it(`G-10 matches SQL metacharacters literally in every search field, with no error text and no extra rows (${engine})`, async () => {
        const baseline = await search('%nas%', '%An');
        assert.equal(baseline.statusCode, 200);
        assert.ok(baseline.json().items.length > 0);
        const payloads = [
          "' OR '1'='1",
          "'; DROP TABLE employees;--",
          "%' UNION SELECT password_hash FROM employees--",
          "';DROP TABLE x;--",
          "'UNION SELECT 1",
          '1) OR SLEEP(5)#',
          "'||pg_sleep(5)--",
          "' AND randomblob(500000000)--",
          '_',
          '\\',
          '\\%',
          '"; --',
        ];
        const baselineMs = (await timed(() => search('%zz%'))).ms;
        for (const payload of payloads) {
          for (const [last, first] of [
            [`%${payload}%`, '%'],
            ['%', `%${payload}%`],
          ] as const) {
            for (const method of ['GET', 'POST'] as const) {
              const { value, ms } = await timed(() =>
                app.inject({
                  method,
                  url: `/api/emp/search/${encodeURIComponent(last)}/${encodeURIComponent(first)}`,
                  cookies: { session: admin.cookie },
                }),
              );
              // Names are at most 16 characters with a % (the original's rule): 422 naming the field
              // for longer payloads, else a literal match, which finds nobody.
              assert.ok([200, 422].includes(value.statusCode), `${method} ${payload}: ${value.body}`);
              if (value.statusCode === 200)
                assert.deepEqual(value.json(), { items: [], page: 1, size: 50, has_more: false }, `${payload}: matched literally, nothing`);
              else assert.match(value.json().errors[0].field, /^(lastName|firstName)$/);
              assert.doesNotMatch(value.body, /syntax|sqlite|mysql|postgres|relation|column/i);
              assert.ok(ms < baselineMs + 500, `${payload}: ${ms.toFixed(0)} ms`);
            }
          }
        }
        const viaForm = await app.inject({
          method: 'GET',
          url: `/api/emp/search?last_name=${encodeURIComponent("%' OR '1'='1")}&first_name=%25`,
          cookies: { session: admin.cookie },
        });
        assert.equal(viaForm.statusCode, 303);
        const followed = await app.inject({ method: 'GET', url: viaForm.headers.location!, cookies: { session: admin.cookie } });
        assert.deepEqual(followed.json().items, []);
        assert.equal(
          await app.db.selectFrom('employees').select('emp_no').limit(1).executeTakeFirst().then(Boolean),
          true,
          'the table is still there',
        );
      });

      it(`G-10 caps paging, ignores a sort it does not offer, and never returns a hash (${engine})`, async () => {
        for (const query of ['?size=-1', '?size=1000000000', '?size=101', '?page=0', '?page=-1', '?size=1;--', '?page=1e9']) {
          const response = await search('%a%', '%', query);
          assert.equal(response.statusCode, 422, query);
          assert.doesNotMatch(response.body, /sql|syntax|select/i);
        }
        const plain = await search('%a%', '%', '?size=100');
        assert.ok(plain.json().items.length > 10 && plain.json().items.length <= 100);
        for (const sort of ['password', 'password_hash', '1;--', '(CASE WHEN 1=1 THEN emp_no END)']) {
          const sorted = await search('%a%', '%', `?size=100&sort=${encodeURIComponent(sort)}&order=${encodeURIComponent(sort)}`);
          assert.equal(sorted.statusCode, 200, sort);
          assert.deepEqual(sorted.json(), plain.json(), `${sort}: results by employee number, as always`);
          assert.doesNotMatch(sorted.body, /\$argon2|\$2[aby]\$|"password"/);
        }
      });

      it(`G-10 treats SQL in the login name as a name like any other (${engine})`, async () => {
        for (const payload of [
          "' OR '1'='1",
          "admin'--",
          "x' UNION SELECT 1,2,3--",
          `${U1.username}' --`,
          "'||pg_sleep(5)--",
          '1) OR SLEEP(5)#',
        ]) {
          const { value, ms } = await timed(() => postLogin(form({ username: payload, password: "' OR 1=1 --" })));
          assert.equal(value.statusCode, 400, payload);
          assert.deepEqual(value.json(), INCORRECT);
          assert.ok(ms < 3000, `${payload}: ${ms.toFixed(0)} ms`);
        }
      });

      it(`G-10 refuses a NUL byte in a search field as input, not as a server error (${engine})`, {}, async () => {
        const response = await search('%a\u0000b%');
        assert.ok([200, 422].includes(response.statusCode), `${response.statusCode} ${response.body}`);
      });
    });
  });
}
