/**
 * The few requests a chaos client makes, each classified rather than thrown: who am I (by cookie
 * or by bearer token), log in, log out. A request that gets no answer within REQUEST_TIMEOUT_MS
 * counts as a connection error, as it would for a person whose browser gives up.
 */

export const REQUEST_TIMEOUT_MS = 8_000;

/** What one `GET /admin/me` came back with. */
export type Outcome = 'correct' | 'wrongIdentity' | 'unauthorized' | 'unavailable' | 'serverError' | 'otherStatus' | 'connectionError';

export interface Credentials {
  /** `<id>.<secret>`, the `session` cookie's value. */
  sessionToken: string;
  accessToken: string;
}

export interface Person {
  email: string;
  empNo: number;
}

/** Why requests got no answer, counted by cause (a reset, a refused connection, a timeout), for the report. */
export const connectionErrorCauses = new Map<string, number>();

function noteConnectionError(error: unknown): 'connectionError' {
  const failure = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const cause =
    failure.name === 'TimeoutError'
      ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
      : (failure.cause?.code ?? failure.cause?.message ?? failure.message ?? String(error));
  connectionErrorCauses.set(cause, (connectionErrorCauses.get(cause) ?? 0) + 1);
  return 'connectionError';
}

function classifyStatus(status: number): Outcome {
  if (status === 401) return 'unauthorized';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'serverError';
  return 'otherStatus';
}

/** `GET /admin/me` by cookie or by bearer token; correct only when it names `person`. */
export async function whoAmI(base: string, credentials: Credentials, by: 'cookie' | 'bearer', person: Person): Promise<Outcome> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (by === 'cookie') headers.cookie = `session=${credentials.sessionToken}`;
  else headers.authorization = `Bearer ${credentials.accessToken}`;
  try {
    const response = await fetch(`${base}/admin/me`, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await response.text();
    if (response.status !== 200) return classifyStatus(response.status);
    let body: { emp_no?: unknown; username?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return 'otherStatus'; // a 200 that is not the JSON asked for
    }
    return body.emp_no === person.empNo && body.username === person.email ? 'correct' : 'wrongIdentity';
  } catch (error) {
    return noteConnectionError(error);
  }
}

export type LoginResult = { status: 200; credentials: Credentials } | { status: number | 'connectionError' };

/** `POST /auth/token` as an API client: a fresh login (no cookie sent). */
export async function logIn(base: string, person: Person, password: string): Promise<LoginResult> {
  try {
    const response = await fetch(`${base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ username: person.email, password }).toString(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: string };
    const sessionToken = response.headers
      .getSetCookie()
      .map((line) => /^session=([^;]+)/.exec(line)?.[1])
      .find((value) => value);
    if (response.status === 200 && body.access_token && sessionToken) {
      return { status: 200, credentials: { sessionToken, accessToken: body.access_token } };
    }
    // A 200 without a session is not a login a client could use; report it as its own status.
    return { status: response.status === 200 ? 299 : response.status };
  } catch {
    return { status: 'connectionError' };
  }
}

/** `POST /api/logout` with the session cookie; the status (200 means the client was told it is logged out). */
export async function logOut(base: string, credentials: Credentials): Promise<number | 'connectionError'> {
  try {
    const response = await fetch(`${base}/api/logout`, {
      method: 'POST',
      headers: { cookie: `session=${credentials.sessionToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'connectionError';
  }
}

/** `GET /ready` said 200 (within 2 s, as a balancer's health check would wait). */
export async function isReady(base: string): Promise<boolean> {
  try {
    const response = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}
