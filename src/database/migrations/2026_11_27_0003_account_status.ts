/**
 * A login can be disabled without deleting the employee: `disabled` is 1 for an account that may
 * not log in (an integer rather than a boolean, so that it reads the same on all three engines).
 * Disabling through the app also ends the account's sessions and tokens at once.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const accountStatusMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('employees')
      .addColumn('disabled', 'smallint', (col) => col.notNull().defaultTo(sql`0`))
      .execute();
  },

  async down(db: Kysely<any>) {
    await db.schema.alterTable('employees').dropColumn('disabled').execute();
  },
};
