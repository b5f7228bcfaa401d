/** The audit trail (routes/audit.ts): the page and `GET /api/audit`. */
import { Type, type Static } from '@fastify/type-provider-typebox';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES } from '../../audit/events.js';
import { DEFAULT_AUDIT_PAGE_SIZE, MAX_AUDIT_PAGE_SIZE } from '../../audit/trail.js';
import { EmpNoText, errorRef, securedBy } from '../../http/schemas.js';
import { SCOPED_ERRORS } from './common.js';

const AuditTime = (description: string) =>
  Type.String({ format: 'audit-time', description: `${description}: an ISO 8601 date or date-time (UTC unless an offset is given)` });

export const AuditQuery = Type.Object(
  {
    actor: Type.Optional({ ...EmpNoText, description: 'Events by this employee (number)' }),
    actor_name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 254, description: 'Events by this operator, or logins tried with this name (exact)' }),
    ),
    target: Type.Optional({ ...EmpNoText, description: 'Events on this employee (number)' }),
    action: Type.Optional(Type.Enum([...AUDIT_ACTIONS], { description: 'One action' })),
    outcome: Type.Optional(Type.Enum([...AUDIT_OUTCOMES])),
    since: Type.Optional(AuditTime('From this time on (inclusive)')),
    until: Type.Optional(AuditTime('Before this time (exclusive)')),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'next_cursor of the page before' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_AUDIT_PAGE_SIZE, default: DEFAULT_AUDIT_PAGE_SIZE })),
  },
  { additionalProperties: false },
);

export type AuditQueryValues = Static<typeof AuditQuery>;

export const AuditSchema = {
  tags: ['audit'],
  summary: 'The audit trail: who did what, to whom, from where and when',
  description:
    'Newest first. Filters combine (AND). Paging: pass `next_cursor` as `cursor` for the next (older) page; null on the last. ' +
    'A browser gets the audit page.',
  security: securedBy('audit:read'),
  querystring: AuditQuery,
  response: {
    200: {
      description: 'A page of events, or the audit page',
      content: {
        'application/json': {
          schema: Type.Object({ events: Type.Array(Type.Ref('AuditEvent')), next_cursor: Type.Union([Type.String(), Type.Null()]) }),
        },
        'text/html': { schema: Type.String() },
      },
    },
    400: errorRef('The cursor is not one this API gave out'),
    422: errorRef('A filter is invalid (each named in errors)'),
    ...SCOPED_ERRORS,
  },
};
