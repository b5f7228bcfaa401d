/** Response shapes shared by several routes; each is declared once so the OpenAPI document agrees. */
import { Type } from 'typebox';
import { EMP_NO_RULE, isEmpNoText } from '../employees/employee-number.js';

/**
 * String formats of our own, checked by the request validator (app.ts gives them to ajv), each with
 * the message a client sees when a value does not have it. `emp-no`: an employee number in a path
 * or query, read by the same strict rule as the forms' (employees/employee-number.ts), so that ajv's
 * type coercion (`+10011` and `1e4` as integers) never decides whom a request names.
 */
export const SCHEMA_FORMATS = {
  'emp-no': { type: 'string', validate: isEmpNoText },
} as const;

export const FORMAT_MESSAGES: Readonly<Record<string, string>> = {
  'emp-no': EMP_NO_RULE,
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
