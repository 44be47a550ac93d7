import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { geojson as fgbGeojson } from 'flatgeobuf';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createRng } from '../../scripts/data/rng.ts';
import type { FieldDef } from '../catalog.ts';
import { encodeFlatGeobuf, geometryBbox, openFlatGeobuf, type Bbox } from './flatgeobuf.ts';
import { fromGeoJSON } from '../query/geometry.ts';

const FIELDS: FieldDef[] = [
  { name: 'id', type: 'string', title: '标识' },
  { name: 'name', type: 'string', title: '名称' },
  { name: 'floors', type: 'int', title: '层数' },
  { name: 'height', type: 'number', title: '高度' },
  { name: 'synthetic', type: 'boolean', title: '生成数据' },
];

const MIXED: GeoJSON.Feature[] = [
  { type: 'Feature', geometry: { type: 'Point', coordinates: [120.752, 31.654] },
    properties: { id: 'p1', name: '常熟市虞山街道', floors: -3, height: 12.25, synthetic: false } },
  { type: 'Feature', geometry: { type: 'LineString', coordinates: [[120.7, 31.6], [120.71, 31.61], [120.72, 31.6]] },
    properties: { id: 'l1', name: '海虞北路', floors: null, height: null, synthetic: true } },
  { type: 'Feature', geometry: { type: 'Polygon', coordinates: [
    [[120.6, 31.5], [120.7, 31.5], [120.7, 31.6], [120.6, 31.6], [120.6, 31.5]],
    [[120.62, 31.52], [120.64, 31.52], [120.64, 31.54], [120.62, 31.52]],
    [[120.66, 31.56], [120.68, 31.56], [120.68, 31.58], [120.66, 31.56]]] },
    properties: { id: 'poly-holes', name: '尚湖', floors: 2147483647 } },
  { type: 'Feature', geometry: { type: 'MultiPolygon', coordinates: [
    [[[120.8, 31.7], [120.9, 31.7], [120.9, 31.8], [120.8, 31.7]], [[120.85, 31.72], [120.87, 31.72], [120.87, 31.74], [120.85, 31.72]]],
    [[[121.0, 31.8], [121.01, 31.8], [121.01, 31.81], [121.0, 31.8]]]] },
    properties: { id: 'mp', name: '' } },
  { type: 'Feature', geometry: { type: 'MultiLineString', coordinates: [[[120.5, 31.5], [120.6, 31.5]], [[120.5, 31.7], [120.6, 31.8]]] },
    properties: { id: 'ml', height: 0 } },
  { type: 'Feature', id: 'from-feature-id', geometry: { type: 'Point', coordinates: [120.9, 31.9] }, properties: {} },
];

function byId(fs: Iterable<GeoJSON.Feature>): Map<string, GeoJSON.Feature> {
  return new Map([...fs].map((f) => [String(f.properties?.id), f]));
}

