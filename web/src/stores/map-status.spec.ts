import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { MAX_SHOWN_ERRORS, useMapStatusStore } from './map-status.ts';

describe('map status store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('counts tiles and distinct label names', () => {
    const s = useMapStatusStore();
    s.recordTile(['常熟市', '梅李镇']);
    s.recordTile(['梅李镇']);
    s.recordTile([]);
    expect(s.tilesLoaded).toBe(3);
    expect(s.labelFeatures).toBe(3);
    expect([...s.labelNames]).toEqual(['常熟市', '梅李镇']);
  });

  it('is ready only when every expected tileset loaded its viewport', () => {
    const s = useMapStatusStore();
    expect(s.recordViewportLoad('basemap', ['basemap', 'overlay'])).toBe(false);
    expect(s.recordViewportLoad('basemap', ['basemap', 'overlay'])).toBe(false);
    expect(s.recordViewportLoad('overlay', ['basemap', 'overlay'])).toBe(true);
  });

  it('keeps the first errors and counts the rest', () => {
    const s = useMapStatusStore();
    for (let i = 0; i < MAX_SHOWN_ERRORS + 3; i++) s.recordError('tileFailed', { tileset: 'basemap', detail: `e${i}` });
    expect(s.errors).toHaveLength(MAX_SHOWN_ERRORS);
    expect(s.errors[0]).toEqual({ key: 'tileFailed', params: { tileset: 'basemap', detail: 'e0' } });
    expect(s.errorCount).toBe(MAX_SHOWN_ERRORS + 3);
  });

  it('merges attribution parts of all tilesets without repeats', () => {
    const s = useMapStatusStore();
    s.setAttribution('basemap', 'A (MIT); 国家统计局');
    s.setAttribution('overlay', '国家统计局；B');
    expect(s.attributionParts).toEqual(['A (MIT)', '国家统计局', 'B']);
  });
});
