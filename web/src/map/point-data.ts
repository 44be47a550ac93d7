// Point layers (cameras, sensors, facilities, responders) for both engines, loaded once from the
// layer's FlatGeobuf (/data/{layer}.fgb) into typed arrays: 20k+ points stay out of Vue's reactivity
// and go to deck.gl as binary attributes and to Cesium as one PointPrimitiveCollection.
import { openFlatGeobuf, type FgbFile } from '../../../layers/formats/flatgeobuf.ts';
import type { LonLat } from './engine.ts';

export interface PointLayerData {
  layerId: string;
  count: number;
  /** lon, lat interleaved (WGS84). */
  positions: Float64Array;
  /** Attributes of point i, decoded on demand (picking, feature info). */
  properties(i: number): Record<string, unknown>;
  /** The value of one attribute for every point (styling by category), decoded once. */
  column(name: string): unknown[];
  position(i: number): LonLat;
}

export function pointLayerFromFgb(layerId: string, file: FgbFile): PointLayerData {
  const count = file.count;
  const positions = new Float64Array(count * 2);
  const props: Record<string, unknown>[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const f = file.feature(i);
    if (f.geometry?.type !== 'Point') {
      throw new Error(`图层 ${layerId} 的第 ${i} 个要素不是点 (layer ${layerId}: feature ${i} is ${f.geometry?.type}, expected Point)`);
    }
    positions[2 * i] = f.geometry.coordinates[0];
    positions[2 * i + 1] = f.geometry.coordinates[1];
    props[i] = f.properties ?? {};
  }
  const columns = new Map<string, unknown[]>();
  return {
    layerId,
    count,
    positions,
    properties: (i) => props[i],
    column(name) {
      let c = columns.get(name);
      if (!c) { c = props.map((p) => p[name]); columns.set(name, c); }
      return c;
    },
    position: (i) => [positions[2 * i], positions[2 * i + 1]],
  };
}

const cache = new Map<string, Promise<PointLayerData>>();

/** Loads /data/{layerId}.fgb once per page; a failed load is not cached, so a retry can succeed. */
export function loadPointLayer(layerId: string, baseUrl: string, fetchFn: typeof fetch = fetch): Promise<PointLayerData> {
  const key = `${baseUrl}|${layerId}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const res = await fetchFn(new URL(`/data/${encodeURIComponent(layerId)}.fgb`, baseUrl).href);
      if (!res.ok) throw new Error(`加载图层 ${layerId} 失败：HTTP ${res.status}（请确认已运行 npm start 构建数据）`);
      return pointLayerFromFgb(layerId, openFlatGeobuf(new Uint8Array(await res.arrayBuffer())));
    })();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