function randomPolygons(n: number, seed: number): GeoJSON.Feature[] {
  const rng = createRng(seed).fork('fgb-spec');
  return Array.from({ length: n }, (_, i) => {
    const x = rng.range(120.5, 121.0), y = rng.range(31.45, 31.9), w = rng.range(0.0001, 0.02), h = rng.range(0.0001, 0.02);
    const geometry: GeoJSON.Geometry = rng.chance(0.3)
      ? { type: 'Point', coordinates: [x, y] }
      : { type: 'Polygon', coordinates: [[[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]] };
    return { type: 'Feature', geometry, properties: { id: `f${i}`, floors: rng.int(1, 30) } };
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'onemap-fgb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('encodeFlatGeobuf / openFlatGeobuf', () => {
  it('round-trips geometries (holes, multipolygons, multilines) and typed properties with nulls and Chinese', () => {
    const input = structuredClone(MIXED);
    const file = openFlatGeobuf(encodeFlatGeobuf(input, { layerName: '测试', fields: FIELDS }));
    expect(input).toEqual(MIXED); // input not mutated
    expect(file.count).toBe(MIXED.length);
    expect(file.columns).toEqual(FIELDS.map((f) => ({ name: f.name, type: f.type })));
    expect(file.bbox).toEqual([120.5, 31.5, 121.01, 31.9]);
    const got = byId(file.features());
    for (const f of MIXED) {
      const id = String(f.properties?.id ?? f.id);
      const g = got.get(id)!;
      expect(g.geometry).toEqual(f.geometry);
      const expected = Object.fromEntries(Object.entries({ id, ...f.properties }).filter(([, v]) => v !== null));
      expect(g.properties).toEqual(expected);
      expect(g.id).toBe(id);
    }
  });

  it('infers columns when no fields are given', () => {
    const file = openFlatGeobuf(encodeFlatGeobuf(MIXED, { layerName: 'x' }));
    expect(file.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['id:string', 'name:string', 'floors:number', 'height:number', 'synthetic:boolean']);
    expect(byId(file.features()).get('p1')!.properties).toMatchObject({ name: '常熟市虞山街道', floors: -3, synthetic: false });
  });

  it('search walks the index and equals a brute-force bbox filter on random data', () => {
    const feats = randomPolygons(5000, 7);
    const file = openFlatGeobuf(encodeFlatGeobuf(feats, { layerName: 'r', fields: FIELDS }));
    const boxes = [...file.features()].map((f) => geometryBbox(f.geometry));
    const rng = createRng(11);
    for (let q = 0; q < 200; q++) {
      const x = rng.range(120.4, 121.1), y = rng.range(31.4, 31.95), s = rng.range(0, 0.1);
      const query: Bbox = [x, y, x + s, y + s];
      const brute = boxes.flatMap((b, i) => (b[2] < query[0] || b[3] < query[1] || b[0] > query[2] || b[1] > query[3] ? [] : [i]));
      expect(file.search(query)).toEqual(brute);
    }
    expect(file.search([0, 0, 1, 1])).toEqual([]);
    expect(file.search([-180, -90, 180, 90])).toHaveLength(5000);
  });

  it('writes features in Hilbert order (neighbours in the file are near in space)', () => {
    const feats = randomPolygons(2000, 3);
    const file = openFlatGeobuf(encodeFlatGeobuf(feats, { layerName: 'r' }));
    const centre = (f: GeoJSON.Feature) => { const b = geometryBbox(f.geometry); return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]; };
    const step = (list: GeoJSON.Feature[]) => {
      let d = 0;
      for (let i = 1; i < list.length; i++) { const a = centre(list[i - 1]), b = centre(list[i]); d += Math.hypot(a[0] - b[0], a[1] - b[1]); }
      return d;
    };
    expect(step([...file.features()])).toBeLessThan(step(feats) / 5);
  });

  it("is read by flatgeobuf's own deserialize with a bbox rect (the index is standard)", async () => {
    const feats = randomPolygons(3000, 5);
    const bytes = encodeFlatGeobuf(feats, { layerName: 'r', fields: FIELDS });
    const file = openFlatGeobuf(bytes);
    const rect = { minX: 120.6, minY: 31.5, maxX: 120.7, maxY: 31.6 };
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {}); // their search logs every node
    const theirs: GeoJSON.Feature[] = [];
    for await (const f of fgbGeojson.deserialize(bytes, { rect }) as AsyncGenerator<GeoJSON.Feature>) theirs.push(f);
    debug.mockRestore();
    const ours = file.search([rect.minX, rect.minY, rect.maxX, rect.maxY]).map((i) => file.feature(i));
    expect(ours.length).toBeGreaterThan(10);
    expect(theirs.map((f) => f.properties!.id).sort()).toEqual(ours.map((f) => f.properties!.id).sort());
    expect(byId(theirs).get(String(ours[0].properties!.id))!.geometry).toEqual(ours[0].geometry);
  });

  it('reads a file that sits at an unaligned offset inside a larger buffer', () => {
    const bytes = encodeFlatGeobuf(MIXED, { layerName: 'x', fields: FIELDS });
    const host = new Uint8Array(bytes.length + 3);
    host.set(bytes, 3);
    const file = openFlatGeobuf(host.subarray(3));
    expect([...file.features()].map((f) => f.geometry)).toEqual([...openFlatGeobuf(bytes).features()].map((f) => f.geometry));
  });

  it('writes an empty layer that still opens', () => {
    const file = openFlatGeobuf(encodeFlatGeobuf([], { layerName: 'empty', fields: FIELDS }));
    expect(file.count).toBe(0);
    expect(file.search([-180, -90, 180, 90])).toEqual([]);
  });

  it('rejects bad input with a clear Error', () => {
    const good = encodeFlatGeobuf(MIXED, { layerName: 'x', fields: FIELDS });
    const wrong = good.slice();
    wrong[0] = 0x50;
    expect(() => openFlatGeobuf(wrong)).toThrow(/Not a readable FlatGeobuf file: wrong magic/);
    expect(() => openFlatGeobuf(good.subarray(0, good.length - 10))).toThrow(/truncated/);
    expect(() => openFlatGeobuf(good.subarray(0, 200))).toThrow(/truncated/);
    expect(() => openFlatGeobuf(new Uint8Array(3))).toThrow(/only 3 bytes/);
    expect(() => openFlatGeobuf(good).feature(99)).toThrow(RangeError);
    const badValue: GeoJSON.Feature = { type: 'Feature', geometry: { type: 'Point', coordinates: [1, 2] }, properties: { floors: 2.5 } };
    expect(() => encodeFlatGeobuf([badValue], { layerName: 'b', fields: FIELDS })).toThrow(/"floors" must be a 32-bit integer/);
    const noGeom = { type: 'Feature', geometry: null, properties: {} } as unknown as GeoJSON.Feature;
    expect(() => encodeFlatGeobuf([noGeom], { layerName: 'b' })).toThrow(/geometry is missing/);
  });

  const ogrinfo = spawnSync('which', ['ogrinfo']).status === 0;
  if (!ogrinfo) console.log('SKIP GDAL check: ogrinfo not found (apt-get install gdal-bin)');
  it.skipIf(!ogrinfo)('is read by GDAL (ogrinfo): feature count and a spatially filtered count', () => {
    const feats = randomPolygons(1000, 9);
    const bytes = encodeFlatGeobuf(feats, { layerName: 'gdal_check', fields: FIELDS });
    const path = join(tmp, 'gdal.fgb');
    writeFileSync(path, bytes);
    const all = execFileSync('ogrinfo', ['-ro', '-al', '-so', path], { encoding: 'utf8' });
    expect(all).toMatch(/Feature Count: 1000\b/);
    const spat = execFileSync('ogrinfo', ['-ro', '-al', '-so', '-spat', '120.6', '31.5', '120.7', '31.6', path], { encoding: 'utf8' });
    const n = Number(/Feature Count: (\d+)/.exec(spat)![1]);
    // GDAL refines the index hits by exact geometry, so it may return fewer than our bbox hits, never more.
    const ours = openFlatGeobuf(bytes).search([120.6, 31.5, 120.7, 31.6]).length;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(ours);
  });
});

