// The telemetry time-series store on SQLite and PostgreSQL (issue 7): the same checks on both engines.
// PostgreSQL comes from TEST_DATABASE_URL; without it this file FAILS unless ONEMAP_SKIP_POSTGIS=1.
// Also: the engine on the built demo layers (devices loaded, patrol geofence against grids.fgb).
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRules } from '../tile-server/telemetry/default-rules.ts';
import { openTelemetryEngine } from '../tile-server/telemetry/engine.ts';
import type { Alarm, Reading } from '../layers/telemetry/model.ts';
import { openTimeSeriesStore, type TimeSeriesStore } from '../tile-server/telemetry/timeseries-store.ts';

const PG_URL = process.env.TEST_DATABASE_URL;
const SKIP_PG = process.env.ONEMAP_SKIP_POSTGIS === '1';
const DATA = join(process.cwd(), 'geodata/build');

it('PostgreSQL is tested (TEST_DATABASE_URL), or skipped on purpose (ONEMAP_SKIP_POSTGIS=1)', () => {
  if (!PG_URL && !SKIP_PG) throw new Error('TEST_DATABASE_URL is not set: start PostgreSQL (npx tsx scripts/pg-local.ts start) and export TEST_DATABASE_URL, or set ONEMAP_SKIP_POSTGIS=1 to test SQLite alone.');
});

