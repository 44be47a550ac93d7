import { describe, expect, it } from 'vitest';
import type { FieldDef } from '../catalog.ts';
import { dbfFieldNames, readShapefile, ShapefileError, WGS84_PRJ, writeShapefile } from './shapefile.ts';

const F = (name: string, type: FieldDef['type']): FieldDef => ({ name, type, title: name });
const feat = (geometry: GeoJSON.Geometry | null, properties: Record<string, unknown> = {}): GeoJSON.Feature =>
  ({ type: 'Feature', geometry: geometry as GeoJSON.Geometry, properties });

// RFC 7946 orientation: exterior counter-clockwise, hole clockwise.
const square = (x: number, y: number, d: number) => [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]];
const cw = (r: number[][]) => r.slice().reverse();

describe('shapefile write → read', () => {
  it('keeps polygons with holes and multipolygons in RFC 7946 orientation', () => {
    const holed: GeoJSON.Polygon = { type: 'Polygon', coordinates: [square(120.74, 31.64, 0.02), cw(square(120.745, 31.645, 0.01))] };
    const multi: GeoJSON.MultiPolygon = { type: 'MultiPolygon', coordinates: [[square(120.7, 31.6, 0.01)], [square(120.72, 31.6, 0.01)]] };
    // Input in the wrong (clockwise) orientation still comes back right.
    const wrong: GeoJSON.Polygon = { type: 'Polygon', coordinates: [cw(square(120.8, 31.7, 0.01))] };
    const s = writeShapefile([feat(holed, { name: '有洞' }), feat(multi, { name: '两块' }), feat(wrong, { name: '反向' })], [F('name', 'string')], { prj: WGS84_PRJ });
    const r = readShapefile({ shp: s.shp, dbf: s.dbf, prj: s.prj, cpg: s.cpg });
    expect(r.features.map((f) => f.geometry)).toEqual([holed, multi, { type: 'Polygon', coordinates: [square(120.8, 31.7, 0.01)] }]);
    expect(r.features.map((f) => f.properties!.name)).toEqual(['有洞', '两块', '反向']);
    expect(r.prj).toBe(WGS84_PRJ);
  });

  it('keeps points, multilines and null geometries, and every field type', () => {
    const fields = [F('name', 'string'), F('floors', 'int'), F('height', 'number'), F('ok', 'boolean'), F('at', 'datetime')];
    const s = writeShapefile([
      feat({ type: 'Point', coordinates: [120.75, 31.65] }, { name: '常熟', floors: 12, height: 35.25, ok: true, at: '2026-05-01T08:00:00Z' }),
      feat(null, { name: null, floors: null, height: -0.5, ok: false, at: null }),
    ], fields, { prj: WGS84_PRJ });
    const r = readShapefile({ shp: s.shp, dbf: s.dbf, cpg: s.cpg });
    expect(r.fields).toEqual([{ name: 'name', type: 'string' }, { name: 'floors', type: 'int' }, { name: 'height', type: 'number' }, { name: 'ok', type: 'boolean' }, { name: 'at', type: 'string' }]);
    expect(r.features[0]).toEqual(feat({ type: 'Point', coordinates: [120.75, 31.65] }, { name: '常熟', floors: 12, height: 35.25, ok: true, at: '2026-05-01T08:00:00Z' }));
    expect(r.features[1].geometry).toBeNull();
    expect(r.features[1].properties).toEqual({ name: null, floors: null, height: -0.5, ok: false, at: null });
    const lines: GeoJSON.MultiLineString = { type: 'MultiLineString', coordinates: [[[120.7, 31.6], [120.71, 31.61]], [[120.72, 31.62], [120.73, 31.63], [120.74, 31.63]]] };
    const l = writeShapefile([feat(lines)], [], { prj: WGS84_PRJ });
    expect(readShapefile({ shp: l.shp }).features[0].geometry).toEqual(lines);
    // .shx offsets point at the records
    const dv = new DataView(l.shx.buffer);
    expect(dv.getInt32(100, false)).toBe(50);
  });

  it('cuts field names to dBASE 10 bytes and keeps them unique', () => {
    expect(dbfFieldNames(['village_code', 'village_co', 'manager_phone', 'id'])).toEqual(['village_co', 'village__1', 'manager_ph', 'id']);
    expect(dbfFieldNames(['所属镇街代码'])).toEqual(['所属镇']); // 3 bytes per character in UTF-8
  });

  it('refuses mixed geometry types', () => {
    expect(() => writeShapefile([feat({ type: 'Point', coordinates: [1, 2] }), feat({ type: 'LineString', coordinates: [[1, 2], [3, 4]] })], [], { prj: WGS84_PRJ }))
      .toThrow(ShapefileError);
  });
});

describe('dbf encodings', () => {
  // A dbf written in UTF-8 with a 4-byte placeholder, then patched to GBK 常熟 = b3 a3 ca ec.
  function gbkDbf(ldid: number): { shp: Uint8Array; dbf: Uint8Array } {
    const s = writeShapefile([feat({ type: 'Point', coordinates: [120.75, 31.65] }, { name: 'xxxx' })], [F('name', 'string')], { prj: WGS84_PRJ });
    const i = s.dbf.indexOf(0x78, 32 + 32 + 1);
    s.dbf.set([0xb3, 0xa3, 0xca, 0xec], i);
    s.dbf[29] = ldid;
    return { shp: s.shp, dbf: s.dbf };
  }

  it('follows the .cpg', () => {
    const r = readShapefile({ ...gbkDbf(0), cpg: 'GBK' });
    expect([r.encoding, r.features[0].properties!.name]).toEqual(['gbk', '常熟']);
    expect(readShapefile({ ...gbkDbf(0), cpg: '936' }).features[0].properties!.name).toBe('常熟');
  });

  it('follows the language-driver byte when there is no .cpg', () => {
    const r = readShapefile(gbkDbf(0x4d));
    expect([r.encoding, r.features[0].properties!.name]).toEqual(['gbk', '常熟']);
  });

  it('detects GBK when nothing is declared, and an explicit encoding wins', () => {
    expect(readShapefile(gbkDbf(0)).features[0].properties!.name).toBe('常熟');
    expect(readShapefile(gbkDbf(0x4d), { encoding: 'utf-8' }).features[0].properties!.name).not.toBe('常熟');
  });
});

describe('broken files', () => {
  it('says what is wrong', () => {
    const s = writeShapefile([feat({ type: 'Point', coordinates: [1, 2] }), feat({ type: 'Point', coordinates: [3, 4] })], [F('a', 'int')], { prj: WGS84_PRJ });
    expect(() => readShapefile({ shp: s.shp.subarray(0, 130) })).toThrow(/截断|truncated/);
    expect(() => readShapefile({ shp: new Uint8Array(100) })).toThrow(/9994/);
    const one = writeShapefile([feat({ type: 'Point', coordinates: [1, 2] })], [F('a', 'int')], { prj: WGS84_PRJ });
    expect(() => readShapefile({ shp: s.shp, dbf: one.dbf })).toThrow(/2 个图形而 .dbf 有 1 行/);
  });
});
