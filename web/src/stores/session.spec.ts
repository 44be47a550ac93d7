import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { signInMessage, useSessionStore } from './session.ts';

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

describe('session store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('loads the signed-in user, or null on 401', async () => {
    const s = useSessionStore();
    s.configure({ baseUrl: 'http://h', fetch: async () => answer(200, { user: { username: 'operator', role: 'operator', name: '值班调度员' } }) });
    expect(await s.load()).toMatchObject({ username: 'operator', role: 'operator' });
    expect(s.signedIn).toBe(true);
    s.configure({ fetch: async () => answer(401, { error: { code: 'not_signed_in', message: '请先登录' } }) });
    expect(await s.load()).toBeNull();
    expect(s.signedIn).toBe(false);
  });

  it('signs in with a JSON body and never sends an actor header', async () => {
    const calls: { url: string; init?: RequestInit }[] = [];
    const s = useSessionStore();
    s.configure({ baseUrl: 'http://h', fetch: async (url, init) => { calls.push({ url, init }); return answer(200, { user: { username: 'admin', role: 'admin', name: 'A' } }); } });
    expect(await s.signIn('admin', 'pw-123456')).toBe(true);
    expect(calls[0].url).toBe('http://h/api/session');
    expect(calls[0].init?.method).toBe('POST');
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({ username: 'admin', password: 'pw-123456' });
    expect(Object.keys(calls[0].init?.headers ?? {}).map((k) => k.toLowerCase())).not.toContain('x-onemap-actor');
    expect(s.user?.username).toBe('admin');
  });

  it('shows wrong password, lockout minutes and rate limits in Chinese first', async () => {
    const s = useSessionStore();
    s.configure({ baseUrl: 'http://h', fetch: async () => answer(423, { error: { code: 'account_locked', message: 'x' } }, { 'retry-after': '840' }) });
    expect(await s.signIn('admin', 'bad')).toBe(false);
    expect(s.error).toMatch(/^密码错误次数过多.*14 分钟/);
    expect(signInMessage(401, { error: { code: 'bad_credentials' } }, null)).toMatch(/^用户名或密码错误/);
    expect(signInMessage(429, { error: { code: 'rate_limited' } }, '37')).toMatch(/^登录尝试过于频繁.*37 秒/);
  });
});
