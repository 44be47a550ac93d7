// Live telemetry in the browser (issue 7 item 5): the /ws subscription for the map's extent, device states in
// typed arrays (map/live-overlay.ts) applied at most once per animation frame, the active alarms, the device
// health summary (智能运维) and one device's card (recent readings and the thresholds that apply).
// Server side: tile-server/live-feed.ts + telemetry/live-telemetry.ts (feed), telemetry/api.ts (REST).
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { Alarm, DeviceKind, DeviceStatus, HealthSummary, Rule } from '../../../layers/telemetry/model.ts';
import type { CameraView } from '../map/engine.ts';
import { LiveOverlays, type FeedDevice } from '../map/live-overlay.ts';
import type { MapOverlay } from '../map/overlays.ts';
import { apiFailure } from './lookup.ts';

export type Bbox = [number, number, number, number];
export interface Reading { ts: number; value: number; lon?: number; lat?: number }
/** A threshold rule's params as GET /api/devices lists them (tile-server/telemetry/api.ts AppliedThreshold). */
export interface AppliedThreshold { ruleId: string; severity: number; above?: number; below?: number; hysteresis?: number }
export interface DeviceDetail {
  id: string; kind: DeviceKind; layer: string; name: string; lon: number; lat: number; status: DeviceStatus; since: number;
  lastTs: number | null; lastValue: number | null; unit: string | null; department: string | null; townCode: string | null;
  gridCode: string | null; thresholds: AppliedThreshold[]; rules: Rule[]; readings: Reading[]; activeAlarms: Alarm[];
}
export interface TelemetryFrame { type: 'telemetry'; devices: FeedDevice[]; alarms: Alarm[]; at: number }

/** What the store needs of a WebSocket (the browser's, or a fake in tests). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((e: unknown) => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: unknown) => void) | null;
  onerror: ((e: unknown) => void) | null;
}
type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** Online devices are drawn from this zoom on (below it the catalog's clusters show where devices are). */
export const SHOW_ONLINE_ZOOM = 15;
/** Readings kept on an open card's chart. */
export const CHART_READINGS = 500;
/** Alarms kept in the list (active first, then the most recently cleared). */
export const ALARM_LIST_MAX = 200;

/**
 * The ground extent a view can show, generously: the circle around the centre that holds the whole screen
 * (any bearing), stretched for a tilted camera. Over-asking costs a few more devices; under-asking leaves
 * markers missing at the edges.
 */
export function viewBbox(v: CameraView, widthPx: number, heightPx: number, metersPerPixel: number): Bbox {
  const r = (Math.hypot(widthPx, heightPx) / 2) * metersPerPixel * (1 + 3 * Math.sin((Math.min(v.pitch, 80) * Math.PI) / 180));
  const dLat = r / 111_320;
  const dLon = r / (111_320 * Math.max(0.05, Math.cos((v.lat * Math.PI) / 180)));
  return [Math.max(-180, v.lon - dLon), Math.max(-90, v.lat - dLat), Math.min(180, v.lon + dLon), Math.min(90, v.lat + dLat)];
}

const inside = (a: Bbox, b: Bbox) => a[0] >= b[0] && a[1] >= b[1] && a[2] <= b[2] && a[3] <= b[3];
const area = (b: Bbox) => (b[2] - b[0]) * (b[3] - b[1]);

/** Whether the subscription must change for this view: it left the subscribed area, or is far smaller (zoomed in). */
export function needsResubscribe(subscribed: Bbox | null, view: Bbox): boolean {
  return !subscribed || !inside(view, subscribed) || area(view) * 16 < area(subscribed);
}

/** The view extent padded by half on each side, so small pans stay inside the subscription. */
export function padBbox(b: Bbox, f = 0.5): Bbox {
  const dx = (b[2] - b[0]) * f, dy = (b[3] - b[1]) * f;
  return [Math.max(-180, b[0] - dx), Math.max(-90, b[1] - dy), Math.min(180, b[2] + dx), Math.min(90, b[3] + dy)];
}

/** Merges alarm updates into a list: same id replaces; active first (severity, then newest), then cleared by newest. */
export function mergeAlarms(list: readonly Alarm[], updates: readonly Alarm[], max = ALARM_LIST_MAX): Alarm[] {
  const byId = new Map(list.map((a) => [a.id, a]));
  for (const a of updates) byId.set(a.id, a);
  return [...byId.values()].sort((a, b) =>
    (a.status === b.status ? 0 : a.status === 'active' ? -1 : 1)
    || (a.status === 'active' ? a.severity - b.severity : 0)
    || (b.clearedAt ?? b.startedAt) - (a.clearedAt ?? a.startedAt)
    || (a.id < b.id ? -1 : 1)).slice(0, max);
}

