/**
 * The people a chaos scenario plays: N logged-in clients, each a different employee, asking "who am
 * I" in a loop (cookie and bearer token in turn) and checking the answer names them; and a few
 * "churn" clients that log in and log out through the fault, so that what the app acknowledged
 * then can be checked once the fault has passed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isReady, logIn, logOut, whoAmI, type Credentials, type LoginResult, type Outcome, type Person } from './http.js';

export type Tally = Record<Outcome, number>;

const READY_PROBE_MS = 250;
const READY_MATCH_MS = 250;

export const emptyTally = (): Tally => ({
  correct: 0,
  wrongIdentity: 0,
  unauthorized: 0,
  unavailable: 0,
  serverError: 0,
  otherStatus: 0,
  connectionError: 0,
});

export interface MainClient {
  person: Person;
  /** The session it had before the fault: checked at the end for "sessions lost". */
  original: Credentials;
  /** The session it uses now (a new login after a 401). */
  current: Credentials;
  /** Start time of its latest request that was answered correctly. */
  lastCorrectStartedAt: number;
}

interface Acknowledged {
  person: Person;
  credentials: Credentials;
  at: number;
}

export interface DriverOptions {
  url: () => string;
  password: string;
  /** Pause between one client's requests. */
  pauseMs: number;
  /** Pause between two login/logout cycles of a churn client (logins cost the server a password hash). */
  churnPauseMs: number;
}

export class Driver {
  readonly tally = emptyTally();
  firstErrorAt: number | undefined;
  lastErrorAt: number | undefined;
  reLogins = 0;
  readonly main: MainClient[] = [];
  /** When each main-client request started, and whether the app could serve it (any answer but 503, another 5xx or none). */
  readonly timeline: Array<{ at: number; served: boolean }> = [];
  /** When /ready was asked, and whether it said 200. */
  readonly readiness: Array<{ at: number; ready: boolean }> = [];
  private readinessRunning: Promise<void> | undefined;
  readonly acknowledgedLogins: Acknowledged[] = [];
  readonly acknowledgedLogouts: Acknowledged[] = [];
  /** Statuses of the logins and logouts made once the clients run (new logins after a 401, churn), by status. */
  readonly loginAnswers = new Map<string, number>();
  readonly logoutAnswers = new Map<string, number>();
  private mainRunning: Promise<void> | undefined;
  private churnRunning: Promise<void> | undefined;
  private stopMain = false;
  private stopChurn = false;
  private readonly churnPools = new Map<string, Credentials[]>();

  constructor(private readonly options: DriverOptions) {}

  /** Logs every main client in (in parallel: each is a different account) and checks it is recognised; throws when one cannot be (nothing is wrong yet). */
  async logInAll(people: Person[]): Promise<void> {
    const clients = await Promise.all(
      people.map(async (person): Promise<MainClient> => {
        const result = await logIn(this.options.url(), person, this.options.password);
        if (!('credentials' in result)) throw new Error(`logging in ${person.email} answered ${result.status} before any fault`);
        const check = await whoAmI(this.options.url(), result.credentials, 'cookie', person);
        if (check !== 'correct') throw new Error(`${person.email} was not recognised before any fault (${check})`);
        return { person, original: result.credentials, current: result.credentials, lastCorrectStartedAt: Date.now() };
      }),
    );
    this.main.push(...clients);
  }

  /** Starts the main clients, and a probe of /ready every READY_PROBE_MS as a load balancer would. */
  startMain(): void {
    this.mainRunning = Promise.all(this.main.map((client) => this.mainLoop(client))).then(() => undefined);
    this.readinessRunning = this.readinessLoop();
  }

  async stopMainClients(): Promise<void> {
    this.stopMain = true;
    await Promise.all([this.mainRunning, this.readinessRunning]);
  }

  /**
   * /ready answers that said 200 while every "who am I" started within READY_MATCH_MS of them got
   * a 503, another 5xx or no answer: a balancer would have kept sending people to an instance that
   * could not serve them. (A 401 is served: the store answered that the session is gone.)
   */
  readyWhileFailing(): number {
    return this.readiness.filter(({ at, ready }) => {
      if (!ready) return false;
      const near = this.timeline.filter((entry) => Math.abs(entry.at - at) <= READY_MATCH_MS);
      return near.length > 0 && near.every((entry) => !entry.served);
    }).length;
  }

  private async readinessLoop(): Promise<void> {
    while (!this.stopMain) {
      const at = Date.now();
      this.readiness.push({ at, ready: await isReady(this.options.url()) });
      await sleep(READY_PROBE_MS);
    }
  }

  /**
   * Logs each churn client in `poolSize` times before the fault: the sessions it will log out
   * during the fault. A logout only shows whether it holds if the session it ends existed before
   * the fault (and was replicated): a session created and ended inside the fault vanishes either way.
   */
  async prepareChurn(people: Person[], poolSize: number): Promise<void> {
    await Promise.all(
      people.map(async (person) => {
        const pool: Credentials[] = [];
        for (let i = 0; i < poolSize; i++) {
          const result = await logIn(this.options.url(), person, this.options.password);
          if ('credentials' in result) pool.push(result.credentials);
        }
        this.churnPools.set(person.email, pool);
      }),
    );
  }

