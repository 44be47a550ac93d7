// The operator's board and the grid manager's own cases (issue 6 item 5): the incident list from
// GET /api/incidents kept live by the /ws feed, the queue in order of urgency, one incident open with its
// timeline and dispatch candidates, actions through POST …/transitions and …/dispatch, and reporting a new
// incident at a point picked on the map (POST /api/incidents with an Idempotency-Key, so a retried
// submission is not filed twice). The server decides every rule; the client only offers what
// allowedActions (the server's own pure state machine) says the actor may do, and shows the server's
// reason when it still refuses.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { IncidentCategory, IncidentSource } from '../../../layers/incident-categories.ts';
import {
  OPEN_STATUSES,
  type Actor, type Attachment, type Candidate, type Incident, type IncidentAction, type IncidentStatus, type Transition,
} from '../../../layers/incidents/model.ts';
import { allowedActions, TRANSITIONS } from '../../../layers/incidents/state-machine.ts';
import type { LonLat } from '../map/engine.ts';
import { incidentOverlays } from '../map/incident-overlay.ts';
import type { MapOverlay } from '../map/overlays.ts';
import { apiFailure } from './lookup.ts';

/** An incident as the list gives it: judged overdue (or not) against the server's clock. */
export type BoardIncident = Incident & { overdue: boolean; secondsLeft: number | null };
export interface IncidentDetail { incident: BoardIncident; transitions: Transition[]; attachments: Attachment[] }
export type BoardView = 'open' | 'overdue' | 'all';
export interface ReportForm { category: string; title: string; description: string; source: IncidentSource; severity?: 1 | 2 | 3 | 4 }

/**
 * The board's own side for the state machine's checks on the client (which buttons to show). Who acts is the
 * signed-in user: the server takes it from the session cookie (issue 9), never from the request.
 */
export const OPERATOR: Actor = { role: 'operator', id: 'duty', name: '值班员' };

/** The actor a responder id acts as: grid managers (gm-<grid code>) and patrols (responders). */
export function responderActor(id: string): Actor {
  return { role: id.startsWith('gm-') ? 'grid_manager' : 'responder', id };
}


export function listUrl(baseUrl: string, q: { view?: BoardView; assignee?: string; limit?: number }): string {
  const p = new URLSearchParams();
  if (q.view === 'open' || q.view === undefined) p.set('status', OPEN_STATUSES.join(','));
  if (q.view === 'overdue') p.set('overdue', 'true');
  if (q.assignee) { p.set('assignee', q.assignee); p.set('status', OPEN_STATUSES.join(',')); }
  p.set('limit', String(q.limit ?? 500));
  return `${trim(baseUrl)}/api/incidents?${p}`;
}

export function liveUrl(baseUrl: string): string {
  return `${trim(baseUrl).replace(/^http/, 'ws')}/ws`;
}

const trim = (u: string) => u.replace(/\/+$/, '');
const isOpen = (s: IncidentStatus) => OPEN_STATUSES.includes(s);

/** Milliseconds left in the current stage at `now` (negative when overdue), null when no clock runs. */
export function msLeft(i: Pick<Incident, 'deadline' | 'status'>, now: number): number | null {
  return i.deadline !== null && isOpen(i.status) ? i.deadline - now : null;
}

/**
 * The queue's order, most urgent first: overdue cases (longest overdue first), then severity 4 → 1, then
 * the least time left, then the oldest. Closed cases (no clock) go last, newest first.
 */
export function urgencyCompare(a: BoardIncident, b: BoardIncident, now: number): number {
  const la = msLeft(a, now), lb = msLeft(b, now);
  if ((la === null) !== (lb === null)) return la === null ? 1 : -1;
  if (la === null || lb === null) return b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : 1);
  const oa = la < 0, ob = lb < 0;
  if (oa !== ob) return oa ? -1 : 1;
  if (oa) return la - lb;
  return b.severity - a.severity || la - lb || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);
}

/** A list item re-judged at `now` (the live feed sends plain incidents). */
export function judged(i: Incident, now: number): BoardIncident {
  const left = msLeft(i, now);
  return { ...i, overdue: left !== null && left < 0, secondsLeft: left === null ? null : Math.round(left / 1000) };
}

/** Duration parts for display: days, hours, minutes (always ≥ 0; the sign is the caller's). */
export function durationParts(ms: number): { d: number; h: number; m: number } {
  const min = Math.floor(Math.abs(ms) / 60_000);
  return { d: Math.floor(min / 1440), h: Math.floor((min % 1440) / 60), m: min % 60 };
}

