// The HTTP client: JSON in and out, every answer checked against its schema,
// the access token in memory only (never localStorage, never a URL). On a 401
// it trades the HttpOnly refresh cookie for a new token once, then retries once.
import type { z } from 'zod';
import { ApiErrorBody, Session } from '../wire';

/** A failed call: the API's `{error: {code, message}}`, or `network` / `bad_response`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** From `Retry-After` on a 429. */
    readonly retryAfterSecs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface HttpClientOptions {
  /** Prefix of every path; '' for the site's own origin. */
  baseUrl?: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Serialises refreshes across tabs (a refresh token presented twice ends the login). */
  locks?: Pick<LockManager, 'request'> | undefined;
}

export interface RequestOptions {
  body?: unknown;
  /** Send the access token and refresh on 401. Default: true. */
  auth?: boolean;
}

type SessionListener = (session: Session | null) => void;

/** Refresh ahead of a request when the token has less than this left. */
const EARLY_REFRESH_MS = 10_000;

export class HttpClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly locks: Pick<LockManager, 'request'> | undefined;
  private access: { token: string; expiresAt: number } | null = null;
  private refreshing: Promise<Session | null> | null = null;
  private readonly listeners = new Set<SessionListener>();

  constructor(options: HttpClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? '';
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
    this.locks = options.locks;
  }

  /** Adopts a session from sign-up, log-in or refresh; null forgets the token. */
  setSession(session: Session | null): void {
    this.access = session && {
      token: session.access_token,
      expiresAt: this.now() + session.expires_in * 1000,
    };
    for (const listener of this.listeners) listener(session);
  }

  /** Called with every new session, and with null when the login has ended. */
  onSession(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  hasSession(): boolean {
    return this.access !== null;
  }

  /** When the current access token expires (ms since 1970), or null without one. */
  tokenExpiresAt(): number | null {
    return this.access?.expiresAt ?? null;
  }

  /** An access token valid for at least `minValidityMs`, refreshing if needed; null when logged out. */
  async freshToken(minValidityMs: number): Promise<string | null> {
    if (this.access && this.access.expiresAt - this.now() > minValidityMs) return this.access.token;
    const session = await this.refresh();
    return session?.access_token ?? null;
  }

  /**
   * Trades the refresh cookie for a new session. Concurrent callers share one
   * request; tabs take turns. Null (and the session ends) when the cookie is
   * refused; throws when the server cannot be reached (the session stays).
   */
  refresh(): Promise<Session | null> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async request<T>(method: string, path: string, schema: z.ZodType<T>, options?: RequestOptions): Promise<T>;
  async request(method: string, path: string, schema: null, options?: RequestOptions): Promise<void>;
  async request<T>(method: string, path: string, schema: z.ZodType<T> | null, options: RequestOptions = {}): Promise<T | void> {
    const auth = options.auth ?? true;
    if (auth && this.access && this.access.expiresAt - this.now() < EARLY_REFRESH_MS) {
      await this.refresh().catch(() => null);
    }
    let response = await this.send(method, path, options.body, auth);
    if (response.status === 401 && auth) {
      const session = await this.refresh();
      if (session === null) throw await errorOf(response);
      response = await this.send(method, path, options.body, auth);
    }
    if (!response.ok) throw await errorOf(response);
    if (schema === null) return;
    const parsed = schema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) {
      console.warn('[http] unexpected answer', { path: pathOnly(path), fields: parsed.error.issues.map((i) => i.path.join('.')) });
      throw new ApiError(response.status, 'bad_response', 'The server answered something unexpected.');
    }
    return parsed.data;
  }

  private async send(method: string, path: string, body: unknown, auth: boolean): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && this.access) headers['Authorization'] = `Bearer ${this.access.token}`;
    try {
      return await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        // The refresh cookie is scoped to /api/auth; sending it elsewhere is harmless and needed there.
        credentials: 'include',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, 'network', 'Could not reach the server.');
    }
  }

  private async refreshOnce(): Promise<Session | null> {
    const run = async (): Promise<Session | null> => {
      const before = this.access;
      const response = await this.send('POST', '/api/auth/refresh', undefined, false);
      if (response.status === 401) {
        // A login or sign-up that finished meanwhile is not undone by the
        // refusal of an older cookie.
        if (this.access === before) this.setSession(null);
        return null;
      }
      if (!response.ok) throw await errorOf(response);
      const session = Session.parse(await response.json());
      this.setSession(session);
      return session;
    };
    return this.locks ? this.locks.request('chat-auth-refresh', run) : run();
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const retryAfter = Number(response.headers.get('Retry-After'));
  const retryAfterSecs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;
  const parsed = ApiErrorBody.safeParse(await response.json().catch(() => undefined));
  const { code, message } = parsed.success
    ? parsed.data.error
    : { code: `http_${response.status}`, message: `The server answered ${response.status}.` };
  return new ApiError(response.status, code, message, retryAfterSecs);
}

/** A path without its query string (a search term stays out of logs). */
function pathOnly(path: string): string {
  return path.split('?')[0] ?? path;
}
