// Which catalog layers the map shows and how: visibility (from the catalog's `visibleByDefault`),
// opacity, and the catalog panel's search text. `states` is what an engine gets (`setLayers`), one
// entry per catalog layer. A tiled layer is drawn only inside its catalog zoom range (`shownAt`).
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
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

/** What GET /api/layers says the user may see of a layer (issue 10): 'full', under a sharing 'grant', or 'none'. */
export type LayerAccessKind = 'full' | 'grant' | 'none';

export const useLayersStore = defineStore('layers', () => {
  const visible = ref<Record<string, boolean>>(Object.fromEntries(LAYERS.map((l) => [l.id, l.visibleByDefault])));
  /** Per layer, from GET /api/layers; a layer not (yet) listed counts as allowed, so the map works before the answer. */
  const access = ref<Record<string, LayerAccessKind>>({});
  /** Layers whose data must be fetched again (a grant came, changed or went): App.vue hands it to engine.refreshLayers. */
  const dataRefresh = shallowRef<{ layers: string[]; revision: number } | null>(null);
  let refreshes = 0;
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

  /**
   * GET /api/layers → each layer's `access`. Layers whose access changed, and `changed` (e.g. a grant's scope moved),
   * are queued for a data reload. A failure keeps the last answer (the server refuses the data anyway).
   */
  async function loadAccess(changed: readonly string[] = [], fetchFn: typeof fetch = (u, i) => fetch(u, i), baseUrl = typeof location !== 'undefined' ? location.origin : ''): Promise<void> {
    let layers: { id: string; access?: LayerAccessKind }[];
    try {
      const r = await fetchFn(`${baseUrl}/api/layers`, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!r.ok) return;
      layers = ((await r.json()) as { layers: { id: string; access?: LayerAccessKind }[] }).layers;
    } catch {
      return;
    }
    const next: Record<string, LayerAccessKind> = {};
    for (const l of layers) if (l.access) next[l.id] = l.access;
    // Only a change of known rights reloads: the first answer finds the data loaded under the rights it states.
    const moved = LAYERS.filter((l) => next[l.id] !== undefined && access.value[l.id] !== undefined && next[l.id] !== access.value[l.id]).map((l) => l.id);
    access.value = { ...access.value, ...next };
    const reload = [...new Set([...moved, ...changed])];
    if (reload.length) dataRefresh.value = { layers: reload, revision: Date.now() * 10 + (++refreshes % 10) };
  }

  const usable = (id: string) => access.value[id] !== 'none';
  const visibleLayers = computed(() => LAYERS.filter((l) => visible.value[l.id] && usable(l.id)));
  // A layer without access is never drawn: the engine would only get 403s for it.
  const states = computed<EngineLayerState[]>(() =>
    LAYERS.map((l) => ({ id: l.id, visible: !!visible.value[l.id] && usable(l.id), opacity: opacity.value[l.id] ?? 1 })));
  const groups = computed(() => groupLayers(LAYERS, groupBy.value, search.value));

  return {
    visible, opacity, search, groupBy, visibleLayers, states, groups, access, dataRefresh,
    setVisible, toggle, showOnly, setOpacity, setSearch, loadAccess,
    shownAt: (zoom: number, tileset?: Tileset) => shownLayerIds(visible.value, zoom, tileset),
  };
});
