/**
 * Every migration, by name. Names sort in the order they must run (Kysely runs them
 * alphabetically), hence the date prefix. Imported statically rather than read from the folder, so
 * the same list works under tsx and compiled to dist/, with no .ts/.js file name guessing.
 */
import type { Migration } from 'kysely';
import { employeesMigration } from './2026_11_27_0001_employees.js';
import { employeeScopesMigration } from './2026_11_27_0002_employee_scopes.js';
import { departmentsAndHistoryMigration } from './2026_12_01_0001_departments_and_history.js';
import { employeeNameSearchIndexesMigration } from './2026_12_01_0002_employee_name_search_indexes.js';
import { accountStatusMigration } from './2026_11_27_0003_account_status.js';
import { exactEmailComparisonMigration } from './2026_12_02_0001_exact_email_comparison.js';
import { employeeNameIndexMigration } from './2026_12_02_0002_employee_name_index.js';
import { auditEventsMigration } from './2026_12_03_0001_audit_events.js';
import { secondFactorMigration } from './2026_12_03_0002_second_factor.js';
import { passkeysMigration } from './2026_12_03_0003_passkeys.js';
import { nameStatisticsMigration } from './2026_12_03_0004_name_statistics.js';

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '2026_11_27_0001_employees': employeesMigration,
  '2026_11_27_0002_employee_scopes': employeeScopesMigration,
  '2026_12_01_0001_departments_and_history': departmentsAndHistoryMigration,
  '2026_12_01_0002_employee_name_search_indexes': employeeNameSearchIndexesMigration,
  '2026_11_27_0003_account_status': accountStatusMigration,
  '2026_12_02_0001_exact_email_comparison': exactEmailComparisonMigration,
  '2026_12_02_0002_employee_name_index': employeeNameIndexMigration,
  '2026_12_03_0001_audit_events': auditEventsMigration,
  '2026_12_03_0002_second_factor': secondFactorMigration,
  '2026_12_03_0003_passkeys': passkeysMigration,
  '2026_12_03_0004_name_statistics': nameStatisticsMigration,
};
