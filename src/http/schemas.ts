/** Response shapes shared by several routes; each is declared once so the OpenAPI document agrees. */
import { Type } from 'typebox';
import { EMP_NO_RULE, isEmpNoText } from '../employees/employee-number.js';
import { AUDIT_TIME_RULE, parseAuditTime } from '../audit/trail.js';
import { AUDIT_ACTIONS, AUDIT_ACTOR_KINDS, AUDIT_OUTCOMES } from '../audit/events.js';

/**
 * String formats of our own, checked by the request validator (app.ts gives them to ajv), each with
 * the message a client sees when a value does not have it. `emp-no`: an employee number in a path
 * or query, read by the same strict rule as the forms' (employees/employee-number.ts), so that ajv's
 * type coercion (`+10011` and `1e4` as integers) never decides whom a request names.
 */
export const SCHEMA_FORMATS = {
  'emp-no': { type: 'string', validate: isEmpNoText },
  'audit-time': { type: 'string', validate: (text: string) => parseAuditTime(text) !== undefined },
} as const;

export const FORMAT_MESSAGES: Readonly<Record<string, string>> = {
  'emp-no': EMP_NO_RULE,
  'audit-time': AUDIT_TIME_RULE,
};

/** An employee number in a path or query string: digits only (convert with `parseEmpNo`). */
export const EmpNoText = Type.String({
  format: 'emp-no',
  description: 'An employee number: digits only, from 1 to 2147483647',
  examples: ['10001'],
});

export const ErrorResponse = Type.Object(
  {
    detail: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    error: Type.Optional(Type.String({ description: 'Token endpoint only: the OAuth2 error code (RFC 6749 §5.2)' })),
    error_description: Type.Optional(Type.String({ description: 'Token endpoint only: the same as detail' })),
  },
  { $id: 'ErrorResponse', description: 'An error, with per-field errors when the input was invalid' },
);

export const EmployeeJson = Type.Object(
  {
    emp_no: Type.Integer(),
    email: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    birth_date: Type.String({ format: 'date' }),
    gender: Type.String({ enum: ['M', 'F'] }),
    hire_date: Type.String({ format: 'date' }),
  },
  { $id: 'Employee', description: 'An employee (dates as yyyy-mm-dd; never a password hash)' },
);

export const SessionJson = Type.Object(
  {
    id: Type.String({ description: 'The public id of the session (never its secret)' }),
    client: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    last_seen_at: Type.String({ format: 'date-time', description: 'Recorded at most once a minute' }),
    expires_at: Type.String({ format: 'date-time' }),
    current: Type.Boolean({ description: 'Whether this request came through it' }),
  },
  { $id: 'Session' },
);

/** One event of the audit trail, as the API, the page and the export show it (audit/trail.ts `AuditEventJson`). */
export const AuditEventSchema = Type.Object(
  {
    id: Type.Integer(),
    occurred_at: Type.String({ format: 'date-time' }),
    action: Type.String({ description: `One of ${AUDIT_ACTIONS.join(', ')} (more may come)` }),
    outcome: Type.String({ enum: [...AUDIT_OUTCOMES] }),
    repeat_count: Type.Integer({ description: 'How many attempts the row counts: above 1 only for aggregated failed logins' }),
    actor: Type.Object({
      kind: Type.String({ enum: [...AUDIT_ACTOR_KINDS] }),
      emp_no: Type.Union([Type.Integer(), Type.Null()]),
      name: Type.Union([Type.String(), Type.Null()], { description: 'The operator, or the name a login was tried with' }),
      session_id: Type.Union([Type.String(), Type.Null()], { description: "The public id of the actor's session" }),
    }),
    client: Type.Object({ address: Type.Union([Type.String(), Type.Null()]), label: Type.Union([Type.String(), Type.Null()]) }),
    target_emp_no: Type.Union([Type.Integer(), Type.Null()]),
    detail: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
      description: 'Particulars: the fields or scopes before and after a change, the sessions ended; never a password or hash',
    }),
  },
  { $id: 'AuditEvent' },
);

export const MessageResponse = Type.Object({ message: Type.String() }, { $id: 'MessageResponse' });

export const errorRef = (description: string) => Type.Ref('ErrorResponse', { description });

/**
 * The security requirement of a protected route: the OAuth2 password flow's bearer token with these
 * scopes, or the session cookie. Swagger UI shows the lock and the scopes from this.
 */
export const securedBy = (...scopes: string[]): Array<Record<string, string[]>> => [
  { OAuth2PasswordBearer: scopes },
  { SessionCookie: [] },
];
