/**
 * Passkeys (WebAuthn credentials) as a second factor: one row per credential a person registered
 * (src/identity/second-factor/passkeys.ts, src/employees/passkey-repository.ts).
 *
 * - `credential_id`: the credential's id as base64url, the primary key (no credential belongs to two
 *   people). Base64url is case-sensitive, so MySQL compares it in `ascii_bin`: its default utf8mb4
 *   collation would make `AbC` and `abc` one id. At most 342 characters (256 bytes), which the rules
 *   enforce before anything is stored.
 * - `public_key`: the COSE public key as base64url text, the same on every engine (no BLOB types).
 * - `sign_count`: the authenticator's signature counter, an unsigned 32-bit number, hence BIGINT.
 * - `transports`: what the browser reported (`internal,hybrid`), comma-separated, or NULL.
 * - `name`: what the person called it ("Laptop"), up to 64 characters.
 * - `created_at`, `last_used_at`: ISO-8601 UTC text with milliseconds, as `audit_events` keeps time.
 *
 * The credentials go with their employee (ON DELETE CASCADE).
 *
 * Frozen history: see 2026_11_27_0001_employees.ts.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf, portableTable } from '../dialects.js';

const TABLE = 'passkeys';

export const passkeysMigration: Migration = {
  async up(db: Kysely<any>) {
    const dialect = dialectOf(db);
    await db.schema
      .createTable(TABLE)
      .addColumn(
        'credential_id',
        dialect === 'mysql' ? sql`varchar(342) character set ascii collate ascii_bin` : 'varchar(342)',
        (column) => column.primaryKey(),
      )
      // The same type as employees.emp_no, which MySQL requires of a foreign key.
      .addColumn('emp_no', 'integer', (column) => column.notNull())
      .addColumn('public_key', 'text', (column) => column.notNull())
      .addColumn('sign_count', 'bigint', (column) => column.notNull())
      .addColumn('transports', 'varchar(200)')
      .addColumn('name', 'varchar(64)', (column) => column.notNull())
      .addColumn('created_at', 'varchar(24)', (column) => column.notNull())
      .addColumn('last_used_at', 'varchar(24)')
      .addForeignKeyConstraint(`${TABLE}_emp_no_fkey`, ['emp_no'], 'employees', ['emp_no'], (fk) => fk.onDelete('cascade'))
      .$call(
        portableTable(dialect, TABLE, {
          dates: [],
          varchars: { credential_id: 342, transports: 200, name: 64, created_at: 24, last_used_at: 24 },
        }),
      )
      .execute();
    await db.schema.createIndex(`${TABLE}_emp_no_idx`).on(TABLE).column('emp_no').execute();
  },

  async down(db: Kysely<any>) {
    await db.schema.dropTable(TABLE).execute();
  },
};
