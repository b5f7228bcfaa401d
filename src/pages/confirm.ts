/**
 * A confirmation step for destructive actions (ending sessions, disabling a login) that works
 * without JavaScript: a browser's first POST gets a page asking "are you sure?", whose button posts
 * the same action again with `confirmed=yes`. Nothing is changed until then. Programs (JSON) are
 * never asked: they act on the first request, as the API document says.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { wantsHtml } from '../http/negotiation.js';

export interface Confirmation {
  question: string;
  consequence: string;
  confirmLabel: string;
  cancelUrl: string;
  /** Form fields to post again with the confirmation. */
  fields?: Record<string, string>;
}

/** Whether this request still has to be confirmed (then `askToConfirm` answers it). */
export function needsConfirmation(request: FastifyRequest): boolean {
  if (!wantsHtml(request)) return false;
  return (request.body as Record<string, unknown> | undefined)?.confirmed !== 'yes';
}

export function askToConfirm(request: FastifyRequest, reply: FastifyReply, confirmation: Confirmation): FastifyReply {
  const action = request.url.split('?')[0];
  return reply.page('confirm.njk', { ...confirmation, fields: confirmation.fields ?? {}, action });
}