describe('raw reads (rawGeometry, column, pointXY) equal the GeoJSON reader', () => {
  const LONG_ASCII = 'x'.repeat(80), LONG_CN = '常熟市'.repeat(30);
  const feats: GeoJSON.Feature[] = [...MIXED, { type: 'Feature', geometry: { type: 'Point', coordinates: [120.1, 31.1] }, properties: { id: LONG_ASCII, name: LONG_CN, synthetic: true } }];
  const bytes = encodeFlatGeobuf(feats, { layerName: 'raw', fields: FIELDS });
  const host = new Uint8Array(bytes.length + 5);
  host.set(bytes, 5);
  for (const [label, file] of [['aligned', openFlatGeobuf(bytes)], ['unaligned', openFlatGeobuf(host.subarray(5))]] as const) {
    it(`geometry and every column, ${label}`, () => {
      for (let i = 0; i < file.count; i++) {
        const want = fromGeoJSON(file.feature(i).geometry);
        const got = file.rawGeometry(i)!;
        expect(got.type).toBe(file.feature(i).geometry.type);
        expect([...got.xy]).toEqual([...want.xy]);
        expect([...got.ends]).toEqual([...want.ends]);
        expect([...got.polys]).toEqual([...want.polys]);
      }
      for (const c of FIELDS) {
        expect(file.column(c.name)).toEqual([...file.features()].map((f) => f.properties![c.name]));
      }
      expect(file.column('name')).toContain(LONG_CN);
      expect(file.column('id')).toContain(LONG_ASCII);
      expect(file.column('no_such_column')).toEqual(new Array(file.count).fill(undefined));
      expect(() => file.rawGeometry(file.count)).toThrow(RangeError);
      expect(file.pointXY()).toBeNull(); // mixed geometry types
    });
  }
  it('pointXY gives every point of a point layer in file order', () => {
    const pts = randomPolygons(500, 11).filter((f) => f.geometry.type === 'Point');
    const file = openFlatGeobuf(encodeFlatGeobuf(pts, { layerName: 'pts', fields: FIELDS }));
    const xy = file.pointXY()!;
    expect(xy.length).toBe(2 * pts.length);
    for (let i = 0; i < file.count; i++) expect([xy[2 * i], xy[2 * i + 1]]).toEqual((file.feature(i).geometry as GeoJSON.Point).coordinates);
  });
});
