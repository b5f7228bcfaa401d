import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isValidEmail,
  parseFormDate,
  validateEmployeeUpdate,
  validateEmpNo,
  validateNewEmployee,
  validateSearch,
} from '../../src/employees/validation.js';

// The messages are written out here, not imported, so that changing one is a visible decision.
const MSG = {
  birthDate: 'For birth date, please enter a date in format dd/mm/yyyy. E.g. 25/2/1999',
  firstName: 'For first name, please enter between 1 and 14 characters',
  lastName: 'For last name, please enter between 1 and 16 characters',
  gender: 'Please select a gender',
  hireDate: 'For hire date, please enter a date in format dd/mm/yyyy. E.g. 25/2/2011',
  emailLength: 'Please enter up to 255 characters',
  email: 'Please enter a valid email address',
  password: 'Please enter between 10 and 64 characters',
  passwordBytes: 'Please enter at most 72 bytes: each letter outside plain ASCII (é, ß, 日) takes 2 to 4',
  hireAfterBirth: 'Hire Date must be after Birth Date',
  missingEmpNo: 'Missing employee number',
  invalidEmpNo: 'Employee number must be a whole number from 1 to 2147483647, in digits only',
  searchLastName: 'Please enter at most 16 characters of the last name, not counting %. E.g. nas, or Gor%',
  searchFirstName: 'Please enter at most 14 characters of the first name, not counting %. E.g. an, or %An',
};

/** The original series' round-trip record: the form it posted and read back. */
const NEW_FORM = {
  email: 'behai_nguyen_1@hotmail.com',
  password: ',[(/V(w8#);("KG5~$',
  birthDate: '25/12/1971',
  firstName: 'Be Hai',
  lastName: 'Doe',
  gender: 'M',
  hireDate: '17/9/1975',
};

const UPDATE_FORM = { empNo: '500222', birthDate: '9/12/1978', firstName: 'Be Hai', lastName: 'Doe', gender: 'F', hireDate: '11/8/2005' };

const BLANK = { empNo: '', email: '', password: '', birthDate: '', firstName: '', lastName: '', gender: '', hireDate: '' };

describe('validateNewEmployee', () => {
  it('lists seven problems for an all-blank form, in the original order: the five fields, email twice, password', () => {
    assert.deepEqual(validateNewEmployee(BLANK), {
      ok: false,
      errors: [
        { field: 'birthDate', message: MSG.birthDate },
        { field: 'firstName', message: MSG.firstName },
        { field: 'lastName', message: MSG.lastName },
        { field: 'gender', message: MSG.gender },
        { field: 'hireDate', message: MSG.hireDate },
        { field: 'email', message: MSG.emailLength },
        { field: 'email', message: MSG.email },
        { field: 'password', message: MSG.password },
      ],
    });
  });

  it('treats missing keys, and values that are not text, as blank', () => {
    assert.deepEqual(validateNewEmployee({ firstName: ['Be', 'Hai'], gender: { M: true } }), validateNewEmployee(BLANK));
  });

  it('accepts a valid form: ISO dates with leading zeros, email lower-cased, names trimmed, unknown keys ignored', () => {
    const form = {
      ...NEW_FORM,
      email: ' Behai_Nguyen_1@HotMail.com ',
      firstName: '  Be Hai ',
      lastName: 'Doe\t',
      isAdmin: 'yes',
      empNo: '',
    };
    assert.deepEqual(validateNewEmployee(form), {
      ok: true,
      value: {
        email: 'behai_nguyen_1@hotmail.com',
        password: ',[(/V(w8#);("KG5~$',
        birthDate: '1971-12-25',
        firstName: 'Be Hai',
        lastName: 'Doe',
        gender: 'M',
        hireDate: '1975-09-17',
      },
    });
  });

  it('reports a hire date on or before the birth date last, on hireDate', () => {
    assert.deepEqual(validateNewEmployee({ ...NEW_FORM, hireDate: '25/12/1971', password: 'short' }), {
      ok: false,
      errors: [
        { field: 'password', message: MSG.password },
        { field: 'hireDate', message: MSG.hireAfterBirth },
      ],
    });
    assert.deepEqual(validateNewEmployee({ ...NEW_FORM, hireDate: '1970-01-01' }), {
      ok: false,
      errors: [{ field: 'hireDate', message: MSG.hireAfterBirth }],
    });
  });

  it('counts name lengths in characters, as the database does: 14 first and 16 last at most', () => {
    const ok = validateNewEmployee({ ...NEW_FORM, firstName: '日'.repeat(14), lastName: '𝒜'.repeat(16) });
    assert.equal(ok.ok, true);
    assert.deepEqual(validateNewEmployee({ ...NEW_FORM, firstName: 'Abcdefghijklmno', lastName: 'Abcdefghijklmnopq' }), {
      ok: false,
      errors: [
        { field: 'firstName', message: MSG.firstName },
        { field: 'lastName', message: MSG.lastName },
      ],
    });
  });

  it('takes only M or F as the gender', () => {
    const genders = ['M', 'F', ' F ', 'm', 'X', 'Male'].map((gender) => validateNewEmployee({ ...NEW_FORM, gender }).ok);
    assert.deepEqual(genders, [true, true, true, false, false, false]);
  });

  it('gives one message for an over-long email, and the format message for a malformed one', () => {
    const email = (length: number) => `${'a'.repeat(64)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(length - 199)}.example.com`;
    assert.equal(validateNewEmployee({ ...NEW_FORM, email: email(255) }).ok, true);
    const longEmail = email(256);
    assert.equal(longEmail.length, 256);
    assert.deepEqual(validateNewEmployee({ ...NEW_FORM, email: longEmail }), {
      ok: false,
      errors: [{ field: 'email', message: MSG.emailLength }],
    });
    assert.deepEqual(validateNewEmployee({ ...NEW_FORM, email: '.10153@gmail.com' }), {
      ok: false,
      errors: [{ field: 'email', message: MSG.email }],
    });
  });

  it('requires a password of 10 to 64 characters, not trimmed', () => {
    const passwords = ['123456789', '1234567890', ' 12345678 ', 'p'.repeat(64), 'p'.repeat(65), '          '];
    assert.deepEqual(
      passwords.map((password) => {
        const result = validateNewEmployee({ ...NEW_FORM, password });
        return result.ok ? result.value.password : result.errors;
      }),
      [
        [{ field: 'password', message: MSG.password }],
        '1234567890',
        ' 12345678 ',
        'p'.repeat(64),
        [{ field: 'password', message: MSG.password }],
        '          ',
      ],
    );
  });

  it('refuses a password of more than 72 bytes with a message of its own, even under 64 characters', () => {
    assert.deepEqual(validateNewEmployee({ ...NEW_FORM, password: 'é'.repeat(37) }), {
      ok: false,
      errors: [{ field: 'password', message: MSG.passwordBytes }],
    });
    assert.equal(validateNewEmployee({ ...NEW_FORM, password: 'é'.repeat(36) }).ok, true);
  });
});

