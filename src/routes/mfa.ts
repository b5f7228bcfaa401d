/**
 * /auth/mfa: the second factor. A login halfway through (a pending session, `app.requirePending`)
 * reaches only these routes: the second step (`/auth/mfa`, `/auth/mfa/totp`) or, for someone whose
 * permissions require a second factor and who has none, enrolment (`/auth/mfa/totp/enrol`), which a
 * logged-in person uses too. Thin: the decisions are SecondFactorService's.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { wantsHtml } from '../http/negotiation.js';
import { isAppError } from '../http/errors.js';
import { loginClient } from '../http/login-client.js';
import { safeNextPath } from '../pages/notices.js';
import type { CompletedLogin } from '../auth/second-factor-service.js';
import {
  ConfirmTotpSchema,
  RemoveTotpSchema,
  SecondFactorStatusSchema,
  SecondStepPageSchema,
  SecondStepSchema,
  TotpEnrolmentSchema,
} from './schemas/mfa.js';

/** A wrong code on a page: the same page again, saying so (400), rather than an error page. */
const isWrongCode = (error: unknown) => isAppError(error, 400) && error.code === 'INVALID_SECOND_FACTOR';

/** The login is complete: the full session's cookie replaces the pending one. */
function finishLogin(request: FastifyRequest, reply: FastifyReply, completed: CompletedLogin): void {
  reply.setSessionCookie(completed.sessionToken);
  request.log.info({ empNo: completed.empNo }, 'logged in with a second factor');
}

const mfaRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const secondStep = { preHandler: app.requirePending(['verify'], { orUser: true }) };
  const enrolment = { preHandler: app.requirePending(['enrol'], { orUser: true }) };
  const own = { preHandler: app.requireUser };

  app.get('/', { ...secondStep, schema: SecondStepPageSchema }, async (request, reply) => {
    const next = safeNextPath(request.query.next);
    // Logged in already (a second tab finished first): on to where the login was going.
    if (!request.pending) return wantsHtml(request) ? reply.redirect(next ?? '/auth/home', 303) : { message: 'Already logged in' };
    const { totp, passkeys } = await app.secondFactor.status(request.pending.empNo);
    if (wantsHtml(request)) return reply.page('mfa-verify.njk', { next, passkeys: passkeys > 0 && app.passkeys.available });
    return { methods: [...(totp ? ['totp', 'recovery_code'] : []), ...(passkeys > 0 ? ['passkey'] : [])] };
  });

  app.post('/totp', { ...secondStep, schema: SecondStepSchema }, async (request, reply) => {
    const next = safeNextPath(request.body.next);
    if (!request.pending) return wantsHtml(request) ? reply.redirect(next ?? '/auth/home', 303) : { message: 'Already logged in' };
    try {
      finishLogin(request, reply, await app.secondFactor.completeWithCode(request.pending, request.body.code, loginClient(request)));
    } catch (error) {
      if (isWrongCode(error) && wantsHtml(request)) return reply.code(400).page('mfa-verify.njk', { next, failed: true });
      throw error;
    }
    if (wantsHtml(request)) return reply.redirect(next ?? '/auth/home', 303);
    return { message: 'Logged in' };
  });

  app.get('/settings', { ...own, config: { api: '/api/mfa' }, schema: SecondFactorStatusSchema }, async (request, reply) => {
    const status = await app.secondFactor.status(request.user.empNo);
    const json = { totp: status.totp, recovery_codes_left: status.recoveryCodes, required: status.required };
    if (wantsHtml(request)) {
      const { removed } = request.query as { removed?: string };
      return reply.page('mfa-settings.njk', { ...json, passkeys: status.passkeys, removed });
    }
    return json;
  });

  app.get('/totp/enrol', { ...enrolment, config: { api: '/api/mfa/totp/enrol' }, schema: TotpEnrolmentSchema }, async (request, reply) => {
    const who = request.pending ?? request.user;
    const enrolmentData = await app.secondFactor.beginTotpEnrolment(who.empNo);
    if (wantsHtml(request)) {
      return reply.page('mfa-enrol.njk', {
        ...enrolmentData,
        atLogin: request.pending !== null,
        next: safeNextPath(request.query.next),
        passkeysAvailable: app.passkeys.available,
      });
    }
    return { secret: enrolmentData.secret, otpauth_uri: enrolmentData.uri };
  });

  app.post('/totp/enrol', { ...enrolment, config: { api: '/api/mfa/totp/enrol' }, schema: ConfirmTotpSchema }, async (request, reply) => {
    const next = safeNextPath(request.body.next);
    const who = request.pending ?? request.user;
    let confirmed;
    try {
      confirmed = await app.secondFactor.confirmTotpEnrolment(who, request.body.code, loginClient(request));
    } catch (error) {
      if (!(isWrongCode(error) && wantsHtml(request))) throw error;
      const again = await app.secondFactor.beginTotpEnrolment(who.empNo);
      return reply.code(400).page('mfa-enrol.njk', {
        ...again,
        atLogin: request.pending !== null,
        next,
        failed: true,
        passkeysAvailable: app.passkeys.available,
      });
    }
    if (confirmed.completed) finishLogin(request, reply, confirmed.completed);
    const message = 'The authenticator app is set up. Keep these recovery codes somewhere safe: they are shown only now';
    // Shown in this answer only: they are stored hashed, so no later page could show them again.
    if (wantsHtml(request))
      return reply.page('mfa-codes.njk', { codes: confirmed.recoveryCodes, next: next ?? '/auth/home', loggedIn: true });
    return { message, recovery_codes: confirmed.recoveryCodes };
  });

  app.post('/totp/remove', { ...own, config: { api: '/api/mfa/totp/remove' }, schema: RemoveTotpSchema }, async (request, reply) => {
    try {
      await app.secondFactor.removeTotp(request.user, request.body.code, loginClient(request));
    } catch (error) {
      if (!(isWrongCode(error) && wantsHtml(request))) throw error;
      const status = await app.secondFactor.status(request.user.empNo);
      return reply.code(400).page('mfa-settings.njk', {
        totp: status.totp,
        recovery_codes_left: status.recoveryCodes,
        required: status.required,
        failed: true,
      });
    }
    if (wantsHtml(request)) return reply.redirect('/auth/mfa/settings?removed=1', 303);
    return { message: 'The authenticator app and the recovery codes are removed' };
  });
};

export default mfaRoutes;
