import { describe, expect, it } from 'vitest';
import { transform } from '../crs.ts';
import type { EditChange, EditFeature, FeatureVersion, ValidationIssue } from '../editing/model.ts';
import type { Actor } from '../incidents/model.ts';
import { applyImport, guessCrs, planImport, type ImportService, type ImportView } from './pipeline.ts';
import { readCsv, readGeoJson } from './readers.ts';
import { ImportError, type ImportSource } from './types.ts';

const actor: Actor = { role: 'planner', id: 'p1' };
const enc = new TextEncoder();

/** An in-memory stand-in for the edit service: records what it is asked, validates with a given rule. */
function fakes(existing: EditFeature[] = [], rule: (c: EditChange) => ValidationIssue[] = () => []) {
  const calls: { validate: EditChange[][]; batch: EditChange[][] } = { validate: [], batch: [] };
  const byId = new Map(existing.map((f) => [f.id, f]));
  const service: ImportService = {
    async validate(_layer, changes) { calls.validate.push(changes); return changes.flatMap(rule); },
    async batch(layer, changes, _a, opts) {
      calls.batch.push(changes);
      opts?.onProgress?.(changes.length, changes.length);
      return changes.map((c, i): FeatureVersion => ({ layer, id: c.id!, version: (c.version ?? 0) + 1, deleted: false, feature: null, op: 'import', actor: 'planner:p1', at: 0, seq: i + 1 }));
    },
  };
  const view: ImportView = { async feature(_l, id) { const f = byId.get(id); return f ? { feature: f, version: 3 } : null; } };
  return { service, view, calls };
}

const geojson = (features: unknown[], extra: Record<string, unknown> = {}): ImportSource =>
  readGeoJson(enc.encode(JSON.stringify({ type: 'FeatureCollection', ...extra, features })));
const pt = (x: number, y: number, properties: Record<string, unknown> = {}) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [x, y] }, properties });

describe('guessCrs', () => {
  it('tells degrees, Gauss–Krüger with and without zone, and Web Mercator apart', () => {
    expect(guessCrs([[120.75, 31.65]])).toBe('EPSG:4326');
    expect(guessCrs([[571000, 3503000]])).toBe('EPSG:4549');
    expect(guessCrs([[40571000, 3503000]])).toBe('EPSG:4528');
    expect(guessCrs([[13442000, 3716000]])).toBe('EPSG:3857');
    expect(guessCrs([[120.75, 31.65], [571000, 3503000]])).toBeNull();
  });
});

