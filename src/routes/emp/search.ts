/**
 * /emp/search: the search form and the results, the original series' routes. Each answers a page
 * to a browser and JSON to a program, and JSON only under /api/emp (`config.api`).
 */
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DEFAULT_PAGE_SIZE, searchEmployees } from '../../employees/employee-service.js';
import { validateSearch } from '../../employees/validation.js';
import { validationFailed, type AppError } from '../../errors.js';
import { isAppError } from '../../http/errors.js';
import { pageOrJson, wantsHtml } from '../../http/negotiation.js';
import { sameFace } from '../../http/route-config.js';
import { SearchFormSchema, SearchSchema } from '../schemas/employees.js';

/** The search form again, with what was typed and what is wrong with it (422). */
function searchFormWithErrors(reply: FastifyReply, lastName: string, firstName: string, error: AppError) {
  return reply.code(422).page('search.njk', { lastName, firstName, errors: error.errors ?? [] });
}

/** A blank name travels as `%` (any): a path segment cannot be empty. */
const segment = (typed: string | undefined) => encodeURIComponent(typed?.trim() || '%');

/** `%` alone means "any": the page says so rather than showing the pattern. */
const shown = (name: string) => (name.replaceAll('%', '') === '' ? '' : name);

const searchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const config = { api: true } as const;
  const preHandler = app.requireScopes('admin:read');

  app.get('/search', { config, preHandler, schema: SearchFormSchema }, async (request, reply) => {
    const { last_name: lastName, first_name: firstName, edit } = request.query;
    const html = wantsHtml(request);
    if ((lastName !== undefined || firstName !== undefined) && !(html && edit !== undefined)) {
      // Checked here, so a browser sees what is wrong on the form it filled in, values kept.
      const checked = validateSearch({ lastName, firstName });
      if (!checked.ok && html) return searchFormWithErrors(reply, lastName ?? '', firstName ?? '', validationFailed(checked.errors));
      return reply.redirect(sameFace(request, `/emp/search/${segment(lastName)}/${segment(firstName)}`), 303);
    }
    return pageOrJson(
      request,
      () => reply.page('search.njk', { lastName: lastName ?? '', firstName: firstName ?? '' }),
      () => ({ search: '/emp/search/{last_name}/{first_name}' }),
    );
  });

  // GET, and POST as the original's page posted the search form to the same URL (not in the API document).
  for (const [method, hide] of [
    ['GET', false],
    ['POST', true],
  ] as const) {
    app.route({
      method,
      url: '/search/:last_name/:first_name',
      config,
      preHandler,
      schema: { ...SearchSchema, hide },
      handler: async (request, reply) => {
        const { last_name: lastName, first_name: firstName } = request.params;
        const { page = 1, size = DEFAULT_PAGE_SIZE } = request.query;
        let result;
        try {
          result = await searchEmployees(app.db, { lastName, firstName, page, size });
        } catch (error) {
          if (isAppError(error, 422) && wantsHtml(request)) return searchFormWithErrors(reply, lastName, firstName, error);
          throw error;
        }
        return pageOrJson(
          request,
          () => reply.page('results.njk', { lastName: shown(lastName), firstName: shown(firstName), ...result }),
          () => ({ items: result.items, page: result.page, size: result.size, has_more: result.hasMore }),
        );
      },
    });
  }
};

export default searchRoutes;
