/**
 * One email, one person, on every engine. Emails are normalised by the app before they are stored
 * or looked up (trim, Unicode NFKC, lower case: `normaliseEmail` in employee-repository.ts), and
 * then compared exactly. SQLite and PostgreSQL compare text exactly already; MySQL/MariaDB compared
 * this column under utf8mb4's default collation, which ignores accents and folds `\u212A` (Kelvin)
 * to `k`, so `kyòichi@…` found `kyoichi@…` there and nowhere else, and the login throttle, keyed on
 * the spelling given, gave each such spelling fresh guesses. utf8mb4_bin compares code points.
 *
 * First, rows stored before the app normalised this way (lower case only) are normalised, so that
 * exact comparison finds them. Two rows that become one email stop the migration with both numbers
 * named: one of the two must be given another email by hand.
 *
 * Frozen history: see 2026_11_27_0001_employees.ts. The normalisation is copied here, not imported,
 * so that this migration keeps doing what it did should the app's rule ever change.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf, isUniqueViolation } from '../dialects.js';

const BATCH_SIZE = 5_000;

function normalised(email: string): string {
  return email.normalize('NFKC').toLowerCase().normalize('NFKC').trim();
}

/** Rewrites every email that is not in its normal form, a batch of rows at a time in emp_no order. */
async function normaliseStoredEmails(db: Kysely<any>): Promise<void> {
  let after = 0;
  for (;;) {
    const rows: Array<{ emp_no: number; email: string }> = await db
      .selectFrom('employees')
      .select(['emp_no', 'email'])
      .where('emp_no', '>', after)
      .orderBy('emp_no')
      .limit(BATCH_SIZE)
      .execute();
    for (const { emp_no, email } of rows) {
      const wanted = normalised(email);
      if (wanted === email) continue;
      try {
        await db.updateTable('employees').set({ email: wanted }).where('emp_no', '=', emp_no).execute();
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        const other = await db.selectFrom('employees').select('emp_no').where('email', '=', wanted).executeTakeFirst();
        throw new Error(
          `employees ${emp_no} and ${other?.emp_no ?? '(another)'} both have the email ${wanted} once normalised; give one of them another email first`,
          { cause: error },
        );
      }
    }
    if (rows.length < BATCH_SIZE) return;
    after = Number(rows[rows.length - 1]!.emp_no);
  }
}

export const exactEmailComparisonMigration: Migration = {
  async up(db: Kysely<any>) {
    await normaliseStoredEmails(db);
    if (dialectOf(db) === 'mysql') {
      // MODIFY keeps the column's UNIQUE index, rebuilt under the new collation.
      await sql`alter table employees modify email varchar(255) character set utf8mb4 collate utf8mb4_bin not null`.execute(db);
    }
  },

  async down(db: Kysely<any>) {
    if (dialectOf(db) === 'mysql') {
      // Back to the table's default collation (utf8mb4's: accent- and case-insensitive).
      await sql`alter table employees modify email varchar(255) character set utf8mb4 not null`.execute(db);
    }
  },
};
