// Live device states on the map (issue 7 item 5), for both engines through MapEngine.setOverlays. The state
// of every device the feed has sent lives in typed arrays (DeviceTable), not in Vue; the marker overlays are
// split into buckets (status × id-hash, patrols, trails, the alarm pulse) and a bucket gets a new overlay
// object only when its membership changed. Both engines redraw an overlay only when its object changes
// (overlays-2d.ts caches by object, overlays-3d.ts rebuilds by id), so a reading that does not change a
// device's status costs nothing on the map, and a status change rebuilds one bucket, not the layer.
// Pure (no DOM), tested in live-overlay.spec.ts.
import type { DeviceKind, DeviceStatus } from '../../../layers/telemetry/model.ts';
import type { LonLat } from './engine.ts';
import type { GeometryOverlay, MapOverlay, Marker, MarkerOverlay, Rgba } from './overlays.ts';

/** The compact device shape of the live feed (tile-server/telemetry/live-telemetry.ts FeedDevice). */
export interface FeedDevice { id: string; kind: DeviceKind; lon: number; lat: number; status: DeviceStatus; value: number | null; ts: number | null }

export const STATUSES: readonly DeviceStatus[] = ['unknown', 'online', 'subhealth', 'offline', 'alarm'];
const STATUS_CODE = new Map(STATUSES.map((s, i) => [s, i]));

/** Green / amber / grey / red: the usual 运维 traffic-light reading, distinct from the incident colours. */
export const LIVE_COLOURS: Readonly<Record<DeviceStatus, Rgba>> = {
  unknown: [150, 150, 150, 160],
  online: [20, 160, 90, 230],
  subhealth: [235, 165, 0, 255],
  offline: [110, 110, 120, 240],
  alarm: [225, 25, 45, 255],
};
export const PATROL_COLOUR: Rgba = [30, 100, 230, 255];
export const TRAIL_COLOUR: Rgba = [30, 100, 230, 170];
/** Positions kept per patrol for its trail. */
export const TRAIL_LENGTH = 30;
/** Non-patrol devices of one status are spread over this many overlays, so one status change rebuilds ~1/K of them. */
export const BUCKETS = 4;
/** The alarm pulse: a ring that grows and fades over PULSE_STEPS steps of PULSE_STEP_MS (≈ 1 s per beat). */
export const PULSE_STEPS = 8;
export const PULSE_STEP_MS = 125;
/** Drawn bottom to top (alarms on top, so they stay visible on a wall of markers). */
const ORDER: readonly DeviceStatus[] = ['online', 'offline', 'subhealth', 'alarm'];

const hash = (s: string): number => {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
};

/** Device states by index in growable typed arrays; ids map to indices once. */
export class DeviceTable {
  size = 0;
  private cap = 0;
  readonly index = new Map<string, number>();
  ids: string[] = [];
  kinds: DeviceKind[] = [];
  lon = new Float64Array(0);
  lat = new Float64Array(0);
  status = new Uint8Array(0);
  /** NaN = no value yet. */
  value = new Float64Array(0);
  ts = new Float64Array(0);
  bucket = new Uint8Array(0);
  /** Patrol index → the last TRAIL_LENGTH positions, oldest first. */
  readonly trails = new Map<number, LonLat[]>();

  private grow(): void {
    const cap = Math.max(256, this.cap * 2);
    const f64 = (a: Float64Array) => { const b = new Float64Array(cap); b.set(a); return b; };
    const u8 = (a: Uint8Array) => { const b = new Uint8Array(cap); b.set(a); return b; };
    this.lon = f64(this.lon); this.lat = f64(this.lat); this.value = f64(this.value); this.ts = f64(this.ts);
    this.status = u8(this.status); this.bucket = u8(this.bucket);
    this.cap = cap;
  }

  get(id: string): FeedDevice | null {
    const i = this.index.get(id);
    return i === undefined ? null : this.at(i);
  }

