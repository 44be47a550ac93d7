import { describe, expect, it } from 'vitest';
import { encodeFlatGeobuf, openFlatGeobuf } from '../../../layers/formats/flatgeobuf.ts';
import { fitBboxView, placesFromFgb, searchPlaces, type Place } from './places-index.ts';
import { niceScale } from './scale-bar.ts';

const box = (w: number, s: number, e: number, n: number): GeoJSON.Polygon => ({ type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] });

describe('places index', () => {
  const villages = openFlatGeobuf(encodeFlatGeobuf([
    { type: 'Feature', properties: { id: 'v1', code: '320581101201', name: '梅李村', town_name: '梅李镇' }, geometry: box(120.8, 31.7, 120.82, 31.72) },
    { type: 'Feature', properties: { id: 'v2', code: '320581101202', name: '新梅村', town_name: '梅李镇' }, geometry: box(120.83, 31.7, 120.85, 31.71) },
  ], { layerName: 'villages' }));
  const towns: Place[] = [{ layerId: 'towns', id: 't1', code: '320581101', name: '梅李镇', bbox: [120.75, 31.65, 120.9, 31.75] }];
  const places = [...placesFromFgb('villages', villages), ...towns];

  it('reads names, codes, parents and bounding boxes from FlatGeobuf', () => {
    expect(places[0]).toEqual({ layerId: 'villages', id: 'v1', code: '320581101201', name: '梅李村', parent: '梅李镇', bbox: [120.8, 31.7, 120.82, 31.72] });
  });

  it('ranks prefix matches before substrings, towns before villages, and matches codes', () => {
    expect(searchPlaces(places, '梅李').map((p) => p.id)).toEqual(['t1', 'v1']);
    expect(searchPlaces(places, '梅').map((p) => p.id)).toEqual(['t1', 'v1', 'v2']);
    expect(searchPlaces(places, ' 3205811012 02').map((p) => p.id)).toEqual(['v2']);
    expect(searchPlaces(places, '32058110120').map((p) => p.id)).toEqual(['v1', 'v2']);
    expect(searchPlaces(places, '')).toEqual([]);
    expect(searchPlaces(places, '虞山')).toEqual([]);
  });

  it('frames a bbox: centred, and zoomed so that it fits the padded map', () => {
    const v = fitBboxView([120.7, 31.6, 120.8, 31.7], 1000, 800, 50);
    expect(v.lon).toBeCloseTo(120.75, 9);
    expect(v.lat).toBeGreaterThan(31.6499);
    expect(v.lat).toBeLessThan(31.6501);
    // 0.1° of longitude at zoom z spans 0.1/360·512·2^z px: must fit in 900 px.
    expect((0.1 / 360) * 512 * 2 ** v.zoom).toBeLessThanOrEqual(900 + 1e-6);
    expect(fitBboxView([120.7, 31.6, 120.7, 31.6], 1000, 800).zoom).toBe(17);
  });
});

describe('scale bar', () => {
  it('picks 1/2/5 × 10^k lengths that fit, in metres or kilometres', () => {
    expect(niceScale(1, 100)).toEqual({ meters: 100, px: 100, unit: 'm', value: 100 });
    expect(niceScale(3, 100)).toMatchObject({ meters: 200, unit: 'm', value: 200 });
    expect(niceScale(30, 100)).toMatchObject({ meters: 2000, unit: 'km', value: 2 });
    expect(niceScale(55, 100)).toMatchObject({ meters: 5000, unit: 'km', value: 5 });
    expect(niceScale(0.004, 100)).toMatchObject({ meters: 0.2, unit: 'm' });
    for (const mpp of [0.3, 7, 123, 999]) expect(niceScale(mpp, 120)!.px).toBeLessThanOrEqual(120);
    expect(niceScale(Number.NaN)).toBeNull();
    expect(niceScale(0)).toBeNull();
  });
});
