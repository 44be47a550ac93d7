import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { LAYERS } from '../../../layers/catalog.ts';
import { TILED_LAYERS, shownLayerIds, useLayersStore } from './layers.ts';

describe('layers store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('lists every tiled catalog layer, visible as the catalog says', () => {
    const s = useLayersStore();
    expect(TILED_LAYERS.map((l) => l.id)).toEqual(LAYERS.filter((l) => l.tiles).map((l) => l.id));
    for (const l of TILED_LAYERS) expect(s.visible[l.id]).toBe(l.visibleByDefault);
  });

  it('shows a layer only inside its catalog zoom range', () => {
    const s = useLayersStore();
    const buildings = LAYERS.find((l) => l.id === 'buildings')!;
    expect(s.shownAt(buildings.minzoom - 0.5)).not.toContain('buildings');
    expect(s.shownAt(buildings.minzoom)).toContain('buildings');
    expect(s.shownAt(10.5, 'overlay')).toEqual(
      TILED_LAYERS.filter((l) => l.tiles!.tileset === 'overlay' && l.visibleByDefault && l.minzoom <= 10.5).map((l) => l.id));
  });

  it('toggles visibility and rejects unknown ids', () => {
    const s = useLayersStore();
    s.toggle('water');
    expect(s.visible.water).toBe(false);
    expect(s.shownAt(12)).not.toContain('water');
    expect(s.visibleLayers.map((l) => l.id)).not.toContain('water');
    s.setVisible('water', true);
    expect(s.shownAt(12)).toContain('water');
    expect(() => s.setVisible('nope', true)).toThrow(/Unknown tiled layer "nope"/);
  });

  it('filters by tileset', () => {
    const all = Object.fromEntries(TILED_LAYERS.map((l) => [l.id, true]));
    const basemap = shownLayerIds(all, 14, 'basemap');
    const overlay = shownLayerIds(all, 14, 'overlay');
    expect(basemap).toContain('roads');
    expect(basemap).not.toContain('towns');
    expect(overlay).toContain('towns');
    expect([...basemap, ...overlay].sort()).toEqual(shownLayerIds(all, 14).sort());
  });
});
