/** Who the chaos clients are: sample employees, each client a different one, so a wrong identity shows. */
import { LEGACY_BCRYPT_EMP_NOS, SEED_EMPLOYEES, SEED_SCOPES } from '../../src/sample-data/seed.js';
import type { Person } from './http.js';

/**
 * Sample employees who may read their own record (user:read). The legacy bcrypt ones are left out:
 * their first login rewrites their hash, a database write the other clients do not make.
 */
export function chaosPeople(): Person[] {
  return SEED_EMPLOYEES.filter((e) => SEED_SCOPES[e.email]?.includes('user:read') && !LEGACY_BCRYPT_EMP_NOS.includes(e.emp_no)).map(
    (e) => ({
      email: e.email,
      empNo: e.emp_no,
    }),
  );
}
