/**
 * The pages room: Nunjucks templates (the closest kin of the original's Jinja2) and the static
 * files under /static/. Static files are served before any session code could run.
 */
import fp from 'fastify-plugin';
import view from '@fastify/view';
import fastifyStatic from '@fastify/static';
import nunjucks from 'nunjucks';
import { STATIC_DIR, TEMPLATES_DIR } from '../paths.js';

export const APP_TITLE = 'Employees Portal';

export default fp(
  async (app) => {
    await app.register(view, {
      engine: { nunjucks },
      root: TEMPLATES_DIR,
      // Autoescape is nunjucks' default; stated here because every page depends on it (XSS).
      options: { autoescape: true, throwOnUndefined: false },
      defaultContext: { appTitle: APP_TITLE },
    });
    await app.register(fastifyStatic, {
      root: STATIC_DIR,
      prefix: '/static/',
      index: false,
      maxAge: '1h',
    });
  },
  { name: 'pages', fastify: '5.x' },
);
