/**
 * Second factors, TOTP kind (src/identity/second-factor/, src/employees/second-factor-repository.ts):
 *
 * - `totp_factors`: at most one authenticator per employee. `secret` is the seed sealed with
 *   AES-256-GCM under a key derived from SECRET_KEY (identity/second-factor/secret-box.ts), never
 *   the seed itself. `confirmed_at` is null until a code from the app has been accepted: only a
 *   confirmed factor counts. `last_step` is the TOTP time step of the last accepted code, so the
 *   same code (or an earlier one) is refused afterwards.
 * - `recovery_codes`: SHA-256 of each one-time code (identity/second-factor/recovery-codes.ts);
 *   `used_at` is set when it is spent.
 *
 * No foreign key to employees, as in the audit trail: employees are never deleted, and the tables
 * stay simple on every engine. Times are ISO-8601 UTC text, as in audit_events.
 *
 * Frozen history: see 2026_11_27_0001_employees.ts.
 */
import type { Kysely, Migration } from 'kysely';
import { dialectOf, portableTable } from '../dialects.js';

export const secondFactorMigration: Migration = {
  async up(db: Kysely<any>) {
    const dialect = dialectOf(db);
    await db.schema
      .createTable('totp_factors')
      .addColumn('emp_no', 'integer', (column) => column.primaryKey())
      .addColumn('secret', 'varchar(200)', (column) => column.notNull())
      .addColumn('created_at', 'varchar(24)', (column) => column.notNull())
      .addColumn('confirmed_at', 'varchar(24)')
      .addColumn('last_step', 'integer')
      .$call(portableTable(dialect, 'totp_factors', { dates: [], varchars: { secret: 200, created_at: 24, confirmed_at: 24 } }))
      .execute();
    await db.schema
      .createTable('recovery_codes')
      .addColumn('emp_no', 'integer', (column) => column.notNull())
      .addColumn('code_hash', 'varchar(64)', (column) => column.notNull())
      .addColumn('used_at', 'varchar(24)')
      .addPrimaryKeyConstraint('recovery_codes_pk', ['emp_no', 'code_hash'])
      .$call(portableTable(dialect, 'recovery_codes', { dates: [], varchars: { code_hash: 64, used_at: 24 } }))
      .execute();
  },

  async down(db: Kysely<any>) {
    await db.schema.dropTable('recovery_codes').execute();
    await db.schema.dropTable('totp_factors').execute();
  },
};
