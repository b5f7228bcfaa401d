/** /emp: search, records and administrator actions (routes/emp/*.ts). */
import { Type, type Static } from '@fastify/type-provider-typebox';
import { DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE } from '../../employees/employee-service.js';
import { requireEmpNo } from '../../employees/employee-number.js';
import { EmpNoText, errorRef, securedBy } from '../../http/schemas.js';
import { SCOPED_ERRORS } from './common.js';

const SearchResult = Type.Object({
  items: Type.Array(Type.Ref('Employee')),
  page: Type.Integer(),
  size: Type.Integer(),
  has_more: Type.Boolean({ description: 'Whether a next page exists' }),
});

const SearchParams = Type.Object({
  last_name: Type.String({
    maxLength: 64,
    description: 'Part of the last name (nas), or a pattern with % wildcards (%nas%, Gor%); % alone for any',
  }),
  first_name: Type.String({
    maxLength: 64,
    description: 'Part of the first name (an), or a pattern with % wildcards (%An); % alone for any',
  }),
});

const SearchQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 1 })),
  size: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
});

const SearchFormQuery = Type.Object({
  last_name: Type.Optional(Type.String({ maxLength: 64 })),
  first_name: Type.Optional(Type.String({ maxLength: 64 })),
  edit: Type.Optional(Type.String({ maxLength: 8, description: 'Browser: show the form filled in instead of searching' })),
});

export const EmployeeParams = Type.Object({ emp_no: EmpNoText });

/** The number in a path, read by the one strict rule (the schema's `emp-no` format has checked it already). */
export function targetOf(params: Static<typeof EmployeeParams>): number {
  return requireEmpNo(params.emp_no, 'emp_no');
}

