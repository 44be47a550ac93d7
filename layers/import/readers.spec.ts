import { describe, expect, it } from 'vitest';
import { encodeFlatGeobuf } from '../formats/flatgeobuf.ts';
import { detectFormat, readCsv, readFgb, readGeoJson } from './readers.ts';
import { ImportError } from './types.ts';

const enc = new TextEncoder();
const gj = (v: unknown) => enc.encode(JSON.stringify(v));

describe('detectFormat', () => {
  it('trusts magic bytes over names, then the extension, then a leading brace', () => {
    expect(detectFormat(new Uint8Array([0x50, 0x4b, 3, 4]), 'x.csv')).toBe('shapefile');
    expect(detectFormat(enc.encode('fgb\x03fgb\x00'), '')).toBe('fgb');
    expect(detectFormat(enc.encode('a,b'), 'x.geojson')).toBe('geojson');
    expect(detectFormat(enc.encode('\ufeff  {"type":1}'), 'upload')).toBe('geojson');
    expect(detectFormat(enc.encode('a,b'), 'x.txt')).toBe('csv');
    expect(() => detectFormat(enc.encode('x'), 'a.shp')).toThrow(/压缩成 .zip/);
    expect(() => detectFormat(enc.encode('x'), 'a.kml')).toThrow(ImportError);
  });
});

describe('readGeoJson', () => {
  it('takes collections, single features and bare geometries, and the crs member', () => {
    const fc = readGeoJson(gj({ type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::4549' } },
      features: [{ type: 'Feature', id: 7, geometry: { type: 'Point', coordinates: [1, 2] }, properties: { 名称: '甲', n: 1.5 } }, { type: 'Nope' }] }));
    expect(fc.crs).toBe('EPSG:4549');
    expect(fc.rows[0]).toEqual({ row: 1, geometry: { type: 'Point', coordinates: [1, 2] }, properties: { 名称: '甲', n: 1.5, id: 7 } });
    expect(fc.rows[1].issue?.code).toBe('bad_feature');
    expect(fc.fields).toEqual([{ name: '名称', type: 'string' }, { name: 'n', type: 'number' }, { name: 'id', type: 'int' }]);
    expect(readGeoJson(gj({ type: 'Point', coordinates: [1, 2] })).rows).toHaveLength(1);
    expect(readGeoJson(gj({ type: 'Feature', geometry: null, properties: null })).crs).toBeNull();
    const odd = readGeoJson(gj({ type: 'FeatureCollection', crs: { properties: { name: 'EPSG:2385' } }, features: [] }));
    expect([odd.crs, odd.crsText]).toEqual([null, 'EPSG:2385']);
  });
  it('says when the file is not GeoJSON', () => {
    expect(() => readGeoJson(enc.encode('{"type": "FeatureCollection", '))).toThrow(/不是合法的 JSON/);
    expect(() => readGeoJson(gj({ hello: 1 }))).toThrow(/FeatureCollection/);
  });
});

describe('readCsv', () => {
  it('finds coordinate columns in Chinese or English and keeps them out of the fields', () => {
    const s = readCsv(enc.encode('名称,X,Y\n甲,571000,3503000\n'));
    expect(s.rows[0]).toEqual({ row: 1, geometry: { type: 'Point', coordinates: [571000, 3503000] }, properties: { 名称: '甲' } });
    expect(s.fields).toEqual([{ name: '名称', type: null }]);
    expect(readCsv(enc.encode('经度,纬度\n120.7,31.6\n')).rows[0].geometry).toEqual({ type: 'Point', coordinates: [120.7, 31.6] });
  });
  it('falls back to the address column, and flags rows with neither', () => {
    const s = readCsv(enc.encode('name,lon,lat,address\na,,,常熟市海虞北路1号\nb,x,y,\n'));
    expect(s.rows[0]).toMatchObject({ geometry: null, address: '常熟市海虞北路1号' });
    expect(s.rows[1].issue?.code).toBe('bad_coordinate');
    expect(() => readCsv(enc.encode('name,kind\na,b\n'))).toThrow(/经纬度列.*地址列/);
  });
});

describe('readFgb', () => {
  it('reads features, columns and the CRS from the header', () => {
    const bytes = encodeFlatGeobuf([{ type: 'Feature', geometry: { type: 'Point', coordinates: [120.75, 31.65] }, properties: { name: '甲' } }], { layerName: 't' });
    const s = readFgb(bytes);
    expect(s.rows[0]).toMatchObject({ row: 1, geometry: { type: 'Point', coordinates: [120.75, 31.65] }, properties: { name: '甲' } });
    expect(s.fields).toEqual([{ name: 'name', type: 'string' }]);
    expect(s.crs).toBe('EPSG:4326'); // our writer declares EPSG:4326; the ogr2ogr EPSG:4549 case is in test/import.test.ts
    expect(() => readFgb(bytes.subarray(0, 20))).toThrow(ImportError);
  });
});
