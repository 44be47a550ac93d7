import { describe, expect, it } from 'vitest';
import { createRng } from '../data/rng.ts';
import { dailyCycle, localHour, M2_HOURS, makeProfile, makeProfiles, rainRate, readingValue, type DeviceProfile } from './patterns.ts';
import type { DeviceKind } from '../../layers/telemetry/model.ts';

const START = Date.UTC(2026, 5, 20, 0, 0, 0); // 08:00 China time
const devices = (['water_level', 'power', 'noise', 'gas', 'camera', 'smoke'] as DeviceKind[]).flatMap((kind) =>
  Array.from({ length: 50 }, () => ({ kind, status: 'online' })));
const series = (seed: number) => {
  const p = makeProfiles(devices, seed, 3600);
  return p.map((pr, i) => readingValue(pr, i, START + 123_000 + i * 1000, START, seed, 0, 0));
};
const clean = (kind: DeviceKind, over: Partial<DeviceProfile> = {}): DeviceProfile =>
  ({ ...makeProfile(kind, createRng(7), 'online', 3600), fault: 'none', noise: 0, ...over });

describe('patterns', () => {
  it('are deterministic per seed and differ between seeds', () => {
    expect(series(42)).toEqual(series(42));
    expect(series(43)).not.toEqual(series(42));
    // a profile does not depend on which other kinds are in the list (one fork per kind)
    const a = makeProfiles(devices, 5, 3600).slice(0, 50);
    const b = makeProfiles(devices.slice(0, 50), 5, 3600);
    expect(a).toEqual(b);
  });
  it('water levels follow the M2 tide and rise after rain', () => {
    const p = clean('water_level', { amp: 0.2 });
    const at = (t: number, mm: number) => readingValue(p, 0, t, START, 1, 0, mm)!;
    expect(at(START + M2_HOURS * 3_600_000, 0)).toBeCloseTo(at(START, 0), 6);
    const cycle = Array.from({ length: 100 }, (_, k) => at(START + (k / 100) * M2_HOURS * 3_600_000, 0));
    expect(Math.max(...cycle) - Math.min(...cycle)).toBeCloseTo(0.4, 2); // range = 2 × amplitude
    expect(at(START, 60)).toBeGreaterThan(at(START, 0) + 0.2);
    expect(at(START, 0)).toBeLessThan(3.7); // below the warning level in normal weather
  });
  it('power and noise peak in the evening and dip before dawn (China time)', () => {
    expect(localHour(Date.UTC(2026, 0, 1, 12))).toBe(20);
    expect(dailyCycle(20)).toBeGreaterThan(dailyCycle(4) + 0.5);
    for (const kind of ['power', 'noise'] as DeviceKind[]) {
      const p = clean(kind, { phaseH: 0 });
      const eve = readingValue(p, 0, Date.UTC(2026, 0, 1, 12), Date.UTC(2026, 0, 1), 1, 0, 0)!;
      const night = readingValue(p, 0, Date.UTC(2026, 0, 1, 20), Date.UTC(2026, 0, 1), 1, 0, 0)!;
      expect(eve).toBeGreaterThan(night);
    }
  });
  it('faults: silent stops, dropout comes back, stuck freezes, drift grows', () => {
    const v = (p: DeviceProfile, s: number) => readingValue(p, 3, START + s * 1000, START, 1, 0, 0);
    const silent = clean('gas', { fault: 'silent', faultAt: 30 });
    expect(v(silent, 29)).not.toBeNull();
    expect(v(silent, 31)).toBeNull();
    const drop = clean('gas', { fault: 'dropout', faultAt: 30, faultParam: 60 });
    expect(v(drop, 40)).toBeNull();
    expect(v(drop, 91)).not.toBeNull();
    const stuck = clean('noise', { fault: 'stuck', faultAt: 10, noise: 1.5 });
    expect(v(stuck, 100)).toBe(v(stuck, 4000));
    const drift = clean('water_level', { fault: 'drift', faultAt: 0, faultParam: 0.2, amp: 0 });
    expect(v(drift, 3600)! - v(drift, 0)!).toBeCloseTo(0.2, 6);
    const cam = makeProfile('camera', createRng(1), 'offline', 600);
    expect(cam.fault).toBe('silent');
    expect(readingValue(cam, 0, START + 1000, START, 1, 0, 0)).toBe(1);
  });
  it('rain comes in showers: mostly dry, never negative, the same for a seed', () => {
    const day = Array.from({ length: 24 * 60 }, (_, m) => rainRate(9, START + m * 60_000));
    expect(day.every((r) => r >= 0)).toBe(true);
    const wet = day.filter((r) => r > 0).length;
    expect(wet).toBeGreaterThan(0);
    expect(wet).toBeLessThan(day.length / 2);
    expect(rainRate(9, START + 5e6)).toBe(rainRate(9, START + 5e6));
  });
});
