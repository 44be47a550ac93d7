import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { CITY } from '../../../layers/catalog.ts';
import { BOUNDS_MARGIN, INITIAL_ZOOM, MAX_PITCH, MAX_ZOOM, MIN_ZOOM, clampView, initialView, useViewStore } from './view.ts';

describe('view store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('starts centred on the city from the catalog, in 2D, desktop layout', () => {
    const s = useViewStore();
    expect(s.view).toEqual({ lon: CITY.center[0], lat: CITY.center[1], zoom: INITIAL_ZOOM, pitch: 0, bearing: 0 });
    expect(s.engine).toBe('2d');
    expect(s.layout).toBe('desktop');
  });

  it('clamps zoom to [MIN_ZOOM, MAX_ZOOM] and returns the view it applied', () => {
    const s = useViewStore();
    expect(s.setView({ ...s.view, zoom: 30 }).zoom).toBe(MAX_ZOOM);
    expect(s.view.zoom).toBe(MAX_ZOOM);
    expect(s.setView({ ...s.view, zoom: 1 }).zoom).toBe(MIN_ZOOM);
    expect(s.setView({ ...s.view, zoom: 12.25 }).zoom).toBe(12.25);
  });

  it('keeps the centre near the city and pitch within range', () => {
    const s = useViewStore();
    const v = s.setView({ lon: 0, lat: 89, pitch: 95, zoom: 12 });
    expect(v.lon).toBeCloseTo(CITY.bounds[0] - BOUNDS_MARGIN, 10);
    expect(v.lat).toBeCloseTo(CITY.bounds[3] + BOUNDS_MARGIN, 10);
    expect(v.pitch).toBe(MAX_PITCH);
  });

  it('keeps the previous value when a field is missing or not finite', () => {
    const s = useViewStore();
    s.setView({ lon: 120.8, lat: 31.7, zoom: 13 });
    const v = s.setView({ zoom: Number.NaN, lon: Number.POSITIVE_INFINITY });
    expect(v.zoom).toBe(13);
    expect(v.lon).toBe(120.8);
    expect(v.lat).toBe(31.7);
  });

  it('wraps bearing into [-180, 180)', () => {
    expect(clampView({ bearing: 190 }).bearing).toBe(-170);
    expect(clampView({ bearing: -190 }).bearing).toBe(170);
    expect(clampView({ bearing: 45 }).bearing).toBe(45);
  });

  it('reset returns to the initial view; engine and layout switch', () => {
    const s = useViewStore();
    s.setView({ zoom: 15, lon: 120.9 });
    expect(s.reset()).toEqual(initialView());
    s.setEngine('3d');
    s.setLayout('wall');
    expect([s.engine, s.layout]).toEqual(['3d', 'wall']);
  });
});