  at(i: number): FeedDevice {
    const v = this.value[i], ts = this.ts[i];
    return { id: this.ids[i], kind: this.kinds[i], lon: this.lon[i], lat: this.lat[i], status: STATUSES[this.status[i]], value: Number.isNaN(v) ? null : v, ts: Number.isNaN(ts) ? null : ts };
  }

  statusOf(i: number): DeviceStatus { return STATUSES[this.status[i]]; }

  /** Stores one update; says what changed on the map. Older updates (by device ts) than the one held are ignored. */
  upsert(d: FeedDevice): { index: number; statusFrom: DeviceStatus | null; moved: boolean; ignored: boolean } {
    let i = this.index.get(d.id);
    const code = STATUS_CODE.get(d.status) ?? 0;
    if (i === undefined) {
      if (this.size === this.cap) this.grow();
      i = this.size++;
      this.index.set(d.id, i);
      this.ids[i] = d.id;
      this.kinds[i] = d.kind;
      this.lon[i] = d.lon; this.lat[i] = d.lat; this.status[i] = code;
      this.value[i] = d.value ?? NaN; this.ts[i] = d.ts ?? NaN;
      this.bucket[i] = hash(d.id) % BUCKETS;
      if (d.kind === 'patrol') this.trails.set(i, [[d.lon, d.lat]]);
      return { index: i, statusFrom: null, moved: false, ignored: false };
    }
    const held = this.ts[i];
    // The feed sends latest state; a reconnect snapshot may still cross an in-flight frame.
    if (d.ts !== null && !Number.isNaN(held) && d.ts < held) return { index: i, statusFrom: STATUSES[this.status[i]], moved: false, ignored: true };
    const from = STATUSES[this.status[i]];
    const moved = this.lon[i] !== d.lon || this.lat[i] !== d.lat;
    this.lon[i] = d.lon; this.lat[i] = d.lat; this.status[i] = code;
    this.value[i] = d.value ?? NaN; this.ts[i] = d.ts ?? NaN;
    if (moved && d.kind === 'patrol') {
      const t = this.trails.get(i) ?? [];
      t.push([d.lon, d.lat]);
      if (t.length > TRAIL_LENGTH) t.splice(0, t.length - TRAIL_LENGTH);
      this.trails.set(i, t);
    }
    return { index: i, statusFrom: from, moved, ignored: false };
  }
}

const bucketKey = (s: DeviceStatus, b: number) => `live-${s}-${b}`;

/**
 * The live overlays: feed updates in with `apply`, overlays out with `overlays(now)`. Buckets untouched since
 * the last call keep their overlay object (so neither engine redraws them).
 */
export class LiveOverlays {
  readonly table = new DeviceTable();
  private dirty = new Set<string>();
  private cache = new Map<string, MapOverlay | null>();
  private alarmCount = 0;
  private pulseStep = -1;
  private showOnline = false;
  private last: MapOverlay[] = [];

  /** Online devices are many and the catalog layers already draw them; they are drawn only when zoomed in. */
  setShowOnline(on: boolean): void {
    if (on === this.showOnline) return;
    this.showOnline = on;
    for (let b = 0; b < BUCKETS; b++) this.dirty.add(bucketKey('online', b));
  }

  /** Applies feed updates; returns the indices whose state changed (for cards and charts). */
  apply(devices: readonly FeedDevice[]): number[] {
    const t = this.table;
    const changed: number[] = [];
    for (const d of devices) {
      const r = t.upsert(d);
      if (r.ignored) continue;
      changed.push(r.index);
      const to = d.status;
      if (d.kind === 'patrol') {
        if (r.moved || r.statusFrom !== to) { this.dirty.add('live-patrols'); this.dirty.add('live-trails'); }
      } else if (r.statusFrom !== to) {
        if (r.statusFrom) this.dirty.add(bucketKey(r.statusFrom, t.bucket[r.index]));
        this.dirty.add(bucketKey(to, t.bucket[r.index]));
      }
      if (r.statusFrom !== to && (r.statusFrom === 'alarm' || to === 'alarm')) {
        this.alarmCount += to === 'alarm' ? 1 : -1;
        this.dirty.add('live-pulse');
      }
    }
    return changed;
  }

