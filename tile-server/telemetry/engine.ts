// The telemetry engine (issue 7): device states from the built layers, rules applied to every reading and
// on every tick, alarms (deduplicated: one active alarm per rule and device, repeats counted), device health
// (智能运维), and batched writes to the time-series store. ingest() and tick() are synchronous and return
// what changed, so the service can push it to the live feed at once; storage happens behind them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openFlatGeobuf, type FgbFile } from '../../layers/formats/flatgeobuf.ts';
import { defaultRules } from './default-rules.ts';
import { resolveRetention } from '../../layers/governance/retention.ts';
import type { Alarm, DeviceInfo, DeviceKind, DeviceState, DeviceStatus, HealthSummary, Reading, Rule } from '../../layers/telemetry/model.ts';
import { SENSOR_KINDS } from '../../layers/telemetry/model.ts';
import {
  checkSilence, checkSubhealth, newGeofenceState, newRateState, newSubhealthState, newThresholdState, noteFlap, observeSubhealth,
  insideScope, stepGeofence, stepRate, stepThreshold, validateRules, type GeofenceState, type RateState, type SubhealthState, type ThresholdState, type Verdict,
} from './rules.ts';
import type { TimeSeriesPoint, TimeSeriesStore } from './timeseries-store.ts';

export interface EngineUpdate { devices: DeviceState[]; alarms: Alarm[] }
export interface IngestResult extends EngineUpdate { duplicates: number; outOfOrder: number; unknownDevice: number }
export type DeviceFilter = { bbox?: [number, number, number, number]; kind?: DeviceKind; status?: DeviceStatus };

export interface TelemetryEngine {
  /** Applies a batch of readings (any order). Same ts as the device's last: dropped as a duplicate; older:
   *  stored in history but the current state is left alone; unknown device id: counted and dropped. */
  ingest(batch: Reading[]): IngestResult;
  /** Silence (offline), sub-health, and alarms cleared by a rule change. Call every few seconds. */
  tick(now: number): EngineUpdate;
  device(id: string): DeviceState | undefined;
  devices(f?: DeviceFilter): DeviceState[];
  rules(): Rule[];
  /** Validates (RuleError on bad input), persists, applies. Alarms of changed or removed rules clear on the next tick. */
  setRules(input: unknown): Promise<Rule[]>;
  /** The enabled rules that apply to this device ([] for an unknown id). */
  rulesFor(deviceId: string): Rule[];
  /** Active alarms and recently cleared ones kept in memory, newest first (limit default 500). */
  alarms(f: { since?: number; status?: 'active' | 'cleared'; limit?: number }): Alarm[];
  health(now: number): HealthSummary;
  history(deviceId: string, from: number, to: number, limit?: number): Promise<TimeSeriesPoint[]>;
  /** Writes pending readings and alarm changes to the store (one transaction per call for the readings). */
  flush(): Promise<void>;
  /** Records the incident an alarm opened (the service calls this after IncidentService.create). */
  linkIncident(alarmId: string, incidentId: string): Alarm | undefined;
  /** Counters for /api/telemetry/stats. */
  stats(): EngineStats;
  /** Stops the timers and flushes; does not close the store (its owner does). */
  close(): Promise<void>;
}

export interface EngineStats {
  devices: number; readings: number; stored: number; duplicates: number; outOfOrder: number; unknownDevice: number;
  activeAlarms: number; pendingWrites: number; storeErrors: number; lastStoreError: string | null; purged: number;
}

export interface TelemetryEngineOptions {
  /** geodata/build: sensors.fgb, cameras.fgb, responders.fgb (patrol units), grids.fgb (geofences). */
  dataDir: string;
  store: TimeSeriesStore;
  clock?: () => number;
  /** Grid lookup for geofences when grids.fgb is absent from dataDir (async: its result applies on the next tick). */
  adminAt?: (lon: number, lat: number) => Promise<{ grid: { code: string } | null }>;
  /** Readings older than this are purged (default: the retention rule telemetry_readings, layers/governance/retention.ts). */
  retentionMs?: number;
  /** How often the engine purges readings itself; default 0 = never: in the server the purge service
   *  (tile-server/lifecycle, issue 10) applies every retention rule and records what it deleted in the security audit. */
  purgeEveryMs?: number;
  /** How often pending writes are flushed (default 200 ms); 0 = only on flush(). */
  flushEveryMs?: number;
  /** Devices instead of the built layers (tests). */
  devices?: DeviceInfo[];
  log?: (m: string) => void;
}

