/**
 * The API document (GET /openapi.json) and Swagger UI (GET /docs). The routes' own schemas are the
 * single source; pages are hidden from the document. The OAuth2 password flow makes Swagger UI's
 * Authorize button log in through POST /auth/token.
 */
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { AuditEventSchema, EmployeeJson, ErrorResponse, MessageResponse, SessionJson } from './schemas.js';
import { SCOPE_DESCRIPTIONS } from '../identity/scopes.js';

/** The hash of the one inline <style> element Swagger UI (@fastify/swagger-ui 6.1's bundle) inserts. */
const SWAGGER_UI_STYLE_HASH = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

export default fp(
  async (app) => {
    app.addSchema(ErrorResponse);
    app.addSchema(MessageResponse);
    app.addSchema(EmployeeJson);
    app.addSchema(SessionJson);
    app.addSchema(AuditEventSchema);

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Employees Portal API',
          version: '0.1.0',
          description:
            'One login for browsers and programs. Log in with the Authorize button (OAuth2 password flow); ' +
            "a session opened on the app's own login page works here too, through the `session` cookie.",
        },
        components: {
          securitySchemes: {
            OAuth2PasswordBearer: {
              type: 'oauth2',
              // Listed here, the scopes appear as checkboxes in Swagger UI's Authorize dialog.
              flows: { password: { tokenUrl: '/auth/token', scopes: SCOPE_DESCRIPTIONS } },
            },
            SessionCookie: { type: 'apiKey', in: 'cookie', name: 'session' },
          },
        },
        tags: [
          { name: 'auth', description: 'Logging in and out' },
          { name: 'employees', description: 'Employee records' },
          { name: 'audit', description: 'The audit trail (scope audit:read)' },
          { name: 'operations', description: 'Health and readiness probes' },
        ],
      },
      refResolver: {
        // Keep the shared schemas' own names in components.schemas (ErrorResponse, MessageResponse).
        buildLocalReference: (json, _baseUri, _fragment, i) => (json.$id as string | undefined) ?? `def-${i}`,
      },
    });

    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { persistAuthorization: false, withCredentials: true },
      // Swagger UI's bundle adds one <style> element of its own; the page's CSP allows exactly that
      // one by its hash (CSP Level 3 hash-source), nothing else inline. The hash belongs to the
      // installed swagger-ui; test/browser/portal.test.ts fails, naming the new hash, if it changes.
      transformStaticCSP: (header: string) => header.replace("style-src 'self'", `style-src 'self' ${SWAGGER_UI_STYLE_HASH}`),
    });

    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi', fastify: '5.x' },
);
