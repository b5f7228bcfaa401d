/**
 * The readiness check (GET /ready): do the session store and the database both answer? Asked of
 * each at once; a failure is logged and reported, never thrown, so the probe itself always answers.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { pingDatabase } from '../database/open.js';

type Outcome = 'ok' | 'unavailable';

export interface ReadinessReport {
  status: 'ready' | 'unavailable';
  checks: { sessionStore: Outcome; database: Outcome };
}

async function outcome(check: Promise<unknown>, log: FastifyBaseLogger): Promise<Outcome> {
  return check.then(
    () => 'ok' as const,
    (error: unknown) => {
      log.warn({ err: error }, 'readiness check failed');
      return 'unavailable' as const;
    },
  );
}

export async function checkReadiness(app: FastifyInstance, log: FastifyBaseLogger): Promise<ReadinessReport> {
  const [sessionStore, database] = await Promise.all([outcome(app.sessionStore.ping(), log), outcome(pingDatabase(app.db), log)]);
  return { status: sessionStore === 'ok' && database === 'ok' ? 'ready' : 'unavailable', checks: { sessionStore, database } };
}
