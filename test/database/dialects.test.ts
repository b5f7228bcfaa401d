import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeLikeLiteral, isTransactionConflict, isUniqueViolation } from '../../src/database/dialects.js';

describe('isUniqueViolation', () => {
  it("recognises each driver's duplicate-key error", () => {
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
    assert.deepEqual(
      others.map(isUniqueViolation),
      others.map(() => false),
    );
  });
});

describe('isTransactionConflict', () => {
  it('recognises deadlocks and serialization failures, which a retry fixes', () => {
    const conflicts = [
      { code: '40001' }, // pg serialization_failure
      { code: '40P01' }, // pg deadlock_detected
      { code: 'ER_LOCK_DEADLOCK', errno: 1213 }, // mysql2
      { code: 'SQLITE_BUSY_SNAPSHOT' },
    ];
    assert.deepEqual(conflicts.map(isTransactionConflict), [true, true, true, true]);
  });

  it('refuses unique violations, outages and non-errors', () => {
    const others = [{ code: '23505' }, { code: 'ER_DUP_ENTRY' }, { code: 'SQLITE_BUSY' }, { code: 'ECONNRESET' }, null, '40001'];
    assert.deepEqual(
      others.map(isTransactionConflict),
      others.map(() => false),
    );
  });
});

describe('escapeLikeLiteral', () => {
  it('escapes %, _ and the escape character ! with !, and leaves everything else, backslash included', () => {
    assert.deepEqual(['Gornas', '100%', 'snake_case', 'Bang!', 'a\\b', "o'neil", '%_!'].map(escapeLikeLiteral), [
      'Gornas',
      '100!%',
      'snake!_case',
      'Bang!!',
      'a\\b',
      "o'neil",
      '!%!_!!',
    ]);
  });
});
