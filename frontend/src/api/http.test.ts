import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ApiError, HttpClient } from './http';

const user = { id: '0197a7f0-0000-7000-8000-0000000000a1', username: 'alice' };
const session = (token: string) => ({ user, access_token: token, token_type: 'Bearer', expires_in: 900 });
const json = (status: number, body?: unknown, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
const unauthenticated = () => json(401, { error: { code: 'unauthenticated', message: 'authentication required' } });

type Call = { url: string; init: RequestInit };

function server(handler: (call: Call, calls: Call[]) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const call = { url: String(url), init: init ?? {} };
    calls.push(call);
    return handler(call, calls);
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}
const auth = (call: Call) => (call.init.headers as Record<string, string>)['Authorization'];
const Me = z.object({ id: z.string(), username: z.string() });

describe('HttpClient', () => {
  it('sends the access token and parses the answer with its schema', async () => {
    const { fetch, calls } = server(() => json(200, user));
    const http = new HttpClient({ fetch });
    http.setSession(session('A'));
    await expect(http.request('GET', '/api/me', Me)).resolves.toEqual(user);
    expect(auth(calls[0] as Call)).toBe('Bearer A');
  });

  it('on a 401 refreshes with the cookie, then retries once with the new token', async () => {
    const { fetch, calls } = server((call) => {
      if (call.url === '/api/auth/refresh') return json(200, session('B'));
      return auth(call) === 'Bearer B' ? json(200, user) : unauthenticated();
    });
    const http = new HttpClient({ fetch });
    http.setSession(session('A'));
    await expect(http.request('GET', '/api/me', Me)).resolves.toEqual(user);
    expect(calls.map((c) => c.url)).toEqual(['/api/me', '/api/auth/refresh', '/api/me']);
    const refresh = calls[1] as Call;
    expect(refresh.init.method).toBe('POST');
    expect(refresh.init.credentials).toBe('include');
    expect(auth(refresh)).toBeUndefined();
  });

  it('does not retry a second time, and ends the session when the refresh is refused', async () => {
    const { fetch, calls } = server(() => unauthenticated());
    const http = new HttpClient({ fetch });
    const sessions: unknown[] = [];
    http.onSession((s) => sessions.push(s));
    http.setSession(session('A'));
    await expect(http.request('GET', '/api/me', Me)).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(calls.map((c) => c.url)).toEqual(['/api/me', '/api/auth/refresh']);
    expect(sessions.at(-1)).toBeNull();
    expect(http.hasSession()).toBe(false);
  });

  it('a refused refresh does not end a login that finished while it was on its way', async () => {
    let answer: (r: Response) => void = () => {};
    const { fetch } = server(() => new Promise<Response>((resolve) => (answer = resolve)));
    const http = new HttpClient({ fetch });
    const sessions: unknown[] = [];
    http.onSession((s) => sessions.push(s));
    const restoring = http.refresh();
    await vi.waitFor(() => expect(fetch).toHaveBeenCalled());
    http.setSession(session('L'));
    answer(unauthenticated());
    await expect(restoring).resolves.toBeNull();
    expect(http.hasSession()).toBe(true);
    expect(sessions).toEqual([session('L')]);
  });

  it('shares one refresh among concurrent 401s', async () => {
    const { fetch, calls } = server((call) => {
      if (call.url === '/api/auth/refresh') return json(200, session('B'));
      return auth(call) === 'Bearer B' ? json(200, user) : unauthenticated();
    });
    const http = new HttpClient({ fetch });
    http.setSession(session('A'));
    await Promise.all([http.request('GET', '/api/me', Me), http.request('GET', '/api/me', Me), http.request('GET', '/api/me', Me)]);
    expect(calls.filter((c) => c.url === '/api/auth/refresh')).toHaveLength(1);
  });

  it('takes the cross-tab lock around a refresh', async () => {
    const { fetch } = server(() => json(200, session('B')));
    const request = vi.fn((_name: string, run: () => Promise<unknown>) => run());
    const http = new HttpClient({ fetch, locks: { request } as unknown as LockManager });
    await http.refresh();
    expect(request).toHaveBeenCalledWith('chat-auth-refresh', expect.any(Function));
  });

  it('refreshes ahead of a request when the token is about to expire', async () => {
    let now = 1_000_000;
    const { fetch, calls } = server((call) => (call.url === '/api/auth/refresh' ? json(200, session('B')) : json(200, user)));
    const http = new HttpClient({ fetch, now: () => now });
    http.setSession(session('A'));
    now += 895_000;
    await http.request('GET', '/api/me', Me);
    expect(calls.map((c) => c.url)).toEqual(['/api/auth/refresh', '/api/me']);
    expect(auth(calls[1] as Call)).toBe('Bearer B');
  });

  it('turns error bodies, 429s and network failures into ApiErrors', async () => {
    const answers = [
      json(409, { error: { code: 'conflict', message: 'taken' } }),
      json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'Retry-After': '12' }),
      new Response('<html>bad gateway</html>', { status: 502 }),
    ];
    const { fetch } = server(() => answers.shift() ?? json(200, {}));
    const http = new HttpClient({ fetch });
    await expect(http.request('POST', '/api/x', null, { auth: false })).rejects.toMatchObject({ status: 409, code: 'conflict', message: 'taken' });
    await expect(http.request('POST', '/api/x', null, { auth: false })).rejects.toMatchObject({ status: 429, retryAfterSecs: 12 });
    await expect(http.request('POST', '/api/x', null, { auth: false })).rejects.toMatchObject({ status: 502, code: 'http_502' });

    const offline = new HttpClient({ fetch: (async () => { throw new TypeError('Failed to fetch'); }) as typeof globalThis.fetch });
    const error = await offline.request('GET', '/api/me', Me).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 0, code: 'network' });
  });

  it('refuses an answer that does not match the schema', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { fetch } = server(() => json(200, { id: 1 }));
    const http = new HttpClient({ fetch });
    await expect(http.request('GET', '/api/me?q=secret', Me, { auth: false })).rejects.toMatchObject({ code: 'bad_response' });
    expect(console.warn).toHaveBeenCalledWith('[http] unexpected answer', { path: '/api/me', fields: ['id', 'username'] });
  });

  it('keeps the token in memory only', async () => {
    const storage = { setItem: vi.fn() };
    vi.stubGlobal('localStorage', storage);
    vi.stubGlobal('sessionStorage', storage);
    const { fetch } = server(() => json(200, session('B')));
    const http = new HttpClient({ fetch });
    await http.refresh();
    http.setSession(session('C'));
    expect(storage.setItem).not.toHaveBeenCalled();
    vi.unstubAllGlobals();
  });
});
