/**
 * /emp: employee search and maintenance, the original series' routes. Each answers a page to a
 * browser and JSON to a program; `/api/emp/*` serves the same handlers as JSON only.
 * Permissions are preHandlers, so they run before anything is read or written.
 */
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type FastifyPluginAsyncTypebox, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE,
  MAX_PAGE_SIZE,
  createEmployee,
  getEmployee,
  saveOwnRecord,
  searchEmployees,
  updateEmployee,
} from '../employees/employee-service.js';
import { findEmployeeByNumber, isAccountDisabled, type Employee } from '../employees/employee-repository.js';
import { validateSearch } from '../employees/validation.js';
import { isoToDmy } from '../pages/plugin.js';
import { askToConfirm, needsConfirmation } from '../pages/confirm.js';
import { changeEmployeeScopes, getEmployeeScopes } from '../employees/scope-service.js';
import { hasScopes, SCOPE_DESCRIPTIONS, splitScopeNames } from '../identity/scopes.js';
import { getCurrentJob, getHistory } from '../employees/history-service.js';
import { manageRefusal } from '../employees/management.js';
import { sessionJson } from './account.js';
import { AppError, forbidden, validationFailed } from '../errors.js';
import { wantsHtml } from '../http/negotiation.js';
import { EmpNoText, errorRef, securedBy } from '../http/schemas.js';
import { parseEmpNo, requireEmpNo } from '../employees/employee-number.js';


const SearchResult = Type.Object({
  items: Type.Array(Type.Ref('Employee')),
  page: Type.Integer(),
  size: Type.Integer(),
  has_more: Type.Boolean({ description: 'Whether a next page exists' }),
});

