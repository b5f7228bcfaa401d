/**
 * The route config flags and the /api twins the framework derives from `config.api`
 * (src/http/route-config.ts), on a bare Fastify: no database or session store is involved.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import accepts from '@fastify/accepts';
import apiAliases, { sameFace } from '../../src/http/route-config.js';
import { wantsHtml } from '../../src/http/negotiation.js';

const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('route config: /api twins', () => {
  let app: FastifyInstance;

  before(async () => {
    app = Fastify();
    await app.register(accepts);
    await app.register(apiAliases);
    await app.register(
      async (emp) => {
        const seen = async (request: Parameters<typeof wantsHtml>[0]) => ({
          route: request.routeOptions.url,
          html: wantsHtml(request),
          setsSession: request.routeOptions.config.setsSession ?? false,
          next: sameFace(request, '/emp/next'),
        });
        emp.get('/page', { config: { api: true } }, seen);
        emp.post('/enter', { config: { api: '/api/enter', setsSession: true } }, seen);
        emp.get('/only-here', {}, seen);
      },
      { prefix: '/emp' },
    );
    await app.ready();
  });

  after(() => app.close());

  it('serves a route marked `api: true` again under /api, always as JSON', async () => {
    const original = await app.inject({ method: 'GET', url: '/emp/page', headers: BROWSER });
    assert.deepEqual(original.json(), { route: '/emp/page', html: true, setsSession: false, next: '/emp/next' });
    const twin = await app.inject({ method: 'GET', url: '/api/emp/page', headers: BROWSER });
    assert.deepEqual(twin.json(), { route: '/api/emp/page', html: false, setsSession: false, next: '/api/emp/next' });
    const head = await app.inject({ method: 'HEAD', url: '/api/emp/page' });
    assert.equal(head.statusCode, 200);
  });

  it('names the twin when `api` is a path, and carries the other flags to it', async () => {
    const twin = await app.inject({ method: 'POST', url: '/api/enter', headers: BROWSER });
    assert.deepEqual(twin.json(), { route: '/api/enter', html: false, setsSession: true, next: '/api/emp/next' });
    const original = await app.inject({ method: 'POST', url: '/emp/enter', headers: BROWSER });
    assert.deepEqual(original.json(), { route: '/emp/enter', html: true, setsSession: true, next: '/emp/next' });
  });

  it('derives no twin for a route without `api`', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/emp/only-here' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/api/emp/only-here' })).statusCode, 404);
  });
});
