/**
 * Passkeys (routes/passkeys.ts): a person's list, registration, renaming and removal, and a login's
 * second step with a passkey. The WebAuthn objects are what @simplewebauthn/browser produces
 * (`startRegistration` / `startAuthentication`), checked for shape and size here and for meaning by
 * the service.
 */
import { Type } from '@fastify/type-provider-typebox';
import { errorRef, securedBy } from '../../http/schemas.js';
import { ACCOUNT_ERRORS } from './common.js';

const Base64Url = (maxLength: number) => Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength });
/** WebAuthn allows credential ids of up to 1023 bytes; the service then refuses those over 256. */
const CredentialId = Base64Url(1400);
const PAGE = { 'text/html': { schema: Type.String() } };
const Next = Type.Optional(Type.String({ maxLength: 2048, description: 'Browser: a path on this site to open after login' }));
const Name = Type.String({ maxLength: 200, description: 'What you call this passkey ("Laptop"), 1 to 64 characters' });
/** The form token of the page, when the request comes from it (http/security.ts). */
const Csrf = Type.Optional(Type.String({ maxLength: 100 }));

const CredentialCommon = {
  id: CredentialId,
  rawId: CredentialId,
  type: Type.Literal('public-key'),
  clientExtensionResults: Type.Object({}),
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
};

const RegistrationResponse = Type.Object(
  {
    ...CredentialCommon,
    response: Type.Object({
      clientDataJSON: Base64Url(4096),
      attestationObject: Base64Url(32_768),
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
    }),
  },
  { description: 'The credential `startRegistration()` of @simplewebauthn/browser returns' },
);

const AuthenticationResponse = Type.Object(
  {
    ...CredentialCommon,
    response: Type.Object({
      clientDataJSON: Base64Url(4096),
      authenticatorData: Base64Url(4096),
      signature: Base64Url(1024),
      userHandle: Type.Optional(Base64Url(256)),
    }),
  },
  { description: 'The credential `startAuthentication()` of @simplewebauthn/browser returns' },
);

const Passkey = Type.Object({
  id: Type.String({ description: 'The credential id (base64url)' }),
  name: Type.String(),
  transports: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const Options = Type.Object({}, { additionalProperties: true, description: 'WebAuthn options (JSON) for @simplewebauthn/browser' });

export const MyPasskeysSchema = {
  tags: ['auth'],
  summary: 'My passkeys',
  security: securedBy(),
  response: {
    200: {
      description: 'The passkeys, oldest first, or the Passkeys page',
      content: {
        'application/json': { schema: Type.Object({ passkeys: Type.Array(Passkey), available: Type.Boolean() }) },
        ...PAGE,
      },
    },
    ...ACCOUNT_ERRORS,
  },
};

export const RegistrationOptionsSchema = {
  tags: ['auth'],
  summary: 'Start registering a passkey',
  description: 'Options for `navigator.credentials.create()`, with a challenge that serves one answer, for 5 minutes.',
  security: securedBy(),
  response: { 200: Options, 409: errorRef('Passkeys are off here, or you have 10 already'), ...ACCOUNT_ERRORS },
};

export const RegisterPasskeySchema = {
  tags: ['auth'],
  summary: 'Register a passkey',
  description:
    'Verifies the new credential against the challenge of the options and stores it (audited as `mfa.enrol`). ' +
    'A login that must set up a second factor is completed by it: the answer then sets the logged-in `session` cookie.',
  security: securedBy(),
  body: Type.Object({ name: Name, response: RegistrationResponse, next: Next, _csrf: Csrf }),
  response: {
    201: Type.Object({ message: Type.String(), passkey: Passkey, next: Type.Optional(Type.String()) }),
    400: errorRef('The passkey could not be verified, or no registration was under way (start again)'),
    409: errorRef('Passkeys are off here, or this passkey is registered already'),
    422: errorRef('The name is empty or too long'),
    ...ACCOUNT_ERRORS,
  },
};

const PasskeyParams = Type.Object({ credential_id: CredentialId });

export const RenamePasskeySchema = {
  tags: ['auth'],
  summary: 'Rename one of my passkeys',
  security: securedBy(),
  consumes: ['application/x-www-form-urlencoded'],
  params: PasskeyParams,
  body: Type.Object({ name: Name, _csrf: Csrf }),
  response: {
    200: Type.Ref('MessageResponse'),
    303: Type.Null({ description: 'Browser: back to the Passkeys page' }),
    404: errorRef('No such passkey of yours'),
    422: errorRef('The name is empty or too long'),
    ...ACCOUNT_ERRORS,
  },
};

export const RemovePasskeySchema = {
  tags: ['auth'],
  summary: 'Remove one of my passkeys',
  description: 'Audited as `mfa.remove`. Refused while it is the last second factor of someone whose permissions require one.',
  security: securedBy(),
  params: PasskeyParams,
  response: {
    200: Type.Ref('MessageResponse'),
    303: Type.Null({ description: 'Browser: back to the Passkeys page' }),
    404: errorRef('No such passkey of yours'),
    409: errorRef('It is the last second factor your permissions require'),
    ...ACCOUNT_ERRORS,
  },
};

/** The second step of a browser's login: not in the API document (programs log in with the `totp` field). */
export const AuthenticationOptionsSchema = {
  hide: true,
  response: { 200: Options },
};

export const AuthenticateSchema = {
  hide: true,
  body: Type.Object({ response: AuthenticationResponse, next: Next, _csrf: Csrf }),
  response: { 200: Type.Object({ message: Type.String(), next: Type.String() }) },
};
