/**
 * /emp: keeping employee records, the original series' maintenance routes: one record (an
 * administrator's view of anyone, or one's own), the form for a new one, and the saves. Each
 * answers a page to a browser and JSON to a program, and JSON only under /api/emp (`config.api`).
 * Permissions are preHandlers, so they run before anything is read or written.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createEmployee, getEmployee, saveOwnRecord, updateEmployee } from '../../employees/employee-service.js';
import { findStoredEmail, getMaintenanceRecord, type Employee } from '../../employees/record-views.js';
import { parseEmpNo } from '../../employees/employee-number.js';
import { forbidden } from '../../errors.js';
import { isAppError } from '../../http/errors.js';
import { auditContextOf } from '../../http/login-client.js';
import { pageOrJson, wantsHtml } from '../../http/negotiation.js';
import { isoToDmy } from '../../pages/plugin.js';
import {
  AdminSaveSchema,
  employeeSchema,
  NewEmployeeFormSchema,
  targetOf,
  UserSaveSchema,
  type EmployeeFormBody,
} from '../schemas/employees.js';

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

/**
 * A save from a browser: on success back to the page with a notice (POST-redirect-GET); on invalid
 * input the same form again with the messages and what was typed (422). Programs get JSON.
 */
async function save(
  request: FastifyRequest,
  reply: FastifyReply,
  body: EmployeeFormBody,
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
    if (!(isAppError(error, 422) && wantsHtml(request))) throw error;
    const { password: _password, ...typed } = body; // never echo a password back
    // The email is not part of an update form's input; show it as it is stored, but only for the
    // record this request was allowed to write: read by the same strict rule as the service's,
    // one's own in 'own' mode, and in 'admin' mode one that passed the service's may-manage check
    // (it judges the other fields only after that check, so a 422 here follows an allowed target).
    const target = parseEmpNo(typed.empNo);
    const allowed = mode === 'admin' || (mode === 'own' && target === request.user.empNo);
    const stored = target !== undefined && allowed ? await findStoredEmail(request.server.db, target) : undefined;
    reply.code(422);
    return editPage(reply, mode, { ...typed, email: stored ?? typed.email }, { errors: error.errors ?? [], detail: error.message });
  }
}

const recordRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const config = { api: true } as const;

  for (const mode of ['admin', 'own'] as const) {
    app.get(
      mode === 'admin' ? '/admin-get-update/:emp_no' : '/own-get-update/:emp_no',
      { config, preHandler: app.requireScopes(mode === 'admin' ? 'admin:read' : 'user:read'), schema: employeeSchema(mode) },
      async (request, reply) => {
        // Checked before anything is read: someone else's number is not even looked up.
        const empNo = targetOf(request.params);
        if (mode === 'own' && empNo !== request.user.empNo) throw forbidden();
        if (!wantsHtml(request)) return getEmployee(app.db, empNo);
        const { employee, ...extras } = await getMaintenanceRecord(app.db, request.user, empNo, mode);
        return editPage(reply, mode, formValues(employee), { saved: request.query.saved, ...extras });
      },
    );
  }

  app.post('/admin-save', { config, preHandler: app.requireScopes('admin:write'), schema: AdminSaveSchema }, async (request, reply) => {
    const update = Boolean(request.body.empNo?.trim());
    return save(request, reply, request.body, update ? 'admin' : 'new', async () =>
      update
        ? { employee: await updateEmployee(app.db, request.user, request.body, auditContextOf(request)), created: false }
        : { employee: await createEmployee(app.db, request.body, auditContextOf(request)), created: true },
    );
  });

  app.post('/user-save', { config, preHandler: app.requireScopes('user:write'), schema: UserSaveSchema }, async (request, reply) =>
    save(request, reply, request.body, 'own', async () => ({
      employee: await saveOwnRecord(app.db, request.user.empNo, request.body, auditContextOf(request)),
      created: false,
    })),
  );

  app.get('/new', { config, preHandler: app.requireScopes('admin:write'), schema: NewEmployeeFormSchema }, async (request, reply) =>
    pageOrJson(
      request,
      () => editPage(reply, 'new', {}),
      () => ({
        save: 'POST /emp/admin-save',
        fields: ['email', 'password', 'birthDate', 'firstName', 'lastName', 'gender', 'hireDate'],
      }),
    ),
  );
};

export default recordRoutes;
