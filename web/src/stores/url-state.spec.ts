import { describe, expect, it, vi } from 'vitest';
import { CITY } from '../../../layers/catalog.ts';
import { createUrlWriter, parseUrlState, serialiseUrlState, type UrlState } from './url-state.ts';
import { MAX_PITCH, MAX_ZOOM, initialView } from './view.ts';

const KNOWN = ['towns', 'villages', 'cameras', 'sensors'];

describe('url state', () => {
  it('parses a full permalink', () => {
    const s = parseUrlState('?view=3d&lon=120.8&lat=31.66&zoom=14&bearing=30&pitch=40&layers=cameras,towns&layout=wall', KNOWN);
    expect(s).toEqual({ engine: '3d', view: { lon: 120.8, lat: 31.66, zoom: 14, bearing: 30, pitch: 40 }, layers: ['cameras', 'towns'], layout: 'wall' });
  });

  it('round-trips parse(serialise(state)) up to the rounding it documents', () => {
    const state: UrlState = {
      engine: '2d', view: { lon: 120.7512345678, lat: 31.6543219876, zoom: 13.456, bearing: -45.25, pitch: 12.34 },
      layers: ['towns', 'sensors'], layout: 'desktop',
    };
    const q = serialiseUrlState(state);
    expect(q).toBe('?view=2d&lon=120.751235&lat=31.654322&zoom=13.46&bearing=-45.3&pitch=12.3&layers=towns,sensors');
    const back = parseUrlState(q, KNOWN);
    expect(back.engine).toBe('2d');
    expect(back.layers).toEqual(['towns', 'sensors']);
    expect(back.view.lon).toBeCloseTo(state.view.lon, 5);
    expect(back.view.lat).toBeCloseTo(state.view.lat, 5);
    expect(back.view.zoom).toBeCloseTo(state.view.zoom, 1);
    expect(Math.abs(back.view.bearing - state.view.bearing)).toBeLessThanOrEqual(0.05 + 1e-9);
    expect(serialiseUrlState(back)).toBe(q);
  });

  it('falls back to defaults on missing or bad values, never throws', () => {
    const def = parseUrlState('', KNOWN);
    expect(def).toEqual({ engine: '2d', view: initialView(), layers: null, layout: 'desktop' });
    const bad = parseUrlState('?view=4d&lon=abc&lat=&zoom=NaN&bearing=Infinity&pitch=x&layout=huge', KNOWN);
    expect(bad).toEqual(def);
    expect(() => parseUrlState('?%%%&lon=%E0%A4%A', KNOWN)).not.toThrow();
  });

  it('clamps zoom and pitch, drops a centre far from the city', () => {
    const s = parseUrlState('?lon=0&lat=0&zoom=40&pitch=120&bearing=370', KNOWN);
    expect([s.view.lon, s.view.lat]).toEqual(CITY.center);
    expect(s.view.zoom).toBe(MAX_ZOOM);
    expect(s.view.pitch).toBe(MAX_PITCH);
    expect(s.view.bearing).toBe(10);
    // Only one of lon/lat: the centre is incomplete, so the default is used.
    expect(parseUrlState('?lon=120.9', KNOWN).view.lon).toBe(CITY.center[0]);
  });

  it('ignores unknown and repeated layer ids; an empty list means no layer', () => {
    expect(parseUrlState('?layers=towns,nope,,towns,<script>', KNOWN).layers).toEqual(['towns']);
    expect(parseUrlState('?layers=', KNOWN).layers).toEqual([]);
  });

  it('keeps query params it does not own', () => {
    const q = serialiseUrlState(parseUrlState('', KNOWN), '?role=operator&zoom=3');
    expect(new URLSearchParams(q).get('role')).toBe('operator');
    expect(new URLSearchParams(q).getAll('zoom')).toEqual(['10.5']);
  });

  it('writes only the last state of a burst, once', () => {
    vi.useFakeTimers();
    const loc = { search: '', pathname: '/', hash: '' };
    const writes: string[] = [];
    const w = createUrlWriter(300, loc, (url) => { writes.push(url); loc.search = url.slice(1); });
    const s = parseUrlState('', KNOWN);
    for (let z = 10; z < 15; z++) w.write({ ...s, view: { ...s.view, zoom: z } });
    vi.advanceTimersByTime(299);
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(writes).toHaveLength(1);
    expect(new URLSearchParams(writes[0].slice(1)).get('zoom')).toBe('14');
    vi.useRealTimers();
  });
});
