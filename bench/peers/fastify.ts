/**
 * The peer a Fastify user would write: Fastify 5, @fastify/cookie, @fastify/session with
 * connect-redis over ioredis (the store its README names), no session for anonymous visitors,
 * the library's other defaults. See common.ts.
 */
import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import session from '@fastify/session';
import { RedisStore } from 'connect-redis';
import { Redis } from 'ioredis';
import { checkLogin, COOKIE_SECRET, IDLE_SECONDS, PEER_USER, peerSettings } from './common.js';

declare module 'fastify' {
  interface Session {
    empNo?: number;
  }
}

const { port, redisUrl } = peerSettings();
const app = Fastify({ logger: false });
await app.register(formbody);
await app.register(cookie);
await app.register(session, {
  store: new RedisStore({ client: new Redis(redisUrl), prefix: 'peer-fastify:', ttl: IDLE_SECONDS }),
  secret: COOKIE_SECRET,
  cookieName: 'session',
  saveUninitialized: false,
  cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: IDLE_SECONDS * 1000 },
});

app.post('/auth/token', async (request, reply) => {
  const body = request.body as { username?: unknown; password?: unknown } | undefined;
  if (!(await checkLogin(body?.username, body?.password))) return reply.code(400).send({ detail: 'Incorrect username or password' });
  await request.session.regenerate();
  request.session.empNo = PEER_USER.me.emp_no;
  return { message: 'logged in' };
});

app.get('/admin/me', async (request, reply) => {
  if (request.session.empNo !== PEER_USER.me.emp_no) return reply.code(401).send({ detail: 'Not authenticated' });
  return PEER_USER.me;
});

await app.listen({ port, host: '127.0.0.1' });
console.log(`listening on ${port}`);
