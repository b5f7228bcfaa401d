/**
 * The audit trail (src/audit/): one row per thing someone did to an account or a record, appended
 * and never changed (but for the repeat count of an aggregated failed login). No foreign key to
 * employees: an event must outlive whatever it names.
 *
 * `aggregate_key` is set only on failed-login rows (audit/failed-logins.ts): unique, so that racing
 * attempts agree on which row is whose, and NULL everywhere else (every engine lets NULLs repeat
 * under a unique constraint).
 *
 * `id` orders the events (cursor paging walks it down); on SQLite AUTOINCREMENT, so that an id is
 * never reused after pruning. `occurred_at` is ISO-8601 UTC text with milliseconds, which sorts as
 * time does on every engine.
 *
 * Frozen history: see 2026_11_27_0001_employees.ts.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf, portableTable } from '../dialects.js';

const TABLE = 'audit_events';

export const auditEventsMigration: Migration = {
  async up(db: Kysely<any>) {
    const dialect = dialectOf(db);
    await db.schema
      .createTable(TABLE)
      .$call((table) =>
        dialect === 'postgres'
          ? table.addColumn('id', 'bigserial', (column) => column.primaryKey())
          : dialect === 'mysql'
            ? table.addColumn('id', 'bigint', (column) => column.primaryKey().autoIncrement())
            : table.addColumn('id', 'integer', (column) => column.primaryKey().autoIncrement()),
      )
      .addColumn('occurred_at', 'varchar(24)', (column) => column.notNull())
      .addColumn('action', 'varchar(40)', (column) => column.notNull())
      .addColumn('outcome', 'varchar(16)', (column) => column.notNull())
      .addColumn('actor_kind', 'varchar(16)', (column) => column.notNull())
      .addColumn('actor_emp_no', 'integer')
      .addColumn('actor_name', 'varchar(254)')
      .addColumn('session_id', 'varchar(32)')
      .addColumn('client_address', 'varchar(64)')
      .addColumn('client_label', 'varchar(200)')
      .addColumn('target_emp_no', 'integer')
      .addColumn('repeat_count', 'integer', (column) => column.notNull().defaultTo(sql`1`))
      .addColumn('detail', 'text')
      .addColumn('aggregate_key', 'varchar(96)', (column) => column.unique())
      .$call(
        portableTable(dialect, TABLE, {
          dates: [],
          varchars: {
            occurred_at: 24,
            action: 40,
            outcome: 16,
            actor_kind: 16,
            actor_name: 254,
            session_id: 32,
            client_address: 64,
            client_label: 200,
            aggregate_key: 96,
          },
        }),
      )
      .execute();
    await db.schema.createIndex(`${TABLE}_occurred_at_idx`).on(TABLE).column('occurred_at').execute();
    await db.schema.createIndex(`${TABLE}_actor_idx`).on(TABLE).columns(['actor_emp_no', 'id']).execute();
    await db.schema.createIndex(`${TABLE}_target_idx`).on(TABLE).columns(['target_emp_no', 'id']).execute();
    await db.schema.createIndex(`${TABLE}_action_idx`).on(TABLE).columns(['action', 'id']).execute();
    await db.schema.createIndex(`${TABLE}_outcome_idx`).on(TABLE).columns(['outcome', 'id']).execute();
  },

  async down(db: Kysely<any>) {
    await db.schema.dropTable(TABLE).execute();
  },
};
