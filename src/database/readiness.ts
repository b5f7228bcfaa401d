/**
 * Starting without the database: the process comes up and serves (503 for whatever needs the
 * database, /ready naming it) while it keeps trying in the background, instead of exiting and
 * needing a person to start it again once the database is back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { DatabaseNotReadyError, isDatabaseOutage } from './errors.js';

/**
 * Refuses every query until `open()`, so that no request meets a schema that is not there yet: it
 * gets the same 503 as during an outage. A Kysely plugin sees every query the app builds, raw SQL
 * included, before a connection is taken.
 */
export class SchemaGate implements KyselyPlugin {
  #open = false;

  get isOpen(): boolean {
    return this.#open;
  }

  open(): void {
    this.#open = true;
  }

  /** Throws DatabaseNotReadyError (503) while closed; also guards reads that bypass Kysely (sqlite-reads.ts). */
  assertOpen(): void {
    if (!this.#open) throw new DatabaseNotReadyError('its schema has not been checked since this process started');
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.assertOpen();
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

const FIRST_RETRY_DELAY_MS = 500;
/** Long enough not to flood the log (or a server that is starting), short enough to serve soon after it is back. */
const MAX_RETRY_DELAY_MS = 5_000;

export interface RetryLog {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

/**
 * Runs `attempt` until it succeeds, waiting longer after each outage (doubling up to 5 s) and
 * saying so at warn level. An error that is not an outage (a failed migration) is thrown at once:
 * waiting would not mend it. Rejects with the abort reason when `signal` aborts.
 */
export async function retryWhileUnavailable(
  attempt: () => Promise<void>,
  { what, log, signal }: { what: string; log: RetryLog; signal?: AbortSignal },
): Promise<void> {
  for (let failures = 0; ; failures++) {
    try {
      await attempt();
      if (failures > 0) log.info({ attempts: failures + 1 }, `${what}: the database answers again`);
      return;
    } catch (error) {
      if (!isDatabaseOutage(error)) throw error;
      const retryInMs = Math.min(FIRST_RETRY_DELAY_MS * 2 ** failures, MAX_RETRY_DELAY_MS);
      log.warn({ err: error, attempt: failures + 1, retryInMs }, `${what}: the database is unavailable; trying again`);
      await sleep(retryInMs, undefined, { signal });
    }
  }
}
