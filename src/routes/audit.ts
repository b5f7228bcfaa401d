/**
 * /audit: the audit trail for holders of `audit:read`, a page to a browser and, JSON only, at
 * /api/audit (`config.api`). Filters and paging are the audit room's (audit/trail.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES } from '../audit/events.js';
import { listAuditEvents } from '../audit/trail.js';
import { requireEmpNo } from '../employees/employee-number.js';
import { dropBlankQueryValues } from '../http/blank-query.js';
import { wantsHtml } from '../http/negotiation.js';
import { AuditSchema, type AuditQueryValues } from './schemas/audit.js';

/** The page's link to the next (older) page: the same filters, the new cursor. */
function olderPageUrl(query: AuditQueryValues, cursor: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && name !== 'cursor') params.set(name, String(value));
  params.set('cursor', cursor);
  return `/audit?${params.toString()}`;
}

const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      config: { api: '/api/audit' },
      preValidation: dropBlankQueryValues,
      preHandler: app.requireScopes('audit:read'),
      schema: AuditSchema,
    },
    async (request, reply) => {
      const { actor, actor_name: actorName, target, ...rest } = request.query;
      // The numbers through the one strict reader (their `emp-no` format has checked them already).
      const page = await listAuditEvents(app.db, {
        ...rest,
        actor: actor === undefined ? undefined : requireEmpNo(actor, 'actor'),
        actorName,
        target: target === undefined ? undefined : requireEmpNo(target, 'target'),
      });
      if (!wantsHtml(request)) return page;
      return reply.page('audit.njk', {
        ...page,
        filters: request.query,
        actions: AUDIT_ACTIONS,
        outcomes: AUDIT_OUTCOMES,
        olderUrl: page.next_cursor === null ? undefined : olderPageUrl(request.query, page.next_cursor),
      });
    },
  );
};

export default auditRoutes;
