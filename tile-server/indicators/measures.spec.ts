import { describe, expect, it } from 'vitest';
import { parseFormula } from '../../layers/indicators/formula.ts';
import { computeAll, evaluateAt, type Area, type Facts } from './measures.ts';
import { decodeValues, encodeValues, openSqliteIndicatorStore, thinning } from './store.ts';
import { BUILTIN_INDICATORS } from '../../layers/indicators/builtins.ts';

const H = 3_600_000, D = 86_400_000, NOW = 1_800_000_000_000;
const T1 = '320581001', T2 = '320581002';
const G1 = `${T1}001001`, G2 = `${T1}001002`, G3 = `${T2}003001`;
const areas: Area[] = [
  { level: 'city', code: '320581', name: '市', areaKm2: 100, population: 20000 },
  { level: 'town', code: T1, name: '甲', areaKm2: 10, population: 10000 },
  { level: 'town', code: T2, name: '乙', areaKm2: 20, population: null },
  { level: 'village', code: `${T1}001`, name: '村甲', areaKm2: 5, population: null },
  { level: 'village', code: `${T2}003`, name: '村乙', areaKm2: 5, population: null },
  { level: 'grid', code: G1, name: 'g1', areaKm2: 1, population: null },
  { level: 'grid', code: G2, name: 'g2', areaKm2: 1, population: null },
  { level: 'grid', code: G3, name: 'g3', areaKm2: 1, population: null },
];
const inc = (code: string | null, over: Partial<Facts['incidents'] extends readonly (infer T)[] | null ? T : never> = {}) => ({
  code, status: 'reported', category: '0101', createdAt: NOW - H, closedAt: null, limitMs: 10 * H, firstDispatchAt: null, ...over,
});
const facts: Facts = {
  now: NOW, areas,
  incidents: [
    inc(G1), inc(G1, { status: 'merged' }), inc(G2, { createdAt: NOW - 40 * D }), inc(T2),
    inc(G1, { status: 'closed', createdAt: NOW - 5 * H, closedAt: NOW - H, firstDispatchAt: NOW - 4 * H }),
    inc(G3, { status: 'closed', createdAt: NOW - 20 * H, closedAt: NOW - 2 * H, firstDispatchAt: NOW - 19.5 * H }),
  ],
  devices: [{ code: G1, kind: 'water_level', reporting: true }, { code: G1, kind: 'gas', reporting: false }, { code: G3, kind: 'water_level', reporting: true }],
  alarms: [{ code: G1, kind: 'water_level', startedAt: NOW - H, health: false }, { code: G3, kind: 'water_level', startedAt: NOW - 2 * D, health: false },
    { code: G1, kind: 'water_level', startedAt: NOW - H, health: true }],
  checkins: [{ gridCode: G1, at: NOW - D }, { gridCode: G1, at: NOW - 2 * D }, { gridCode: G3, at: NOW - 8 * D }, { gridCode: null, at: NOW - H }],
  features: new Map([['cameras', [G1, G1, T2, null]]]),
};
const at = (formula: string, level: Area['level']) => Object.fromEntries(evaluateAt(parseFormula(formula), level, facts).map((r) => [r.area.code, r.value]));

