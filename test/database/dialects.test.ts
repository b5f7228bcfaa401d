import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUniqueViolation } from '../../src/database/dialects.js';

describe('isUniqueViolation', () => {
  it('recognises each driver\'s duplicate-key error', () => {
    const duplicates = [
      { code: '23505' }, // pg
      { code: 'ER_DUP_ENTRY', errno: 1062 }, // mysql2
      { code: 'SQLITE_CONSTRAINT_UNIQUE' }, // better-sqlite3
      { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' },
    ];
    assert.deepEqual(duplicates.map(isUniqueViolation), [true, true, true, true]);
  });

  it('refuses other constraint errors, outages and non-errors', () => {
    const others = [
      { code: '23514' }, // pg check violation
      { code: 'SQLITE_CONSTRAINT_CHECK' },
      { code: 'ECONNREFUSED' },
      new Error('duplicate key'),
      null,
      'ER_DUP_ENTRY',
    ];
    assert.deepEqual(others.map(isUniqueViolation), others.map(() => false));
  });
});
