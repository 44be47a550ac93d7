// Which catalog layers the map shows. Visibility starts from the catalog (`visibleByDefault`) and a
// layer is drawn only inside its catalog zoom range; only tiled layers are listed here for now.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { LAYERS, type LayerDef, type Tileset } from '../../../layers/catalog.ts';

export const TILED_LAYERS: readonly LayerDef[] = LAYERS.filter((l) => l.tiles);

/** Layer ids drawn at `zoom`, given the on/off switches. Ranges are inclusive of minzoom, exclusive of maxzoom. */
export function shownLayerIds(visible: Readonly<Record<string, boolean>>, zoom: number, tileset?: Tileset): string[] {
  return TILED_LAYERS.filter((l) => visible[l.id] && zoom >= l.minzoom && zoom < l.maxzoom
    && (tileset === undefined || l.tiles?.tileset === tileset)).map((l) => l.id);
}

export const useLayersStore = defineStore('layers', () => {
  const visible = ref<Record<string, boolean>>(Object.fromEntries(TILED_LAYERS.map((l) => [l.id, l.visibleByDefault])));

  function setVisible(id: string, on: boolean): void {
    if (!(id in visible.value)) {
      throw new Error(`Unknown tiled layer "${id}"; known: ${TILED_LAYERS.map((l) => l.id).join(', ')}`);
    }
    visible.value = { ...visible.value, [id]: on };
  }

  function toggle(id: string): void {
    setVisible(id, !visible.value[id]);
  }

  const visibleLayers = computed(() => TILED_LAYERS.filter((l) => visible.value[l.id]));

  return { visible, visibleLayers, setVisible, toggle, shownAt: (zoom: number, tileset?: Tileset) => shownLayerIds(visible.value, zoom, tileset) };
});