describe('measures by code prefix', () => {
  it('counts items in every area whose code is a prefix of theirs', () => {
    expect(at('incidents', 'town')).toEqual({ [T1]: 2, [T2]: 2 }); // merged left out, the 40-day-old one too
    expect(at('incidents', 'grid')).toEqual({ [G1]: 2, [G2]: 0, [G3]: 1 }); // the town-only incident counts in no grid
    expect(at('incidents', 'city')).toEqual({ 320581: 4 });
    expect(at('incidents(status="closed")', 'town')).toEqual({ [T1]: 1, [T2]: 1 });
    expect(at('features(layer="cameras")', 'town')).toEqual({ [T1]: 2, [T2]: 1 });
  });

  it('computes on-time closure, mean dispatch minutes and rates, null where nothing is measured', () => {
    expect(at('closed_on_time / closed * 100', 'grid')).toEqual({ [G1]: 100, [G2]: null, [G3]: 0 }); // 4 h ≤ 10 h; 18 h > 10 h
    expect(at('dispatch_minutes', 'town')).toEqual({ [T1]: 60, [T2]: 30 });
    expect(at('dispatch_minutes', 'city')).toEqual({ 320581: 45 });
    expect(at('devices_online() / devices() * 100', 'grid')).toEqual({ [G1]: 50, [G2]: null, [G3]: 100 });
    expect(at('alarms(kind="water_level")', 'grid')).toEqual({ [G1]: 1, [G2]: 0, [G3]: 0 }); // value alarms by default
    expect(at('alarms(kind="water_level", rule="health")', 'grid')).toEqual({ [G1]: 1, [G2]: 0, [G3]: 0 });
    expect(at('alarms(rule="all", since="3d")', 'town')).toEqual({ [T1]: 2, [T2]: 1 });
    expect(at('grids_patrolled(since="7d") / grids * 100', 'town')).toEqual({ [T1]: 50, [T2]: 0 });
    expect(at('incidents / population * 10000', 'town')).toEqual({ [T1]: 2, [T2]: null });
    expect(at('features(layer="cameras") / area_km2', 'town')).toEqual({ [T1]: 0.2, [T2]: 0.05 });
  });

  it('gives null for measures whose source is unavailable', () => {
    const off: Facts = { ...facts, devices: null };
    expect(evaluateAt(parseFormula('devices()'), 'town', off).map((r) => r.value)).toEqual([null, null]);
  });

  it('computes every built-in at every level it names, with status', () => {
    const v = computeAll(BUILTIN_INDICATORS, facts);
    const one = (id: string, code: string) => v.find((x) => x.indicator === id && x.code === code);
    expect(one('closed_on_time_rate', G3)).toMatchObject({ value: 0, status: 'red' });
    expect(one('incidents_per_10k', T1)).toMatchObject({ value: 2, status: 'green' });
    expect(one('incidents_per_10k', G1)).toBeUndefined(); // not at grid level
    expect(one('water_level_alarms', G1)).toMatchObject({ value: 1, status: 'amber' });
  });
});

describe('series storage', () => {
  it('round-trips values with nulls and refuses other formats', () => {
    const b = encodeValues([1.5, null, -3, 0]);
    expect(b.subarray(0, 3).toString('latin1')).toBe('IV\u0001');
    expect(decodeValues(b)).toEqual([1.5, null, -3, 0]);
    const other = Buffer.from(b); other[2] = 9;
    expect(() => decodeValues(other)).toThrow(/version 9/);
  });

  it('thins old snapshots to hourly, then daily', () => {
    const hour = Math.floor((NOW - 3 * D) / H) * H; // an hour 3 days ago
    const day = Math.floor((NOW - 40 * D + 8 * H) / D) * D - 8 * H; // a China day 40 days ago
    const ats = [NOW - H, NOW - 30 * H, hour, hour + 15 * 60_000, day + H, day + 3 * H];
    expect(thinning(ats, NOW)).toEqual([day + 3 * H, hour + 15 * 60_000]);
    expect(thinning([NOW - H, NOW - 2 * H], NOW)).toEqual([]);
  });

  it('keeps definitions and snapshots in SQLite', async () => {
    const s = await openSqliteIndicatorStore(':memory:');
    await s.saveSnapshot(NOW - H, 5, [{ at: NOW - H, indicator: 'x', level: 'town', better: 'lower', green: 1, red: 2, codes: [T1, T2], values: [1, null] }]);
    await s.saveSnapshot(NOW, 5, [{ at: NOW, indicator: 'x', level: 'town', better: 'lower', green: 1, red: 2, codes: [T1, T2], values: [3, 4] }]);
    expect(await s.latestSnapshot(NOW - 1)).toBe(NOW - H);
    expect(await s.latestSnapshot(NOW - 2 * H)).toBeNull();
    expect((await s.snapshotRows(NOW - H, 'town'))[0]).toMatchObject({ codes: [T1, T2], values: [1, null] });
    expect((await s.seriesRows('x', 'town', 0, NOW, 10)).map((r) => r.values[0])).toEqual([1, 3]);
    expect(await s.deleteSnapshots([NOW - H])).toBe(1);
    expect(await s.snapshotRows(NOW - H, 'town')).toEqual([]);
    await s.close();
  });
});
