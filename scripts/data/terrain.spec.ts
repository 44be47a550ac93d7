import { describe, expect, it } from 'vitest';
import { buildDem, demBytes, demHeightAt, sampleCoverage, type DemSample } from './terrain.ts';

const STEP = 20 / 3600; // the ASTER lattice of the real samples
function lattice(f: (lon: number, lat: number) => number, skip?: (i: number, j: number) => boolean): DemSample[] {
  const out: DemSample[] = [];
  for (let j = 0; j < 12; j++) for (let i = 0; i < 15; i++) {
    if (skip?.(i, j)) continue;
    const lon = Math.round((120.6 + i * STEP) * 1e4) / 1e4, lat = Math.round((31.6 + j * STEP) * 1e4) / 1e4; // sources round to 1e-4°
    out.push({ lon, lat, elev: f(lon, lat) });
  }
  return out;
}

describe('buildDem', () => {
  it('reproduces a plane inside the lattice (bilinear is exact for planes)', () => {
    const plane = (lon: number, lat: number) => 5 + (lon - 120.6) * 2000 + (lat - 31.6) * 1000;
    const dem = buildDem(lattice(plane), [120.61, 31.61, 120.66, 31.65], 1 / 1440);
    for (const [lon, lat] of [[120.62, 31.62], [120.645, 31.633], [120.655, 31.648]]) {
      expect(demHeightAt(dem, lon, lat)).toBeCloseTo(plane(lon, lat), 0);
    }
    expect(dem.meta.format).toBe('float32 little-endian, row-major from north-west');
    expect(dem.heights.length).toBe(dem.meta.width * dem.meta.height);
  });

  it('keeps a peak at its sample and falls to 0 where there are no samples', () => {
    const s = lattice((lon, lat) => (Math.abs(lon - (120.6 + 7 * STEP)) < 1e-3 && Math.abs(lat - (31.6 + 6 * STEP)) < 1e-3 ? 231 : 9),
      (i) => i >= 12); // no samples east of column 11 (a river)
    const dem = buildDem(s, [120.59, 31.59, 120.7, 31.68], STEP / 8);
    let max = 0, at = -1;
    dem.heights.forEach((h, k) => { if (h > max) { max = h; at = k; } });
    const lon = dem.meta.west + ((at % dem.meta.width) + 0.5) * (STEP / 8);
    expect(max).toBeGreaterThan(200);
    expect(Math.abs(lon - (120.6 + 7 * STEP))).toBeLessThan(STEP / 4);
    expect(demHeightAt(dem, 120.6 + 13.5 * STEP, 31.63)).toBe(0);
    const bytes = demBytes(dem);
    expect(new DataView(bytes.buffer).getFloat32(at * 4, true)).toBe(dem.heights[at]);
  });

  it('tells sampled land from the gaps', () => {
    const isLand = sampleCoverage(lattice(() => 1, (i, j) => i === 3 && j === 3));
    expect(isLand(120.6 + 2 * STEP, 31.6 + 3 * STEP)).toBe(true);
    expect(isLand(120.6 + 3 * STEP, 31.6 + 3 * STEP)).toBe(false);
  });
});