/** Open incident nearest to `p` within `maxMetres` (a map click on its marker), else null. */
export function incidentNear(items: readonly Incident[], p: LonLat, maxMetres: number): Incident | null {
  const kx = 111_320 * Math.cos((p[1] * Math.PI) / 180), ky = 110_540;
  let best: Incident | null = null, bestD = maxMetres * maxMetres;
  for (const i of items) {
    const dx = (i.lon - p[0]) * kx, dy = (i.lat - p[1]) * ky, d = dx * dx + dy * dy;
    if (d <= bestD) { best = i; bestD = d; }
  }
  return best;
}

/** The actions each actor may take now: the board's operator, and the assignee (demo, until sign-in). */
export function actionsFor(i: Incident, primary: Actor, assignee: Actor | null): { actor: Actor; actions: IncidentAction[] }[] {
  // merge/dispatch/reassign need a target chosen elsewhere (dispatch: the candidate list); supervise is the sweeper's.
  const hidden: IncidentAction[] = ['merge', 'dispatch', 'reassign', 'supervise', 'comment'];
  const out = [{ actor: primary, actions: allowedActions(i, primary).filter((a) => !hidden.includes(a)) }];
  if (assignee && assignee.id !== primary.id) {
    const own = allowedActions(i, assignee).filter((a) => TRANSITIONS[a].who === 'assignee');
    if (own.length) out.push({ actor: assignee, actions: own });
  }
  return out;
}

export const reasonRequired = (a: IncidentAction) => TRANSITIONS[a].reasonRequired === true;

export interface LiveSocketLike {
  onopen: ((e: unknown) => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: unknown) => void) | null;
  onerror: ((e: unknown) => void) | null;
  close(): void;
}
type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

