/**
 * Every query on the `passkeys` table (migration 2026_12_03_0003_passkeys): the WebAuthn
 * credentials people registered as a second factor. Each function takes the database (or a
 * transaction) first, like the other repositories; every one but `insertPasskey` names the owner,
 * so that nobody reads, renames, uses or removes another person's passkey by naming its id.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, PasskeysTable } from '../database/schema.js';
import type { PasskeyCredential } from '../identity/second-factor/passkeys.js';
import { isPossibleEmpNo } from './employee-repository.js';

function fromRow(row: Selectable<PasskeysTable>): PasskeyCredential {
  return {
    credentialId: row.credential_id,
    empNo: row.emp_no,
    publicKey: row.public_key,
    // BIGINT: a string from pg, a number elsewhere; an unsigned 32-bit value either way.
    signCount: Number(row.sign_count),
    transports: row.transports ? row.transports.split(',') : [],
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

/** Stores a new passkey. Throws the driver's unique violation when the credential id is taken (`isUniqueViolation`). */
export async function insertPasskey(db: Kysely<Database>, passkey: Omit<PasskeyCredential, 'lastUsedAt'>): Promise<void> {
  await db
    .insertInto('passkeys')
    .values({
      credential_id: passkey.credentialId,
      emp_no: passkey.empNo,
      public_key: passkey.publicKey,
      sign_count: passkey.signCount,
      transports: passkey.transports.length ? passkey.transports.join(',') : null,
      name: passkey.name,
      created_at: passkey.createdAt,
      last_used_at: null,
    })
    .execute();
}

/** The person's passkeys, oldest first (then by id, so that the order is the same on every engine). */
export async function findPasskeys(db: Kysely<Database>, empNo: number): Promise<PasskeyCredential[]> {
  if (!isPossibleEmpNo(empNo)) return [];
  const rows = await db
    .selectFrom('passkeys')
    .selectAll()
    .where('emp_no', '=', empNo)
    .orderBy('created_at')
    .orderBy('credential_id')
    .execute();
  return rows.map(fromRow);
}

/** One of the person's passkeys, or undefined (also when the id is someone else's). */
export async function findPasskey(db: Kysely<Database>, empNo: number, credentialId: string): Promise<PasskeyCredential | undefined> {
  if (!isPossibleEmpNo(empNo)) return undefined;
  const row = await db
    .selectFrom('passkeys')
    .selectAll()
    .where('emp_no', '=', empNo)
    .where('credential_id', '=', credentialId)
    .executeTakeFirst();
  return row && fromRow(row);
}

/** How many passkeys the person has. */
export async function countPasskeys(db: Kysely<Database>, empNo: number): Promise<number> {
  if (!isPossibleEmpNo(empNo)) return 0;
  const row = await db
    .selectFrom('passkeys')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('emp_no', '=', empNo)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Records a verified use: the new signature counter and the time. Conditional on the stored counter
 * being below the new one (or both staying 0, for authenticators that keep no counter), so that of
 * two responses racing with the same counter value only one is accepted. False when refused.
 */
export async function recordPasskeyUse(
  db: Kysely<Database>,
  empNo: number,
  credentialId: string,
  signCount: number,
  at: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('passkeys')
    .set({ sign_count: signCount, last_used_at: at.toISOString() })
    .where('emp_no', '=', empNo)
    .where('credential_id', '=', credentialId)
    .where((eb) => (signCount === 0 ? eb('sign_count', '=', 0) : eb('sign_count', '<', signCount)))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Gives one of the person's passkeys a new name; false when they have no such passkey. */
export async function renamePasskey(db: Kysely<Database>, empNo: number, credentialId: string, name: string): Promise<boolean> {
  const result = await db
    .updateTable('passkeys')
    .set({ name })
    .where('emp_no', '=', empNo)
    .where('credential_id', '=', credentialId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Removes one of the person's passkeys; false when they have no such passkey. */
export async function deletePasskey(db: Kysely<Database>, empNo: number, credentialId: string): Promise<boolean> {
  const result = await db.deleteFrom('passkeys').where('emp_no', '=', empNo).where('credential_id', '=', credentialId).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/**
 * Locks the person's passkey rows until the transaction ends (a no-op UPDATE: the one row lock all
 * three engines take alike; SQLite locks the whole database for any write), so that two removals
 * racing each other count what is left one after the other.
 */
export async function lockPasskeys(db: Kysely<Database>, empNo: number): Promise<void> {
  await db
    .updateTable('passkeys')
    .set((eb) => ({ name: eb.ref('name') }))
    .where('emp_no', '=', empNo)
    .execute();
}

/** Removes every passkey of the person (a second-factor reset); returns how many. */
export async function deletePasskeysOf(db: Kysely<Database>, empNo: number): Promise<number> {
  if (!isPossibleEmpNo(empNo)) return 0;
  const result = await db.deleteFrom('passkeys').where('emp_no', '=', empNo).executeTakeFirst();
  return Number(result.numDeletedRows);
}
