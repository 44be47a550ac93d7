import { describe, expect, it } from 'vitest';
import { labelNames } from './tile-content.ts';

describe('labelNames', () => {
  it('reads names of one source layer from binary tile content', () => {
    const binary = { points: { properties: [{ layerName: 'places', name: '常熟市' }, { layerName: 'other', name: 'x' }, { layerName: 'places', name: '' }] }, lines: {}, polygons: {} };
    expect(labelNames(binary, 'places', 'name')).toEqual(['常熟市']);
  });

  it('reads point features from GeoJSON tile content and ignores other geometries', () => {
    const features = [
      { geometry: { type: 'Point' }, properties: { layerName: 'places', name: '梅李镇' } },
      { geometry: { type: 'Polygon' }, properties: { layerName: 'places', name: '不是点' } },
    ];
    expect(labelNames(features, 'places', 'name')).toEqual(['梅李镇']);
  });

  it('returns nothing for empty tiles', () => {
    expect(labelNames(null, 'places', 'name')).toEqual([]);
    expect(labelNames([], 'places', 'name')).toEqual([]);
  });
});