const DAY = 86_400_000;
/** Cleared alarms kept in memory for /api/alarms; older ones are in the store. */
const RECENT_CLEARED = 5000;
/** Pending readings that trigger a flush without waiting for the timer. */
const FLUSH_AT = 5000;
const NO_RULES: Rule[] = [];

type RuleState = ThresholdState | RateState | GeofenceState | SubhealthState;
interface Dev {
  info: DeviceInfo;
  status: DeviceStatus;
  since: number;
  lastTs: number | null;
  lastValue: number | null;
  lastReceivedAt: number | null;
  /** Active alarms by rule id. */
  active: Map<string, Alarm>;
  states: Map<string, RuleState>;
  /** The states of `planOf` (the kind's enabled rules when last built), index for index: saves a Map lookup per
   *  rule per reading. Rebuilt when byKind is replaced (setRules). */
  planOf: Rule[] | null;
  plan: RuleState[];
  /** Geofence: grid code at the last position, from the async lookup. */
  geo: { inside: boolean; grid: string | null; fresh: boolean } | null;
  geoBusy: boolean;
}

function readFgb(file: string): FgbFile {
  const b = readFileSync(file);
  return openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

const sensorKinds = new Set<string>(SENSOR_KINDS);

/** Devices of the built layers: every sensor, every camera, and the patrol units among the responders. */
export function loadDevices(dataDir: string): DeviceInfo[] {
  const out: DeviceInfo[] = [];
  const need = (n: string) => {
    const f = join(dataDir, `${n}.fgb`);
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run data\` to build the demo layers.`);
    return readFgb(f);
  };
  const add = (layer: DeviceInfo['layer'], kind: DeviceKind, p: Record<string, unknown>, g: GeoJSON.Geometry | null) => {
    if (!g || g.type !== 'Point') return;
    const grid = typeof p.grid_code === 'string' ? p.grid_code : null;
    out.push({
      id: String(p.id), kind, layer, name: String(p.name ?? p.id), lon: g.coordinates[0], lat: g.coordinates[1],
      department: typeof p.department === 'string' ? p.department : null,
      // Grid codes are the 9-digit town code + village + grid (GB/T 10114 style), so the town is the prefix.
      townCode: grid && grid.length >= 9 ? grid.slice(0, 9) : null, gridCode: grid,
      unit: typeof p.unit === 'string' ? p.unit : null,
    });
  };
  for (const f of need('sensors').features()) {
    const k = String(f.properties?.kind);
    if (sensorKinds.has(k)) add('sensors', k as DeviceKind, f.properties!, f.geometry);
  }
  for (const f of need('cameras').features()) add('cameras', 'camera', f.properties!, f.geometry);
  for (const f of need('responders').features()) if (f.properties?.kind === 'patrol') add('responders', 'patrol', f.properties, f.geometry);
  return out;
}

/** Point-in-grid through grids.fgb's packed R-tree and an even-odd ring test. */
function gridLocator(dataDir: string): ((lon: number, lat: number) => string | null) | null {
  const file = join(dataDir, 'grids.fgb');
  if (!existsSync(file)) return null;
  const fgb = readFgb(file);
  const codes = fgb.column('code');
  return (x, y) => {
    for (const i of fgb.search([x, y, x, y])) {
      const g = fgb.rawGeometry(i);
      if (!g) continue;
      let inside = false;
      let start = 0;
      const ends = g.ends.length ? g.ends : Uint32Array.of(g.xy.length / 2);
      for (const end of ends) {
        for (let a = start, b = end - 1; a < end; b = a++) {
          const ya = g.xy[2 * a + 1], yb = g.xy[2 * b + 1];
          if ((ya > y) !== (yb > y) && x < ((g.xy[2 * b] - g.xy[2 * a]) * (y - ya)) / (yb - ya) + g.xy[2 * a]) inside = !inside;
        }
        start = end;
      }
      if (inside) return String(codes[i]);
    }
    return null;
  };
}

