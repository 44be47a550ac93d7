import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { despike, outlineToWgs84 } from './boundaries.ts';

/** Largest turn (in degrees) along a closed ring: 180 is a needle that goes out and straight back. */
function maxTurn(ring: GeoJSON.Position[]): number {
  const pts = ring.slice(0, -1);
  let worst = 0;
  for (let i = 0; i < pts.length; i++) {
    const a = pts[(i - 1 + pts.length) % pts.length], b = pts[i], c = pts[(i + 1) % pts.length];
    const u = [b[0] - a[0], b[1] - a[1]], v = [c[0] - b[0], c[1] - b[1]];
    const cos = (u[0] * v[0] + u[1] * v[1]) / (Math.hypot(u[0], u[1]) * Math.hypot(v[0], v[1]));
    worst = Math.max(worst, (Math.acos(Math.max(-1, Math.min(1, cos))) * 180) / Math.PI);
  }
  return worst;
}

describe('city outline', () => {
  it('drops a needle spike and repeated vertices but keeps real corners', () => {
    const square = [[0, 0], [1, 0], [1, 0], [1, 1], [0.5, 1], [0.5, 1.3], [0.5001, 1], [0, 1], [0, 0]];
    expect(despike(square)).toEqual([[0, 0], [1, 0], [1, 1], [0.5, 1], [0, 1]]);
  });

  // Bug: the source's ~100 m quantisation left 7 needles (~108 m) on the outline, drawn as black
  // ticks from zoom 11 up (seen at 120.9752, 31.4971 and 120.7280, 31.7881).
  it('has no needle spikes after conversion from GCJ-02', () => {
    const src = JSON.parse(readFileSync(join(import.meta.dirname, '../../geodata/source/suzhou_counties_gcj02_lowres.geojson'), 'utf8'));
    const cs = src.features.find((f: GeoJSON.Feature) => f.properties?.name === '常熟市');
    const g = outlineToWgs84(cs);
    const rings = g.type === 'Polygon' ? g.coordinates : g.coordinates.flat();
    for (const r of rings) expect(maxTurn(r)).toBeLessThan(160);
  });
});