  startChurn(people: Person[]): void {
    this.churnRunning = Promise.all(people.map((person) => this.churnLoop(person))).then(() => undefined);
  }

  async stopChurnClients(): Promise<void> {
    this.stopChurn = true;
    await this.churnRunning;
  }

  /** Every main client has had a correct answer to a request started at or after `since`. */
  allCorrectSince(since: number): boolean {
    return this.main.every((client) => client.lastCorrectStartedAt >= since);
  }

  private record(outcome: Outcome, startedAt: number): void {
    this.tally[outcome]++;
    this.timeline.push({ at: startedAt, served: outcome !== 'unavailable' && outcome !== 'serverError' && outcome !== 'connectionError' });
    if (outcome === 'correct') return;
    this.firstErrorAt = Math.min(this.firstErrorAt ?? startedAt, startedAt);
    this.lastErrorAt = Math.max(this.lastErrorAt ?? 0, Date.now());
  }

  private async mainLoop(client: MainClient): Promise<void> {
    for (let i = 0; !this.stopMain; i++) {
      const startedAt = Date.now();
      const outcome = await whoAmI(this.options.url(), client.current, i % 2 === 0 ? 'cookie' : 'bearer', client.person);
      this.record(outcome, startedAt);
      if (outcome === 'correct') client.lastCorrectStartedAt = startedAt;
      if (outcome === 'unauthorized') {
        // The session is gone: log in again, as a person would, and go on.
        const again = await this.countedLogIn(client.person);
        if ('credentials' in again) {
          client.current = again.credentials;
          this.reLogins++;
        }
      }
      await sleep(this.options.pauseMs);
    }
  }

  private async countedLogIn(person: Person): Promise<LoginResult> {
    const result = await logIn(this.options.url(), person, this.options.password);
    this.loginAnswers.set(String(result.status), (this.loginAnswers.get(String(result.status)) ?? 0) + 1);
    return result;
  }

  private async countedLogOut(credentials: Credentials): Promise<number | 'connectionError'> {
    const status = await logOut(this.options.url(), credentials);
    this.logoutAnswers.set(String(status), (this.logoutAnswers.get(String(status)) ?? 0) + 1);
    return status;
  }

  /**
   * Each cycle: a login that is kept, and a logout: of a session from before the fault while there
   * are any left (one is used up only when its logout is acknowledged), then of a fresh login.
   */
  private async churnLoop(person: Person): Promise<void> {
    const pool = this.churnPools.get(person.email) ?? [];
    while (!this.stopChurn) {
      const kept = await this.countedLogIn(person);
      if ('credentials' in kept) this.acknowledgedLogins.push({ person, credentials: kept.credentials, at: Date.now() });
      let target = pool.at(-1);
      if (!target) {
        const fresh = await this.countedLogIn(person);
        if ('credentials' in fresh) target = fresh.credentials;
      }
      if (target && (await this.countedLogOut(target)) === 200) {
        if (target === pool.at(-1)) pool.pop();
        this.acknowledgedLogouts.push({ person, credentials: target, at: Date.now() });
      }
      await sleep(this.options.churnPauseMs);
    }
  }
}

export interface FinalChecks {
  /** Main clients whose pre-fault session now answers 401. */
  sessionsLost: number;
  /** Acknowledged logouts whose cookie or token is recognised again. */
  logoutsUndone: number;
  /** Acknowledged logins that now answer 401. */
  loginsLost: number;
  /** Answers naming someone else during these checks. */
  wrongIdentity: number;
  /** Checks that could not tell (503, timeout, ...): neither counted as lost nor as kept. */
  undecided: number;
  checked: { sessions: number; logouts: number; logins: number };
}

/** Runs `work` over `items`, `width` at a time. */
async function eachLimited<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

/** After the fault has settled: which sessions, logouts and logins held. */
export async function finalChecks(driver: Driver, url: string): Promise<FinalChecks> {
  const result: FinalChecks = {
    sessionsLost: 0,
    logoutsUndone: 0,
    loginsLost: 0,
    wrongIdentity: 0,
    undecided: 0,
    checked: { sessions: 0, logouts: 0, logins: 0 },
  };
  const note = (outcome: Outcome) => {
    if (outcome === 'wrongIdentity') result.wrongIdentity++;
    else if (outcome !== 'correct' && outcome !== 'unauthorized') result.undecided++;
  };
  await eachLimited(driver.main, 4, async ({ person, original }) => {
    const outcome = await whoAmI(url, original, 'cookie', person);
    note(outcome);
    if (outcome === 'unauthorized') result.sessionsLost++;
    result.checked.sessions++;
  });
  await eachLimited(driver.acknowledgedLogouts, 4, async ({ person, credentials }) => {
    const byCookie = await whoAmI(url, credentials, 'cookie', person);
    const byToken = await whoAmI(url, credentials, 'bearer', person);
    note(byCookie);
    note(byToken);
    if ([byCookie, byToken].some((outcome) => outcome === 'correct' || outcome === 'wrongIdentity')) result.logoutsUndone++;
    result.checked.logouts++;
  });
  await eachLimited(driver.acknowledgedLogins, 4, async ({ person, credentials }) => {
    const outcome = await whoAmI(url, credentials, 'cookie', person);
    note(outcome);
    if (outcome === 'unauthorized') result.loginsLost++;
    result.checked.logins++;
  });
  return result;
}
