// Who is signed in (issue 9). The session itself is the HttpOnly cookie the server sets on POST /api/session —
// never readable here — so this store only asks GET /api/session and keeps the answer. Same origin: fetch sends
// the cookie by default (credentials: 'same-origin').
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';

export type UserRole = 'admin' | 'operator' | 'grid_manager' | 'planner' | 'analyst';
export interface SessionUser {
  username: string; role: UserRole; name: string; grids?: string[]; layers?: string[];
  /** The user's department (issue 10: DepartmentId; the server fills the role's default). */
  department?: string | null;
}

export const ROLE_TITLES: Record<UserRole, string> = {
  admin: '系统管理员', operator: '值班调度员', grid_manager: '网格员', planner: '规划编辑员', analyst: '数据分析员',
};

/** A sign-in refusal as the form shows it: Chinese first, with the minutes or seconds to wait. */
export function signInMessage(status: number, body: { error?: { code?: string; message?: string } } | null, retryAfter: string | null): string {
  const code = body?.error?.code;
  const secs = Number(retryAfter);
  if (code === 'bad_credentials') return '用户名或密码错误。Wrong user name or password.';
  if (code === 'account_locked') {
    const min = Number.isFinite(secs) && secs > 0 ? Math.ceil(secs / 60) : 15;
    return `密码错误次数过多，账号已锁定，请 ${min} 分钟后再试。Account locked: try again in ${min} min.`;
  }
  if (code === 'rate_limited') {
    const s = Number.isFinite(secs) && secs > 0 ? secs : 60;
    return `登录尝试过于频繁，请 ${s} 秒后再试。Too many attempts: try again in ${s} s.`;
  }
  if (code === 'account_disabled') return '账号已停用，请联系管理员。The account is disabled.';
  return body?.error?.message ?? `登录失败（HTTP ${status}）。Sign-in failed (HTTP ${status}).`;
}

type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export const useSessionStore = defineStore('session', () => {
  let doFetch: FetchLike = (url, init) => fetch(url, init);
  let baseUrl = typeof location !== 'undefined' ? location.origin : '';
  const user = shallowRef<SessionUser | null>(null);
  const checked = ref(false);
  const busy = ref(false);
  const error = ref<string | null>(null);
  const signedIn = computed(() => user.value !== null);

  function configure(o: { fetch?: FetchLike; baseUrl?: string }): void {
    if (o.fetch) doFetch = o.fetch;
    if (o.baseUrl !== undefined) baseUrl = o.baseUrl;
  }

  /** GET /api/session: the user, or null when not signed in (or the session expired). */
  async function load(): Promise<SessionUser | null> {
    try {
      const r = await doFetch(`${baseUrl}/api/session`, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      user.value = r.ok ? ((await r.json()) as { user: SessionUser }).user : null;
    } catch {
      user.value = null;
    }
    checked.value = true;
    return user.value;
  }

  async function signIn(username: string, password: string): Promise<boolean> {
    busy.value = true;
    error.value = null;
    try {
      const r = await doFetch(`${baseUrl}/api/session`, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ username, password }),
      });
      const body = await r.json().catch(() => null) as { user?: SessionUser; error?: { code?: string; message?: string } } | null;
      if (!r.ok || !body?.user) {
        error.value = signInMessage(r.status, body, r.headers.get('retry-after'));
        return false;
      }
      user.value = body.user;
      return true;
    } catch {
      error.value = '无法连接服务器，请检查网络后重试。Cannot reach the server.';
      return false;
    } finally {
      busy.value = false;
    }
  }

  async function signOut(): Promise<void> {
    try { await doFetch(`${baseUrl}/api/session`, { method: 'DELETE', credentials: 'same-origin' }); } catch { /* the cookie expires anyway */ }
    user.value = null;
  }

  return { user, checked, busy, error, signedIn, configure, load, signIn, signOut };
});