  get alarms(): number { return this.alarmCount; }
  /** Whether the pulse animation needs frames. */
  get animating(): boolean { return this.alarmCount > 0; }
  get pending(): boolean { return this.dirty.size > 0; }

  /** The overlays at time `now` (ms); the same array as last time when nothing changed. */
  overlays(now: number): MapOverlay[] {
    const step = Math.floor(now / PULSE_STEP_MS) % PULSE_STEPS;
    if (this.alarmCount > 0 && step !== this.pulseStep) this.dirty.add('live-pulse');
    if (this.dirty.size === 0) return this.last;
    this.pulseStep = step;
    for (const key of this.dirty) this.cache.set(key, this.build(key, step));
    this.dirty.clear();
    const keys = ['live-trails', ...ORDER.filter((s) => s !== 'alarm').flatMap((s) => range(BUCKETS).map((b) => bucketKey(s, b))),
      'live-patrols', 'live-pulse', ...range(BUCKETS).map((b) => bucketKey('alarm', b))];
    this.last = keys.map((k) => this.cache.get(k)).filter((o): o is MapOverlay => !!o);
    return this.last;
  }

  private build(key: string, step: number): MapOverlay | null {
    const t = this.table;
    if (key === 'live-trails') {
      const geometries: GeoJSON.Geometry[] = [];
      for (const tr of t.trails.values()) if (tr.length >= 2) geometries.push({ type: 'LineString', coordinates: tr.map((p) => [p[0], p[1]]) });
      return geometries.length ? { kind: 'geometries', id: key, geometries, fill: [0, 0, 0, 0], line: TRAIL_COLOUR, lineWidthPx: 2 } satisfies GeometryOverlay : null;
    }
    if (key === 'live-patrols') {
      const markers: Marker[] = [];
      for (const i of t.trails.keys()) {
        const s = t.statusOf(i);
        markers.push({ lonLat: [t.lon[i], t.lat[i]], radiusPx: 6, fill: s === 'online' || s === 'unknown' ? PATROL_COLOUR : LIVE_COLOURS[s], line: [255, 255, 255, 255] });
      }
      return markers.length ? { kind: 'markers', id: key, markers } : null;
    }
    if (key === 'live-pulse') {
      if (this.alarmCount <= 0) return null;
      const f = step / PULSE_STEPS;
      const a = Math.round(200 * (1 - f));
      const markers: Marker[] = [];
      for (let i = 0; i < t.size; i++) {
        if (t.status[i] !== STATUS_CODE.get('alarm')) continue;
        markers.push({ lonLat: [t.lon[i], t.lat[i]], radiusPx: 7 + 12 * f, fill: [225, 25, 45, Math.round(a * 0.35)], line: [225, 25, 45, a] });
      }
      // One id for every beat: deck.gl then updates the layer in place instead of building a new one 8 times a second.
      return markers.length ? { kind: 'markers', id: key, markers } : null;
    }
    const m = /^live-(\w+)-(\d+)$/.exec(key);
    if (!m) return null;
    const s = m[1] as DeviceStatus, b = Number(m[2]);
    if (s === 'online' && !this.showOnline) return null;
    const code = STATUS_CODE.get(s)!;
    const r = s === 'alarm' ? 6 : s === 'online' ? 3 : 4.5;
    const markers: Marker[] = [];
    for (let i = 0; i < t.size; i++) {
      if (t.status[i] !== code || t.bucket[i] !== b || t.kinds[i] === 'patrol') continue;
      markers.push({ lonLat: [t.lon[i], t.lat[i]], radiusPx: r, fill: LIVE_COLOURS[s], line: [255, 255, 255, 230] });
    }
    return markers.length ? ({ kind: 'markers', id: key, markers } satisfies MarkerOverlay) : null;
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
