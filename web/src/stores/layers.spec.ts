import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { LAYERS } from '../../../layers/catalog.ts';
import { TILED_LAYERS, groupLayers, layerMatches, shownLayerIds, useLayersStore } from './layers.ts';

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
    expect(() => s.setVisible('nope', true)).toThrow(/Unknown layer "nope"/);
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

  it('keeps visibility for every catalog layer, tiled or not', () => {
    const s = useLayersStore();
    for (const l of LAYERS) expect(s.visible[l.id]).toBe(l.visibleByDefault);
    s.toggle('cameras');
    expect(s.visible.cameras).toBe(!LAYERS.find((l) => l.id === 'cameras')!.visibleByDefault);
  });

  it('computes one engine state per catalog layer from visibility and opacity', () => {
    const s = useLayersStore();
    expect(s.states.map((x) => x.id)).toEqual(LAYERS.map((l) => l.id));
    expect(s.states.every((x) => x.opacity === 1)).toBe(true);
    s.setOpacity('water', 0.4);
    s.setVisible('sensors', true);
    s.setVisible('water', false);
    expect(s.states.find((x) => x.id === 'water')).toEqual({ id: 'water', visible: false, opacity: 0.4 });
    expect(s.states.find((x) => x.id === 'sensors')!.visible).toBe(true);
    s.setOpacity('water', 7);
    expect(s.opacity.water).toBe(1);
    s.setOpacity('water', -1);
    expect(s.opacity.water).toBe(0);
    expect(() => s.setOpacity('water', Number.NaN)).toThrow(/between 0 and 1/);
    expect(() => s.setOpacity('nope', 0.5)).toThrow(/Unknown layer "nope"/);
  });

  it('shows exactly the listed layers, or nothing changes on an unknown id', () => {
    const s = useLayersStore();
    s.showOnly(['cameras', 'roads']);
    expect(s.visibleLayers.map((l) => l.id).sort()).toEqual(['cameras', 'roads']);
    expect(() => s.showOnly(['water', 'nope'])).toThrow(/nope/);
    expect(s.visibleLayers.map((l) => l.id).sort()).toEqual(['cameras', 'roads']);
  });

  it('searches Chinese and English titles, ids and departments', () => {
    const water = LAYERS.find((l) => l.id === 'water')!;
    expect(layerMatches(water, '水系')).toBe(true);
    expect(layerMatches(water, 'WAT')).toBe(true);
    expect(layerMatches(water, '水务局')).toBe(true);
    expect(layerMatches(water, '  ')).toBe(true);
    expect(layerMatches(water, '公安')).toBe(false);
    const s = useLayersStore();
    s.setSearch('公安局');
    expect(s.groups.flatMap((g) => g.layers.map((l) => l.id))).toEqual(['cameras']);
    s.setSearch('zzz');
    expect(s.groups).toEqual([]);
  });

  it('groups by department or theme in catalog order, every layer exactly once', () => {
    const byDept = groupLayers(LAYERS, 'department');
    const byTheme = groupLayers(LAYERS, 'theme');
    for (const groups of [byDept, byTheme]) {
      expect(groups.flatMap((g) => g.layers.map((l) => l.id)).sort()).toEqual(LAYERS.map((l) => l.id).sort());
    }
    expect(byDept.find((g) => g.key === 'civil')!.layers.map((l) => l.id)).toEqual(
      LAYERS.filter((l) => l.department === 'civil').map((l) => l.id));
    expect(byTheme.map((g) => g.key)).toEqual([...new Set(LAYERS.map((l) => l.theme))]);
  });
});

describe('layers store: access from GET /api/layers (issue 10)', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('never draws a layer without access, and queues a data reload when access changes', async () => {
    const s = useLayersStore();
    s.setVisible('hazards', true);
    expect(s.states.find((l) => l.id === 'hazards')!.visible).toBe(true);
    let answer = { layers: [{ id: 'hazards', access: 'none' }, { id: 'roads', access: 'full' }] };
    const fetchFn = (async (url: string) => {
      expect(url).toBe('http://h/api/layers');
      return new Response(JSON.stringify(answer), { status: 200 });
    }) as typeof fetch;
    await s.loadAccess([], fetchFn, 'http://h');
    expect(s.states.find((l) => l.id === 'hazards')!.visible).toBe(false);
    expect(s.visibleLayers.map((l) => l.id)).not.toContain('hazards');
    // The first answer reloads nothing: nothing was loaded under other rights.
    expect(s.dataRefresh).toBeNull();
    answer = { layers: [{ id: 'hazards', access: 'grant' }, { id: 'roads', access: 'full' }] };
    await s.loadAccess([], fetchFn, 'http://h');
    expect(s.states.find((l) => l.id === 'hazards')!.visible).toBe(true);
    expect(s.dataRefresh?.layers).toEqual(['hazards']);
    const first = s.dataRefresh!.revision;
    answer = { layers: [{ id: 'hazards', access: 'none' }, { id: 'roads', access: 'full' }] };
    await s.loadAccess([], fetchFn, 'http://h');
    expect(s.states.find((l) => l.id === 'hazards')!.visible).toBe(false);
    expect(s.dataRefresh!.revision).not.toBe(first);
    // Same access, but the caller knows the grant's scope moved: reload anyway.
    await s.loadAccess(['hazards'], fetchFn, 'http://h');
    expect(s.dataRefresh?.layers).toEqual(['hazards']);
  });
});
