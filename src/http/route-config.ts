/**
 * What a route declares about itself in its `config`, read by the hooks that need it instead of
 * lists of URLs kept elsewhere:
 *
 * - `api`: the route also answers, JSON only, at an `/api` address. `true` puts `/api` before its
 *   own URL (`/emp/search` → `/api/emp/search`); a string names the alias (`/auth/token` →
 *   `/api/login`, the original series' name). The alias is registered by the `onRoute` hook below,
 *   with the same schema, preHandlers and handler, and `format: 'json'`.
 * - `format: 'json'`: always answer JSON, whatever `Accept` says (http/negotiation.ts). Set on the
 *   derived aliases; a route may set it itself.
 * - `setsSession`: the route logs in, setting the session cookie. The cross-site guard checks it even
 *   without a cookie (http/security.ts: login CSRF), and the metrics count its outcomes as logins.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Also serve this route as JSON only under /api: `true` for `/api` + its URL, or the alias's path. */
    api?: true | string;
    /** 'json': this route always answers JSON, whatever the client's Accept says. */
    format?: 'json';
    /** This route logs in: it sets the session cookie. */
    setsSession?: boolean;
    /** Set on a derived /api alias: the URL of the route it serves again. */
    aliasOf?: string;
  }
}

/** The /api address of a route declared with `config.api`. */
export function apiAliasPath(url: string, api: true | string): string {
  return api === true ? `/api${url}` : api;
}

/**
 * `path` (a URL of a route with `api: true`) as the same face of the app as this request: through
 * an /api alias, its /api twin. A redirect from a JSON-only alias stays JSON-only.
 */
export function sameFace(request: FastifyRequest, path: string): string {
  return request.routeOptions.config.aliasOf ? apiAliasPath(path, true) : path;
}

/**
 * Registers, for every route declared with `config.api`, its JSON-only twin. The twin goes on the
 * root instance (the route's own may carry a prefix that the alias does not share); routes here
 * use per-route preHandlers, not hooks of their plugin, so nothing is lost by that move.
 */
export default fp(
  async (app: FastifyInstance) => {
    app.addHook('onRoute', (route: RouteOptions) => {
      const api = route.config?.api;
      // Fastify adds a HEAD route for each GET, the twin's too: its own HEAD is not copied.
      if (api === undefined || route.method === 'HEAD') return;
      const { api: _api, ...config } = route.config ?? {};
      const url = apiAliasPath(route.url, api);
      // Without `api`, the twin does not come back through this hook for a twin of its own.
      app.route({ ...route, url, config: { ...config, format: 'json', aliasOf: route.url } });
    });
  },
  { name: 'api-aliases', fastify: '5.x' },
);
