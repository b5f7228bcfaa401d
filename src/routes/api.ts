/**
 * /api: the same handlers as the pages' routes, always answering JSON (the original series'
 * /api/login, /api/me, /api/logout, plus the employee routes under /api/emp).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { loginRoute, logoutRoute } from './auth.js';
import { meRoute } from './admin.js';
import { registerEmployeeRoutes } from './emp.js';
import { registerAccountRoutes } from './account.js';

const JSON_ONLY = { config: { format: 'json' as const } };

const apiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/login', { ...loginRoute(app), ...JSON_ONLY });
  app.post('/logout', { ...logoutRoute(app), ...JSON_ONLY });
  app.get('/me', { ...meRoute(app), ...JSON_ONLY });
  registerAccountRoutes(app, JSON_ONLY.config);
  await app.register(async (emp) => registerEmployeeRoutes(emp, JSON_ONLY.config), { prefix: '/emp' });
};

export default apiRoutes;
