/**
 * Every query on the second-factor tables (migration 2026_12_03_0002_second_factor): an employee's
 * TOTP authenticator and recovery codes. Each function takes the database (or a transaction)
 * first. What is stored is already sealed or hashed (identity/second-factor/): no seed and no code
 * passes through here in the clear.
 *
 * The single-use rules are conditional writes, so that two requests racing with one code cannot
 * both succeed: a TOTP step is taken only when it is above the last one used, a recovery code only
 * while it is unused. Each answers whether this call was the one that took it.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, TotpFactorsTable } from '../database/schema.js';
import { isUniqueViolation } from '../database/dialects.js';
import { isPossibleEmpNo } from './employee-repository.js';
import { countPasskeys } from './passkey-repository.js';

export type TotpFactorRow = Selectable<TotpFactorsTable>;

/** The kinds of second factor an employee has confirmed. */
export interface EnrolledFactors {
  totp: boolean;
  /** Unused recovery codes left. */
  recoveryCodes: number;
  /** Registered passkeys (passkey-repository.ts). */
  passkeys: number;
}

export async function findTotpFactor(db: Kysely<Database>, empNo: number): Promise<TotpFactorRow | undefined> {
  if (!isPossibleEmpNo(empNo)) return undefined;
  return db.selectFrom('totp_factors').selectAll().where('emp_no', '=', empNo).executeTakeFirst();
}

export async function enrolledFactors(db: Kysely<Database>, empNo: number): Promise<EnrolledFactors> {
  if (!isPossibleEmpNo(empNo)) return { totp: false, recoveryCodes: 0, passkeys: 0 };
  const [totp, codes, passkeys] = await Promise.all([
    db.selectFrom('totp_factors').select('emp_no').where('emp_no', '=', empNo).where('confirmed_at', 'is not', null).executeTakeFirst(),
    db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('left'))
      .where('emp_no', '=', empNo)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow(),
    countPasskeys(db, empNo),
  ]);
  return { totp: totp !== undefined, recoveryCodes: Number(codes.left), passkeys };
}

/**
 * Stores a new, unconfirmed seed in place of an earlier unconfirmed one. False (nothing written)
 * when the employee already has a confirmed authenticator, which only removal replaces.
 */
export async function saveUnconfirmedTotp(db: Kysely<Database>, empNo: number, sealedSecret: string, at: Date): Promise<boolean> {
  await db.deleteFrom('totp_factors').where('emp_no', '=', empNo).where('confirmed_at', 'is', null).execute();
  try {
    await db.insertInto('totp_factors').values({ emp_no: empNo, secret: sealedSecret, created_at: at.toISOString() }).execute();
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

/** Confirms the unconfirmed seed `sealedSecret` with the step of its first code; false when it is no longer the one waiting. */
export async function confirmTotp(db: Kysely<Database>, empNo: number, sealedSecret: string, step: number, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('totp_factors')
    .set({ confirmed_at: at.toISOString(), last_step: step })
    .where('emp_no', '=', empNo)
    .where('secret', '=', sealedSecret)
    .where('confirmed_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Takes TOTP step `step` for the employee's confirmed authenticator; false when it (or a later one) was used already. */
export async function useTotpStep(db: Kysely<Database>, empNo: number, step: number): Promise<boolean> {
  const result = await db
    .updateTable('totp_factors')
    .set({ last_step: step })
    .where('emp_no', '=', empNo)
    .where('confirmed_at', 'is not', null)
    .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Replaces every recovery code of the employee with these hashes. */
export async function replaceRecoveryCodes(db: Kysely<Database>, empNo: number, hashes: readonly string[]): Promise<void> {
  await db.deleteFrom('recovery_codes').where('emp_no', '=', empNo).execute();
  if (hashes.length)
    await db
      .insertInto('recovery_codes')
      .values(hashes.map((code_hash) => ({ emp_no: empNo, code_hash })))
      .execute();
}

/** Spends the unused recovery code with this hash; false when there is none (unknown, or spent already). */
export async function useRecoveryCode(db: Kysely<Database>, empNo: number, codeHash: string, at: Date): Promise<boolean> {
  if (!isPossibleEmpNo(empNo)) return false;
  const result = await db
    .updateTable('recovery_codes')
    .set({ used_at: at.toISOString() })
    .where('emp_no', '=', empNo)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Removes every second factor of the employee (authenticator and recovery codes); true when there was a confirmed one. */
export async function deleteSecondFactors(db: Kysely<Database>, empNo: number): Promise<boolean> {
  if (!isPossibleEmpNo(empNo)) return false;
  const had = (await enrolledFactors(db, empNo)).totp;
  await db.deleteFrom('totp_factors').where('emp_no', '=', empNo).execute();
  await db.deleteFrom('recovery_codes').where('emp_no', '=', empNo).execute();
  return had;
}