export const useTelemetryStore = defineStore('telemetry', () => {
  let baseUrl = typeof location !== 'undefined' ? location.origin : '';
  let doFetch: FetchLike = (url, init) => fetch(url, init);
  let openSocket: ((url: string) => SocketLike) | null = typeof WebSocket !== 'undefined' ? (url) => new WebSocket(url) as unknown as SocketLike : null;
  let raf: (f: (t: number) => void) => unknown = typeof requestAnimationFrame !== 'undefined' ? requestAnimationFrame : (f) => setTimeout(() => f(Date.now()), 16);
  let clock = () => Date.now();

  const live = new LiveOverlays();
  const state = ref<'off' | 'connecting' | 'open' | 'closed'>('off');
  const overlays = shallowRef<MapOverlay[]>([]);
  /** Devices the browser holds a state for, and feed updates applied (for the status line and tests). */
  const deviceCount = ref(0);
  const updates = ref(0);
  const alarms = shallowRef<Alarm[]>([]);
  const alarmsLoading = ref(false);
  const alarmsError = ref<string | null>(null);
  const health = shallowRef<HealthSummary | null>(null);
  const healthLoading = ref(false);
  const healthError = ref<string | null>(null);
  const device = shallowRef<DeviceDetail | null>(null);
  const deviceLoading = ref(false);
  const deviceError = ref<string | null>(null);
  const flyRequest = shallowRef<{ lonLat: [number, number]; seq: number } | null>(null);

  let socket: SocketLike | null = null;
  let started = 0;
  let backoff = 1000;
  let reconnect: ReturnType<typeof setTimeout> | null = null;
  let wanted: { bbox: Bbox; zoom: number } | null = null;
  let subscribed: Bbox | null = null;
  let queue: FeedDevice[] = [];
  let alarmQueue: Alarm[] = [];
  let frameScheduled = false;
  let deviceAbort: AbortController | null = null;

  function configure(o: { baseUrl?: string; fetch?: FetchLike; openSocket?: ((url: string) => SocketLike) | null; raf?: (f: (t: number) => void) => unknown; now?: () => number }): void {
    if (o.baseUrl !== undefined) baseUrl = o.baseUrl;
    if (o.fetch) doFetch = o.fetch;
    if (o.openSocket !== undefined) openSocket = o.openSocket;
    if (o.raf) raf = o.raf;
    if (o.now) clock = o.now;
  }

  const api = (path: string) => `${baseUrl.replace(/\/+$/, '')}${path}`;
  async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    const res = await doFetch(api(path), { headers: { accept: 'application/json' }, signal });
    if (!res.ok) throw new Error(await apiFailure(res));
    return (await res.json()) as T;
  }

  // ---- the map extent → the subscription
  function subscribe(): void {
    if (!wanted || !socket || socket.readyState !== 1) return;
    subscribed = padBbox(wanted.bbox);
    socket.send(JSON.stringify({ type: 'subscribe', bbox: subscribed }));
  }

  /** The map's visible extent and zoom (App.vue calls this on every view change; cheap when nothing is needed). */
  function setExtent(bbox: Bbox, zoom: number): void {
    wanted = { bbox, zoom };
    live.setShowOnline(zoom >= SHOW_ONLINE_ZOOM);
    if (live.pending) scheduleFrame();
    if (needsResubscribe(subscribed, bbox)) subscribe();
  }

  // ---- feed frames → typed arrays → overlays, once per animation frame
  function scheduleFrame(): void {
    if (frameScheduled) return;
    frameScheduled = true;
    raf(() => { frameScheduled = false; applyFrame(); });
  }

  /** Applies every update received since the last frame (exported for tests that drive frames by hand). */
  function applyFrame(): void {
    const batch = queue, alarmBatch = alarmQueue;
    queue = [];
    alarmQueue = [];
    if (batch.length) {
      const changed = live.apply(batch);
      updates.value += changed.length;
      deviceCount.value = live.table.size;
      const open = device.value;
      if (open) {
        const i = live.table.index.get(open.id);
        if (i !== undefined && changed.includes(i)) appendReading(open, live.table.at(i));
      }
    }
    if (alarmBatch.length) alarms.value = mergeAlarms(alarms.value, alarmBatch);
    const next = live.overlays(clock());
    if (next !== overlays.value) overlays.value = next;
    // The pulse keeps the frames coming while any device is in alarm.
    if (live.animating && started) scheduleFrame();
  }

  function appendReading(open: DeviceDetail, d: FeedDevice): void {
    const last = open.readings[open.readings.length - 1];
    const readings = d.ts !== null && d.value !== null && (!last || d.ts > last.ts)
      ? [...open.readings, { ts: d.ts, value: d.value }].slice(-CHART_READINGS) : open.readings;
    device.value = { ...open, status: d.status, lastTs: d.ts, lastValue: d.value, lon: d.lon, lat: d.lat, readings };
  }

  function receive(text: string): void {
    let m: { type?: string; devices?: FeedDevice[]; alarms?: Alarm[] };
    try { m = JSON.parse(text); } catch { return; }
    if (m.type !== 'telemetry') return;
    if (Array.isArray(m.devices)) for (const d of m.devices) queue.push(d);
    if (Array.isArray(m.alarms)) for (const a of m.alarms) alarmQueue.push(a);
    scheduleFrame();
  }

  function connect(): void {
    if (!openSocket || socket) return;
    state.value = 'connecting';
    let s: SocketLike;
    try { s = openSocket(`${baseUrl.replace(/\/+$/, '').replace(/^http/, 'ws')}/ws`); } catch { state.value = 'closed'; return; }
    socket = s;
    s.onopen = () => {
      state.value = 'open';
      subscribed = null;
      subscribe();
      // Alarms raised while we were away: the feed has no replay.
      if (backoff > 1000) void loadAlarms();
      backoff = 1000;
    };
    s.onmessage = (e) => receive(String(e.data));
    s.onerror = () => {};
    s.onclose = () => {
      if (socket !== s) return;
      socket = null;
      subscribed = null;
      state.value = 'closed';
      if (!started) return;
      reconnect = setTimeout(() => { reconnect = null; connect(); }, backoff);
      backoff = Math.min(30_000, backoff * 2);
    };
  }

  // ---- REST
  async function loadAlarms(): Promise<void> {
    alarmsLoading.value = true;
    try {
      const body = await getJson<{ items: Alarm[] }>(`/api/alarms?status=active&limit=${ALARM_LIST_MAX}`);
      // The list answers for the whole city; cleared ones we saw live stay below the active ones.
      alarms.value = mergeAlarms(alarms.value.filter((a) => a.status === 'cleared'), body.items);
      alarmsError.value = null;
    } catch (e) {
      alarmsError.value = (e as Error).message;
    } finally {
      alarmsLoading.value = false;
    }
  }

  async function loadHealth(): Promise<void> {
    healthLoading.value = true;
    try {
      health.value = await getJson<HealthSummary>('/api/device-health');
      healthError.value = null;
    } catch (e) {
      healthError.value = (e as Error).message;
    } finally {
      healthLoading.value = false;
    }
  }

  /** Opens a device's card: its state, recent readings (24 h) and the rules that apply. Null id closes it. */
  async function openDevice(id: string | null): Promise<void> {
    deviceAbort?.abort();
    deviceAbort = null;
    deviceError.value = null;
    if (!id) { device.value = null; deviceLoading.value = false; return; }
    if (device.value?.id !== id) device.value = null;
    const ctrl = new AbortController();
    deviceAbort = ctrl;
    deviceLoading.value = true;
    try {
      const d = await getJson<DeviceDetail>(`/api/devices/${encodeURIComponent(id)}?hours=24&limit=${CHART_READINGS}`, ctrl.signal);
      if (deviceAbort !== ctrl) return;
      d.readings = [...d.readings].sort((a, b) => a.ts - b.ts);
      device.value = d;
    } catch (e) {
      if (deviceAbort !== ctrl) return;
      deviceError.value = (e as Error).message;
    } finally {
      if (deviceAbort === ctrl) deviceLoading.value = false;
    }
  }

  /** Asks the map to fly to a device or an alarm. */
  function flyTo(lon: number, lat: number): void {
    flyRequest.value = { lonLat: [lon, lat], seq: (flyRequest.value?.seq ?? 0) + 1 };
  }

  /** Starts the feed and the alarm list; counted, so several panels may call it. */
  async function start(): Promise<void> {
    if (started++) return;
    connect();
    await loadAlarms();
  }

  function stop(): void {
    if (started === 0 || --started > 0) return;
    if (reconnect) clearTimeout(reconnect);
    reconnect = null;
    const s = socket;
    socket = null;
    subscribed = null;
    s?.close();
    state.value = 'off';
  }

  /** The current state of one device as the feed last said (null if it never did). */
  const stateOf = (id: string): FeedDevice | null => live.table.get(id);

  return {
    state, overlays, deviceCount, updates, alarms, alarmsLoading, alarmsError, health, healthLoading, healthError,
    device, deviceLoading, deviceError, flyRequest,
    configure, setExtent, applyFrame, receive, loadAlarms, loadHealth, openDevice, flyTo, start, stop, stateOf,
  };
});
