// Rules on recorded sequences, rule validation, and the engine's duplicate/out-of-order handling and health.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRules } from './default-rules.ts';
import { openTelemetryEngine } from './engine.ts';
import type { DeviceInfo, Reading, Rule } from '../../layers/telemetry/model.ts';
import {
  checkSilence, checkSubhealth, newGeofenceState, newRateState, newSubhealthState, newThresholdState, noteFlap, observeSubhealth,
  RuleError, insideScope, stepGeofence, stepRate, stepThreshold, validateRules, type Verdict,
} from './rules.ts';
import { openTimeSeriesStore } from './timeseries-store.ts';

const rule = (type: Rule['type'], params: Rule['params'], kind: Rule['kind'] = 'water_level'): Rule =>
  ({ id: `t.${type}`, name: type, kind, type, severity: 2, enabled: true, params, incidentCategory: null });
const actions = (vs: Verdict[]) => vs.map((v) => v?.action ?? '-').join(' ');
const MIN = 60_000;

describe('threshold with hysteresis', () => {
  it('raises once past the threshold, counts repeats, clears only back below threshold − hysteresis', () => {
    const r = rule('threshold', { above: 3.7, hysteresis: 0.1 });
    const st = newThresholdState();
    const seq = [3.5, 3.69, 3.71, 3.75, 3.65, 3.72, 3.61, 3.59, 3.8];
    expect(actions(seq.map((v) => stepThreshold(r, st, v)))).toBe('- - raise repeat - repeat - clear raise');
  });
  it('below thresholds (hydrant pressure) mirror it', () => {
    const r = rule('threshold', { below: 0.14, hysteresis: 0.02 }, 'fire_hydrant');
    const st = newThresholdState();
    expect(actions([0.2, 0.13, 0.15, 0.17].map((v) => stepThreshold(r, st, v)))).toBe('- raise - clear');
  });
});

describe('rate of change', () => {
  it('measures over the window, raises on a fast rise only, clears under half the limit', () => {
    const r = rule('rate', { perMinute: 0.02, windowSeconds: 600, direction: 'up' });
    const st = newRateState();
    // 0.01 m/min for 20 min, then 0.05 m/min for 20 min, then flat; readings every minute.
    const vs: Verdict[] = [];
    let v = 3;
    for (let m = 0; m <= 60; m++) {
      if (m > 0) v += m <= 20 ? 0.01 : m <= 40 ? 0.05 : 0;
      vs.push(stepRate(r, st, m * MIN, v));
    }
    const got = vs.map((x, m) => (x ? `${m}:${x.action}` : null)).filter(Boolean);
    expect(got).toEqual(['30:raise', '40:repeat', '50:clear']);
    // A fall at the same speed is not a rise.
    const st2 = newRateState();
    expect(actions([0, 10, 20].map((m) => stepRate(r, st2, m * MIN, 4 - m * 0.05)))).toBe('- - -');
  });
});

describe('silence', () => {
  it('goes offline after intervals × intervalSeconds, with a clock; never for a device never heard', () => {
    const r = rule('silence', { intervals: 3, intervalSeconds: 60 });
    expect(checkSilence(r, false, null, 10 * MIN)).toBeNull();
    expect(checkSilence(r, false, 0, 3 * MIN)).toBeNull();
    expect(checkSilence(r, false, 0, 3 * MIN + 1)?.action).toBe('raise');
    expect(checkSilence(r, true, 4 * MIN, 4 * MIN)?.action).toBe('clear');
  });
});