const SearchParams = Type.Object({
  last_name: Type.String({ maxLength: 64, description: 'Part of the last name (nas), or a pattern with % wildcards (%nas%, Gor%); % alone for any' }),
  first_name: Type.String({ maxLength: 64, description: 'Part of the first name (an), or a pattern with % wildcards (%An); % alone for any' }),
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

const EmployeeParams = Type.Object({ emp_no: EmpNoText });

/** The number in a path, read by the one strict rule (the schema's `emp-no` format has checked it already). */
function targetOf(params: Static<typeof EmployeeParams>): number {
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
type EmployeeFormBody = Static<typeof EmployeeForm>;

/** A route naming an employee in its path: an unknown one, or a path that names none. */
const TARGET_ERRORS = {
  404: errorRef('No such employee'),
  422: errorRef('emp_no is not an employee number (digits only, 1 to 2147483647)'),
};

const COMMON_ERRORS = {
  401: errorRef('Not authenticated, or the token is invalid, expired or revoked'),
  403: errorRef('Not enough permissions'),
  503: errorRef('The session store or the database is unavailable'),
};

/** Page or JSON: the page is rendered only for a browser. */
function answer(request: FastifyRequest, reply: FastifyReply, page: () => FastifyReply | Promise<FastifyReply>, json: () => unknown) {
  return wantsHtml(request) ? page() : json();
}

const EDIT_PAGES = {
  admin: { saveUrl: '/emp/admin-save', writeScope: 'admin:write' },
  own: { saveUrl: '/emp/user-save', writeScope: 'user:write' },
  new: { saveUrl: '/emp/admin-save', writeScope: 'admin:write' },
} as const;

type EditMode = keyof typeof EDIT_PAGES;

/** The maintenance page, for an existing employee, a new one, or a form sent back with its errors. */
function editPage(reply: FastifyReply, mode: EditMode, values: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return reply.page('edit.njk', { mode, ...EDIT_PAGES[mode], values, ...extra });
}

/** Form values (camelCase, dd/mm/yyyy) from a stored employee. Typed values are shown as typed. */
function formValues(employee: Employee) {
  return {
    empNo: employee.emp_no,
    email: employee.email,
    birthDate: isoToDmy(employee.birth_date),
    firstName: employee.first_name,
    lastName: employee.last_name,
    gender: employee.gender,
    hireDate: isoToDmy(employee.hire_date),
  };
}

/** The search form again, with what was typed and what is wrong with it (422). */
function searchFormWithErrors(reply: FastifyReply, lastName: string, firstName: string, error: AppError) {
  return reply.code(422).page('search.njk', { lastName, firstName, errors: error.errors ?? [] });
}

/**
 * A save from a browser: on success back to the page with a notice (POST-redirect-GET); on invalid
 * input the same form again with the messages and what was typed (422). Programs get JSON.
 */
async function save(
  request: FastifyRequest,
  reply: FastifyReply,
  mode: EditMode,
  run: () => Promise<{ employee: Employee; created: boolean }>,
) {
  try {
    const { employee, created } = await run();
    if (wantsHtml(request)) {
      const target = mode === 'own' ? 'own-get-update' : 'admin-get-update';
      return reply.redirect(`/emp/${target}/${employee.emp_no}?saved=1`, 303);
    }
    reply.code(created ? 201 : 200);
    if (created) reply.header('location', `/emp/admin-get-update/${employee.emp_no}`);
    return employee;
  } catch (error) {
    if (error instanceof AppError && error.statusCode === 422 && wantsHtml(request)) {
      const { password: _password, ...typed } = request.body as EmployeeFormBody; // never echo a password back
      // The email is not part of an update form's input; show it as it is stored, but only for the
      // record this request was allowed to write: read by the same strict rule as the service's,
      // one's own in 'own' mode, and in 'admin' mode one that passed the service's may-manage check
      // (it judges the other fields only after that check, so a 422 here follows an allowed target).
      const target = parseEmpNo(typed.empNo);
      const allowed = mode === 'admin' || (mode === 'own' && target === request.user.empNo);
      const stored = target !== undefined && allowed ? await findEmployeeByNumber(request.server.db, target) : undefined;
      reply.code(422);
      return editPage(reply, mode, { ...typed, email: stored?.email ?? typed.email }, { errors: error.errors ?? [], detail: error.message });
    }
    throw error;
  }
}

/**
 * What the maintenance page shows beside the form: the current job for everyone; for an
 * administrator also the history, the employee's scopes and login, and what they may do to them,
 * asked of the one rule every action on a person follows (`manageRefusal`, employees/management.ts),
 * so the page offers only what will be allowed.
 */
async function recordExtras(request: FastifyRequest, mode: EditMode, empNo: number): Promise<Record<string, unknown>> {
  const { db } = request.server;
  const job = await getCurrentJob(db, empNo);
  if (mode !== 'admin') return { job };
  return {
    job,
    history: hasScopes(request.user.scopes, ['admin:read']) ? await getHistory(db, empNo) : undefined,
    scopes: await getEmployeeScopes(db, empNo),
    disabled: await isAccountDisabled(db, empNo),
    // Scopes, login and sessions: never one's own. The record's details: one's own too.
    manageRefusal: await manageRefusal(db, request.user, empNo),
    editRefusal: await manageRefusal(db, request.user, empNo, { self: 'allowed' }),
    scopeDescriptions: SCOPE_DESCRIPTIONS,
  };
}

export function registerEmployeeRoutes(app: FastifyInstance, config: FastifyContextConfig = {}) {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/search',
    {
      config,
      preHandler: app.requireScopes('admin:read'),
      schema: {
        tags: ['employees'],
        summary: 'The search form; with last_name and first_name, on to the results',
        security: securedBy('admin:read'),
        querystring: SearchFormQuery,
        response: {
          200: { description: 'The search page', content: { 'text/html': { schema: Type.String() }, 'application/json': { schema: Type.Object({ search: Type.String() }) } } },
          303: Type.Null({ description: 'To the results for the given names' }),
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const { last_name: lastName, first_name: firstName, edit } = request.query;
      const html = wantsHtml(request);
      if ((lastName !== undefined || firstName !== undefined) && !(html && edit !== undefined)) {
        // Checked here, so a browser sees what is wrong on the form it filled in, values kept.
        const checked = validateSearch({ lastName, firstName });
        if (!checked.ok && html) return searchFormWithErrors(reply, lastName ?? '', firstName ?? '', validationFailed(checked.errors));
        // A blank name travels as `%` (any): a path segment cannot be empty.
        const segment = (typed: string | undefined) => encodeURIComponent(typed?.trim() || '%');
        const prefix = config.format === 'json' ? '/api/emp' : '/emp';
        return reply.redirect(`${prefix}/search/${segment(lastName)}/${segment(firstName)}`, 303);
      }
      return answer(
        request,
        reply,
        () => reply.page('search.njk', { lastName: lastName ?? '', firstName: firstName ?? '' }),
        () => ({ search: '/emp/search/{last_name}/{first_name}' }),
      );
    },
  );

  const searchRoute = {
    config,
    preHandler: app.requireScopes('admin:read'),
    schema: {
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
        200: { description: 'A page of matches, or the results page', content: { 'application/json': { schema: SearchResult }, 'text/html': { schema: Type.String() } } },
        422: errorRef('A name longer than the column holds, or a bad page or size'),
        ...COMMON_ERRORS,
      },
    },
    handler: async (
      request: FastifyRequest<{ Params: Static<typeof SearchParams>; Querystring: Static<typeof SearchQuery> }>,
      reply: FastifyReply,
    ) => {
      const { last_name: lastName, first_name: firstName } = request.params;
      const { page = 1, size = DEFAULT_PAGE_SIZE } = request.query;
      let result;
      try {
        result = await searchEmployees(app.db, { lastName, firstName, page, size });
      } catch (error) {
        if (error instanceof AppError && error.statusCode === 422 && wantsHtml(request)) return searchFormWithErrors(reply, lastName, firstName, error);
        throw error;
      }
      // `%` alone means "any": the page says so rather than showing the pattern.
      const shown = (name: string) => (name.replaceAll('%', '') === '' ? '' : name);
      return answer(
        request,
        reply,
        () => reply.page('results.njk', { lastName: shown(lastName), firstName: shown(firstName), ...result }),
        () => ({ items: result.items, page: result.page, size: result.size, has_more: result.hasMore }),
      );
    },
  };
  typed.get('/search/:last_name/:first_name', searchRoute);
  // The original's page posted the search form to the same URL.
  typed.post('/search/:last_name/:first_name', { ...searchRoute, schema: { ...searchRoute.schema, hide: true } });

  /** One employee: for an administrator (anyone), or for the person themself (own number only). */
  const employeeRoute = (mode: 'admin' | 'own') => ({
    config,
    preHandler: app.requireScopes(mode === 'admin' ? 'admin:read' : 'user:read'),
    schema: {
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
        ...COMMON_ERRORS,
      },
    },
    handler: async (
      request: FastifyRequest<{ Params: Static<typeof EmployeeParams>; Querystring: { saved?: string } }>,
      reply: FastifyReply,
    ) => {
      // Checked before anything is read: someone else's number is not even looked up.
      const empNo = targetOf(request.params);
      if (mode === 'own' && empNo !== request.user.empNo) throw forbidden();
      const employee = await getEmployee(app.db, empNo);
      return answer(
        request,
        reply,
        async () => editPage(reply, mode, formValues(employee), { saved: request.query.saved, ...(await recordExtras(request, mode, employee.emp_no)) }),
        () => employee,
      );
    },
  });
  typed.get('/admin-get-update/:emp_no', employeeRoute('admin'));
  typed.get('/own-get-update/:emp_no', employeeRoute('own'));

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

  typed.get(
    '/scopes/:emp_no',
    {
      config,
      preHandler: app.requireScopes('admin:read'),
      schema: {
        tags: ['employees'],
        summary: "An employee's scopes",
        security: securedBy('admin:read'),
        params: EmployeeParams,
        response: {
          200: ScopesJson,
          303: Type.Null({ description: "Browser: to the employee's page, which shows them" }),
          ...TARGET_ERRORS,
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const empNo = targetOf(request.params);
      const scopes = await getEmployeeScopes(app.db, empNo);
      // A browser sees them where they are shown and changed: on the employee's page.
      if (wantsHtml(request)) return reply.redirect(`/emp/admin-get-update/${empNo}#access-heading`, 303);
      return { emp_no: empNo, scopes };
    },
  );

  typed.post(
    '/scopes/:emp_no',
    {
      config,
      preHandler: app.requireScopes('admin:write'),
      schema: {
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
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const requested = splitScopeNames(request.body.scopes);
      const empNo = targetOf(request.params);
      const now = await changeEmployeeScopes(app.db, request.user, empNo, requested);
      request.log.info({ target: empNo, scopes: now }, 'changed scopes');
      if (wantsHtml(request)) return reply.redirect(`/emp/admin-get-update/${empNo}?saved=scopes`, 303);
      return { emp_no: empNo, scopes: now };
    },
  );

  typed.get(
    '/sessions/:emp_no',
    {
      config,
      preHandler: app.requireScopes('admin:read'),
      schema: {
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
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const empNo = targetOf(request.params);
      const employee = await getEmployee(app.db, empNo);
      const sessions = (await app.auth.listSessions(empNo)).map((session) => sessionJson(session, request.user));
      if (wantsHtml(request)) {
        const refusal = await manageRefusal(app.db, request.user, empNo);
        return reply.page('employee-sessions.njk', { employee, sessions, manageRefusal: refusal });
      }
      return { emp_no: empNo, sessions };
    },
  );

  typed.post(
    '/sessions/:emp_no/end-all',
    {
      config,
      preHandler: app.requireScopes('admin:write'),
      schema: {
        tags: ['employees'],
        summary: "End all of an employee's sessions and tokens",
        description: 'Not your own (use /auth/sessions/end-all), and not of someone holding a scope you lack.',
        security: securedBy('admin:write'),
        params: EmployeeParams,
        response: {
          200: Type.Object({ emp_no: Type.Integer(), ended: Type.Integer() }),
          303: Type.Null({ description: 'Browser: back to the maintenance page' }),
          ...TARGET_ERRORS,
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const empNo = targetOf(request.params);
      if (needsConfirmation(request)) {
        const employee = await getEmployee(app.db, empNo);
        return askToConfirm(request, reply, {
          question: `End all sessions of ${employee.first_name} ${employee.last_name}?`,
          consequence: 'They are logged out everywhere at once, and every access token of theirs stops working. They can log in again.',
          confirmLabel: 'End all their sessions',
          cancelUrl: `/emp/admin-get-update/${employee.emp_no}`,
        });
      }
      const ended = await app.auth.endSessionsOf(request.user, empNo);
      if (wantsHtml(request)) return reply.redirect(`/emp/admin-get-update/${empNo}?saved=sessions`, 303);
      return { emp_no: empNo, ended };
    },
  );

  typed.post(
    '/account/:emp_no',
    {
      config,
      preHandler: app.requireScopes('admin:write'),
      schema: {
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
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const { disabled } = request.body;
      const empNo = targetOf(request.params);
      if (disabled && needsConfirmation(request)) {
        const employee = await getEmployee(app.db, empNo);
        return askToConfirm(request, reply, {
          question: `Disable the login of ${employee.first_name} ${employee.last_name}?`,
          consequence: 'They cannot log in until it is enabled again, and every session and token of theirs ends now.',
          confirmLabel: 'Disable login',
          cancelUrl: `/emp/admin-get-update/${employee.emp_no}`,
          fields: { disabled: 'true' },
        });
      }
      const ended = await app.auth.setDisabled(request.user, empNo, disabled);
      if (wantsHtml(request)) return reply.redirect(`/emp/admin-get-update/${empNo}?saved=account`, 303);
      return { emp_no: empNo, disabled, sessions_ended: ended };
    },
  );

  const saveSchema = (summary: string, description: string, scope: string) => ({
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
      ...COMMON_ERRORS,
    },
  });

  typed.post(
    '/admin-save',
    {
      config,
      preHandler: app.requireScopes('admin:write'),
      schema: saveSchema(
        'Add an employee, or update anyone',
        'Without `empNo`: a new employee (email and password required; the number is allocated). With `empNo`: an ' +
          'update of that employee (email and password cannot be changed here). Dates as dd/mm/yyyy or yyyy-mm-dd.',
        'admin:write',
      ),
    },
    async (request, reply) =>
      save(request, reply, request.body.empNo?.trim() ? 'admin' : 'new', async () => {
        if (request.body.empNo?.trim()) return { employee: await updateEmployee(app.db, request.user, request.body), created: false };
        return { employee: await createEmployee(app.db, request.body), created: true };
      }),
  );

  typed.post(
    '/user-save',
    {
      config,
      preHandler: app.requireScopes('user:write'),
      schema: saveSchema(
        "Update one's own record",
        '`empNo` must be the logged-in employee\'s own number: anything else is refused (403) before any write.',
        'user:write',
      ),
    },
    async (request, reply) =>
      save(request, reply, 'own', async () => ({
        employee: await saveOwnRecord(app.db, request.user.empNo, request.body),
        created: false,
      })),
  );

  typed.get(
    '/new',
    {
      config,
      preHandler: app.requireScopes('admin:write'),
      schema: {
        tags: ['employees'],
        summary: 'The form for a new employee',
        security: securedBy('admin:write'),
        response: {
          200: { description: 'The form page, or the fields it asks for', content: { 'text/html': { schema: Type.String() }, 'application/json': { schema: Type.Object({ save: Type.String(), fields: Type.Array(Type.String()) }) } } },
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) =>
      answer(
        request,
        reply,
        () => editPage(reply, 'new', {}),
        () => ({
          save: 'POST /emp/admin-save',
          fields: ['email', 'password', 'birthDate', 'firstName', 'lastName', 'gender', 'hireDate'],
        }),
      ),
  );
}

const empRoutes: FastifyPluginAsyncTypebox = async (app) => {
  registerEmployeeRoutes(app);
};

export default empRoutes;
