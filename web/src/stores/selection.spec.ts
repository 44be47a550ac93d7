import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { PickedFeature } from '../map/engine.ts';
import { featureUrl, needsDetails, useSelectionStore } from './selection.ts';

const FULL_CAMERA = {
  id: 'cam-1', name: '安亭路与榆丰路路口东南角', kind: '人脸卡口', height_m: 5.9, heading: 239.5, fov: 58, range_m: 35,
  status: 'online', department: 'police', grid_code: 'g-1', synthetic: true,
};
const camera = (props: Record<string, unknown>): PickedFeature => ({ layerId: 'cameras', id: 'cam-1', properties: props, lonLat: [120.6, 31.5] });

/** A fake server: feature properties by URL path, or an error status. */
function fakeFetch(features: Record<string, Record<string, unknown>>) {
  return vi.fn(async (url: string) => {
    const path = new URL(url).pathname;
    const props = features[decodeURIComponent(path)];
    if (!props) return new Response(JSON.stringify({ error: { code: 'unknown_feature', message: '没有要素' } }), { status: 404 });
    return new Response(JSON.stringify({ type: 'Feature', id: props.id, properties: props, geometry: null }), { status: 200 });
  });
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('selection store', () => {
  beforeEach(() => setActivePinia(createPinia()));
  afterEach(() => vi.unstubAllGlobals());

  it('knows when a picked feature lacks catalog fields', () => {
    expect(needsDetails(camera({ id: 'cam-1', status: 'online' }))).toBe(true);
    expect(needsDetails(camera(FULL_CAMERA))).toBe(false);
    // optional address parts (幢/单元/室) do not count as missing
    expect(needsDetails({ layerId: 'addresses', id: 'a', lonLat: [0, 0], properties: {
      id: 'a', code: '1', full: 'x', level: 'door', town_code: 't', village_code: 'v', grid_code: 'g', road: 'r', houseno: '1号' } })).toBe(false);
    expect(needsDetails({ layerId: 'not-a-layer', id: 'x', lonLat: [0, 0], properties: {} })).toBe(false);
    expect(featureUrl('http://127.0.0.1:1', 'towns', '镇 1')).toBe('http://127.0.0.1:1/ogc/collections/towns/items/%E9%95%87%201');
  });

  it('selects, hovers and clears', () => {
    vi.stubGlobal('fetch', fakeFetch({}));
    const s = useSelectionStore();
    s.baseUrl = 'http://127.0.0.1:1';
    const f = camera(FULL_CAMERA);
    s.select(f);
    expect(s.selected).toStrictEqual(f);
    expect(s.properties.name).toBe(FULL_CAMERA.name);
    expect(s.loading).toBe(false);
    s.hover(f);
    expect(s.hovered?.id).toBe('cam-1');
    s.clear();
    expect(s.selected).toBeNull();
    expect(s.hovered).toBeNull();
    expect(s.properties).toEqual({});
  });

  it('fetches the full feature when the tile carried only a few attributes, and names by code', async () => {
    const fetch = fakeFetch({
      '/ogc/collections/cameras/items/cam-1': FULL_CAMERA,
      '/ogc/collections/grids/items/g-1': { id: 'g-1', name: '张家桥村第5网格' },
    });
    vi.stubGlobal('fetch', fetch);
    const s = useSelectionStore();
    s.baseUrl = 'http://127.0.0.1:1';
    s.select(camera({ id: 'cam-1', status: 'online' }));
    expect(s.loading).toBe(true);
    await flush(); await flush();
    expect(s.loading).toBe(false);
    expect(s.error).toBeNull();
    expect(s.properties).toEqual(FULL_CAMERA);
    expect(s.nameOf('grids', 'g-1')).toBe('张家桥村第5网格');
    // a second selection of the same feature is served from the cache
    s.select(camera({ id: 'cam-1' }));
    await flush();
    expect(fetch.mock.calls.filter(([u]) => String(u).endsWith('/cameras/items/cam-1'))).toHaveLength(1);
  });

  it('reports a failed fetch with the server message, and retries', async () => {
    const features: Record<string, Record<string, unknown>> = {};
    vi.stubGlobal('fetch', fakeFetch(features));
    const s = useSelectionStore();
    s.baseUrl = 'http://127.0.0.1:1';
    s.select(camera({ id: 'cam-1' }));
    await flush(); await flush();
    expect(s.loading).toBe(false);
    expect(s.error).toBe('HTTP 404: 没有要素');
    features['/ogc/collections/cameras/items/cam-1'] = FULL_CAMERA;
    await s.retry();
    expect(s.error).toBeNull();
    expect(s.properties.fov).toBe(58);
  });

  it('ignores an answer that arrives after another feature was picked', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    vi.stubGlobal('fetch', vi.fn(async () => {
      await gate;
      return new Response(JSON.stringify({ properties: FULL_CAMERA }), { status: 200 });
    }));
    const s = useSelectionStore();
    s.baseUrl = 'http://127.0.0.1:1';
    s.select(camera({ id: 'cam-1' }));
    const town: PickedFeature = { layerId: 'towns', id: 't', lonLat: [0, 0], properties: { id: 't', code: 't', name: '辛庄镇', kind: '镇' } };
    s.select(town);
    release();
    await flush(); await flush();
    expect(s.selected?.layerId).toBe('towns');
    expect(s.properties.name).toBe('辛庄镇');
    expect(s.loading).toBe(false);
  });
});
