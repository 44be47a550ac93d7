// Geometry and property validation: one case per rule, with where the issue points; inputs not mutated.
import { describe, expect, it } from 'vitest';
import { getLayer } from '../catalog.ts';
import { rewind, validateGeometry, validateProperties } from './validate.ts';

const X = 120.75, Y = 31.65, D = 0.01;
const sq = (x = X, y = Y, d = D): number[][] => [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]];
const poly = (...rings: number[][][]): GeoJSON.Polygon => ({ type: 'Polygon', coordinates: rings });
const codes = (kind: 'point' | 'line' | 'polygon', g: unknown) => validateGeometry(kind, g, 'f1').map((i) => i.code);

describe('validateGeometry', () => {
  it('accepts valid geometries of the layer kind, Multi* included', () => {
    expect(codes('point', { type: 'Point', coordinates: [X, Y] })).toEqual([]);
    expect(codes('point', { type: 'MultiPoint', coordinates: [[X, Y], [X + D, Y]] })).toEqual([]);
    expect(codes('line', { type: 'LineString', coordinates: [[X, Y], [X + D, Y + D]] })).toEqual([]);
    expect(codes('polygon', poly(sq()))).toEqual([]);
    const hole = sq(X + D / 4, Y + D / 4, D / 2).reverse();
    expect(codes('polygon', poly(sq(), hole))).toEqual([]);
    expect(codes('polygon', { type: 'MultiPolygon', coordinates: [[sq()], [sq(X + 2 * D)]] })).toEqual([]);
  });

  it('rejects a type that does not match the layer, and malformed coordinates', () => {
    expect(codes('point', poly(sq()))).toEqual(['geometry_type']);
    expect(codes('polygon', { type: 'GeometryCollection', geometries: [] })).toEqual(['geometry_type']);
    expect(codes('polygon', null)).toEqual(['geometry_type']);
    expect(codes('point', { type: 'Point', coordinates: [X] })).toEqual(['bad_coordinates']);
    expect(codes('point', { type: 'Point', coordinates: [X, NaN] })).toEqual(['bad_coordinates']);
    expect(codes('point', { type: 'Point', coordinates: ['120', Y] })).toEqual(['bad_coordinates']);
    expect(codes('line', { type: 'LineString', coordinates: [] })).toEqual(['bad_coordinates']);
    expect(codes('polygon', { type: 'Polygon', coordinates: [[X, Y]] })).toEqual(['bad_coordinates']);
  });

  it('flags coordinates outside China, hinting at projected metres', () => {
    const [i] = validateGeometry('point', { type: 'Point', coordinates: [40_500_000, 3_500_000] });
    expect(i.code).toBe('outside_china');
    expect(i.message).toMatch(/EPSG:4549/);
    const [j] = validateGeometry('point', { type: 'Point', coordinates: [Y, X] });   // swapped lon/lat
    expect(j.code).toBe('outside_china');
    expect(j.location).toEqual([Y, X]);
  });

  it('checks rings: closed, ≥ 4 positions, oriented (RFC 7946), holes inside', () => {
    expect(codes('polygon', poly(sq().slice(0, 4)))).toEqual(['ring_not_closed']);
    expect(codes('polygon', poly([[X, Y], [X + D, Y], [X, Y]]))).toEqual(['ring_too_short']);
    expect(codes('polygon', poly(sq().reverse()))).toEqual(['ring_orientation']);
    expect(codes('polygon', poly(sq(), sq(X + D / 4, Y + D / 4, D / 2)))).toEqual(['ring_orientation']);
    expect(codes('polygon', poly(sq(), sq(X + 3 * D, Y, D / 2).reverse()))).toEqual(['hole_outside']);
  });

  it('finds a self-intersection (bow tie) and points at the crossing', () => {
    const bow = [[X, Y], [X + D, Y + D], [X + D, Y], [X, Y + D], [X, Y]];
    const [i] = validateGeometry('polygon', poly(bow), 'f1');
    expect(i.code).toBe('self_intersection');
    expect(i.location![0]).toBeCloseTo(X + D / 2, 12);
    expect(i.location![1]).toBeCloseTo(Y + D / 2, 12);
    expect(i.featureId).toBe('f1');
  });

  it('finds a spike folding back along an edge, and a ring touching itself', () => {
    const spike = [[X, Y], [X + D, Y], [X + D, Y + D], [X + D, Y + D / 2], [X + D, Y + 2 * D], [X, Y + D], [X, Y]];
    expect(codes('polygon', poly(spike))).toContain('self_intersection');
    const touch = [[X, Y], [X + 2 * D, Y], [X + 2 * D, Y + 2 * D], [X + D, Y], [X, Y + 2 * D], [X, Y]];
    expect(codes('polygon', poly(touch))).toEqual(['self_intersection']);
  });

  it('finds rings crossing each other but allows a hole touching the shell at one point', () => {
    const crossingHole = [[X + D / 2, Y + D / 2], [X + D / 2, Y + 2 * D], [X + 2 * D, Y + 2 * D], [X + 2 * D, Y + D / 2], [X + D / 2, Y + D / 2]];
    expect(codes('polygon', poly(sq(), crossingHole))).toEqual(['ring_crossing']);
    const touching = [[X, Y + D / 2], [X + D / 2, Y + D / 4], [X + D / 2, Y + 3 * D / 4], [X, Y + D / 2]];
    expect(codes('polygon', poly(sq(), touching.reverse()))).toEqual([]);
    const overlapping = { type: 'MultiPolygon', coordinates: [[sq()], [sq(X + D / 2, Y + D / 2)]] };
    expect(codes('polygon', overlapping)).toEqual(['ring_crossing']);
  });

  it('flags duplicate consecutive vertices and lines without two distinct positions', () => {
    const dup = [[X, Y], [X + D, Y], [X + D, Y], [X + D, Y + D], [X, Y + D], [X, Y]];
    expect(codes('polygon', poly(dup))).toEqual(['duplicate_vertex']);
    expect(codes('line', { type: 'LineString', coordinates: [[X, Y], [X, Y]] })).toEqual(['duplicate_vertex', 'too_few_points']);
    expect(codes('line', { type: 'LineString', coordinates: [[X, Y], [X + 1e-12, Y], [X + D, Y]] })).toEqual(['duplicate_vertex']);
  });

  it('caps the vertex count', () => {
    const n = 100_001;
    const line = Array.from({ length: n }, (_, i) => [X + i * 1e-6, Y]);
    expect(codes('line', { type: 'LineString', coordinates: line })).toEqual(['too_many_vertices']);
  });

  it('handles a large valid ring quickly enough to be usable (sweep, not all pairs)', () => {
    const n = 50_000;
    const ring = Array.from({ length: n }, (_, i) => {
      const a = (2 * Math.PI * i) / n;
      return [X + 0.1 * Math.cos(a), Y + 0.1 * Math.sin(a)];
    });
    ring.push(ring[0]);
    expect(codes('polygon', poly(ring))).toEqual([]);
  });
});

