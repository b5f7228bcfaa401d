/** The second factor: a login's second step, TOTP enrolment and removal, and an administrator's reset (routes/mfa.ts, routes/emp/admin-actions.ts). */
import { Type } from '@fastify/type-provider-typebox';
import { errorRef, securedBy } from '../../http/schemas.js';
import { ACCOUNT_ERRORS, SCOPED_ERRORS } from './common.js';
import { EmployeeParams, TARGET_ERRORS } from './employees.js';

const Code = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'The 6-digit code of the authenticator app, or (where said) a recovery code (`xxxxxx-xxxxxx-xxxxxx-xxxxxx`)',
});
const Next = Type.Optional(Type.String({ maxLength: 2048, description: 'Browser: a path on this site to open after login' }));
const PAGE = { 'text/html': { schema: Type.String() } };

export const SecondStepPageSchema = {
  hide: true,
  querystring: Type.Object({ next: Next }),
};

export const SecondStepSchema = {
  hide: true,
  consumes: ['application/x-www-form-urlencoded'],
  body: Type.Object({ code: Code, next: Next }),
};

const FactorStatus = Type.Object({
  totp: Type.Boolean({ description: 'An authenticator app is set up' }),
  recovery_codes_left: Type.Integer({ description: 'Unused recovery codes' }),
  required: Type.Boolean({ description: 'Your permissions require a second factor (MFA_REQUIRED_SCOPES)' }),
});

export const SecondFactorStatusSchema = {
  tags: ['auth'],
  summary: 'My second factor',
  security: securedBy(),
  response: {
    200: { description: 'Status, or the Two-factor page', content: { 'application/json': { schema: FactorStatus }, ...PAGE } },
    ...ACCOUNT_ERRORS,
  },
};

export const TotpEnrolmentSchema = {
  tags: ['auth'],
  summary: 'Start setting up an authenticator app',
  description:
    'The secret (base32) and its `otpauth://` URI for an authenticator app; the same until it is confirmed with ' +
    '`POST /api/mfa/totp/enrol`. A browser gets the page with the QR code.',
  security: securedBy(),
  querystring: Type.Object({ next: Next }),
  response: {
    200: {
      description: 'The secret to enter into the app',
      content: { 'application/json': { schema: Type.Object({ secret: Type.String(), otpauth_uri: Type.String() }) }, ...PAGE },
    },
    409: errorRef('An authenticator app is set up already'),
    ...ACCOUNT_ERRORS,
  },
};

export const ConfirmTotpSchema = {
  tags: ['auth'],
  summary: 'Confirm the authenticator app with a code from it',
  description:
    'The app counts as your second factor from now on, and ten one-time recovery codes are returned: this is the only ' +
    'time they are shown. Store them somewhere safe.',
  security: securedBy(),
  consumes: ['application/x-www-form-urlencoded'],
  body: Type.Object({ code: Code, next: Next }),
  response: {
    200: {
      description: 'The recovery codes (shown once)',
      content: {
        'application/json': { schema: Type.Object({ message: Type.String(), recovery_codes: Type.Array(Type.String()) }) },
        ...PAGE,
      },
    },
    400: errorRef('The code is not right (or not from this secret)'),
    429: errorRef('Too many wrong codes: see Retry-After'),
    ...ACCOUNT_ERRORS,
  },
};

export const RemoveTotpSchema = {
  tags: ['auth'],
  summary: 'Remove my authenticator app and recovery codes',
  description: 'Proven with a current code (from the app, or a recovery code). Refused while your permissions require a second factor.',
  security: securedBy(),
  consumes: ['application/x-www-form-urlencoded'],
  body: Type.Object({ code: Code }),
  response: {
    200: Type.Ref('MessageResponse'),
    303: Type.Null({ description: 'Browser: back to the Two-factor page' }),
    400: errorRef('The code is not right, or was used already'),
    409: errorRef('Your permissions require a second factor'),
    429: errorRef('Too many wrong codes: see Retry-After'),
    ...ACCOUNT_ERRORS,
  },
};

export const ResetSecondFactorSchema = {
  tags: ['employees'],
  summary: "Reset an employee's second factor",
  description:
    'Removes their authenticator app and recovery codes and ends every session and token of theirs; their next login ' +
    'leads them through setting one up again where their permissions require one. Not your own.',
  security: securedBy('super:*'),
  params: EmployeeParams,
  response: {
    200: Type.Object({ emp_no: Type.Integer(), had_second_factor: Type.Boolean(), sessions_ended: Type.Integer() }),
    303: Type.Null({ description: 'Browser: back to the maintenance page' }),
    ...TARGET_ERRORS,
    ...SCOPED_ERRORS,
  },
};