describe('sub-health', () => {
  it('flags flapping from status flaps in the last hour, and clears as they age out', () => {
    const r = rule('subhealth', { flapsPerHour: 4 });
    const st = newSubhealthState();
    for (const m of [0, 5, 10]) noteFlap(st, m * MIN);
    expect(checkSubhealth(r, st, 11 * MIN, 11 * MIN)).toBeNull();
    noteFlap(st, 12 * MIN);
    expect(checkSubhealth(r, st, 13 * MIN, 13 * MIN)?.action).toBe('raise');
    expect(checkSubhealth(r, st, 14 * MIN, 14 * MIN)).toBeNull(); // still flapping, nothing new
    expect(checkSubhealth(r, st, 61 * MIN, 61 * MIN)?.action).toBe('clear');
  });
  it('flags a stuck value after stuckMinutes and clears when it moves', () => {
    const r = rule('subhealth', { stuckMinutes: 30 });
    const st = newSubhealthState();
    const out: string[] = [];
    for (let m = 0; m <= 40; m++) {
      const v = m < 5 ? 3 + m * 0.01 : m <= 38 ? 3.2 : 3.3;
      observeSubhealth(r, st, m * MIN, v);
      const x = checkSubhealth(r, st, m * MIN, m * MIN);
      if (x) out.push(`${m}:${x.action}`);
    }
    expect(out).toEqual(['35:raise', '39:clear']);
  });
  it('flags drift but not noise around a steady level', () => {
    const r = rule('subhealth', { driftPerHour: 2, driftWindowHours: 2 }, 'gas');
    let seed = 7;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2; // ±1 %LEL
    const steady = newSubhealthState();
    const drifting = newSubhealthState();
    let raisedSteady = false;
    let raisedAt = -1;
    for (let m = 0; m <= 240; m++) {
      observeSubhealth(r, steady, m * MIN, 1 + noise());
      observeSubhealth(r, drifting, m * MIN, 1 + noise() + (m / 60) * 4); // +4 %LEL per hour
      if (checkSubhealth(r, steady, m * MIN, m * MIN)) raisedSteady = true;
      if (raisedAt < 0 && checkSubhealth(r, drifting, m * MIN, m * MIN)?.action === 'raise') raisedAt = m;
    }
    expect(raisedSteady).toBe(false);
    expect(raisedAt).toBeGreaterThan(0);
    expect(raisedAt).toBeLessThan(120);
  });
});

describe('geofence', () => {
  it('raises after `confirm` readings outside the own grid and clears on return', () => {
    const r = rule('geofence', { scope: 'own_grid', confirm: 2 }, 'patrol');
    const st = newGeofenceState();
    const seq: [boolean, string | null][] = [[true, 'A'], [false, 'B'], [true, 'A'], [false, 'B'], [false, 'B'], [false, null], [true, 'A']];
    expect(actions(seq.map(([inside, g]) => stepGeofence(r, st, inside, g)))).toBe('- - - - raise repeat clear');
  });
  it('own_town counts every grid of the unit’s town as inside; own_grid only its grid', () => {
    const town = rule('geofence', { scope: 'own_town', confirm: 2 }, 'patrol');
    const grid = rule('geofence', { scope: 'own_grid', confirm: 2 }, 'patrol');
    expect(insideScope(town, '320581003210002', '320581003215001')).toBe(true);
    expect(insideScope(town, '320581003210002', '320581104203001')).toBe(false);
    expect(insideScope(grid, '320581003210002', '320581003215001')).toBe(false);
    expect(insideScope(grid, '320581003210002', '320581003210002')).toBe(true);
    expect(insideScope(town, '320581003210002', null)).toBe(false);
  });
});