export async function openTelemetryEngine(opts: TelemetryEngineOptions): Promise<TelemetryEngine> {
  const clock = opts.clock ?? Date.now;
  const log = opts.log ?? ((m: string) => console.warn(`[telemetry] ${m}`));
  const store = opts.store;
  const retentionMs = opts.retentionMs ?? resolveRetention(process.env).find((r) => r.id === 'telemetry_readings')!.keepDays * DAY;
  const infos = opts.devices ?? loadDevices(opts.dataDir);
  const locate = opts.devices && !existsSync(join(opts.dataDir, 'grids.fgb')) ? null : gridLocator(opts.dataDir);

  const devs = new Map<string, Dev>();
  const start = clock();
  for (const info of infos) {
    // One field order for every device's info (test fixtures and the layers build them differently), so the
    // per-reading code sees a single object shape.
    const copy: DeviceInfo = { id: info.id, kind: info.kind, layer: info.layer, name: info.name, lon: info.lon, lat: info.lat,
      department: info.department, townCode: info.townCode, gridCode: info.gridCode, unit: info.unit };
    devs.set(info.id, { info: copy, status: 'unknown', since: start, lastTs: null, lastValue: null, lastReceivedAt: null, active: new Map(), states: new Map(), planOf: null, plan: [], geo: null, geoBusy: false });
  }

  let ruleSet: Rule[];
  const saved = await store.loadRules();
  try {
    ruleSet = saved ? validateRules(saved) : defaultRules();
  } catch (e) {
    log(`saved rules do not validate (${(e as Error).message}); using the default rules until PUT /api/rules saves new ones`);
    ruleSet = defaultRules();
  }
  let byKind = indexRules(ruleSet);

  const recentCleared: Alarm[] = [];
  const alarmById = new Map<string, Alarm>();
  // Active alarms survive a restart: re-attach them so the same condition is a repeat, not a new alarm.
  for (const a of await store.alarms({ status: 'active', limit: 100_000 })) {
    const d = devs.get(a.deviceId);
    const rule = ruleSet.find((r) => r.id === a.ruleId);
    if (!d || !rule) continue;
    d.active.set(a.ruleId, a);
    alarmById.set(a.id, a);
    const st = stateOf(d, rule);
    if (st) st.active = true;
  }

  let pendingReadings: Reading[] = [];
  const pendingAlarms = new Map<string, Alarm>();
  /** Alarms cleared by a rule change, handed out by the next tick(). */
  let queued: Alarm[] = [];
  const counters = { readings: 0, stored: 0, duplicates: 0, outOfOrder: 0, unknownDevice: 0, storeErrors: 0, purged: 0 };
  let lastStoreError: string | null = null;
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;

  function indexRules(rules: Rule[]): Map<DeviceKind, Rule[]> {
    const m = new Map<DeviceKind, Rule[]>();
    for (const r of rules) if (r.enabled) { const l = m.get(r.kind) ?? []; l.push(r); m.set(r.kind, l); }
    return m;
  }

  function stateOf(d: Dev, rule: Rule): RuleState | null {
    let st = d.states.get(rule.id);
    if (!st) {
      st = rule.type === 'threshold' ? newThresholdState() : rule.type === 'rate' ? newRateState() : rule.type === 'geofence' ? newGeofenceState()
        : rule.type === 'subhealth' ? newSubhealthState() : newThresholdState(); // silence: only `active`
      d.states.set(rule.id, st);
    }
    return st;
  }

  function subhealthStates(d: Dev): SubhealthState[] {
    const out: SubhealthState[] = [];
    for (const r of byKind.get(d.info.kind) ?? []) if (r.type === 'subhealth') out.push(stateOf(d, r) as SubhealthState);
    return out;
  }

  // Called for every device a batch touched (the live feed needs each one's latest value), so it is written out
  // field by field: a spread of DeviceInfo plus an alarm-id array built through two iterators was ~6 % of the
  // server's CPU in the telemetry bench (profile of 2026-11-29).
  function snapshot(d: Dev): DeviceState {
    const i = d.info;
    const alarms: string[] = [];
    if (d.active.size) for (const a of d.active.values()) alarms.push(a.id);
    return {
      id: i.id, kind: i.kind, layer: i.layer, name: i.name, lon: i.lon, lat: i.lat, department: i.department, townCode: i.townCode, gridCode: i.gridCode, unit: i.unit,
      status: d.status, since: d.since, lastTs: d.lastTs, lastValue: d.lastValue, alarms,
    };
  }

  function touched(a: Alarm, out: Map<string, Alarm>) {
    out.set(a.id, a);
    pendingAlarms.set(a.id, a);
  }

  function apply(d: Dev, rule: Rule, v: Verdict, at: number, out: Map<string, Alarm>): void {
    if (!v) return;
    const cur = d.active.get(rule.id);
    if (v.action === 'raise' && !cur) {
      const a: Alarm = {
        id: `${rule.id}:${d.info.id}:${at.toString(36)}`, ruleId: rule.id, deviceId: d.info.id, kind: d.info.kind, severity: rule.severity,
        status: 'active', message: v.message, startedAt: at, clearedAt: null, lastValue: v.value, repeats: 0, incidentId: null, lon: d.info.lon, lat: d.info.lat,
      };
      d.active.set(rule.id, a);
      alarmById.set(a.id, a);
      touched(a, out);
    } else if ((v.action === 'repeat' || v.action === 'raise') && cur) {
      cur.repeats++;
      cur.lastValue = v.value ?? cur.lastValue;
      cur.message = v.message;
      touched(cur, out);
      return;
    } else if (v.action === 'clear' && cur) {
      closeAlarm(d, cur, at, v.message, out);
    } else return;
    if (rule.type !== 'subhealth') for (const s of subhealthStates(d)) noteFlap(s, at);
  }

  function closeAlarm(d: Dev, a: Alarm, at: number, message: string, out: Map<string, Alarm>) {
    d.active.delete(a.ruleId);
    a.status = 'cleared';
    a.clearedAt = at;
    a.message = message;
    recentCleared.push(a);
    if (recentCleared.length > RECENT_CLEARED) alarmById.delete(recentCleared.shift()!.id);
    touched(a, out);
  }

  function restatus(d: Dev, at: number, changed: Map<string, Dev>) {
    let s: DeviceStatus = 'online';
    if (d.lastReceivedAt === null) s = 'unknown';
    else {
      let sub = false;
      for (const ruleId of d.active.keys()) {
        const t = ruleSet.find((r) => r.id === ruleId)?.type;
        if (t === 'silence') { s = 'offline'; break; }
        if (t === 'subhealth') sub = true; else s = 'alarm';
      }
      if (s === 'online' && sub) s = 'subhealth';
    }
    if (s !== d.status) { d.status = s; d.since = at; changed.set(d.info.id, d); }
  }

  function geofence(d: Dev, rule: Rule, r: Reading, out: Map<string, Alarm>) {
    if (r.lon === undefined || r.lat === undefined || !Number.isFinite(r.lon) || !Number.isFinite(r.lat)) return;
    if (locate) {
      const here = locate(r.lon, r.lat);
      apply(d, rule, stepGeofence(rule, stateOf(d, rule) as GeofenceState, insideScope(rule, d.info.gridCode, here), here), r.receivedAt, out);
    } else if (opts.adminAt && !d.geoBusy) {
      d.geoBusy = true;
      opts.adminAt(r.lon, r.lat).then((res) => {
        const g = res.grid?.code ?? null;
        d.geo = { inside: insideScope(rule, d.info.gridCode, g), grid: g, fresh: true };
      }, (e: Error) => log(`geofence lookup failed for ${d.info.id}: ${e.message}`)).finally(() => { d.geoBusy = false; });
    }
  }

  const engine: TelemetryEngine = {
    ingest(batch) {
      const changed = new Map<string, Dev>();
      const out = new Map<string, Alarm>();
      let duplicates = 0, outOfOrder = 0, unknownDevice = 0;
      for (const r of batch) {
        const d = devs.get(r.deviceId);
        if (!d || !Number.isFinite(r.ts) || !Number.isFinite(r.value)) { unknownDevice++; continue; }
        if (d.lastTs !== null && r.ts === d.lastTs) { duplicates++; continue; }
        pendingReadings.push(r);
        if (d.lastTs !== null && r.ts < d.lastTs) { outOfOrder++; continue; }
        d.lastTs = r.ts;
        d.lastValue = r.value;
        d.lastReceivedAt = r.receivedAt;
        if (d.info.kind === 'patrol' && r.lon !== undefined && r.lat !== undefined && Number.isFinite(r.lon) && Number.isFinite(r.lat)) { d.info.lon = r.lon; d.info.lat = r.lat; }
        const unit = d.info.unit ?? '';
        const rules = byKind.get(d.info.kind) ?? NO_RULES;
        if (d.planOf !== rules) { d.plan = rules.map((rule) => stateOf(d, rule)!); d.planOf = rules; }
        const plan = d.plan;
        for (let k = 0; k < rules.length; k++) {
          const rule = rules[k], st = plan[k];
          switch (rule.type) {
            case 'threshold': apply(d, rule, stepThreshold(rule, st as ThresholdState, r.value, unit), r.receivedAt, out); break;
            case 'rate': apply(d, rule, stepRate(rule, st as RateState, r.ts, r.value, unit), r.receivedAt, out); break;
            case 'silence': apply(d, rule, checkSilence(rule, st.active, r.receivedAt, r.receivedAt), r.receivedAt, out); st.active = d.active.has(rule.id); break;
            case 'subhealth':
              observeSubhealth(rule, st as SubhealthState, r.ts, r.value);
              apply(d, rule, checkSubhealth(rule, st as SubhealthState, r.receivedAt, r.ts, unit), r.receivedAt, out);
              break;
            case 'geofence': geofence(d, rule, r, out); break;
          }
        }
        changed.set(d.info.id, d);
        restatus(d, r.receivedAt, changed);
      }
      counters.readings += batch.length;
      counters.duplicates += duplicates;
      counters.outOfOrder += outOfOrder;
      counters.unknownDevice += unknownDevice;
      if (pendingReadings.length >= FLUSH_AT) void engine.flush().catch(() => {});
      return { devices: [...changed.values()].map(snapshot), alarms: [...out.values()], duplicates, outOfOrder, unknownDevice };
    },

    tick(now) {
      const changed = new Map<string, Dev>();
      const out = new Map<string, Alarm>();
      for (const a of queued) out.set(a.id, a);
      queued = [];
      for (const d of devs.values()) {
        if (d.lastReceivedAt === null) { if (d.active.size) restatus(d, now, changed); continue; }
        for (const rule of byKind.get(d.info.kind) ?? []) {
          const st = stateOf(d, rule)!;
          if (rule.type === 'silence') {
            apply(d, rule, checkSilence(rule, d.active.has(rule.id), d.lastReceivedAt, now), now, out);
            st.active = d.active.has(rule.id);
          } else if (rule.type === 'subhealth') {
            apply(d, rule, checkSubhealth(rule, st as SubhealthState, now, d.lastTs, d.info.unit ?? ''), now, out);
          } else if (rule.type === 'geofence' && d.geo?.fresh) {
            d.geo.fresh = false;
            apply(d, rule, stepGeofence(rule, st as GeofenceState, d.geo.inside, d.geo.grid), now, out);
          }
        }
        restatus(d, now, changed);
      }
      return { devices: [...changed.values()].map(snapshot), alarms: [...out.values()] };
    },

    device(id) { const d = devs.get(id); return d ? snapshot(d) : undefined; },

    devices(f = {}) {
      const out: DeviceState[] = [];
      const b = f.bbox;
      for (const d of devs.values()) {
        if (f.kind && d.info.kind !== f.kind) continue;
        if (f.status && d.status !== f.status) continue;
        if (b && (d.info.lon < b[0] || d.info.lon > b[2] || d.info.lat < b[1] || d.info.lat > b[3])) continue;
        out.push(snapshot(d));
      }
      return out;
    },

    rules() { return ruleSet.map((r) => ({ ...r, params: { ...r.params } })); },

    async setRules(input) {
      const next = validateRules(input);
      await store.saveRules(next);
      const before = new Map(ruleSet.map((r) => [r.id, JSON.stringify(r)]));
      const after = new Map(next.map((r) => [r.id, JSON.stringify(r)]));
      const stale = new Set([...before.keys()].filter((id) => before.get(id) !== after.get(id)));
      ruleSet = next;
      byKind = indexRules(next);
      const now = clock();
      const out = new Map<string, Alarm>();
      for (const d of devs.values()) {
        for (const id of stale) {
          d.states.delete(id);
          const a = d.active.get(id);
          if (a) closeAlarm(d, a, now, `${a.message}（规则已修改，告警解除）`, out);
        }
      }
      queued.push(...out.values());
      return engine.rules();
    },

    rulesFor(deviceId) {
      const d = devs.get(deviceId);
      return d ? (byKind.get(d.info.kind) ?? []).map((r) => ({ ...r, params: { ...r.params } })) : [];
    },

    alarms(f) {
      const limit = f.limit ?? 500;
      const all: Alarm[] = [];
      if (f.status !== 'cleared') for (const d of devs.values()) for (const a of d.active.values()) all.push(a);
      if (f.status !== 'active') all.push(...recentCleared);
      const since = f.since;
      return all
        .filter((a) => since === undefined || a.startedAt >= since || (a.clearedAt !== null && a.clearedAt >= since))
        .sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? -1 : 1))
        .slice(0, limit)
        .map((a) => ({ ...a }));
    },

    health(now) {
      type G = { total: number; online: number; known: number };
      const groups = { dep: new Map<string, G>(), town: new Map<string, G>(), kind: new Map<string, G>() };
      const bump = (m: Map<string, G>, k: string, online: boolean, known: boolean) => {
        const g = m.get(k) ?? { total: 0, online: 0, known: 0 };
        g.total++; if (online) g.online++; if (known) g.known++;
        m.set(k, g);
      };
      let total = 0, online = 0, known = 0;
      const offline: HealthSummary['offline'] = [];
      const subhealth: HealthSummary['subhealth'] = [];
      for (const d of devs.values()) {
        // "Online" = reporting: a device in alarm or sub-health still talks to us (智能运维 在线率).
        const on = d.status === 'online' || d.status === 'alarm' || d.status === 'subhealth';
        const kn = d.status !== 'unknown';
        total++; if (on) online++; if (kn) known++;
        bump(groups.dep, d.info.department ?? '未知', on, kn);
        bump(groups.town, d.info.townCode ?? '未知', on, kn);
        bump(groups.kind, d.info.kind, on, kn);
        if (d.status === 'offline') offline.push({ id: d.info.id, kind: d.info.kind, name: d.info.name, since: d.lastReceivedAt ?? d.since });
        if (d.status === 'subhealth') {
          const reason = subhealthStates(d).map((s) => s.reason).filter(Boolean).join('；');
          subhealth.push({ id: d.info.id, kind: d.info.kind, name: d.info.name, since: d.since, reason });
        }
      }
      const rec = (m: Map<string, G>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, g]) => [k, { total: g.total, online: g.online, rate: g.known ? g.online / g.known : 0 }]));
      offline.sort((a, b) => a.since - b.since);
      subhealth.sort((a, b) => a.since - b.since);
      return { at: now, total, online, onlineRate: known ? online / known : 0, byDepartment: rec(groups.dep), byTown: rec(groups.town), byKind: rec(groups.kind), offline, subhealth };
    },

    async history(deviceId, from, to, limit = 1000) {
      await engine.flush();
      return store.range(deviceId, from, to, limit);
    },

    flush() {
      // Serialized: one write at a time, in order, each taking everything pending when it starts.
      flushing = flushing.catch(() => {}).then(async () => {
        const readings = pendingReadings;
        const alarms = [...pendingAlarms.values()];
        pendingReadings = [];
        pendingAlarms.clear();
        try {
          if (readings.length) counters.stored += await store.append(readings);
          for (const a of alarms) await store.saveAlarm({ ...a });
        } catch (e) {
          // Dropped, not retried: a store that is down must not grow memory without bound. Counted and shown in stats.
          counters.storeErrors++;
          lastStoreError = (e as Error).message;
          throw new Error(`telemetry store write failed (${readings.length} readings, ${alarms.length} alarms dropped): ${lastStoreError}`);
        }
      });
      return flushing;
    },

    linkIncident(alarmId, incidentId) {
      const a = alarmById.get(alarmId);
      if (!a) return undefined;
      a.incidentId = incidentId;
      pendingAlarms.set(a.id, a);
      return { ...a };
    },

    stats() {
      let activeAlarms = 0;
      for (const d of devs.values()) activeAlarms += d.active.size;
      return { devices: devs.size, ...counters, activeAlarms, pendingWrites: pendingReadings.length + pendingAlarms.size, lastStoreError };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (flushTimer) clearInterval(flushTimer);
      if (purgeTimer) clearInterval(purgeTimer);
      await engine.flush().catch((e: Error) => log(e.message));
    },
  };

  const flushEvery = opts.flushEveryMs ?? 200;
  const flushTimer = flushEvery > 0 ? setInterval(() => {
    if (pendingReadings.length || pendingAlarms.size) engine.flush().catch((e: Error) => log(e.message));
  }, flushEvery) : null;
  flushTimer?.unref();
  const purgeEvery = opts.purgeEveryMs ?? 0;
  const purgeTimer = purgeEvery > 0 ? setInterval(() => {
    store.purgeReadings(clock() - retentionMs).then((k) => { counters.purged += k; }, (e: Error) => log(`retention purge failed: ${e.message}`));
  }, purgeEvery) : null;
  purgeTimer?.unref();
  return engine;
}