describe('rewind', () => {
  it('makes shells counter-clockwise and holes clockwise without mutating the input', () => {
    const g = poly(sq().reverse(), sq(X + D / 4, Y + D / 4, D / 2));
    const before = JSON.stringify(g);
    const r = rewind(g);
    expect(JSON.stringify(g)).toBe(before);
    expect(validateGeometry('polygon', r)).toEqual([]);
    expect(rewind(r)).toEqual(r);
    const m = rewind({ type: 'MultiPolygon', coordinates: [[sq().reverse()]] });
    expect(validateGeometry('polygon', m)).toEqual([]);
    const p: GeoJSON.Point = { type: 'Point', coordinates: [X, Y] };
    expect(rewind(p)).toBe(p);
  });
});

describe('validateProperties', () => {
  const facilities = getLayer('facilities')!;
  const incidents = getLayer('incidents')!;
  const buildings = getLayer('buildings')!;

  it('keeps known fields, drops undefined, keeps null, sets id to the feature id', () => {
    const out = validateProperties(facilities, { name: '消防站', kind: 'fire', grid_code: null, address: undefined }, 'fac-1');
    expect(out.issues).toEqual([]);
    expect(out.properties).toEqual({ name: '消防站', kind: 'fire', grid_code: null, id: 'fac-1' });
  });

  it('rejects unknown fields, wrong types and a different id, pointing at the field', () => {
    const out = validateProperties(facilities, { name: 3, colour: 'red', id: 'other' }, 'fac-1');
    expect(out.issues.map((i) => [i.code, i.path])).toEqual([
      ['bad_value', 'properties.name'], ['unknown_field', 'properties.colour'], ['id_mismatch', 'properties.id'],
    ]);
    expect(validateProperties(facilities, [], 'x').issues[0].code).toBe('bad_properties');
    expect(validateProperties(facilities, { name: 'x'.repeat(1001) }, 'x').issues[0].code).toBe('bad_value');
  });

  it('checks ints, numbers, booleans and ISO 8601 UTC datetimes', () => {
    expect(validateProperties(buildings, { floors: 3, height: 9.5, synthetic: false }, 'b').issues).toEqual([]);
    expect(validateProperties(buildings, { floors: 3.5 }, 'b').issues[0].path).toBe('properties.floors');
    expect(validateProperties(buildings, { height: Infinity }, 'b').issues[0].code).toBe('bad_value');
    expect(validateProperties(buildings, { synthetic: 'yes' }, 'b').issues[0].code).toBe('bad_value');
    expect(validateProperties(incidents, { reported_at: '2026-11-29T08:00:00Z', closed_at: '2026-11-29T08:00:00.123Z' }, 'i').issues).toEqual([]);
    for (const bad of ['2026-11-29 08:00:00', '2026-11-29T08:00:00+08:00', '2026-02-30T08:00:00Z', '2026-11-29T25:00:00Z', 1764403200000]) {
      expect(validateProperties(incidents, { reported_at: bad }, 'i').issues.map((i) => i.code)).toEqual(['bad_value']);
    }
  });
});
