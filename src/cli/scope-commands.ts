/** `scopes list|grant|revoke|set`: an employee's scopes, straight on the database. */
import type { ScopeName } from '../identity/scopes.js';
import { findScopes, grantScopes, revokeScopes, setScopes } from '../employees/scope-repository.js';
import { EXIT, findEmployee, required, type AdminIo } from './io.js';

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
  switch (verb) {
    case 'list': {
      const held = await findScopes(db, empNo);
      io.stdout.write(held.map((scope) => `${scope}\n`).join(''));
      return EXIT.OK;
    }
    case 'grant':
      await grantScopes(db, empNo, scopes);
      io.stdout.write(`Granted ${scopes.join(' ')} to ${email} (${empNo}). ${await describeScopes(io, empNo)}\n`);
      return EXIT.OK;
    case 'revoke': {
      const revoked = await revokeScopes(db, empNo, scopes);
      io.stdout.write(`Revoked ${revoked} of ${scopes.join(' ')} from ${email} (${empNo}). ${await describeScopes(io, empNo)}\n`);
      return EXIT.OK;
    }
    case 'set':
      await setScopes(db, empNo, scopes);
      io.stdout.write(`Set the scopes of ${email} (${empNo}). ${await describeScopes(io, empNo)}\n`);
      return EXIT.OK;
  }
}

async function describeScopes(io: AdminIo, empNo: number): Promise<string> {
  const held = await findScopes(required(io, 'db'), empNo);
  return `Scopes now: ${held.length > 0 ? held.join(' ') : '(none)'}.`;
}