const schema = `telemetry_test_${process.pid}`;
const opened: TimeSeriesStore[] = [];
afterAll(async () => {
  if (PG_URL) {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
  for (const s of opened) await s.close();
});

const sqliteFile = join(mkdtempSync(join(tmpdir(), 'onemap-ts-')), 't.sqlite');
const engines: [string, () => Promise<TimeSeriesStore>, boolean][] = [
  ['SQLite', async () => openTimeSeriesStore({ file: sqliteFile }), true],
  ['PostgreSQL', async () => {
    if (!PG_URL) throw new Error('no TEST_DATABASE_URL');
    return openTimeSeriesStore({ databaseUrl: PG_URL, schema });
  }, !!PG_URL || !SKIP_PG],
];

const r = (deviceId: string, ts: number, value: number, pos?: [number, number]): Reading =>
  ({ deviceId, kind: 'water_level', ts, value, receivedAt: ts, ...(pos ? { lon: pos[0], lat: pos[1] } : {}) });

for (const [name, open, run] of engines) {
  (run ? describe : describe.skip)(`time-series store on ${name}`, () => {
    let store: TimeSeriesStore;
    it('opens (twice: the schema setup is idempotent)', async () => {
      store = await open();
      opened.push(store);
      opened.push(await open());
    });

    it('appends idempotently on (device, ts) and reads ranges oldest first, the newest when cut', async () => {
      const batch = Array.from({ length: 12_000 }, (_, i) => r(`d${i % 3}`, 1_000 + Math.floor(i / 3) * 1000, i / 10, i % 3 === 2 ? [120.7 + i * 1e-6, 31.6] : undefined));
      expect(await store.append(batch)).toBe(12_000);
      expect(await store.append(batch.slice(0, 500))).toBe(0);
      expect(await store.append([r('d0', 1_000, 99), r('d0', 999, 1)])).toBe(1);
      const got = await store.range('d0', 999, 4_000, 100);
      expect(got.map((p) => p.ts)).toEqual([999, 1000, 2000, 3000, 4000]);
      expect(got[1].value).toBe(0); // the first write wins; a redelivery does not overwrite
      expect(got[0].lon).toBeUndefined();
      const cut = await store.range('d1', 0, 1e12, 3);
      expect(cut.map((p) => p.ts)).toEqual([3_998_000, 3_999_000, 4_000_000]);
      const withPos = await store.range('d2', 1000, 1000, 10);
      expect(withPos[0]).toEqual({ ts: 1000, value: 0.2, lon: 120.7 + 2e-6, lat: 31.6 });
      await expect(store.range('d0', 0, 1, 0)).rejects.toThrow(/limit/);
    });

    it('purges readings and cleared alarms older than the retention cut', async () => {
      const before = (await store.range('d0', 0, 1e12, 100_000)).length;
      const purged = await store.purge(2_500);
      expect(purged).toBe(3 * 2 + 1); // ts 1000 and 2000 for d0..d2, plus d0's 999
      expect((await store.range('d0', 0, 1e12, 100_000)).length).toBe(before - 3);
    });

    it('saves alarms (upsert by id) and filters them by status and since', async () => {
      const a: Alarm = { id: 'water_level.high:d0:1', ruleId: 'water_level.high', deviceId: 'd0', kind: 'water_level', severity: 2, status: 'active', message: '水位超警戒', startedAt: 10_000, clearedAt: null, lastValue: 3.8, repeats: 0, incidentId: null, lon: 120.7, lat: 31.6 };
      await store.saveAlarm(a);
      await store.saveAlarm({ ...a, repeats: 4, lastValue: 3.9, incidentId: 'INC-1' });
      await store.saveAlarm({ ...a, id: 'old', startedAt: 1000, status: 'cleared', clearedAt: 2000 });
      expect(await store.alarms({ status: 'active', limit: 10 })).toEqual([{ ...a, repeats: 4, lastValue: 3.9, incidentId: 'INC-1' }]);
      expect((await store.alarms({ limit: 10 })).map((x) => x.id)).toEqual(['water_level.high:d0:1', 'old']);
      expect((await store.alarms({ since: 1500, limit: 10 })).map((x) => x.id)).toEqual(['water_level.high:d0:1', 'old']);
      expect((await store.alarms({ since: 5000, limit: 10 })).map((x) => x.id)).toEqual(['water_level.high:d0:1']);
      expect(await store.purge(3000)).toBeGreaterThanOrEqual(1);
      expect((await store.alarms({ status: 'cleared', limit: 10 }))).toEqual([]);
    });

    it('saves and loads the rule set', async () => {
      const fresh = await open();
      opened.push(fresh);
      const rules = defaultRules().slice(0, 3);
      await store.saveRules(rules);
      expect(await fresh.loadRules()).toEqual(rules);
    });
  });
}

describe('engine on the built demo layers', () => {
  it('loads sensors, cameras and patrols, and raises a geofence alarm when a patrol leaves its grid', async () => {
    if (!existsSync(join(DATA, 'sensors.fgb'))) throw new Error('geodata/build/sensors.fgb missing: run npm run data first');
    const store = await openTimeSeriesStore({ file: ':memory:' });
    const engine = await openTelemetryEngine({ dataDir: DATA, store, flushEveryMs: 0, purgeEveryMs: 0 });
    const all = engine.devices();
    expect(all.filter((d) => d.layer === 'sensors').length).toBe(21_600);
    expect(all.filter((d) => d.kind === 'camera').length).toBe(5_400);
    expect(all.filter((d) => d.kind === 'patrol').length).toBe(300);
    expect(all.every((d) => d.status === 'unknown')).toBe(true);
    const patrol = all.find((d) => d.kind === 'patrol')!;
    const other = all.find((d) => d.layer === 'sensors' && d.gridCode && d.gridCode !== patrol.gridCode && d.townCode !== patrol.townCode)!;
    const at = (ts: number, p: { lon: number; lat: number }): Reading => ({ deviceId: patrol.id, kind: 'patrol', ts, value: 1.2, lon: p.lon, lat: p.lat, receivedAt: ts });
    expect(engine.ingest([at(1000, patrol)]).alarms).toEqual([]);
    expect(engine.device(patrol.id)?.status).toBe('online');
    const out = engine.ingest([at(2000, other), at(3000, other)]);
    expect(out.alarms.map((a) => [a.ruleId, a.status])).toEqual([['patrol.geofence', 'active']]);
    expect(engine.device(patrol.id)).toMatchObject({ status: 'alarm', lon: other.lon, lat: other.lat });
    const back = engine.ingest([at(4000, patrol)]);
    expect(back.alarms.map((a) => [a.ruleId, a.status])).toEqual([['patrol.geofence', 'cleared']]);
    await engine.close();
    await store.close();
  });
});
