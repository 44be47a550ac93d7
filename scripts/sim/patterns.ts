// Reading values of the simulated devices (pure). A value is a function of (seed, device profile, time): no
// sequential RNG state, so the same seed gives the same readings whatever the publish order or rate, and a
// reading can be recomputed for a test. Noise comes from a hash of (device, time step).
import type { DeviceKind, SensorKind } from '../../layers/telemetry/model.ts';
import { createRng, type Rng } from '../data/rng.ts';

/**
 * Warning levels the simulator aims its events at (above = alarm unless noted). The default rules
 * (tile-server/telemetry/default-rules.ts) should use the same figures; sources:
 * - water_level m (吴淞 datum): 常熟 (虞山/琴川 stations) 警戒水位 3.70 m (苏州市水利局 water-level bulletins).
 * - gas %LEL: first alarm at 20 %LEL (GB 15322.1-2019 §4.3.1.1: alarm set point 1 %–25 %LEL; 20 %LEL is usual).
 * - smoke %obs/m: point detectors alarm around 3–4 %obs/m (EN 54-7 response-threshold range); 3.
 * - fire_hydrant MPa: below 0.10 MPa (GB 50974-2014 §7.2.8: outdoor hydrant outlet ≥ 0.10 MPa) — a `below` rule.
 * - manhole cm: cover lifted/shifted more than 2 cm.
 * - noise dB: 70 dB(A) (GB 3096-2008 class 4a daytime limit).
 * - air_quality μg/m³ (PM2.5): 75 (GB 3095-2012 grade II 24 h limit).
 * - bridge_strain με: 600.
 * - power kW: no threshold (load follows the day; silence/sub-health rules only).
 * - rain mm/h: 30 (短时强降水 ≥ 20 mm/h per the CMA; 30 is the heavy end).
 */
export const WARNING_LEVEL: Readonly<Record<SensorKind, { above?: number; below?: number }>> = {
  water_level: { above: 3.7 }, gas: { above: 20 }, smoke: { above: 3 }, fire_hydrant: { below: 0.1 },
  manhole: { above: 2 }, noise: { above: 70 }, air_quality: { above: 75 }, bridge_strain: { above: 600 },
  power: {}, rain: { above: 30 },
};

export type FaultKind = 'none' | 'drift' | 'stuck' | 'dropout' | 'silent';

/** Per-device constants, drawn once from the seed. */
export interface DeviceProfile {
  kind: DeviceKind;
  /** Baseline (kind's unit). */
  base: number;
  /** Amplitude of the kind's cycle (tide for water levels, day for power/noise/air, traffic for strain). */
  amp: number;
  /** Phase shift of the cycle, hours (tide arrives later upstream; districts differ). */
  phaseH: number;
  /** Noise standard deviation. */
  noise: number;
  fault: FaultKind;
  /** drift: units per hour; stuck/silent: when it starts (s after the simulation start); dropout: gap length (s). */
  faultParam: number;
  /** For the fault: when it begins, s after start. */
  faultAt: number;
}

/** Shares of devices with each fault (of sensors; cameras use CAMERA_SILENT_SHARE). Round figures for a
 *  city network in service a few years: most report cleanly, ~1 in 50 misbehaves. */
export const FAULT_SHARE = { drift: 0.006, stuck: 0.004, dropout: 0.008 } as const;
export const CAMERA_SILENT_SHARE = 0.01;

/** Tidal period of the principal lunar semi-diurnal constituent M2, hours. */
export const M2_HOURS = 12.42;

const BASE: Readonly<Record<SensorKind, [number, number, number, number]>> = {
  // [base min, base max, amp min, amp max]
  water_level: [2.9, 3.2, 0.05, 0.3],
  gas: [0, 1.5, 0, 0.3],
  smoke: [0.02, 0.1, 0, 0.02],
  fire_hydrant: [0.28, 0.4, 0.02, 0.05],
  manhole: [0, 0.3, 0, 0],
  noise: [48, 55, 8, 14],
  air_quality: [25, 45, 8, 20],
  bridge_strain: [80, 200, 40, 150],
  power: [30, 500, 0.3, 0.5], // amp: share of base
  rain: [0, 0, 0, 0],
};
const NOISE: Readonly<Record<SensorKind, number>> = {
  water_level: 0.005, gas: 0.15, smoke: 0.01, fire_hydrant: 0.005, manhole: 0.05, noise: 1.5,
  air_quality: 2, bridge_strain: 8, power: 0.03, rain: 0.2,
};

