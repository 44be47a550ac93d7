// WKB round trips (the PostGIS store's geometry transport) and COPY text escaping (the loader's).
import { describe, expect, it } from 'vitest';
import { copyField } from './pg-copy.ts';
import { decodeWkb, encodeWkb, encodeWkbHex } from './wkb.ts';

const ring = [[120.1, 31.1], [120.2, 31.1], [120.2, 31.2], [120.1, 31.1]];
const hole = [[120.15, 31.12], [120.17, 31.12], [120.16, 31.14], [120.15, 31.12]];
const CASES: GeoJSON.Geometry[] = [
  { type: 'Point', coordinates: [120.75200000000001, 31.654] },
  { type: 'LineString', coordinates: [[0.1, 0.2], [-179.99999999999997, 89.5]] },
  { type: 'Polygon', coordinates: [ring, hole] },
  { type: 'MultiPoint', coordinates: [[1, 2], [3, 4]] },
  { type: 'MultiLineString', coordinates: [[[1, 2], [3, 4]], [[5, 6], [7, 8], [9, 10]]] },
  { type: 'MultiPolygon', coordinates: [[ring, hole], [[[0, 0], [1, 0], [0, 1], [0, 0]]]] },
];

describe('wkb', () => {
  it.each(CASES)('round-trips a $type bit for bit, with and without an SRID', (g) => {
    expect(decodeWkb(encodeWkb(g))).toEqual(g);
    expect(decodeWkb(encodeWkb(g, 4549))).toEqual(g);
  });
  it('writes the EWKB PostGIS prints for a point with SRID 4326', () => {
    // SELECT ST_AsEWKB('SRID=4326;POINT(1 2)'::geometry) → 0101000020e6100000000000000000f03f0000000000000040
    expect(encodeWkbHex({ type: 'Point', coordinates: [1, 2] }, 4326)).toBe('0101000020e6100000000000000000f03f0000000000000040');
  });
  it('reads big-endian and ISO Z WKB, dropping Z', () => {
    // POINT Z (1 2 3), big endian, ISO type 1001
    const b = Buffer.from('00000003e93ff000000000000040000000000000004008000000000000', 'hex');
    expect(decodeWkb(b)).toEqual({ type: 'Point', coordinates: [1, 2] });
  });
  it('rejects unsupported types and truncated input with a message', () => {
    expect(() => decodeWkb(new Uint8Array([1, 7, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/type 7/);
    expect(() => decodeWkb(new Uint8Array([1]))).toThrow(/truncated/);
    expect(() => encodeWkb({ type: 'GeometryCollection', geometries: [] })).toThrow(/GeometryCollection/);
  });
});

describe('copyField', () => {
  it('escapes the COPY text specials and writes NULL as \\N', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField(undefined)).toBe('\\N');
    expect(copyField(true)).toBe('t');
    expect(copyField(2.5)).toBe('2.5');
    expect(copyField('a\tb\nc\\d\re')).toBe('a\\tb\\nc\\\\d\\re');
    expect(copyField('常熟市 琴川街道')).toBe('常熟市 琴川街道');
  });
});
