// Scripted events at a named place (pure): `flood@尚湖:60` — from t+60 s the water levels within ~1.5 km of
// 尚湖 rise past their warning level; `gas@<name>:120` — gas readings spike near a facility, village or place.
import type { DeviceKind } from '../../layers/telemetry/model.ts';
import { WARNING_LEVEL, type EventEffect } from './patterns.ts';

export interface EventType {
  id: string;
  title: string;
  /** Device kinds the event raises, with the radius of effect (m) and how far past the warning level they go. */
  effects: { kind: DeviceKind; radiusM: number; peakOver: number }[];
  /** Seconds from the event start to the peak, and how long the peak holds before it recedes (same length). */
  riseS: number;
  holdS: number;
}

export const EVENT_TYPES: readonly EventType[] = [
  {
    id: 'flood', title: '内涝/河道水位超警',
    // rain gauges near the place show a downpour too (the cause), manhole sensors see covers lifted by the surge
    effects: [{ kind: 'water_level', radiusM: 1500, peakOver: 0.45 }, { kind: 'rain', radiusM: 1500, peakOver: 25 }, { kind: 'manhole', radiusM: 600, peakOver: 3 }],
    riseS: 20, holdS: 600,
  },
  { id: 'gas', title: '燃气泄漏', effects: [{ kind: 'gas', radiusM: 500, peakOver: 30 }], riseS: 10, holdS: 300 },
  { id: 'fire', title: '火情', effects: [{ kind: 'smoke', radiusM: 300, peakOver: 6 }], riseS: 15, holdS: 300 },
];

export interface EventSpec { type: EventType; place: string; atS: number }

/** Parses `type@place:seconds` (seconds optional, default 0). Throws with what to type instead. */
export function parseEventSpec(s: string): EventSpec {
  const m = /^([a-z_]+)@(.+?)(?::(\d+(?:\.\d+)?))?$/.exec(s.trim());
  if (!m) throw new Error(`Event "${s}" is not of the form type@place[:seconds], e.g. flood@尚湖:60; see --list-events.`);
  const type = EVENT_TYPES.find((t) => t.id === m[1]);
  if (!type) throw new Error(`Unknown event type "${m[1]}"; known: ${EVENT_TYPES.map((t) => t.id).join(', ')} (see --list-events).`);
  return { type, place: m[2], atS: m[3] ? Number(m[3]) : 0 };
}

export interface NamedPlace { name: string; source: 'places' | 'villages' | 'facilities'; lon: number; lat: number }

/** The place for a name: an exact match first (places, then villages, then facilities), then the shortest name
 *  containing it. Throws naming a few close matches when nothing fits. */
export function geocode(name: string, gazetteer: readonly NamedPlace[]): NamedPlace {
  const order = { places: 0, villages: 1, facilities: 2 } as const;
  const exact = gazetteer.filter((p) => p.name === name).sort((a, b) => order[a.source] - order[b.source]);
  if (exact.length) return exact[0];
  const partial = gazetteer.filter((p) => p.name.includes(name)).sort((a, b) => a.name.length - b.name.length || order[a.source] - order[b.source]);
  if (partial.length) return partial[0];
  const first = name[0] ?? '';
  const hints = [...new Set(gazetteer.filter((p) => p.name.startsWith(first)).map((p) => p.name))].slice(0, 5);
  throw new Error(`No place, village or facility named "${name}"${hints.length ? `; did you mean ${hints.join('、')}?` : ''} Names come from the places/villages/facilities layers.`);
}

/** Metres between two lon/lat points (equirectangular: exact enough over a few km). */
export function metresBetween(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const k = Math.cos((((lat1 + lat2) / 2) * Math.PI) / 180);
  return Math.hypot((lon2 - lon1) * k * 111_320, (lat2 - lat1) * 110_574);
}

/** Shape of an event over time, 0..1: linear rise, hold, linear fall. */
export function envelope(ev: EventType, sinceS: number): number {
  if (sinceS < 0) return 0;
  if (sinceS < ev.riseS) return sinceS / ev.riseS;
  if (sinceS < ev.riseS + ev.holdS) return 1;
  return Math.max(0, 1 - (sinceS - ev.riseS - ev.holdS) / ev.riseS);
}

export interface PlannedEvent {
  spec: EventSpec;
  place: NamedPlace;
  /** Device indexes affected, per kind (for the report). */
  affected: Map<DeviceKind, number[]>;
}

/**
 * Devices affected by each event, and one effect function adding every event's push at time t. The push brings
 * a device to (warning + peakOver) at the peak whatever its normal value, so a flood alarms every water-level
 * sensor in range. When fewer than 3 devices of a kind are in range, the 3 nearest within 4× the radius are taken
 * (an event that touches no device would be a silent demo).
 */
export function planEvents(specs: readonly EventSpec[], gazetteer: readonly NamedPlace[],
  devices: readonly { kind: DeviceKind; lon: number; lat: number }[], start: number,
  normal: (index: number, t: number) => number): { events: PlannedEvent[]; effect: EventEffect } {
  const events: PlannedEvent[] = [];
  /** device index → list of [event, target level] */
  const pushes = new Map<number, { ev: EventType; at: number; target: number }[]>();
  for (const spec of specs) {
    const place = geocode(spec.place, gazetteer);
    const affected = new Map<DeviceKind, number[]>();
    for (const eff of spec.type.effects) {
      const dist: [number, number][] = [];
      devices.forEach((d, i) => { if (d.kind === eff.kind) dist.push([i, metresBetween(place.lon, place.lat, d.lon, d.lat)]); });
      dist.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
      let hit = dist.filter(([, m]) => m <= eff.radiusM);
      if (hit.length < 3) hit = dist.filter(([, m]) => m <= 4 * eff.radiusM).slice(0, 3);
      const warn = WARNING_LEVEL[eff.kind as keyof typeof WARNING_LEVEL]?.above ?? 0;
      const ids = hit.map(([i]) => i);
      affected.set(eff.kind, ids);
      for (const i of ids) {
        const l = pushes.get(i) ?? [];
        l.push({ ev: spec.type, at: start + spec.atS * 1000, target: warn + eff.peakOver });
        pushes.set(i, l);
      }
    }
    events.push({ spec, place, affected });
  }
  const effect: EventEffect = (i, t) => {
    const l = pushes.get(i);
    if (!l) return 0;
    let add = 0;
    for (const p of l) {
      const e = envelope(p.ev, (t - p.at) / 1000);
      // a small wobble (±2 % of the push) so a held peak is not a flat line (which the stuck-sensor rule would flag)
      const target = p.target * (1 + 0.02 * Math.sin(t / 7000 + i));
      if (e > 0) add = Math.max(add, e * Math.max(0, target - normal(i, t)));
    }
    return add;
  };
  return { events, effect };
}
