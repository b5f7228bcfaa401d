/**
 * /emp: what an administrator does to another person's access: their scopes, their sessions, and
 * whether they may log in at all. Each answers a page (or a redirect to one) to a browser and JSON to
 * a program, and JSON only under /api/emp (`config.api`). Permissions are preHandlers, so they run
 * before anything is read or written; the "may manage" rule itself is the services'.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getEmployee } from '../../employees/employee-service.js';
import { changeEmployeeScopes, getEmployeeScopes } from '../../employees/scope-service.js';
import { splitScopeNames } from '../../identity/scopes.js';
import { getManagedEmployee } from '../../employees/record-views.js';
import { wantsHtml } from '../../http/negotiation.js';
import { sessionJson } from '../../http/session-json.js';
import { auditContextOf, requestClient } from '../../http/login-client.js';
import { askToConfirm, needsConfirmation } from '../../pages/confirm.js';
import { loginClient } from '../../http/login-client.js';
import { ResetSecondFactorSchema } from '../schemas/mfa.js';
import {
  AccountStateSchema,
  ChangeScopesSchema,
  EmployeeSessionsSchema,
  EndEmployeeSessionsSchema,
  ScopesSchema,
  targetOf,
} from '../schemas/employees.js';

const adminActionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const config = { api: true } as const;
  const reader = { config, preHandler: app.requireScopes('admin:read') };
  const writer = { config, preHandler: app.requireScopes('admin:write') };
  const backToRecord = (empNo: number, saved: string) => `/emp/admin-get-update/${empNo}?saved=${saved}`;

  app.get('/scopes/:emp_no', { ...reader, schema: ScopesSchema }, async (request, reply) => {
    const empNo = targetOf(request.params);
    const scopes = await getEmployeeScopes(app.db, empNo);
    // A browser sees them where they are shown and changed: on the employee's page.
    if (wantsHtml(request)) return reply.redirect(`/emp/admin-get-update/${empNo}#access-heading`, 303);
    return { emp_no: empNo, scopes };
  });

  app.post('/scopes/:emp_no', { ...writer, schema: ChangeScopesSchema }, async (request, reply) => {
    const requested = splitScopeNames(request.body.scopes);
    const empNo = targetOf(request.params);
    const now = await changeEmployeeScopes(app.db, request.user, empNo, requested, auditContextOf(request));
    request.log.info({ target: empNo, scopes: now }, 'changed scopes');
    if (wantsHtml(request)) return reply.redirect(backToRecord(empNo, 'scopes'), 303);
    return { emp_no: empNo, scopes: now };
  });

  app.get('/sessions/:emp_no', { ...reader, schema: EmployeeSessionsSchema }, async (request, reply) => {
    const empNo = targetOf(request.params);
    const listed = async () => (await app.auth.listSessions(empNo)).map((session) => sessionJson(session, request.user));
    // The employee first: an unknown number is a 404, not an empty list.
    if (wantsHtml(request)) {
      const { employee, manageRefusal } = await getManagedEmployee(app.db, request.user, empNo);
      return reply.page('employee-sessions.njk', { employee, sessions: await listed(), manageRefusal });
    }
    await getEmployee(app.db, empNo);
    const sessions = await listed();
    return { emp_no: empNo, sessions };
  });

  app.post('/sessions/:emp_no/end-all', { ...writer, schema: EndEmployeeSessionsSchema }, async (request, reply) => {
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
    const ended = await app.auth.endSessionsOf(request.user, empNo, requestClient(request));
    if (wantsHtml(request)) return reply.redirect(backToRecord(empNo, 'sessions'), 303);
    return { emp_no: empNo, ended };
  });

  app.post('/account/:emp_no', { ...writer, schema: AccountStateSchema }, async (request, reply) => {
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
    const ended = await app.auth.setDisabled(request.user, empNo, disabled, requestClient(request));
    if (wantsHtml(request)) return reply.redirect(backToRecord(empNo, 'account'), 303);
    return { emp_no: empNo, disabled, sessions_ended: ended };
  });

  app.post(
    '/mfa/:emp_no/reset',
    { config, preHandler: app.requireScopes('super:*'), schema: ResetSecondFactorSchema },
    async (request, reply) => {
      const empNo = targetOf(request.params);
      if (needsConfirmation(request)) {
        const employee = await getEmployee(app.db, empNo);
        return askToConfirm(request, reply, {
          question: `Reset the second factor of ${employee.first_name} ${employee.last_name}?`,
          consequence:
            'Their authenticator app and recovery codes stop working, and every session and token of theirs ends now. ' +
            'Do this only once you are sure who asked: their next login sets up a new one.',
          confirmLabel: 'Reset second factor',
          cancelUrl: `/emp/admin-get-update/${employee.emp_no}`,
        });
      }
      const done = await app.secondFactor.reset(request.user, empNo, loginClient(request));
      if (wantsHtml(request)) return reply.redirect(backToRecord(empNo, 'mfa'), 303);
      return { emp_no: empNo, had_second_factor: done.hadFactor, sessions_ended: done.sessionsEnded };
    },
  );
};

export default adminActionRoutes;