describe('validateRules', () => {
  it('accepts the default rules unchanged', () => {
    expect(validateRules(defaultRules())).toEqual(defaultRules());
    expect(validateRules({ rules: defaultRules() }).length).toBe(defaultRules().length);
  });
  const base = () => defaultRules()[0] as unknown as Record<string, unknown>;
  const cases: [string, unknown, string][] = [
    ['not an array', { foo: 1 }, 'rules'],
    ['unknown kind', [{ ...base(), kind: 'toaster' }], 'rules[0].kind'],
    ['duplicate id', [base(), base()], 'rules[1].id'],
    ['bad severity', [{ ...base(), severity: 5 }], 'rules[0].severity'],
    ['unknown param', [{ ...base(), params: { above: 1, hysteresis: 0, abov: 2 } }], 'rules[0].params.abov'],
    ['missing hysteresis', [{ ...base(), params: { above: 1 } }], 'rules[0].params.hysteresis'],
    ['no bound', [{ ...base(), params: { hysteresis: 1 } }], 'rules[0].params'],
    ['negative hysteresis', [{ ...base(), params: { above: 1, hysteresis: -1 } }], 'rules[0].params.hysteresis'],
    ['unknown category', [{ ...base(), incidentCategory: '9999' }], 'rules[0].incidentCategory'],
    ['geofence on a sensor', [{ ...base(), type: 'geofence', params: { scope: 'own_grid' } }], 'rules[0].kind'],
    ['silence intervals not integer', [{ ...base(), type: 'silence', params: { intervals: 1.5, intervalSeconds: 60 } }], 'rules[0].params.intervals'],
    ['extra field', [{ ...base(), colour: 'red' }], 'rules[0].colour'],
  ];
  for (const [what, input, path] of cases) {
    it(`rejects ${what}, naming ${path}`, () => {
      let err: unknown;
      try { validateRules(input); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(RuleError);
      expect((err as RuleError).code).toBe('bad_rules');
      expect((err as RuleError).path).toBe(path);
      expect((err as RuleError).message).toContain(path);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
const dev = (id: string, kind: DeviceInfo['kind'], department: string, grid: string, lon = 120.7, lat = 31.6): DeviceInfo =>
  ({ id, kind, layer: kind === 'camera' ? 'cameras' : kind === 'patrol' ? 'responders' : 'sensors', name: id, lon, lat, department, townCode: grid.slice(0, 9), gridCode: grid, unit: kind === 'water_level' ? 'm' : null });
const reading = (deviceId: string, kind: DeviceInfo['kind'], ts: number, value: number): Reading => ({ deviceId, kind, ts, value, receivedAt: ts });

async function engineWith(devices: DeviceInfo[]) {
  const store = await openTimeSeriesStore({ file: ':memory:' });
  let now = 0;
  const engine = await openTelemetryEngine({ dataDir: mkdtempSync(join(tmpdir(), 'onemap-t2-')), store, devices, clock: () => now, flushEveryMs: 0, purgeEveryMs: 0 });
  return { engine, store, setNow: (t: number) => { now = t; } };
}

describe('engine', () => {
  it('drops duplicates, stores out-of-order readings without changing state, counts unknown devices', async () => {
    const { engine, store } = await engineWith([dev('w1', 'water_level', 'water', '320581110200003')]);
    const r1 = engine.ingest([reading('w1', 'water_level', 1000, 3.0), reading('w1', 'water_level', 2000, 3.1)]);
    expect(r1.devices.at(-1)).toMatchObject({ id: 'w1', status: 'online', lastTs: 2000, lastValue: 3.1 });
    const r2 = engine.ingest([reading('w1', 'water_level', 2000, 3.1), reading('w1', 'water_level', 1500, 9.9), reading('nope', 'gas', 1, 1)]);
    expect([r2.duplicates, r2.outOfOrder, r2.unknownDevice]).toEqual([1, 1, 1]);
    expect(r2.alarms).toEqual([]); // 9.9 m is old news: no alarm
    expect(engine.device('w1')).toMatchObject({ lastTs: 2000, lastValue: 3.1, status: 'online' });
    expect((await engine.history('w1', 0, 10_000)).map((p) => p.ts)).toEqual([1000, 1500, 2000]);
    await store.close();
  });

  it('deduplicates alarms per rule and device, clears with hysteresis, and marks silent devices offline', async () => {
    const { engine, store } = await engineWith([dev('w1', 'water_level', 'water', '320581110200003')]);
    const t0 = 1_700_000_000_000;
    engine.ingest([reading('w1', 'water_level', t0, 3.5)]);
    const up = engine.ingest([reading('w1', 'water_level', t0 + 1000, 3.8), reading('w1', 'water_level', t0 + 2000, 3.9)]);
    expect(up.alarms).toHaveLength(1);
    expect(up.alarms[0]).toMatchObject({ ruleId: 'water_level.high', status: 'active', repeats: 1, lastValue: 3.9 });
    expect(engine.device('w1')?.status).toBe('alarm');
    expect(engine.alarms({ status: 'active' })).toHaveLength(1);
    engine.ingest([reading('w1', 'water_level', t0 + 3000, 3.67)]); // within hysteresis: still active
    expect(engine.device('w1')?.status).toBe('alarm');
    const down = engine.ingest([reading('w1', 'water_level', t0 + 4000, 3.6)]);
    expect(down.alarms[0]).toMatchObject({ status: 'cleared', clearedAt: t0 + 4000 });
    expect(engine.device('w1')?.status).toBe('online');
    const silent = engine.tick(t0 + 4000 + 3 * MIN + 1);
    expect(silent.devices.map((d) => [d.id, d.status])).toEqual([['w1', 'offline']]);
    expect(silent.alarms[0]).toMatchObject({ ruleId: 'water_level.silence', status: 'active' });
    await engine.flush();
    expect((await store.alarms({ limit: 10 })).map((a) => a.ruleId).sort()).toEqual(['water_level.high', 'water_level.silence']);
    await store.close();
  });

  it('aggregates health by department, town and kind; unknown devices do not count against the rate', async () => {
    const { engine, store } = await engineWith([
      dev('w1', 'water_level', 'water', '320581110200003'), dev('w2', 'water_level', 'water', '320581111200003'),
      dev('c1', 'camera', 'police', '320581110200003'), dev('c2', 'camera', 'police', '320581110200004'),
    ]);
    engine.ingest([reading('w1', 'water_level', 0, 3), reading('c1', 'camera', 0, 1), reading('c2', 'camera', 0, 1)]);
    engine.ingest([reading('w1', 'water_level', 4 * MIN, 3.01), reading('c1', 'camera', 4 * MIN, 1)]);
    const h1 = engine.tick(4 * MIN);
    expect(h1.devices.map((d) => [d.id, d.status])).toEqual([['c2', 'offline']]);
    const h = engine.health(4 * MIN);
    expect([h.total, h.online, h.onlineRate]).toEqual([4, 2, 2 / 3]);
    expect(h.byDepartment.police).toEqual({ total: 2, online: 1, rate: 0.5 });
    expect(h.byDepartment.water).toEqual({ total: 2, online: 1, rate: 1 });
    expect(h.byTown['320581111']).toEqual({ total: 1, online: 0, rate: 0 });
    expect(h.byKind.camera.rate).toBe(0.5);
    expect(h.offline).toEqual([{ id: 'c2', kind: 'camera', name: 'c2', since: 0 }]);
    await store.close();
  });

  it('setRules validates, persists, and clears alarms of a changed rule on the next tick', async () => {
    const { engine, store } = await engineWith([dev('g1', 'gas', 'gas', '320581110200003')]);
    const up = engine.ingest([reading('g1', 'gas', 1000, 30)]);
    expect(up.alarms.map((a) => a.ruleId).sort()).toEqual(['gas.danger', 'gas.warn']);
    await expect(engine.setRules([{ bad: true }])).rejects.toBeInstanceOf(RuleError);
    const rules = defaultRules().map((r) => (r.id === 'gas.danger' ? { ...r, params: { above: 40, hysteresis: 5 } } : r));
    await engine.setRules(rules);
    expect((await store.loadRules())?.find((r) => r.id === 'gas.danger')?.params.above).toBe(40);
    const t = engine.tick(2000);
    expect(t.alarms.map((a) => [a.ruleId, a.status])).toEqual([['gas.danger', 'cleared']]);
    expect(engine.rulesFor('g1').map((r) => r.id)).toContain('gas.danger');
    await store.close();
  });
});
