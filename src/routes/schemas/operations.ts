/** The probes' answers (GET /health, GET /ready). */
import { Type } from '@fastify/type-provider-typebox';

export const Health = Type.Object({ status: Type.Literal('ok') });

const CheckOutcome = Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]);

export const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  checks: Type.Object({ sessionStore: CheckOutcome, database: CheckOutcome }),
});

export const HealthSchema = { tags: ['operations'], summary: 'The process is alive', response: { 200: Health } };

export const ReadinessSchema = {
  tags: ['operations'],
  summary: 'The session store and the database both answer',
  response: { 200: Readiness, 503: Readiness },
};