export function makeProfile(kind: DeviceKind, rng: Rng, dataStatus: string | null, horizonS: number): DeviceProfile {
  const p: DeviceProfile = { kind, base: 0, amp: 0, phaseH: rng.range(0, 24), noise: 0, fault: 'none', faultParam: 0, faultAt: 0 };
  if (kind === 'camera') {
    // layer status offline/fault: reports once or twice, then silence (shows as offline in device health)
    if (dataStatus === 'offline' || rng.chance(CAMERA_SILENT_SHARE)) { p.fault = 'silent'; p.faultAt = rng.range(20, Math.max(30, horizonS / 3)); }
    else if (dataStatus === 'fault') p.fault = 'stuck'; // no video: value 0
    return p;
  }
  if (kind === 'patrol') return p;
  const [b0, b1, a0, a1] = BASE[kind];
  p.base = rng.range(b0, b1);
  p.amp = rng.range(a0, a1);
  p.noise = NOISE[kind];
  const r = rng.next();
  p.faultAt = rng.range(0, Math.max(1, horizonS / 2));
  if (dataStatus === 'offline') { p.fault = 'silent'; p.faultAt = rng.range(10, Math.max(20, horizonS / 4)); }
  else if (dataStatus === 'fault' || r < FAULT_SHARE.drift) { p.fault = 'drift'; p.faultParam = p.noise * rng.range(20, 60) * (rng.chance(0.5) ? 1 : -1); }
  else if (r < FAULT_SHARE.drift + FAULT_SHARE.stuck) p.fault = 'stuck';
  else if (r < FAULT_SHARE.drift + FAULT_SHARE.stuck + FAULT_SHARE.dropout) { p.fault = 'dropout'; p.faultParam = rng.range(60, 300); }
  return p;
}

/** A deterministic hash of (a, b) to [0, 1): the noise source (no state, any order). */
export function hash01(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16; h = Math.imul(h, 0x7feb352d); h ^= h >>> 15; h = Math.imul(h, 0x846ca68b); h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}
/** Approximately standard normal from two hashes (sum of 4 uniforms, scaled: cheap and bounded). */
function gauss(a: number, b: number): number {
  return (hash01(a, b) + hash01(a + 1, b) + hash01(a + 2, b) + hash01(a + 3, b) - 2) * 1.732;
}

/** Local hour of day (China Standard Time, UTC+8, no DST) at epoch ms t. */
export function localHour(t: number): number {
  return (((t / 3_600_000 + 8) % 24) + 24) % 24;
}

/** A daily profile 0..1: low at 03:00–05:00, a morning rise, highest ~19:00–21:00 (urban load and noise). */
export function dailyCycle(hour: number): number {
  const a = Math.cos(((hour - 20) / 24) * 2 * Math.PI); // peak 20:00
  const b = Math.cos(((hour - 10) / 12) * 2 * Math.PI); // secondary morning peak
  return Math.max(0, Math.min(1, 0.5 + 0.38 * a + 0.12 * b));
}

/**
 * City-wide rain intensity, mm/h, at epoch ms t: showers of 20–90 min every few hours, from the seed. Deterministic:
 * the day is cut into 3-hour slots and each slot may hold one shower (about a third do: the Jiangnan plum-rain season).
 */
export function rainRate(seed: number, t: number): number {
  const slotMs = 3 * 3_600_000;
  const slot = Math.floor(t / slotMs);
  let total = 0;
  for (const s of [slot - 1, slot]) {
    if (hash01(seed, s * 7 + 1) > 0.35) continue;
    const start = s * slotMs + hash01(seed, s * 7 + 2) * slotMs;
    const len = (20 + hash01(seed, s * 7 + 3) * 70) * 60_000;
    const peak = 2 + hash01(seed, s * 7 + 4) * 25;
    if (t >= start && t < start + len) total += peak * Math.sin((Math.PI * (t - start)) / len);
  }
  return total;
}

