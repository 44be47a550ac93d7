import { describe, expect, it } from 'vitest';
import { ringSignedArea } from './geom.ts';
import { buildMesh, cellsUnion, growRegions } from './partition.ts';
import { createRng } from './rng.ts';

// A 2 km square of jittered sites with a guard ring: regions grown on it must tile the square's cells.
function squareMesh(seed: number) {
  const r = createRng(seed);
  const sites: number[] = [];
  for (let j = 0; j < 20; j++) for (let i = 0; i < 20; i++) sites.push((i + 0.5 + (r.next() - 0.5) * 0.8) * 100, (j + 0.5 + (r.next() - 0.5) * 0.8) * 100);
  const guards: number[] = [];
  for (let k = -5; k <= 25; k += 2) guards.push(k * 100, -800, k * 100, 2800, -800, k * 100, 2800, k * 100);
  return buildMesh(Float64Array.from(sites), Float64Array.from(guards), () => Infinity);
}

const unionArea = (rings: [number, number][][]): number => rings.reduce((s, r) => s + ringSignedArea(r), 0);

describe('partition', () => {
  it('builds counter-clockwise cells sharing vertex ids', () => {
    const m = squareMesh(1);
    expect(m.n).toBe(400);
    for (const c of m.cells) {
      const ring = Array.from(c, (v) => [m.verts[2 * v], m.verts[2 * v + 1]] as [number, number]);
      expect(ringSignedArea(ring)).toBeGreaterThan(0);
    }
  });

  it('grows connected regions that tile the members with no gap or overlap', () => {
    const m = squareMesh(2);
    const members = Int32Array.from({ length: m.n }, (_, i) => i);
    const lab = growRegions(m, { members, seeds: [0, 19, 399], targets: [1, 2, 1], cost: new Float64Array(m.n).fill(1) });
    const groups: number[][] = [[], [], []];
    for (let c = 0; c < m.n; c++) { expect(lab[c]).toBeGreaterThanOrEqual(0); groups[lab[c]].push(c); }
    const all = unionArea(cellsUnion(m, Array.from(members)));
    const parts = groups.map((g) => unionArea(cellsUnion(m, g)));
    const cellSum = Array.from(members).reduce((s, c) => s + m.area[c], 0);
    expect(parts.reduce((a, b) => a + b, 0)).toBeCloseTo(all, 6);
    expect(all).toBeCloseTo(cellSum, 6);
    // Each region is one piece: its union has exactly one outer ring.
    for (const g of groups) expect(cellsUnion(m, g).filter((r) => ringSignedArea(r) > 0)).toHaveLength(1);
    // Targets steer sizes: the region asking for twice the area gets clearly more than the others.
    expect(parts[1]).toBeGreaterThan(1.4 * Math.max(parts[0], parts[2]));
  });
});
