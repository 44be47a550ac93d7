import { describe, expect, it } from 'vitest';
import { createRng } from '../../scripts/data/rng.ts';
import { clusters, kernelDensity } from './hotspot.ts';

// 300 points in a ~150 m blob around a known spot plus 300 scattered over ~20 km.
function synthetic(seed: number): { coords: Float64Array; blob: [number, number] } {
  const rng = createRng(seed).fork('hotspot');
  const blob: [number, number] = [120.75, 31.65];
  const pts: number[] = [];
  for (let i = 0; i < 300; i++) pts.push(blob[0] + (rng.next() - 0.5) * 0.003, blob[1] + (rng.next() - 0.5) * 0.003);
  for (let i = 0; i < 300; i++) pts.push(120.65 + rng.next() * 0.2, 31.55 + rng.next() * 0.2);
  return { coords: Float64Array.from(pts), blob };
}

describe('kernelDensity', () => {
  it('integrates to about N and peaks at the cluster', () => {
    const { coords, blob } = synthetic(1);
    const g = kernelDensity(coords, { cellM: 100, bandwidthM: 500 });
    let sum = 0, best = 0;
    for (let k = 0; k < g.values.length; k++) { sum += g.values[k]; if (g.values[k] > g.values[best]) best = k; }
    const n = coords.length / 2;
    expect(sum * (g.cellM / 1000) ** 2).toBeGreaterThan(n * 0.95);
    expect(sum * (g.cellM / 1000) ** 2).toBeLessThan(n * 1.05);
    expect(g.max).toBe(g.values[best]);
    const lon = g.west + ((best % g.cols) + 0.5) * (g.east - g.west) / g.cols;
    const lat = g.north - (Math.floor(best / g.cols) + 0.5) * (g.north - g.south) / g.rows;
    expect(Math.abs(lon - blob[0])).toBeLessThan(0.003);
    expect(Math.abs(lat - blob[1])).toBeLessThan(0.003);
  });
  it('is zero far from every point', () => {
    const g = kernelDensity(new Float64Array([120.75, 31.65]), { cellM: 100, bandwidthM: 200, bbox: [120.7, 31.6, 120.8, 31.7] });
    expect(g.values[0]).toBe(0);
    expect(g.max).toBeGreaterThan(0);
  });
});

describe('clusters (DBSCAN)', () => {
  it('finds the known cluster and leaves scattered points as noise', () => {
    const { coords, blob } = synthetic(2);
    const cs = clusters(coords, { epsM: 60, minPts: 8 });
    expect(cs.length).toBeGreaterThanOrEqual(1);
    const c = cs[0];
    expect(c.count).toBeGreaterThanOrEqual(280);
    expect(c.members.filter((m) => m < 300).length).toBeGreaterThanOrEqual(280);
    expect(Math.abs(c.center[0] - blob[0])).toBeLessThan(0.001);
    expect(Math.abs(c.center[1] - blob[1])).toBeLessThan(0.001);
    expect(cs.reduce((s, x) => s + x.count, 0)).toBeLessThan(340);
  });
});
