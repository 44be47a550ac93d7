// Sign-in for integration tests (issue 9): servers started by tests get `demoPassword: TEST_PASSWORD`, so every
// demo user (admin, operator, planner, analyst, grid-{code}) signs in with it.
import { setActor } from '../../tile-server/auth/request-actor.ts';
import type { Actor } from '../../layers/incidents/model.ts';
export const TEST_PASSWORD = 'onemap-test-pass-9';

/** POST /api/session; the cookie to send back (`onemap_session=…`) and the user. Throws with the server's error otherwise. */
export async function signIn(baseUrl: string, username: string, password = TEST_PASSWORD): Promise<{ cookie: string; user: unknown }> {
  const r = await fetch(`${baseUrl}/api/session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }),
  });
  const body = await r.json() as { user?: unknown; error?: { code: string; message: string } };
  if (r.status !== 200) throw new Error(`sign-in as ${username} failed: ${r.status} ${body.error?.code} ${body.error?.message}`);
  const set = r.headers.getSetCookie().find((c) => c.startsWith('onemap_session='));
  if (!set) throw new Error(`sign-in as ${username}: no onemap_session cookie in the answer`);
  return { cookie: set.split(';')[0], user: body.user };
}

/** `{ Cookie }` headers of a fresh session as `username` (password TEST_PASSWORD), for fetch or test/helpers/http.ts raw(). */
export async function asUser(baseUrl: string, username: string): Promise<Record<string, string>> {
  return { Cookie: (await signIn(baseUrl, username)).cookie };
}

/**
 * Sessions for the `role:id` actors older tests were written with (before sign-in, the actor was a request header).
 * The demo users stand for their role (admin, operator, planner, analyst; `grid_manager:grid-{code}` is that demo grid
 * manager); any other `role:id` becomes a user `id` created through the admin API, a grid manager then covering
 * `allGrids` (default: every demo grid). `responder:{id}` has no account: responders' steps are recorded by the duty
 * operator on their behalf (tile-server/incidents/api.ts), so it maps to the operator.
 */
export function actorSessions(baseUrl: string, opts: { allGrids?: string[] } = {}): (actor: string) => Promise<Record<string, string>> {
  const cache = new Map<string, Promise<Record<string, string>>>();
  let admin: Promise<Record<string, string>> | undefined;
  let grids: Promise<string[]> | undefined;
  const demoGrids = async (): Promise<string[]> => {
    const h = await (admin ??= asUser(baseUrl, 'admin'));
    const out: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const r = await fetch(`${baseUrl}/api/users?role=grid_manager&limit=1000&offset=${offset}`, { headers: h });
      const b = await r.json() as { total: number; users: { grids?: string[] }[] };
      for (const u of b.users) out.push(...(u.grids ?? []));
      if (offset + 1000 >= b.total) return out;
    }
  };
  const open = async (actor: string): Promise<Record<string, string>> => {
    const i = actor.indexOf(':');
    const role = actor.slice(0, i), id = actor.slice(i + 1);
    if (role === 'responder') return open('operator:operator');
    if (['admin', 'operator', 'planner', 'analyst'].includes(role) && id === role) return asUser(baseUrl, id);
    if (role === 'grid_manager' && /^grid-\d+$/.test(id)) return asUser(baseUrl, id);
    const h = await (admin ??= asUser(baseUrl, 'admin'));
    const body: Record<string, unknown> = { username: id, role, name: `测试 ${id}`, password: TEST_PASSWORD };
    if (role === 'grid_manager') body.grids = opts.allGrids ?? await (grids ??= demoGrids());
    const r = await fetch(`${baseUrl}/api/users`, { method: 'POST', headers: { ...h, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status !== 201 && r.status !== 409) throw new Error(`creating test user ${id} (${role}) failed: ${r.status} ${await r.text()}`);
    return asUser(baseUrl, id);
  };
  return (actor) => {
    let p = cache.get(actor);
    if (!p) { p = open(actor); cache.set(actor, p); p.catch(() => cache.delete(actor)); }
    return p;
  };
}

/** ServerOptions for a test server: the demo users with TEST_PASSWORD (in memory), and no sign-in rate limit in the way. */
export const TEST_AUTH = { demoPassword: TEST_PASSWORD, auth: { signInPerMinute: 100_000 } } as const;

/**
 * For tests that mount one API on a bare node:http server (no router): stands in for the router gate, which sets
 * the signed-in user, by reading the user from `X-Test-Actor: role:id` (a grid manager `grid-{code}` looks after that
 * grid). Test harness only: the product has no such header.
 */
export function testActorGate(req: import('node:http').IncomingMessage): void {
  const who = /^([a-z_]+):([A-Za-z0-9_.@-]+)$/.exec(String(req.headers['x-test-actor'] ?? ''));
  if (!who) return;
  const grid = /^grid-(.+)$/.exec(who[2]);
  setActor(req, { role: who[1] as Actor['role'], id: who[2], ...(who[1] === 'grid_manager' && grid ? { grids: [grid[1]] } : {}) });
}

/** Sessions by server URL, for tests that talk to several servers through one request helper. */
export const sessionsByBase = new Map<string, Record<string, string>>();

/** Signs in as `username` on `baseUrl` and remembers the session for `withSession`. */
export async function rememberSession(baseUrl: string, username = 'admin'): Promise<Record<string, string>> {
  const h = await asUser(baseUrl, username);
  sessionsByBase.set(baseUrl, h);
  return h;
}

/** Request options with the remembered session of `baseUrl` added (explicit headers win). */
export function withSession<T extends { headers?: Record<string, string> }>(baseUrl: string, opts: T = {} as T): T {
  return { ...opts, headers: { ...sessionsByBase.get(baseUrl), ...opts.headers } };
}