describe('validateEmployeeUpdate', () => {
  it('lists six problems for an all-blank form: the five fields, then the employee number', () => {
    assert.deepEqual(validateEmployeeUpdate(BLANK), {
      ok: false,
      errors: [
        { field: 'birthDate', message: MSG.birthDate },
        { field: 'firstName', message: MSG.firstName },
        { field: 'lastName', message: MSG.lastName },
        { field: 'gender', message: MSG.gender },
        { field: 'hireDate', message: MSG.hireDate },
        { field: 'empNo', message: MSG.missingEmpNo },
      ],
    });
  });

  it('accepts a valid form, and never reads email or password, however wrong', () => {
    assert.deepEqual(validateEmployeeUpdate({ ...UPDATE_FORM, email: 'not an email', password: '' }), {
      ok: true,
      value: { empNo: 500222, birthDate: '1978-12-09', firstName: 'Be Hai', lastName: 'Doe', gender: 'F', hireDate: '2005-08-11' },
    });
  });

  it('reads the employee number from digits only (not even spaces around them), within a 32-bit integer', () => {
    const numbers = ['500222', 500222, '0010001', '2147483647'];
    assert.deepEqual(
      numbers.map((empNo) => validateEmpNo({ empNo })),
      [500222, 500222, 10001, 2147483647].map((value) => ({ ok: true, value })),
    );
    const wrong = [
      'abc',
      '-5',
      '+5',
      '1.5',
      '0',
      '1e3',
      '0x10',
      '2147483648',
      '99999999999999999999',
      1.5,
      -1,
      ' 500222 ',
      '500222\n',
      '１０００１',
      '10001.0',
    ];
    assert.deepEqual(
      wrong.map((empNo) => validateEmpNo({ empNo })),
      wrong.map(() => ({ ok: false, errors: [{ field: 'empNo', message: MSG.invalidEmpNo }] })),
    );
  });

  it('calls a missing, blank or null employee number missing', () => {
    assert.deepEqual(
      [{}, { empNo: '' }, { empNo: '   ' }, { empNo: null }].map((input) => validateEmpNo(input)),
      [0, 1, 2, 3].map(() => ({ ok: false, errors: [{ field: 'empNo', message: MSG.missingEmpNo }] })),
    );
  });

  it('reports a hire date before the birth date after every field', () => {
    assert.deepEqual(validateEmployeeUpdate({ ...UPDATE_FORM, empNo: 'x', hireDate: '1/1/1970' }), {
      ok: false,
      errors: [
        { field: 'empNo', message: MSG.invalidEmpNo },
        { field: 'hireDate', message: MSG.hireAfterBirth },
      ],
    });
  });
});

