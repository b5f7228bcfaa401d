/**
 * /auth/mfa/passkeys: passkeys as a second factor. A logged-in person lists, registers, renames and
 * removes theirs (the Passkeys page, and `/api/mfa/passkeys...`); a login that must set up a second
 * factor may register one instead of an authenticator app; a login owing its second step proves one.
 * The WebAuthn ceremonies run in the page's script (pages/static/passkeys.js, with
 * @simplewebauthn/browser served from /static/vendor/), which posts JSON here. Thin: the decisions
 * are PasskeyService's.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RegistrationResponseJSON, AuthenticationResponseJSON } from '@simplewebauthn/server';
import { wantsHtml } from '../http/negotiation.js';
import { loginClient } from '../http/login-client.js';
import { safeNextPath } from '../pages/notices.js';
import { askToConfirm, needsConfirmation } from '../pages/confirm.js';
import type { PasskeyCredential } from '../identity/second-factor/passkeys.js';
import type { CompletedLogin } from '../auth/second-factor-service.js';
import {
  AuthenticateSchema,
  AuthenticationOptionsSchema,
  MyPasskeysSchema,
  RegisterPasskeySchema,
  RegistrationOptionsSchema,
  RemovePasskeySchema,
  RenamePasskeySchema,
} from './schemas/passkeys.js';

const PAGE = '/auth/mfa/passkeys';

function passkeyJson(passkey: PasskeyCredential) {
  return {
    id: passkey.credentialId,
    name: passkey.name,
    transports: passkey.transports,
    created_at: passkey.createdAt,
    last_used_at: passkey.lastUsedAt,
  };
}

/** The login is complete: the full session's cookie replaces the pending one. */
function finishLogin(request: FastifyRequest, reply: FastifyReply, completed: CompletedLogin): void {
  reply.setSessionCookie(completed.sessionToken);
  request.log.info({ empNo: completed.empNo }, 'logged in with a passkey');
}

const passkeyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const own = { preHandler: app.requireUser };
  // Registering: a logged-in person, or a login that must set up a second factor first.
  const enrolment = { preHandler: app.requirePending(['enrol'], { orUser: true }) };
  const secondStep = { preHandler: app.requirePending(['verify']) };
  /** The JSON face only: these routes serve the page's script and programs. */
  const json = { format: 'json' } as const;

  app.get('/', { ...own, config: { api: '/api/mfa/passkeys' }, schema: MyPasskeysSchema }, async (request, reply) => {
    const passkeys = (await app.passkeys.list(request.user.empNo)).map(passkeyJson);
    if (wantsHtml(request)) {
      const { added, renamed, removed } = request.query as Record<string, string | undefined>;
      return reply.page('passkeys.njk', { passkeys, available: app.passkeys.available, added, renamed, removed });
    }
    return { passkeys, available: app.passkeys.available };
  });

  app.post(
    '/registration/options',
    { ...enrolment, config: { ...json, api: '/api/mfa/passkeys/registration/options' }, schema: RegistrationOptionsSchema },
    async (request) => app.passkeys.startRegistration(request.pending ?? request.user),
  );

  app.post(
    '/registration',
    { ...enrolment, config: { ...json, api: '/api/mfa/passkeys/registration' }, schema: RegisterPasskeySchema },
    async (request, reply) => {
      const { name, response, next } = request.body;
      const { passkey, completed } = await app.passkeys.finishRegistration(
        request.pending ?? request.user,
        response as RegistrationResponseJSON,
        name,
        loginClient(request),
      );
      if (completed) finishLogin(request, reply, completed);
      const where = completed ? (safeNextPath(next) ?? '/auth/home') : `${PAGE}?added=1`;
      return reply.code(201).send({ message: 'Passkey registered', passkey: passkeyJson(passkey), next: where });
    },
  );

  app.post(
    '/:credential_id/rename',
    { ...own, config: { api: '/api/mfa/passkeys/:credential_id/rename' }, schema: RenamePasskeySchema },
    async (request, reply) => {
      await app.passkeys.rename(request.user.empNo, request.params.credential_id, request.body.name);
      if (wantsHtml(request)) return reply.redirect(`${PAGE}?renamed=1`, 303);
      return { message: 'Passkey renamed' };
    },
  );

  app.post(
    '/:credential_id/remove',
    { ...own, config: { api: '/api/mfa/passkeys/:credential_id/remove' }, schema: RemovePasskeySchema },
    async (request, reply) => {
      if (needsConfirmation(request)) {
        return askToConfirm(request, reply, {
          question: 'Remove this passkey?',
          consequence: 'It no longer logs you in here. The authenticator may keep it: remove it there too.',
          confirmLabel: 'Remove the passkey',
          cancelUrl: PAGE,
        });
      }
      await app.passkeys.remove(request.user, request.params.credential_id, loginClient(request));
      if (wantsHtml(request)) return reply.redirect(`${PAGE}?removed=1`, 303);
      return { message: 'Passkey removed' };
    },
  );

  app.post('/authentication/options', { ...secondStep, config: json, schema: AuthenticationOptionsSchema }, async (request) =>
    app.passkeys.startAuthentication(request.pending!),
  );

  app.post('/authentication', { ...secondStep, config: json, schema: AuthenticateSchema }, async (request, reply) => {
    const completed = await app.passkeys.completeLogin(
      request.pending!,
      request.body.response as AuthenticationResponseJSON,
      loginClient(request),
    );
    finishLogin(request, reply, completed);
    return { message: 'Logged in', next: safeNextPath(request.body.next) ?? '/auth/home' };
  });
};

export default passkeyRoutes;
