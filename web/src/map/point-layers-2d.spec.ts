import { describe, expect, it } from 'vitest';
import { getLayer } from '../../../layers/catalog.ts';
import { cellDegrees, gridClusters, paletteColour, pointColours } from './point-layers-2d.ts';

describe('point colours', () => {
  it('colours by the catalog category, palette for values without one', () => {
    const cams = getLayer('cameras')!;
    const status = ['online', 'fault', 'unknown-status'];
    const c = pointColours(cams, 3, (name) => (name === 'status' ? status : []));
    expect([...c.subarray(0, 4)]).toEqual(cams.style.categories!.online);
    expect([...c.subarray(4, 8)]).toEqual(cams.style.categories!.fault);
    expect([...c.subarray(8, 12)]).toEqual(paletteColour('unknown-status'));
    expect(paletteColour('police')).toEqual(paletteColour('police'));
  });
});

describe('grid clusters', () => {
  it('keeps every point exactly once and averages positions per cell', () => {
    // Two points in one cell, one far away.
    const pos = new Float64Array([120.7001, 31.6001, 120.7002, 31.6002, 120.9, 31.8]);
    const c = gridClusters(pos, 0.01, 31.6);
    expect(c.count).toBe(2);
    expect([...c.counts].sort()).toEqual([1, 2]);
    const two = [...c.counts].indexOf(2);
    expect(c.positions[2 * two]).toBeCloseTo(120.70015, 9);
    expect(c.first[two]).toBe(0);
    expect([...c.counts].reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('uses cells of a fixed pixel size: half as many degrees per zoom level', () => {
    expect(cellDegrees(11) / cellDegrees(12)).toBeCloseTo(2, 12);
    expect(cellDegrees(0, 512)).toBe(360);
  });
});