describe('parseFormDate', () => {
  it('reads d/m/yyyy with or without leading zeros, and ISO yyyy-mm-dd, as ISO', () => {
    const dates = ['25/12/1971', '1/2/2003', '01/02/2003', '9/12/1978', '29/2/2000', '1978-12-09', '2000-02-29', '1/1/1900', '31/12/2100'];
    assert.deepEqual(dates.map(parseFormDate), [
      '1971-12-25',
      '2003-02-01',
      '2003-02-01',
      '1978-12-09',
      '2000-02-29',
      '1978-12-09',
      '2000-02-29',
      '1900-01-01',
      '2100-12-31',
    ]);
  });

  it('refuses impossible dates, years outside 1900..2100 and other shapes', () => {
    const wrong = [
      '30/2/1999',
      '29/2/1999',
      '29/2/1900',
      '31/4/2000',
      '0/1/2000',
      '1/0/2000',
      '1/13/2000',
      '32/1/2000',
      '1999-02-29',
      '2000-13-01',
      '2000-1-1',
      '31/12/1899',
      '1/1/2101',
      '12/25/1971',
      '25-12-1971',
      '25/12/71',
      '25.12.1971',
      '2000-01-01T00:00',
      '',
      ' 1/1/2000x',
    ];
    assert.deepEqual(
      wrong.map(parseFormDate),
      wrong.map(() => undefined),
    );
  });

  it('gives the date message when a form date is impossible', () => {
    assert.deepEqual(validateNewEmployee({ ...NEW_FORM, birthDate: '30/2/1971', hireDate: '2000-02-30' }), {
      ok: false,
      errors: [
        { field: 'birthDate', message: MSG.birthDate },
        { field: 'hireDate', message: MSG.hireDate },
      ],
    });
  });
});

describe('isValidEmail', () => {
  it('accepts ordinary addresses, tags, apostrophes and sub-domains', () => {
    const good = [
      'behai_nguyen@hotmail.com',
      'kyoichi.maliniak.10005@gmail.com',
      "o'neil@example.co.uk",
      'a+tag@mail.example.org',
      'x@xn--p1ai.xn--p1ai',
    ];
    assert.deepEqual(
      good.map(isValidEmail),
      good.map(() => true),
    );
  });

  it('refuses addresses without a dotted domain, with stray dots, spaces or a numeric top level', () => {
    const bad = [
      '',
      'plain',
      '@gmail.com',
      '.10153@gmail.com',
      'a.@gmail.com',
      'a..b@gmail.com',
      'a@b',
      'a@-b.com',
      'a@b-.com',
      'a b@gmail.com',
      'a@b..com',
      'a@1.2.3.4',
      'a@gmail.com.',
      'é@example.com',
      `${'a'.repeat(65)}@example.com`,
    ];
    assert.deepEqual(
      bad.map(isValidEmail),
      bad.map(() => false),
    );
  });
});

describe('validateSearch', () => {
  it('keeps patterns with % as they are, trimmed, up to 16 (last) and 14 (first) characters besides %', () => {
    assert.deepEqual(validateSearch({ lastName: ' %nas% ', firstName: '%An' }), {
      ok: true,
      value: { lastName: '%nas%', firstName: '%An' },
    });
    assert.deepEqual(validateSearch({ lastName: `%${'a'.repeat(16)}%`, firstName: `${'b'.repeat(14)}%` }).ok, true);
  });

  it('turns a plain name into "contains it" and a blank or missing one into "any"', () => {
    assert.deepEqual(validateSearch({ lastName: 'nas', firstName: ' An ' }), { ok: true, value: { lastName: '%nas%', firstName: '%An%' } });
    assert.deepEqual(validateSearch({ lastName: '', firstName: '  ' }), { ok: true, value: { lastName: '%', firstName: '%' } });
    assert.deepEqual(validateSearch({}), { ok: true, value: { lastName: '%', firstName: '%' } });
  });

  it('refuses a name longer than its column, last name first', () => {
    const wrong = [
      { lastName: 'a'.repeat(17), firstName: 'b'.repeat(15) },
      { lastName: `${'a'.repeat(17)}%`, firstName: `%${'b'.repeat(15)}` },
    ];
    assert.deepEqual(
      wrong.map((input) => validateSearch(input)),
      wrong.map(() => ({
        ok: false,
        errors: [
          { field: 'lastName', message: MSG.searchLastName },
          { field: 'firstName', message: MSG.searchFirstName },
        ],
      })),
    );
  });
});
