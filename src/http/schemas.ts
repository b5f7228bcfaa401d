/** Response shapes shared by several routes; each is declared once so the OpenAPI document agrees. */
import { Type } from 'typebox';

export const ErrorResponse = Type.Object(
  {
    detail: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'ErrorResponse', description: 'An error, with per-field errors when the input was invalid' },
);

export const MessageResponse = Type.Object({ message: Type.String() }, { $id: 'MessageResponse' });

export const errorRef = (description: string) => Type.Ref('ErrorResponse', { description });
export const messageRef = (description: string) => Type.Ref('MessageResponse', { description });

/** The security requirement of every protected route: the OAuth2 password flow's bearer token (or the cookie). */
export const PROTECTED: Array<Record<string, string[]>> = [{ OAuth2PasswordBearer: [] }, { SessionCookie: [] }];
