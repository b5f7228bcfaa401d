/**
 * The people of the seed data (src/sample-data/seed.ts) the tests log in as, by role, each defined
 * once. Written out here rather than read from the seed, so that a change to the seed shows up as
 * a failing test instead of silently changing what the tests expect.
 *
 * The security checklist's notation (docs/SECURITY.md): U1 and U2 are argon2id users, UB the legacy
 * bcrypt users, UX a disabled one. Every seed password is `password`.
 */
export interface Person {
  username: string;
  password: string;
  empNo: number;
}

const person = (username: string, empNo: number): Person => ({ username, password: 'password', empNo });

/** U1: the original series' own user; argon2id, user:read user:write. */
export const U1 = person('behai_nguyen@hotmail.com', 500222);
/** U2: argon2id, user:read. */
export const U2 = person('pranav.furedi.10198@gmail.com', 10198);
/** UB: the seed's legacy bcrypt users (LEGACY_BCRYPT_EMP_NOS in src/sample-data/seed.ts), user:read. */
export const UB = [
  person('georgi.facello.10001@gmail.com', 10001),
  person('bezalel.simmel.10002@gmail.com', 10002),
  person('parto.bamford.10003@gmail.com', 10003),
  person('chirstian.koblick.10004@gmail.com', 10004),
] as const;
/** UX: argon2id, user:read; the one a suite disables when it needs a disabled account. */
export const UX = person('patricio.bridgland.10012@gmail.com', 10012);
/** No scopes at all. */
export const NO_SCOPES = person('moss.shanbhogue.10045@gmail.com', 10045);
/** user:read only. */
export const USER_READ = person('nidapan.samarati.262556@gmail.com', 262556);
export const ADMIN_READ = person('weijing.showalter.67000@gmail.com', 67000);
/** admin:read admin:write. */
export const ADMIN = person('kyoichi.maliniak.10005@gmail.com', 10005);
/** super:* */
export const SUPER = person('mary.sluis.10011@gmail.com', 10011);

/** What GET /admin/me (and /api/me) answers for U1. */
export const U1_ME = {
  username: 'behai_nguyen@hotmail.com',
  email: 'behai_nguyen@hotmail.com',
  emp_no: 500222,
  first_name: 'Be Hai',
  last_name: 'Doe',
  birth_date: '1978-12-09',
  gender: 'M',
  hire_date: '2022-11-01',
  scopes: ['user:read', 'user:write'],
};

/** The login form fields of a person. */
export function credentials(someone: Person): { username: string; password: string } {
  return { username: someone.username, password: someone.password };
}

/** The maintenance form's fields for a stored employee, with `changes` over them (what a save posts). */
export function updateForm(
  employee: { emp_no: number; first_name: string; last_name: string; birth_date: string; hire_date: string; gender: string },
  changes: Record<string, string> = {},
): Record<string, string> {
  return {
    empNo: String(employee.emp_no),
    firstName: employee.first_name,
    lastName: employee.last_name,
    birthDate: employee.birth_date,
    hireDate: employee.hire_date,
    gender: employee.gender,
    ...changes,
  };
}
