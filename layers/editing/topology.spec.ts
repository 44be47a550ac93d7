// Partition and within-grid checks on small synthetic tilings: a parent rectangle split into A (west) and
// B (east) along x = X + D. Each case is an edit of the kind planners make; only what the edit made new or
// larger is an error.
import { describe, expect, it } from 'vitest';
import type { EditFeature } from './model.ts';
import { checkPartition, checkWithinGrid } from './topology.ts';

const X = 120.7, Y = 31.6, D = 0.01;
const rect = (x0: number, y0: number, x1: number, y1: number): GeoJSON.Polygon =>
  ({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });
const f = (id: string, geometry: GeoJSON.Geometry, props: Record<string, unknown> = {}): EditFeature =>
  ({ type: 'Feature', id, geometry, properties: { id, ...props } });

const parent = f('V1', rect(X, Y, X + 2 * D, Y + D));
const A = f('A', rect(X, Y, X + D, Y + D));
const B = f('B', rect(X + D, Y, X + 2 * D, Y + D));

function check(changed: EditFeature[], before = [A, B], opts: { parent?: EditFeature | null; deleted?: string[] } = {}) {
  const ids = new Set(changed.map((c) => c.id));
  const after = [...before.filter((s) => !ids.has(s.id) && !opts.deleted?.includes(s.id)), ...changed];
  return checkPartition({ changed, siblingsBefore: before, siblingsAfter: after, parent: opts.parent === undefined ? parent : opts.parent, parentLayer: 'villages' });
}
const codes = (is: { code: string }[]) => is.map((i) => i.code);

describe('checkPartition', () => {
  it('passes an unchanged tiling and an attribute-only edit', () => {
    expect(check([A])).toEqual([]);
    expect(check([{ ...A, properties: { ...A.properties, name: 'x' } }])).toEqual([]);
  });

  it('moving the shared edge into the neighbour is an overlap located inside the overlap', () => {
    const out = check([f('A', rect(X, Y, X + 1.2 * D, Y + D))]);
    expect(codes(out)).toEqual(['overlap']);
    const [x, y] = out[0].location!;
    expect(x).toBeGreaterThan(X + D);
    expect(x).toBeLessThan(X + 1.2 * D);
    expect(y).toBeGreaterThan(Y);
    expect(out[0].featureId).toBe('A');
  });

  it('pulling the edge back leaves a gap, located in the gap', () => {
    const out = check([f('A', rect(X, Y, X + 0.8 * D, Y + D))]);
    expect(codes(out)).toEqual(['gap']);
    expect(out[0].location![0]).toBeGreaterThan(X + 0.8 * D);
    expect(out[0].location![0]).toBeLessThan(X + D);
  });

  it('reaching past the parent is outside_parent', () => {
    const out = check([f('A', rect(X - 0.2 * D, Y, X + D, Y + D))]);
    expect(codes(out)).toEqual(['outside_parent']);
    expect(out[0].location![0]).toBeLessThan(X);
  });

  it('moving both sides of the shared edge together (a topological edit) passes', () => {
    expect(check([f('A', rect(X, Y, X + 1.3 * D, Y + D)), f('B', rect(X + 1.3 * D, Y, X + 2 * D, Y + D))])).toEqual([]);
  });

  it('deleting one child leaves a gap; merging it into the other passes', () => {
    expect(codes(check([], [A, B], { deleted: ['B'] }))).toEqual(['gap']);
    expect(check([f('A', rect(X, Y, X + 2 * D, Y + D))], [A, B], { deleted: ['B'] })).toEqual([]);
  });

  it('a split into two halves that tile the old shape passes', () => {
    const a1 = f('A', rect(X, Y, X + D, Y + D / 2)), a2 = f('A2', rect(X, Y + D / 2, X + D, Y + D));
    expect(check([a1, a2])).toEqual([]);
  });

  it('does not blame the editor for a sliver gap that was there before, but does when it grows', () => {
    const Bs = f('B', rect(X + 1.001 * D, Y, X + 2 * D, Y + D));   // ≈ 1 m wide gap along the shared edge
    expect(check([{ ...A, properties: { ...A.properties, name: 'renamed' } }], [A, Bs])).toEqual([]);
    expect(check([f('A', rect(X, Y - 0, X + D, Y + D))], [A, Bs])).toEqual([]);
    expect(codes(check([f('A', rect(X, Y, X + 0.9 * D, Y + D))], [A, Bs]))).toEqual(['gap']);
  });

  it('ignores overlaps below minAreaM2 (floating-point noise)', () => {
    expect(check([f('A', rect(X, Y, X + D + 1e-9, Y + D))])).toEqual([]);
  });

  it('an unknown parent is outside_parent', () => {
    expect(codes(check([A], [A, B], { parent: null }))).toEqual(['outside_parent']);
  });
});

describe('checkWithinGrid', () => {
  const grid = f('G1', rect(X, Y, X + D, Y + D), { name: '第1网格' });
  it('accepts points inside or on the boundary, lines and polygons inside', () => {
    expect(checkWithinGrid(f('p', { type: 'Point', coordinates: [X + D / 2, Y + D / 2] }), grid)).toEqual([]);
    expect(checkWithinGrid(f('p', { type: 'Point', coordinates: [X, Y + D / 2] }), grid)).toEqual([]);
    expect(checkWithinGrid(f('l', { type: 'LineString', coordinates: [[X + D / 4, Y + D / 4], [X + D / 2, Y + D / 2]] }), grid)).toEqual([]);
    expect(checkWithinGrid(f('a', rect(X + D / 4, Y + D / 4, X + D / 2, Y + D / 2)), grid)).toEqual([]);
  });
  it('flags a feature leaving its grid at the vertex outside, and a missing grid', () => {
    const out = checkWithinGrid(f('p', { type: 'Point', coordinates: [X + 2 * D, Y] }), grid);
    expect(out.map((i) => [i.code, i.location])).toEqual([['outside_grid', [X + 2 * D, Y]]]);
    expect(out[0].message).toContain('第1网格');
    const line = checkWithinGrid(f('l', { type: 'LineString', coordinates: [[X + D / 2, Y + D / 2], [X + 3 * D, Y + D / 2]] }), grid);
    expect(line.map((i) => [i.code, i.location])).toEqual([['outside_grid', [X + 3 * D, Y + D / 2]]]);
    expect(checkWithinGrid(f('p', { type: 'Point', coordinates: [X, Y] }), null).map((i) => i.code)).toEqual(['outside_grid']);
  });
});