describe('planImport', () => {
  it('transforms once to WGS84, maps fields, and makes create changes with content-derived ids', async () => {
    const [x, y] = transform('EPSG:4326', 'EPSG:4549', 120.75, 31.65);
    const src = geojson([pt(x, y, { 名称: '甲', 类型: '消防站', extra: 1 })], { crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::4549' } } });
    const { service, view, calls } = fakes();
    const { preview, changes } = await planImport(src, { layer: 'facilities' }, { service, view }, actor);
    expect(preview).toMatchObject({ sourceCrs: 'EPSG:4549', crsFrom: 'file', total: 1, creates: 1, updates: 0, errors: [], fieldMap: { 名称: 'name', 类型: 'kind', extra: null } });
    const g = changes[0].feature!.geometry as GeoJSON.Point;
    expect(g.coordinates[0]).toBeCloseTo(120.75, 9);
    expect(g.coordinates[1]).toBeCloseTo(31.65, 9);
    expect(changes[0]).toMatchObject({ op: 'create', id: `facilities-i${src.digest}-1`, feature: { properties: { name: '甲', kind: '消防站', synthetic: false, id: `facilities-i${src.digest}-1` } } });
    expect(calls.validate).toHaveLength(1);
  });

  it('updates features whose id exists, skips unchanged ones, merges properties', async () => {
    const old: EditFeature = { type: 'Feature', id: 'fac-1', geometry: { type: 'Point', coordinates: [120.75, 31.65] }, properties: { id: 'fac-1', name: '旧', kind: '消防站', grid_code: 'g1' } };
    const same: EditFeature = { type: 'Feature', id: 'fac-2', geometry: { type: 'Point', coordinates: [120.76, 31.66] }, properties: { id: 'fac-2', name: '乙' } };
    const { service, view } = fakes([old, same]);
    const src = geojson([pt(120.75, 31.65, { id: 'fac-1', name: '新' }), pt(120.76, 31.66, { id: 'fac-2', name: '乙' }), pt(120.77, 31.67, { id: 'nope', name: '丙' })]);
    const { preview, changes } = await planImport(src, { layer: 'facilities', crs: 'EPSG:4326' }, { service, view }, actor);
    expect([preview.creates, preview.updates, preview.unchanged, preview.crsFrom]).toEqual([1, 1, 1, 'option']);
    expect(changes[0]).toEqual({ op: 'update', id: 'fac-1', version: 3, feature: { geometry: old.geometry, properties: { id: 'fac-1', name: '新', kind: '消防站', grid_code: 'g1' } } });
    expect(changes[1]).toMatchObject({ op: 'create', id: `facilities-i${src.digest}-3` });
  });

  it('reports row problems: wrong geometry kind, bad values, bad coordinates, duplicates, service issues', async () => {
    const { service, view, calls } = fakes([], (c) => (c.feature!.properties.name === '坏' ? [{ code: 'outside_grid', severity: 'error', message: 'x', featureId: c.id }] : []));
    const ok = await planImport(geojson([pt(120.75, 31.65, { name: '坏' }), pt(120.75, 31.65, { name: '好' })]), { layer: 'facilities' }, { service, view }, actor);
    expect(ok.preview.errors).toEqual([{ row: 1, id: ok.changes[0].id, issues: [expect.objectContaining({ code: 'outside_grid' })] }]);
    const bad = await planImport(geojson([
      { type: 'Feature', geometry: { type: 'LineString', coordinates: [[120.75, 31.65], [120.76, 31.66]] }, properties: {} },
      pt(120.75, 31.65, { id: 'a' }), pt(120.75, 31.65, { id: 'a' }),
    ]), { layer: 'facilities' }, { service, view }, actor);
    expect(bad.preview.errors.map((e) => [e.row, e.issues[0].code])).toEqual([[1, 'geometry_kind']]);
    // The service still checks the rows that passed (so the preview lists every problem), and only those.
    expect(bad.changes).toHaveLength(2);
    expect(calls.validate.at(-1)).toEqual(bad.changes);
    const sq = { type: 'Polygon', coordinates: [[[120.75, 31.65], [120.751, 31.65], [120.751, 31.651], [120.75, 31.65]]] };
    const floors = await planImport(geojson([{ type: 'Feature', geometry: sq, properties: { floors: '三' } }]), { layer: 'buildings' }, { service, view }, actor);
    expect(floors.preview.errors[0].issues[0]).toMatchObject({ code: 'bad_value', path: 'properties.floors' });
    const a: EditFeature = { type: 'Feature', id: 'a', geometry: { type: 'Point', coordinates: [120.75, 31.65] }, properties: { id: 'a' } };
    const withA = fakes([a]);
    const dup = await planImport(geojson([pt(120.75, 31.65, { id: 'a', name: '1' }), pt(120.75, 31.65, { id: 'a', name: '2' })]), { layer: 'facilities' }, withA, actor);
    expect(dup.preview.errors.map((e) => [e.row, e.id, e.issues[0].code])).toEqual([[2, 'a', 'duplicate_id']]);
    const csv = readCsv(enc.encode('name,lon,lat\n甲,abc,31\n'));
    const c = await planImport(csv, { layer: 'facilities' }, { service, view }, actor);
    expect(c.preview.errors[0].issues[0].code).toBe('bad_coordinate');
  });

  it('refuses read-only layers, unknown CRS declarations and address CSVs without a geocoder', async () => {
    const { service, view } = fakes();
    await expect(planImport(geojson([pt(120.75, 31.65)]), { layer: 'city' }, { service, view }, actor)).rejects.toMatchObject({ code: 'layer_not_editable' });
    await expect(planImport(geojson([pt(120.75, 31.65)], { crs: { type: 'name', properties: { name: 'EPSG:2385' } } }), { layer: 'facilities' }, { service, view }, actor))
      .rejects.toMatchObject({ code: 'crs_unknown' });
    await expect(planImport(readCsv(enc.encode('name,地址\n甲,常熟市海虞北路1号\n')), { layer: 'facilities' }, { service, view }, actor)).rejects.toBeInstanceOf(ImportError);
  });

  it('geocodes address rows and flags the ones not found', async () => {
    const { service, view } = fakes();
    const geocode = async (t: string) => (t.includes('海虞') ? { lon: 120.75, lat: 31.66, address: t } : null);
    const { preview, changes } = await planImport(readCsv(enc.encode('name,地址\n甲,海虞北路1号\n乙,火星路9号\n')), { layer: 'facilities', geocode }, { service, view }, actor);
    expect(changes[0].feature!.geometry).toEqual({ type: 'Point', coordinates: [120.75, 31.66] });
    expect(preview.errors.map((e) => [e.row, e.issues[0].code])).toEqual([[2, 'geocode_failed']]);
  });

  it('warns when features land outside the city, and when moves match the GCJ-02 offset', async () => {
    const { service, view } = fakes();
    const far = await planImport(geojson([pt(116.4, 39.9)]), { layer: 'facilities' }, { service, view }, actor);
    expect(far.preview.warnings.map((w) => w.code)).toContain('outside_city');
    const olds: EditFeature[] = [0, 1, 2, 3].map((i) => ({ type: 'Feature', id: `f${i}`, geometry: { type: 'Point', coordinates: [120.74 + i * 0.01, 31.65] }, properties: { id: `f${i}` } }));
    const g = fakes(olds);
    const shifted = olds.map((f) => {
      const [x, y] = (f.geometry as GeoJSON.Point).coordinates;
      return pt(...transform('EPSG:4326', 'GCJ02', x, y), { id: f.id });
    });
    const r = await planImport(geojson(shifted), { layer: 'facilities' }, { service: g.service, view: g.view }, actor);
    expect(r.preview.updates).toBe(4);
    expect(r.preview.warnings.map((w) => w.code)).toContain('looks_like_gcj02');
  });
});

describe('applyImport', () => {
  it('writes nothing when the preview has errors, else exactly one batch', async () => {
    const { service, view, calls } = fakes();
    const bad = await planImport(geojson([pt(120.75, 31.65), { type: 'Feature', geometry: null, properties: {} }]), { layer: 'facilities' }, { service, view }, actor);
    await expect(applyImport(bad, { service }, actor)).rejects.toMatchObject({ code: 'import_has_errors' });
    expect(calls.batch).toHaveLength(0);
    const good = await planImport(geojson([pt(120.75, 31.65), pt(120.76, 31.65)]), { layer: 'facilities' }, { service, view }, actor);
    const progress: number[] = [];
    const v = await applyImport(good, { service }, actor, { onProgress: (d) => progress.push(d) });
    expect(v).toHaveLength(2);
    expect(calls.batch).toEqual([good.changes]);
    expect(progress).toEqual([2]);
  });
});