/** Rain that fell over the last `hours`, mm (trapezoid, 10 min steps): water levels follow it with a delay. */
export function recentRain(seed: number, t: number, hours = 6): number {
  const step = 600_000;
  let mm = 0;
  for (let k = 0; k < hours * 6; k++) {
    const age = k * step;
    mm += rainRate(seed, t - age) * (step / 3_600_000) * Math.exp(-age / (hours * 3_600_000 / 2));
  }
  return mm;
}

/** What a scripted event adds to a device at time t (see events.ts); 0 when none applies. */
export type EventEffect = (deviceIndex: number, t: number) => number;

/**
 * The reading of device `index` (with `profile`) at epoch ms t, or null when it is silent at t (a fault).
 * `start` is the simulation start (faults are timed from it); `rainMm` = recentRain(seed, t) shared by all
 * water-level devices of one tick (computed once by the caller: it is the expensive part); `rainNow` = rainRate.
 */
export function readingValue(p: DeviceProfile, index: number, t: number, start: number, seed: number, rainNow: number, rainMm: number): number | null {
  const sinceStart = (t - start) / 1000;
  if (p.fault === 'silent' && sinceStart >= p.faultAt) return null;
  if (p.fault === 'dropout' && sinceStart >= p.faultAt && sinceStart < p.faultAt + p.faultParam) return null;
  // stuck: the value freezes at faultAt (a frozen sensor repeats the last good reading)
  const tv = p.fault === 'stuck' && sinceStart >= p.faultAt ? start + p.faultAt * 1000 : t;
  const step = Math.floor(tv / 1000);
  const n = gauss(index * 4 + seed * 131, step) * p.noise;
  const hour = localHour(tv);
  let v: number;
  switch (p.kind) {
    case 'camera': return p.fault === 'stuck' ? 0 : 1;
    case 'patrol': return 0;
    case 'water_level': {
      const tide = p.amp * Math.sin(((tv / 3_600_000 + p.phaseH) / M2_HOURS) * 2 * Math.PI);
      // ~1 cm per mm of recent rain, saturating: the polder pumps (排涝泵站) hold the inner rivers down
      v = p.base + tide + 0.4 * (1 - Math.exp(-rainMm / 40)) + n;
      break;
    }
    case 'rain': v = Math.max(0, rainNow * (0.7 + 0.6 * hash01(index, 17)) + (rainNow > 0 ? n : 0)); break;
    case 'power': v = p.base * (1 - p.amp + p.amp * 2 * dailyCycle((hour + p.phaseH / 12) % 24)) * (1 + n); break;
    case 'noise': case 'air_quality': case 'bridge_strain': v = p.base + p.amp * dailyCycle(hour) + n; break;
    case 'gas': case 'smoke': case 'manhole': v = Math.max(0, p.base + n); break;
    case 'fire_hydrant': v = p.base - p.amp * dailyCycle(hour) + n; break; // pressure dips at peak demand
    default: v = p.base + n;
  }
  if (p.fault === 'drift' && sinceStart >= p.faultAt) v += (p.faultParam * (sinceStart - p.faultAt)) / 3600;
  return v;
}

/** Profiles of a device list, from the seed (one fork per device kind, so adding cameras does not shift sensors). */
export function makeProfiles(devices: readonly { kind: DeviceKind; status: string | null }[], seed: number, horizonS: number): DeviceProfile[] {
  const forks = new Map<string, Rng>();
  const root = createRng(seed).fork('sim-profiles');
  return devices.map((d) => {
    let r = forks.get(d.kind);
    if (!r) forks.set(d.kind, (r = root.fork(d.kind)));
    return makeProfile(d.kind, r, d.status, horizonS);
  });
}

/** Round to a sensible resolution per kind (what a device would send; keeps JSON short). */
export function roundFor(kind: DeviceKind, v: number): number {
  switch (kind) {
    case 'water_level': case 'fire_hydrant': return Math.round(v * 1000) / 1000;
    case 'gas': case 'smoke': case 'manhole': case 'rain': return Math.round(v * 100) / 100;
    default: return Math.round(v * 10) / 10;
  }
}