/** The maintenance form as the original's pages post it (camelCase); unknown fields are ignored. */
const EmployeeForm = Type.Object(
  {
    empNo: Type.Optional(Type.String({ maxLength: 16 })),
    email: Type.Optional(Type.String({ maxLength: 1024 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    birthDate: Type.Optional(Type.String({ maxLength: 64 })),
    firstName: Type.Optional(Type.String({ maxLength: 1024 })),
    lastName: Type.Optional(Type.String({ maxLength: 1024 })),
    gender: Type.Optional(Type.String({ maxLength: 16 })),
    hireDate: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: true },
);
export type EmployeeFormBody = Static<typeof EmployeeForm>;

/** A route naming an employee in its path: an unknown one, or a path that names none. */
export const TARGET_ERRORS = {
  404: errorRef('No such employee'),
  422: errorRef('emp_no is not an employee number (digits only, 1 to 2147483647)'),
};

export const SearchFormSchema = {
  tags: ['employees'],
  summary: 'The search form; with last_name and first_name, on to the results',
  security: securedBy('admin:read'),
  querystring: SearchFormQuery,
  response: {
    200: {
      description: 'The search page',
      content: { 'text/html': { schema: Type.String() }, 'application/json': { schema: Type.Object({ search: Type.String() }) } },
    },
    303: Type.Null({ description: 'To the results for the given names' }),
    ...SCOPED_ERRORS,
  },
};

export const SearchSchema = {
  tags: ['employees'],
  summary: 'Employees by partial last and first name',
  description:
    'A plain name finds names containing it (`nas` finds Gornas); `%` is the wildcard (`Gor%`: names starting ' +
    'with Gor); `%` alone matches any name. Matching ignores case on every engine. ' +
    `Results come a page at a time, by employee number, at most ${MAX_PAGE_SIZE} per page.`,
  security: securedBy('admin:read'),
  params: SearchParams,
  querystring: SearchQuery,
  response: {
    200: {
      description: 'A page of matches, or the results page',
      content: { 'application/json': { schema: SearchResult }, 'text/html': { schema: Type.String() } },
    },
    422: errorRef('A name longer than the column holds, or a bad page or size'),
    ...SCOPED_ERRORS,
  },
};

/** One employee: for an administrator (anyone), or for the person themself (own number only). */
export function employeeSchema(mode: 'admin' | 'own') {
  return {
    tags: ['employees'],
    summary: mode === 'admin' ? 'One employee, for an administrator' : "One's own record",
    description: mode === 'own' ? "Only the logged-in employee's own number is allowed (403 otherwise)." : undefined,
    security: securedBy(mode === 'admin' ? 'admin:read' : 'user:read'),
    params: EmployeeParams,
    querystring: Type.Object({ saved: Type.Optional(Type.Enum(['1', 'scopes', 'sessions', 'account'])) }),
    response: {
      200: {
        description: 'The employee, or the maintenance page',
        content: { 'application/json': { schema: Type.Ref('Employee') }, 'text/html': { schema: Type.String() } },
      },
      ...TARGET_ERRORS,
      ...SCOPED_ERRORS,
    },
  };
}

function saveSchema(summary: string, description: string, scope: string) {
  return {
    tags: ['employees'],
    summary,
    description,
    security: securedBy(scope),
    consumes: ['application/x-www-form-urlencoded'],
    body: EmployeeForm,
    response: {
      200: Type.Ref('Employee', { description: 'The updated employee' }),
      201: Type.Ref('Employee', { description: 'The new employee' }),
      303: Type.Null({ description: 'Browser: back to the maintenance page, which says it was saved' }),
      404: errorRef('No such employee'),
      422: errorRef('Invalid fields, each named in `errors`'),
      ...SCOPED_ERRORS,
    },
  };
}

export const AdminSaveSchema = saveSchema(
  'Add an employee, or update anyone',
  'Without `empNo`: a new employee (email and password required; the number is allocated). With `empNo`: an ' +
    'update of that employee (email and password cannot be changed here). Dates as dd/mm/yyyy or yyyy-mm-dd.',
  'admin:write',
);

export const UserSaveSchema = saveSchema(
  "Update one's own record",
  "`empNo` must be the logged-in employee's own number: anything else is refused (403) before any write.",
  'user:write',
);

export const NewEmployeeFormSchema = {
  tags: ['employees'],
  summary: 'The form for a new employee',
  security: securedBy('admin:write'),
  response: {
    200: {
      description: 'The form page, or the fields it asks for',
      content: {
        'text/html': { schema: Type.String() },
        'application/json': { schema: Type.Object({ save: Type.String(), fields: Type.Array(Type.String()) }) },
      },
    },
    ...SCOPED_ERRORS,
  },
};

// An array only: the validator turns a lone string into a one-item array (its `coerceTypes:
// 'array'`), and `splitScopeNames` splits each item, so `"user:read admin:read"`, `"user:read,
// admin:read"`, a repeated form field and a JSON array all read the same.
const ScopesBody = Type.Object({
  scopes: Type.Optional(
    Type.Array(Type.String({ maxLength: 256 }), {
      maxItems: 16,
      description:
        'The complete new list (absent: none): an array of names, a form field repeated, or one string of names ' +
        'separated by spaces or commas (`user:read admin:read`, `user:read,admin:read`)',
    }),
  ),
});
const ScopesJson = Type.Object({ emp_no: Type.Integer(), scopes: Type.Array(Type.String()) });

export const ScopesSchema = {
  tags: ['employees'],
  summary: "An employee's scopes",
  security: securedBy('admin:read'),
  params: EmployeeParams,
  response: {
    200: ScopesJson,
    303: Type.Null({ description: "Browser: to the employee's page, which shows them" }),
    ...TARGET_ERRORS,
    ...SCOPED_ERRORS,
  },
};

export const ChangeScopesSchema = {
  tags: ['employees'],
  summary: "Replace an employee's scopes",
  description:
    'Only scopes within your own are yours to grant or take away, and never your own. The change takes ' +
    "effect at the employee's next login.",
  security: securedBy('admin:write'),
  params: EmployeeParams,
  body: ScopesBody,
  response: {
    200: ScopesJson,
    303: Type.Null({ description: 'Browser: back to the maintenance page' }),
    404: errorRef('No such employee'),
    422: errorRef('An unknown scope name, or emp_no not an employee number'),
    ...SCOPED_ERRORS,
  },
};

export const EmployeeSessionsSchema = {
  tags: ['employees'],
  summary: "An employee's live sessions",
  security: securedBy('admin:read'),
  params: EmployeeParams,
  response: {
    200: {
      description: 'The sessions, or a page listing them',
      content: {
        'application/json': { schema: Type.Object({ emp_no: Type.Integer(), sessions: Type.Array(Type.Ref('Session')) }) },
        'text/html': { schema: Type.String() },
      },
    },
    ...TARGET_ERRORS,
    ...SCOPED_ERRORS,
  },
};

export const EndEmployeeSessionsSchema = {
  tags: ['employees'],
  summary: "End all of an employee's sessions and tokens",
  description: 'Not your own (use /auth/sessions/end-all), and not of someone holding a scope you lack.',
  security: securedBy('admin:write'),
  params: EmployeeParams,
  response: {
    200: Type.Object({ emp_no: Type.Integer(), ended: Type.Integer() }),
    303: Type.Null({ description: 'Browser: back to the maintenance page' }),
    ...TARGET_ERRORS,
    ...SCOPED_ERRORS,
  },
};

export const AccountStateSchema = {
  tags: ['employees'],
  summary: "Disable or enable an employee's login",
  description: 'Disabling ends their sessions and tokens at once. Not your own account, and not of someone holding a scope you lack.',
  security: securedBy('admin:write'),
  params: EmployeeParams,
  body: Type.Object({ disabled: Type.Boolean({ description: 'true to disable, false to enable' }) }),
  response: {
    200: Type.Object({ emp_no: Type.Integer(), disabled: Type.Boolean(), sessions_ended: Type.Integer() }),
    303: Type.Null({ description: 'Browser: back to the maintenance page' }),
    ...TARGET_ERRORS,
    ...SCOPED_ERRORS,
  },
};
