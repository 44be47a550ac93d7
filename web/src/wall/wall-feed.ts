// The wall's live channel: GET /api/wall/summary once (it was /api/indicators before issue 10 gave that route to the
// indicator system), then the /ws feed's {type:'indicators'} pushes (every
// 5 s) and the operator's {type:'wall'} commands. Reconnects with backoff; after a reconnect, and whenever
// no push came for a while (a feed that drops the frame), the indicators are fetched again.
import type { Indicators, WallMessage } from '../../../layers/wall/model.ts';

export interface WallFeedHandlers {
  indicators(ind: Indicators): void;
  command(msg: WallMessage & { incident?: WallIncident }): void;
  connection(live: boolean): void;
  error(detail: string): void;
}

export interface WallIncident { id: string; code: string; title: string; status: string; categoryName: string; address: string | null; lon: number; lat: number }

/** What the feed needs of a WebSocket (the browser's, or a fake). */
export interface SocketLike {
  onopen: (() => void) | null; onclose: (() => void) | null; onerror: (() => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null; close(): void;
}

const STALE_MS = 15_000;
const MAX_BACKOFF_MS = 30_000;

export function wsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '').replace(/^http/, 'ws')}/ws`;
}

export function startWallFeed(baseUrl: string, h: WallFeedHandlers, deps: { open?: (url: string) => SocketLike; fetchFn?: typeof fetch } = {}): () => void {
  const open = deps.open ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
  const fetchFn = deps.fetchFn ?? fetch;
  let socket: SocketLike | null = null;
  let stopped = false;
  let backoff = 1000;
  let lastAt = 0;
  let receivedAt = 0;
  let retry: ReturnType<typeof setTimeout> | null = null;

  async function load(): Promise<void> {
    try {
      const res = await fetchFn(`${baseUrl.replace(/\/+$/, '')}/api/wall/summary`, { credentials: 'same-origin' });
      const body = await res.json().catch(() => null) as (Indicators & { error?: { message: string } }) | null;
      if (!res.ok || !body) { h.error(body?.error?.message ?? `HTTP ${res.status}`); return; }
      accept(body);
    } catch (e) {
      h.error(e instanceof Error ? e.message : String(e));
    }
  }

  function accept(ind: Indicators): void {
    if (ind.at < lastAt) return; // an answer older than a push already shown
    lastAt = ind.at;
    receivedAt = Date.now();
    h.indicators(ind);
  }

  function connect(): void {
    if (stopped) return;
    const s = open(wsUrl(baseUrl));
    socket = s;
    s.onopen = () => { backoff = 1000; h.connection(true); void load(); };
    s.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      let m: { type?: string } & Record<string, unknown>;
      try { m = JSON.parse(e.data); } catch { return; }
      if (m.type === 'indicators') {
        const { type: _t, ...ind } = m;
        accept(ind as unknown as Indicators);
      } else if (m.type === 'wall') {
        h.command(m as unknown as WallMessage & { incident?: WallIncident });
      }
    };
    s.onclose = () => {
      if (socket !== s) return;
      socket = null;
      h.connection(false);
      if (stopped) return;
      retry = setTimeout(connect, backoff);
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    };
    s.onerror = () => { /* onclose follows */ };
  }

  void load();
  connect();
  const watchdog = setInterval(() => { if (Date.now() - receivedAt > STALE_MS) void load(); }, STALE_MS);
  return () => {
    stopped = true;
    clearInterval(watchdog);
    if (retry) clearTimeout(retry);
    const s = socket;
    socket = null;
    s?.close();
  };
}
