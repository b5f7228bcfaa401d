/**
 * The peer an Express user would write: Express 5, express-session, connect-redis over ioredis,
 * the settings its documentation recommends for a login session (no session for anonymous
 * visitors, no rewrite of unchanged sessions). See common.ts.
 */
import express from 'express';
import session from 'express-session';
import { RedisStore } from 'connect-redis';
import { Redis } from 'ioredis';
import { checkLogin, COOKIE_SECRET, IDLE_SECONDS, PEER_USER, peerSettings } from './common.js';

declare module 'express-session' {
  interface SessionData {
    empNo: number;
  }
}

const { port, redisUrl } = peerSettings();
const app = express();
app.disable('x-powered-by');
app.use(express.urlencoded({ extended: false }));
app.use(
  session({
    store: new RedisStore({ client: new Redis(redisUrl), prefix: 'peer-express:', ttl: IDLE_SECONDS }),
    secret: COOKIE_SECRET,
    name: 'session',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: IDLE_SECONDS * 1000 },
  }),
);

app.post('/auth/token', async (request, response) => {
  const body = request.body as { username?: unknown; password?: unknown } | undefined;
  if (!(await checkLogin(body?.username, body?.password))) {
    response.status(400).json({ detail: 'Incorrect username or password' });
    return;
  }
  request.session.regenerate((error) => {
    if (error) return void response.status(500).json({ detail: 'session error' });
    request.session.empNo = PEER_USER.me.emp_no;
    response.json({ message: 'logged in' });
  });
});

app.get('/admin/me', (request, response) => {
  if (request.session.empNo !== PEER_USER.me.emp_no) {
    response.status(401).json({ detail: 'Not authenticated' });
    return;
  }
  response.json(PEER_USER.me);
});

app.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
