import { describe, expect, it } from 'vitest';
import { validateGeometry } from './validate.ts';
import { MAX_QUERY_VERTICES } from './types.ts';

const sq: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[120, 31], [121, 31], [121, 32], [120, 32], [120, 31]]] };

describe('validateGeometry', () => {
  it('accepts valid geometries and returns 2D copies', () => {
    const r = validateGeometry({ type: 'Point', coordinates: [120.7, 31.6, 5] });
    expect(r).toEqual({ ok: true, geometry: { type: 'Point', coordinates: [120.7, 31.6] } });
    expect(validateGeometry(sq).ok).toBe(true);
    expect(validateGeometry({ type: 'Polygon', coordinates: [sq.coordinates[0], [[120.2, 31.2], [120.2, 31.4], [120.4, 31.4], [120.2, 31.2]]] }).ok).toBe(true);
  });
  it('rejects bad shapes with codes and Chinese-first messages', () => {
    const cases: [unknown, string][] = [
      [null, 'invalid_geometry'],
      [{ type: 'Feature', geometry: sq }, 'invalid_geometry'],
      [{ type: 'Circle', coordinates: [0, 0] }, 'invalid_geometry'],
      [{ type: 'Point', coordinates: [200, 31] }, 'bad_coordinate'],
      [{ type: 'Point', coordinates: [120, -91] }, 'bad_coordinate'],
      [{ type: 'Point', coordinates: [NaN, 31] }, 'invalid_geometry'],
      [{ type: 'LineString', coordinates: [[120, 31]] }, 'invalid_geometry'],
      [{ type: 'Polygon', coordinates: [[[120, 31], [121, 31], [121, 32], [120, 31.5]]] }, 'invalid_geometry'], // not closed
      [{ type: 'Polygon', coordinates: [[[120, 31], [121, 31], [120, 31]]] }, 'invalid_geometry'], // < 4 positions
    ];
    for (const [g, code] of cases) {
      const r = validateGeometry(g);
      expect(r.ok, JSON.stringify(g)).toBe(false);
      if (!r.ok) { expect(r.code).toBe(code); expect(r.message).toMatch(/^[\u4e00-\u9fff]/); }
    }
  });
  it('reports where a bow-tie crosses itself', () => {
    const r = validateGeometry({ type: 'Polygon', coordinates: [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.at).toEqual([1, 1]);
  });
  it('rejects a hole outside its shell and too many vertices', () => {
    const r = validateGeometry({ type: 'Polygon', coordinates: [sq.coordinates[0], [[122, 31], [122, 31.5], [122.5, 31.5], [122, 31]]] });
    expect(r.ok).toBe(false);
    const n = MAX_QUERY_VERTICES + 1;
    const line = Array.from({ length: n }, (_, i) => [120 + i * 1e-5, 31]);
    const big = validateGeometry({ type: 'LineString', coordinates: line });
    expect(big.ok).toBe(false);
    if (!big.ok) expect(big.message).toContain(String(MAX_QUERY_VERTICES));
  });
});
