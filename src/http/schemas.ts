/** Response shapes shared by several routes; each is declared once so the OpenAPI document agrees. */
import { Type } from 'typebox';

export const ErrorResponse = Type.Object(
  {
    detail: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
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
