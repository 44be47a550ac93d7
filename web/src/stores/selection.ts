// The feature the user picked and the one under the pointer. Tiles carry only a few attributes, so
// when a picked feature lacks some of its catalog fields the full feature is fetched from the OGC API
// (/ogc/collections/{layer}/items/{id}); names of the town, village and grid a feature refers to by
// code are looked up the same way. Features sit in shallowRefs: geometry is never made deep-reactive.
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { getLayer } from '../../../layers/catalog.ts';
import type { PickedFeature } from '../map/engine.ts';

/** Fields every feature of a layer has; optional ones (an address's 幢/单元/室) may be absent for good. */
const OPTIONAL_FIELDS = new Set(['synthetic', 'compound', 'building', 'unit', 'floor', 'room', 'building_id']);
/** Enough for a session of clicking around; older entries are dropped first. */
export const CACHE_SIZE = 100;

/** True when the picked feature lacks catalog fields that a full fetch would bring. */
export function needsDetails(f: PickedFeature): boolean {
  const layer = getLayer(f.layerId);
  if (!layer) return false;
  return layer.fields.some((fd) => !OPTIONAL_FIELDS.has(fd.name) && !(fd.name in f.properties));
}

export function featureUrl(baseUrl: string, layerId: string, id: string): string {
  return `${baseUrl}/ogc/collections/${encodeURIComponent(layerId)}/items/${encodeURIComponent(id)}`;
}

/** GET one feature's properties; errors carry the server's own message (JSON `{error: {message}}`) when there is one. */
export async function fetchFeatureProperties(baseUrl: string, layerId: string, id: string): Promise<Record<string, unknown>> {
  const res = await fetch(featureUrl(baseUrl, layerId, id), { headers: { accept: 'application/geo+json, application/json' } });
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) message = `HTTP ${res.status}: ${body.error.message}`;
    } catch { /* not JSON: keep the status */ }
    throw new Error(message);
  }
  const body = (await res.json()) as { properties?: Record<string, unknown> | null };
  return body.properties ?? {};
}

/** Attributes that hold another layer's id (codes of the administrative tiers and grids). */
export const CODE_LAYERS: Record<string, string> = { town_code: 'towns', village_code: 'villages', grid_code: 'grids' };

function defaultBaseUrl(): string {
  return typeof location !== 'undefined' ? location.origin : '';
}

export const useSelectionStore = defineStore('selection', () => {
  const selected = shallowRef<PickedFeature | null>(null);
  const hovered = shallowRef<PickedFeature | null>(null);
  /** The selected feature's attributes: the picked ones, replaced by the full set once fetched. */
  const properties = shallowRef<Record<string, unknown>>({});
  const loading = ref(false);
  /** Why fetching the full feature failed (shown with the layer and id), or null. */
  const error = ref<string | null>(null);
  /** Names by `${layerId}/${id}` (towns, villages, grids referred to by code). */
  const names = ref<Record<string, string>>({});
  const baseUrl = ref(defaultBaseUrl());

  const cache = new Map<string, Promise<Record<string, unknown>>>();
  /** Drops answers that arrive after the user picked something else. */
  let generation = 0;

  function cached(layerId: string, id: string): Promise<Record<string, unknown>> {
    const key = `${layerId}/${id}`;
    let p = cache.get(key);
    if (!p) {
      p = fetchFeatureProperties(baseUrl.value, layerId, id);
      p.catch(() => cache.delete(key)); // a failure may be retried
      cache.set(key, p);
      if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    return p;
  }

  async function loadDetails(): Promise<void> {
    const f = selected.value;
    if (!f) return;
    const gen = ++generation;
    loading.value = true;
    error.value = null;
    try {
      const full = await cached(f.layerId, f.id);
      if (gen !== generation) return;
      properties.value = { ...f.properties, ...full };
      resolveNames(properties.value);
    } catch (e) {
      if (gen !== generation) return;
      error.value = e instanceof Error ? e.message : String(e);
    } finally {
      if (gen === generation) loading.value = false;
    }
  }

  function select(f: PickedFeature | null): void {
    generation++;
    selected.value = f;
    properties.value = f ? { ...f.properties } : {};
    loading.value = false;
    error.value = null;
    if (f) resolveNames(f.properties);
    if (f && needsDetails(f)) void loadDetails();
  }

  function hover(f: PickedFeature | null): void {
    if (f?.layerId === hovered.value?.layerId && f?.id === hovered.value?.id) return; // pointer moves within one feature
    hovered.value = f;
  }

  function clear(): void {
    select(null);
    hovered.value = null;
  }

  /** Fetches, once each, the names of the town, village and grid these attributes refer to by code. */
  function resolveNames(props: Record<string, unknown>): void {
    for (const [field, layerId] of Object.entries(CODE_LAYERS)) {
      const id = props[field];
      if (typeof id !== 'string' || !id) continue;
      const key = `${layerId}/${id}`;
      if (key in names.value) continue;
      names.value = { ...names.value, [key]: '' };
      cached(layerId, id).then(
        (p) => { if (typeof p.name === 'string') names.value = { ...names.value, [key]: p.name }; },
        () => { /* the code is still shown; a missing name is not worth an error */ });
    }
  }

  /** The name of a town/village/grid by code once fetched, else undefined. */
  function nameOf(layerId: string, id: unknown): string | undefined {
    return typeof id === 'string' ? names.value[`${layerId}/${id}`] || undefined : undefined;
  }

  return { selected, hovered, properties, loading, error, names, baseUrl, select, hover, clear, retry: loadDetails, nameOf };
});
