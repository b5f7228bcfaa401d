/**
 * `scopes list|grant|revoke|set`: an employee's scopes, on the database through the scope service's
 * `writeScopes`, which records each change (before and after) in the audit trail in its transaction.
 */
import type { ScopeName } from '../identity/scopes.js';
import { findScopes, grantScopes, revokeScopes, setScopes } from '../employees/scope-repository.js';
import { writeScopes } from '../employees/scope-service.js';
import { EXIT, findEmployee, operatorContext, required, type AdminIo } from './io.js';

export interface ScopesCommand {
  kind: 'scopes';
  verb: 'list' | 'grant' | 'revoke' | 'set';
  email: string;
  scopes: ScopeName[];
}

/** Runs a scopes command on the database and returns the exit status. */
export async function runScopesCommand(command: ScopesCommand, io: AdminIo): Promise<number> {
  const { verb, scopes } = command;
  const db = required(io, 'db');
  const employee = await findEmployee(io, command.email);
  if (!employee) return EXIT.NOT_FOUND;
  const { empNo, email } = employee;
  const change = (write: Parameters<typeof writeScopes>[2]) => writeScopes(db, empNo, write, operatorContext(io));
  switch (verb) {
    case 'list': {
      const held = await findScopes(db, empNo);
      io.stdout.write(held.map((scope) => `${scope}\n`).join(''));
      return EXIT.OK;
    }
    case 'grant': {
      const held = await change((trx) => grantScopes(trx, empNo, scopes));
      io.stdout.write(`Granted ${scopes.join(' ')} to ${email} (${empNo}). ${describeScopes(held)}\n`);
      return EXIT.OK;
    }
    case 'revoke': {
      let revoked = 0;
      const held = await change(async (trx) => (revoked = await revokeScopes(trx, empNo, scopes)));
      io.stdout.write(`Revoked ${revoked} of ${scopes.join(' ')} from ${email} (${empNo}). ${describeScopes(held)}\n`);
      return EXIT.OK;
    }
    case 'set': {
      const held = await change((trx) => setScopes(trx, empNo, scopes));
      io.stdout.write(`Set the scopes of ${email} (${empNo}). ${describeScopes(held)}\n`);
      return EXIT.OK;
    }
  }
}

function describeScopes(held: readonly string[]): string {
  return `Scopes now: ${held.length > 0 ? held.join(' ') : '(none)'}.`;
}
