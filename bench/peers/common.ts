/**
 * What the two peer servers share: the fixed user they serve, their `/admin/me` body (the same
 * fields the app answers), and how they are started. They stand for what a developer would pick
 * instead of this app's own session code; they read no database (the user is a constant), so any
 * difference to the app is the session stack's and the framework's.
 *
 *   PEER_PORT=8001 REDIS_URL=redis://127.0.0.1:6379 node --import tsx bench/peers/express.ts
 */
import { hash, verify } from '@node-rs/argon2';

export const PEER_USER = {
  username: 'pranav.furedi.10198@gmail.com',
  password: 'password',
  me: {
    username: 'pranav.furedi.10198@gmail.com',
    email: 'pranav.furedi.10198@gmail.com',
    emp_no: 10198,
    first_name: 'Pranav',
    last_name: 'Furedi',
    birth_date: '1953-05-28',
    gender: 'M',
    hire_date: '1985-08-31',
    scopes: ['user:read'],
  },
} as const;

/** A session older than this many seconds of idleness ends (as the app's SESSION_IDLE_TIMEOUT_SECONDS). */
export const IDLE_SECONDS = 1800;
/** 32+ characters, as both session libraries require. */
export const COOKIE_SECRET = 'a peer benchmark secret of at least 32 characters';

export function peerSettings(): { port: number; redisUrl: string } {
  const port = Number(process.env.PEER_PORT);
  const redisUrl = process.env.REDIS_URL;
  if (!Number.isInteger(port) || !redisUrl) throw new Error('PEER_PORT and REDIS_URL are required');
  return { port, redisUrl };
}

/** The same password check as a login to the app (argon2id, OWASP parameters). */
const passwordHash = hash(PEER_USER.password);
export async function checkLogin(username: unknown, password: unknown): Promise<boolean> {
  return username === PEER_USER.username && typeof password === 'string' && verify(await passwordHash, password);
}
