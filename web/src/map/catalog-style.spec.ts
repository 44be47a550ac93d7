import { describe, expect, it } from 'vitest';
import { getLayer, tilesetLayers } from '../../../layers/catalog.ts';
import { TRANSPARENT, labelMinZoom, labelSize, tilesetStyle } from './catalog-style.ts';

const f = (layerName: string, props: Record<string, unknown> = {}) => ({ properties: { layerName, ...props } });
const all = (ts: 'basemap' | 'overlay') => tilesetLayers(ts).map((l) => l.id);

describe('tilesetStyle', () => {
  it('fills polygons with the catalog colour, by category when the layer has one', () => {
    const s = tilesetStyle('basemap', all('basemap'), 12);
    expect(s.fill(f('water'))).toEqual(getLayer('water')!.style.fill);
    expect(s.fill(f('landuse', { kind: 'park' }))).toEqual(getLayer('landuse')!.style.categories!.park);
    expect(s.fill(f('landuse', { kind: 'no-such-kind' }))).toEqual(TRANSPARENT);
    expect(s.fill(f('roads', { class: 'arterial' }))).toEqual(TRANSPARENT); // lines are not filled
  });

  it('strokes lines by category and polygons with their outline colour', () => {
    const s = tilesetStyle('basemap', all('basemap'), 12);
    expect(s.line(f('roads', { class: 'arterial' }))).toEqual(getLayer('roads')!.style.categories!.arterial);
    expect(s.line(f('buildings'))).toEqual(getLayer('buildings')!.style.line);
    expect(s.line(f('water'))).toEqual(TRANSPARENT);
    const o = tilesetStyle('overlay', all('overlay'), 12);
    expect(o.line(f('towns'))).toEqual(getLayer('towns')!.style.line);
    expect(o.lineWidth(f('city'))).toBe(getLayer('city')!.style.lineWidth);
  });

  it('skips the outline pass when no shown polygon is outlined, and outlines buildings from a zoom on request', () => {
    expect(tilesetStyle('basemap', ['water', 'landuse', 'roads'], 16).stroked).toBe(false);
    expect(tilesetStyle('basemap', all('basemap'), 12).stroked).toBe(true);
    const near = tilesetStyle('basemap', all('basemap'), 15, { buildingOutlineMinZoom: 15 });
    const far = tilesetStyle('basemap', all('basemap'), 14.9, { buildingOutlineMinZoom: 15 });
    expect(near.stroked).toBe(true);
    expect(near.line(f('buildings'))).toEqual(getLayer('buildings')!.style.line);
    expect(far.stroked).toBe(false);
    expect(far.line(f('buildings'))).toEqual(TRANSPARENT);
    expect(far.key).not.toBe(near.key);
    expect(tilesetStyle('overlay', ['towns'], 10).stroked).toBe(true);
  });

  it('draws nothing for hidden or unknown source layers', () => {
    const s = tilesetStyle('basemap', ['roads'], 12);
    expect(s.fill(f('water'))).toEqual(TRANSPARENT);
    expect(s.line(f('roads', { class: 'local' }))).toEqual(getLayer('roads')!.style.categories!.local);
    expect(s.line(f('elsewhere'))).toEqual(TRANSPARENT);
    expect(s.text(f('places', { name: '常熟市', kind: 'city' }))).toBe('');
  });

  it('labels places by importance and zoom', () => {
    const far = tilesetStyle('basemap', all('basemap'), 8);
    const mid = tilesetStyle('basemap', all('basemap'), 10.5);
    const near = tilesetStyle('basemap', all('basemap'), 13);
    const town = f('places', { name: '梅李镇', kind: 'town' });
    const village = f('places', { name: '赵市村', kind: 'village' });
    expect(far.text(f('places', { name: '常熟市', kind: 'city' }))).toBe('常熟市');
    expect(far.text(town)).toBe('');
    expect(mid.text(town)).toBe('梅李镇');
    expect(mid.text(village)).toBe('');
    expect(near.text(village)).toBe('赵市村');
    expect(near.text(f('roads', { name: '海虞路' }))).toBe(''); // only point layers become text
  });

  it('changes its key exactly when what it draws changes', () => {
    const a = tilesetStyle('basemap', all('basemap'), 10.6);
    expect(tilesetStyle('basemap', all('basemap'), 10.9).key).toBe(a.key);
    expect(tilesetStyle('basemap', all('basemap'), 11.6).key).not.toBe(a.key);
    expect(tilesetStyle('basemap', ['water'], 10.6).key).not.toBe(a.key);
  });

  it('ranks unknown kinds by rank', () => {
    expect(labelMinZoom({ rank: 1 })).toBeLessThan(labelMinZoom({ rank: 3 }));
    expect(labelMinZoom({})).toBe(12);
    expect(labelSize({ kind: 'city' })).toBeGreaterThan(labelSize({ kind: 'village' }));
  });
});

describe('labelMinZoom', () => {
  it('understands the Chinese kinds the data uses', () => {
    expect(labelMinZoom({ kind: '镇' })).toBe(labelMinZoom({ kind: 'town' }));
    expect(labelMinZoom({ kind: '街道' })).toBe(labelMinZoom({ kind: 'town' }));
    expect(labelMinZoom({ kind: '社区' })).toBe(labelMinZoom({ kind: 'village' }));
    expect(labelMinZoom({ kind: '村' })).toBeGreaterThan(labelMinZoom({ kind: '镇' }));
  });
});
