// Which catalog layers the map shows and how: visibility (from the catalog's `visibleByDefault`),
// opacity, and the catalog panel's search text. `states` is what an engine gets (`setLayers`), one
// entry per catalog layer. A tiled layer is drawn only inside its catalog zoom range (`shownAt`).
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { DEPARTMENTS, LAYERS, type LayerDef, type Tileset } from '../../../layers/catalog.ts';
import type { EngineLayerState } from '../map/engine.ts';

export const TILED_LAYERS: readonly LayerDef[] = LAYERS.filter((l) => l.tiles);

/** Layer ids drawn at `zoom`, given the on/off switches. Ranges are inclusive of minzoom, exclusive of maxzoom. */
export function shownLayerIds(visible: Readonly<Record<string, boolean>>, zoom: number, tileset?: Tileset): string[] {
  return TILED_LAYERS.filter((l) => visible[l.id] && zoom >= l.minzoom && zoom < l.maxzoom
    && (tileset === undefined || l.tiles?.tileset === tileset)).map((l) => l.id);
}

/** Case-insensitive match of a search text against a layer's Chinese and English titles, id, department id and department title. */
export function layerMatches(layer: LayerDef, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const haystack = [layer.title, layer.titleEn, layer.id, layer.department, DEPARTMENTS[layer.department], layer.theme];
  return haystack.some((s) => s.toLowerCase().includes(q));
}

export type GroupBy = 'department' | 'theme';
export interface LayerGroup {
  /** Department id or theme title. */
  key: string;
  layers: LayerDef[];
}

/** Layers matching `query`, grouped by department or theme; groups and layers keep catalog order. */
export function groupLayers(layers: readonly LayerDef[], by: GroupBy, query = ''): LayerGroup[] {
  const groups = new Map<string, LayerDef[]>();
  for (const l of layers) {
    if (!layerMatches(l, query)) continue;
    const key = by === 'department' ? l.department : l.theme;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(l);
  }
  return [...groups].map(([key, ls]) => ({ key, layers: ls }));
}

function knownId(id: string): void {
  if (!LAYERS.some((l) => l.id === id)) {
    throw new Error(`Unknown layer "${id}"; known: ${LAYERS.map((l) => l.id).join(', ')}`);
  }
}

export const useLayersStore = defineStore('layers', () => {
  const visible = ref<Record<string, boolean>>(Object.fromEntries(LAYERS.map((l) => [l.id, l.visibleByDefault])));
  const opacity = ref<Record<string, number>>(Object.fromEntries(LAYERS.map((l) => [l.id, 1])));
  const search = ref('');
  const groupBy = ref<GroupBy>('department');

  function setVisible(id: string, on: boolean): void {
    knownId(id);
    visible.value = { ...visible.value, [id]: on };
  }

  function toggle(id: string): void {
    setVisible(id, !visible.value[id]);
  }

  /** Shows exactly these layers (e.g. from a shared link); throws on an unknown id before changing anything. */
  function showOnly(ids: readonly string[]): void {
    ids.forEach(knownId);
    visible.value = Object.fromEntries(LAYERS.map((l) => [l.id, ids.includes(l.id)]));
  }

  /** Opacity 0–1; values outside are clamped, a non-number is an error. */
  function setOpacity(id: string, v: number): void {
    knownId(id);
    if (!Number.isFinite(v)) throw new Error(`Opacity of "${id}" must be a number between 0 and 1 (got ${v})`);
    opacity.value = { ...opacity.value, [id]: Math.min(1, Math.max(0, v)) };
  }

  function setSearch(text: string): void {
    search.value = text;
  }

  const visibleLayers = computed(() => LAYERS.filter((l) => visible.value[l.id]));
  const states = computed<EngineLayerState[]>(() =>
    LAYERS.map((l) => ({ id: l.id, visible: !!visible.value[l.id], opacity: opacity.value[l.id] ?? 1 })));
  const groups = computed(() => groupLayers(LAYERS, groupBy.value, search.value));

  return {
    visible, opacity, search, groupBy, visibleLayers, states, groups,
    setVisible, toggle, showOnly, setOpacity, setSearch,
    shownAt: (zoom: number, tileset?: Tileset) => shownLayerIds(visible.value, zoom, tileset),
  };
});