function newKey(): string {
  const c = globalThis.crypto;
  return typeof c?.randomUUID === 'function' ? c.randomUUID() : `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export const useIncidentsStore = defineStore('incidents', () => {
  let baseUrl = typeof location !== 'undefined' ? location.origin : '';
  let doFetch: FetchLike = (url, init) => fetch(url, init);
  let openSocket: ((url: string) => LiveSocketLike) | null = typeof WebSocket !== 'undefined' ? (url) => new WebSocket(url) as unknown as LiveSocketLike : null;
  let wallClock = () => Date.now();

  const categories = shallowRef<IncidentCategory[]>([]);
  const sources = shallowRef<Record<string, string>>({});
  const view = ref<BoardView>('open');
  const items = shallowRef<BoardIncident[]>([]);
  const total = ref(0);
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** Whose own cases "my cases" lists: a signed-in grid manager's responder id (main.ts), null for the operator board. */
  const me = shallowRef<Actor | null>(null);
  const mine = shallowRef<BoardIncident[]>([]);
  const detail = shallowRef<IncidentDetail | null>(null);
  const detailLoading = ref(false);
  const candidates = shallowRef<Candidate[] | null>(null);
  const candidatesLoading = ref(false);
  const busy = ref(false);
  const actionError = ref<string | null>(null);
  const notice = ref<string | null>(null);
  const picking = ref(false);
  const draftPoint = shallowRef<LonLat | null>(null);
  const live = ref<'off' | 'connecting' | 'open' | 'closed'>('off');
  /** Server clock minus ours (ms), learnt from list answers: deadlines are the server's. */
  const skew = ref(0);
  const tick = ref(0);
  const flyRequest = shallowRef<{ lonLat: LonLat; seq: number } | null>(null);
  let reportKey: string | null = null;
  let socket: LiveSocketLike | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let reconnect: ReturnType<typeof setTimeout> | null = null;
  let backoff = 1000;
  let started = 0;

  function configure(o: { baseUrl?: string; fetch?: FetchLike; openSocket?: ((url: string) => LiveSocketLike) | null; now?: () => number; me?: Actor | null }): void {
    if (o.baseUrl !== undefined) baseUrl = o.baseUrl;
    if (o.fetch) doFetch = o.fetch;
    if (o.openSocket !== undefined) openSocket = o.openSocket;
    if (o.now) wallClock = o.now;
    if (o.me !== undefined) me.value = o.me;
  }

  const now = () => wallClock() + skew.value;
  /** Re-evaluated every tick so countdowns and "overdue" move without a reload. */
  const nowTick = computed(() => { void tick.value; return now(); });

  /** `actor` is the client's view of who acts (button rules); the server knows the user from the session cookie. */
  async function call<T>(url: string, { actor: _actor, ...init }: RequestInit & { actor?: Actor } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const res = await doFetch(url, { ...init, headers });
    if (!res.ok) throw new Error(await apiFailure(res));
    return (await res.json()) as T;
  }

  function learnSkew(list: BoardIncident[]): void {
    const i = list.find((x) => x.deadline !== null && x.secondsLeft !== null);
    if (i) skew.value = i.deadline! - i.secondsLeft! * 1000 - wallClock();
  }

  async function loadCategories(): Promise<void> {
    if (categories.value.length) return;
    const r = await call<{ categories: IncidentCategory[]; sources: Record<string, string> }>(`${trim(baseUrl)}/api/incidents/categories`);
    categories.value = r.categories;
    sources.value = r.sources;
  }

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      const r = await call<{ total: number; items: BoardIncident[] }>(listUrl(baseUrl, { view: view.value }));
      learnSkew(r.items);
      items.value = r.items;
      total.value = r.total;
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      loading.value = false;
    }
    await refreshMine();
  }

  async function refreshMine(): Promise<void> {
    const who = me.value;
    if (!who) { mine.value = []; return; }
    try {
      const r = await call<{ items: BoardIncident[] }>(listUrl(baseUrl, { assignee: who.id }));
      mine.value = r.items;
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  function setView(v: BoardView): Promise<void> {
    view.value = v;
    return refresh();
  }

  const belongs = (i: BoardIncident) => view.value === 'all' || (view.value === 'open' ? isOpen(i.status) : i.overdue);

  /** A changed incident (from an action's answer or the live feed) into every list it belongs to. */
  function upsert(inc: Incident, t?: Transition): void {
    const j = judged(inc, now());
    const put = (list: BoardIncident[], keep: boolean) => {
      const old = list.find((x) => x.id === j.id);
      if (old && old.version > j.version) return list; // a late echo of an older state
      const rest = list.filter((x) => x.id !== j.id);
      return keep ? [...rest, j] : rest;
    };
    items.value = put(items.value, belongs(j));
    if (me.value) mine.value = put(mine.value, j.assigneeId === me.value.id && isOpen(j.status));
    const d = detail.value;
    if (d && d.incident.id === j.id && d.incident.version <= j.version) {
      const transitions = t && !d.transitions.some((x) => x.seq === t.seq) ? [...d.transitions, t].sort((a, b) => a.seq - b.seq) : d.transitions;
      detail.value = { ...d, incident: j, transitions };
    }
  }

  const queue = computed(() => { const n = nowTick.value; return [...items.value].map((i) => judged(i, n)).sort((a, b) => urgencyCompare(a, b, n)); });
  const myQueue = computed(() => { const n = nowTick.value; return [...mine.value].map((i) => judged(i, n)).sort((a, b) => urgencyCompare(a, b, n)); });
  const overdueCount = computed(() => queue.value.filter((i) => i.overdue).length);
  const selectedId = computed(() => detail.value?.incident.id ?? null);

  async function open(id: string, opts: { fly?: boolean } = {}): Promise<IncidentDetail | null> {
    detailLoading.value = true;
    actionError.value = null;
    notice.value = null;
    candidates.value = null;
    try {
      const d = await call<IncidentDetail & { overdue: boolean; secondsLeft: number | null }>(`${trim(baseUrl)}/api/incidents/${encodeURIComponent(id)}`);
      detail.value = { incident: { ...d.incident, overdue: d.overdue, secondsLeft: d.secondsLeft }, transitions: d.transitions, attachments: d.attachments };
      if (opts.fly) flyRequest.value = { lonLat: [d.incident.lon, d.incident.lat], seq: (flyRequest.value?.seq ?? 0) + 1 };
      if (['registered', 'dispatched', 'handling'].includes(d.incident.status)) void loadCandidates();
      return detail.value;
    } catch (e) {
      actionError.value = (e as Error).message;
      return null;
    } finally {
      detailLoading.value = false;
    }
  }

  async function reloadDetail(): Promise<void> {
    const id = detail.value?.incident.id;
    if (id) await open(id);
  }

  function closeDetail(): void {
    detail.value = null;
    candidates.value = null;
    actionError.value = null;
    notice.value = null;
  }

  async function loadCandidates(): Promise<void> {
    const id = detail.value?.incident.id;
    if (!id) return;
    candidatesLoading.value = true;
    try {
      const r = await call<{ candidates: Candidate[] }>(`${trim(baseUrl)}/api/incidents/${encodeURIComponent(id)}/candidates?limit=8`);
      if (detail.value?.incident.id === id) candidates.value = r.candidates;
    } catch (e) {
      actionError.value = (e as Error).message;
    } finally {
      candidatesLoading.value = false;
    }
  }

  /** Runs one action on the open incident with the version we saw; a refusal leaves the server's reason. */
  async function act(action: IncidentAction, opts: { reason?: string; responderId?: string; actor?: Actor } = {}): Promise<boolean> {
    const d = detail.value;
    if (!d || busy.value) return false;
    busy.value = true;
    actionError.value = null;
    const id = encodeURIComponent(d.incident.id);
    const body: Record<string, unknown> = { version: d.incident.version };
    let url = `${trim(baseUrl)}/api/incidents/${id}/transitions`;
    if (action === 'dispatch') { url = `${trim(baseUrl)}/api/incidents/${id}/dispatch`; body.responderId = opts.responderId; } else {
      body.action = action;
      if (opts.reason?.trim()) body.reason = opts.reason.trim();
      if (opts.responderId) body.responderId = opts.responderId;
      // A responder's step (accept, decline, feedback) is recorded by the signed-in user on their behalf.
      else if (opts.actor && opts.actor.id !== OPERATOR.id) body.responderId = opts.actor.id;
    }
    try {
      const inc = await call<Incident>(url, { method: 'POST', body: JSON.stringify(body), actor: opts.actor ?? OPERATOR });
      upsert(inc);
      await open(inc.id);
      return true;
    } catch (e) {
      actionError.value = (e as Error).message;
      void reloadDetail().then(() => { if (!actionError.value) actionError.value = (e as Error).message; });
      return false;
    } finally {
      busy.value = false;
    }
  }

  // ---- reporting at a point picked on the map
  function startReport(): void {
    picking.value = true;
    draftPoint.value = null;
    actionError.value = null;
    reportKey = null;
    void loadCategories().catch((e: Error) => { error.value = e.message; });
  }
  function cancelReport(): void {
    picking.value = false;
    draftPoint.value = null;
    reportKey = null;
  }
  function pickPoint(p: LonLat): void {
    if (!picking.value) return;
    picking.value = false;
    draftPoint.value = [p[0], p[1]];
    reportKey = newKey(); // one key per report: a retry after a lost answer files nothing twice
  }

  async function report(form: ReportForm): Promise<BoardIncident | null> {
    const p = draftPoint.value;
    if (!p || busy.value) return null;
    busy.value = true;
    actionError.value = null;
    try {
      const body = { lon: Number(p[0].toFixed(7)), lat: Number(p[1].toFixed(7)), category: form.category, title: form.title, description: form.description, source: form.source, ...(form.severity ? { severity: form.severity } : {}) };
      reportKey ??= newKey();
      const inc = await call<Incident & { duplicates?: { code: string }[] }>(`${trim(baseUrl)}/api/incidents`, {
        method: 'POST', body: JSON.stringify(body), actor: me.value ?? OPERATOR, headers: { 'Idempotency-Key': reportKey },
      });
      const { duplicates, ...incident } = inc;
      draftPoint.value = null;
      reportKey = null;
      upsert(incident);
      await open(incident.id);
      notice.value = duplicates?.length ? duplicates.map((x) => x.code).join('、') : null;
      return judged(incident, now());
    } catch (e) {
      actionError.value = (e as Error).message;
      return null;
    } finally {
      busy.value = false;
    }
  }

  // ---- live feed
  function connect(): void {
    if (!openSocket || socket) return;
    live.value = 'connecting';
    let s: LiveSocketLike;
    try { s = openSocket(liveUrl(baseUrl)); } catch { live.value = 'closed'; return; }
    socket = s;
    s.onopen = () => {
      live.value = 'open';
      // Whatever changed while we were away: reload (the feed has no replay).
      if (backoff > 1000) void refresh();
      backoff = 1000;
    };
    s.onmessage = (e) => {
      let m: { type?: string; incident?: Incident; transition?: Transition };
      try { m = JSON.parse(String(e.data)); } catch { return; }
      if (m.type === 'incident' && m.incident) upsert(m.incident, m.transition);
    };
    s.onerror = () => {};
    s.onclose = () => {
      if (socket !== s) return;
      socket = null;
      live.value = 'closed';
      if (!started) return;
      reconnect = setTimeout(() => { reconnect = null; connect(); }, backoff);
      backoff = Math.min(30_000, backoff * 2);
    };
  }

  /** Starts the board (list, categories, live feed, countdown tick); counted, so several panels may call it. */
  async function start(): Promise<void> {
    if (started++) return;
    timer = setInterval(() => { tick.value++; }, 5_000);
    connect();
    await Promise.all([refresh(), loadCategories().catch((e: Error) => { error.value = e.message; })]);
  }

  function stop(): void {
    if (started === 0 || --started > 0) return;
    if (timer) clearInterval(timer);
    if (reconnect) clearTimeout(reconnect);
    timer = reconnect = null;
    const s = socket;
    socket = null;
    s?.close();
    live.value = 'off';
  }

  const overlays = computed<MapOverlay[]>(() => incidentOverlays(queue.value, selectedId.value, draftPoint.value));

  return {
    categories, sources, view, items, total, loading, error, me, mine, detail, detailLoading, candidates, candidatesLoading,
    busy, actionError, notice, picking, draftPoint, live, flyRequest, queue, myQueue, overdueCount, selectedId, overlays, nowTick,
    configure, now, refresh, refreshMine, setView, upsert, open, closeDetail, loadCandidates, act, startReport, cancelReport,
    pickPoint, report, start, stop,
  };
});
