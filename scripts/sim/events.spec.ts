import { describe, expect, it } from 'vitest';
import type { DeviceKind } from '../../layers/telemetry/model.ts';
import { envelope, EVENT_TYPES, geocode, metresBetween, parseEventSpec, planEvents, type NamedPlace } from './events.ts';
import { WARNING_LEVEL } from './patterns.ts';

const gaz: NamedPlace[] = [
  { name: '尚湖', source: 'places', lon: 120.684, lat: 31.649 },
  { name: '尚湖镇', source: 'places', lon: 120.62, lat: 31.62 },
  { name: '吕舍村', source: 'villages', lon: 120.55, lat: 31.58 },
  { name: '吕舍村燃气调压站', source: 'facilities', lon: 120.552, lat: 31.581 },
];
/** A device `m` metres east of (lon, lat). */
const east = (lon: number, lat: number, m: number) => lon + m / (111_320 * Math.cos((lat * Math.PI) / 180));

describe('event specs', () => {
  it('parses type@place:seconds and says what is wrong', () => {
    expect(parseEventSpec('flood@尚湖:60')).toMatchObject({ place: '尚湖', atS: 60, type: { id: 'flood' } });
    expect(parseEventSpec('gas@吕舍村')).toMatchObject({ place: '吕舍村', atS: 0 });
    expect(() => parseEventSpec('quake@尚湖:5')).toThrow(/Unknown event type "quake"; known: flood, gas, fire/);
    expect(() => parseEventSpec('flood')).toThrow(/type@place\[:seconds\]/);
  });
  it('geocodes exact names first, then the shortest containing name, and suggests on a miss', () => {
    expect(geocode('尚湖', gaz).lon).toBe(120.684);
    expect(geocode('调压站', gaz).name).toBe('吕舍村燃气调压站');
    expect(geocode('吕舍', gaz).name).toBe('吕舍村');
    expect(() => geocode('尚湖公园北门', gaz)).toThrow(/did you mean 尚湖、尚湖镇/);
  });
  it('envelope rises, holds and falls', () => {
    const f = EVENT_TYPES.find((t) => t.id === 'flood')!;
    expect(envelope(f, -1)).toBe(0);
    expect(envelope(f, f.riseS / 2)).toBeCloseTo(0.5);
    expect(envelope(f, f.riseS + 1)).toBe(1);
    expect(envelope(f, 2 * f.riseS + f.holdS + 1)).toBe(0);
  });
});

describe('planEvents', () => {
  const [lon, lat] = [120.684, 31.649];
  const devices: { kind: DeviceKind; lon: number; lat: number }[] = [
    { kind: 'water_level', lon: east(lon, lat, 300), lat },
    { kind: 'water_level', lon: east(lon, lat, 1400), lat },
    { kind: 'water_level', lon: east(lon, lat, 1200), lat },
    { kind: 'water_level', lon: east(lon, lat, 2500), lat }, // out of range
    { kind: 'gas', lon: east(lon, lat, 100), lat }, // not a flood kind
  ];
  const start = 1_800_000_000_000;
  const normal = (i: number) => 3.0 + i * 0.01;
  const { events, effect } = planEvents([parseEventSpec('flood@尚湖:60')], gaz, devices, start, normal);
  const value = (i: number, s: number) => normal(i) + effect(i, start + s * 1000);
  const warn = WARNING_LEVEL.water_level.above!;

  it('raises the water levels within 1.5 km past the warning level at the right time, and no others', () => {
    expect(events[0].affected.get('water_level')).toEqual([0, 2, 1]);
    expect(metresBetween(lon, lat, devices[1].lon, lat)).toBeCloseTo(1400, -1);
    const peak = 60 + EVENT_TYPES[0].riseS;
    for (const i of [0, 1, 2]) {
      expect(value(i, 59)).toBeLessThan(warn); // before the event
      expect(value(i, peak + 1)).toBeGreaterThan(warn);
      expect(value(i, peak + 300)).toBeGreaterThan(warn);
    }
    expect(value(3, peak + 1)).toBe(normal(3));
    expect(value(4, peak + 1)).toBe(normal(4));
  });
  it('takes the 3 nearest within 4× the radius when too few are in range', () => {
    const far = devices.map((d) => ({ ...d, lon: east(d.lon, d.lat, 2000) }));
    const plan = planEvents([parseEventSpec('flood@尚湖:0')], gaz, far, start, normal);
    expect(plan.events[0].affected.get('water_level')).toEqual([0, 2, 1]);
  });
});
