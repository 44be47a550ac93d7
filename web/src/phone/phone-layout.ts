// Which root the page mounts: the phone view for `?layout=phone`, and by default on a narrow screen (< 600 CSS px)
// for a grid manager — or for nobody signed in yet, so a grid manager signs in on the phone's own form (others are
// sent on to the full app after signing in). `?layout=desktop` or `?layout=wall` always mean the full app.
export const PHONE_MAX_WIDTH = 600;

export type SessionProbe = () => Promise<{ role: string } | null | 'unknown'>;

export function layoutParam(search: string): string | null {
  return new URLSearchParams(search).get('layout');
}

export async function wantsPhone(search: string, width: number, probe: SessionProbe): Promise<boolean> {
  const l = layoutParam(search);
  if (l === 'phone') return true;
  if (l !== null || width >= PHONE_MAX_WIDTH) return false;
  const who = await probe();
  // 'unknown': no answer (offline) — the phone view works from its caches and outbox.
  return who === null || who === 'unknown' || who.role === 'grid_manager';
}

/** GET /api/session → the user, null when signed out, 'unknown' when the server could not be reached. */
export const fetchSession: SessionProbe = async () => {
  try {
    const res = await fetch('/api/session', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    if (res.status === 401) return null;
    if (!res.ok) return 'unknown';
    return ((await res.json()) as { user: { role: string } }).user;
  } catch {
    return 'unknown';
  }
};
