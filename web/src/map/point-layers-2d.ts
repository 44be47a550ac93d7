// Catalog point layers (cameras, sensors, facilities, responders, addresses) as deck.gl binary data:
// positions and colours are typed arrays handed straight to the GPU, so 20k sensors cost one buffer
// upload, not 20k accessor calls. Below CLUSTER_BELOW_ZOOM the points are aggregated into screen-sized
// grid cells with counts (level of detail): at city zoom 20k dots are noise and overdraw.
import type { LayerDef } from '../../../layers/catalog.ts';
import type { PointLayerData } from './point-data.ts';

/** Full points from this zoom on; grid clusters below it. */
export const CLUSTER_BELOW_ZOOM = 13;
/** Cell size of the cluster grid in CSS pixels (zoom is deck.gl's, 512-px tiles). */
export const CLUSTER_CELL_PX = 64;

export type RGBA = [number, number, number, number];

/** Distinct, readable colours for category values the catalog gives no colour (e.g. facility departments). */
const PALETTE: RGBA[] = [
  [31, 119, 180, 255], [255, 127, 14, 255], [44, 160, 44, 255], [214, 39, 40, 255], [148, 103, 189, 255],
  [140, 86, 75, 255], [227, 119, 194, 255], [127, 127, 127, 255], [188, 189, 34, 255], [23, 190, 207, 255],
];
const DEFAULT_POINT: RGBA = [60, 60, 60, 255];

/** Stable colour of a category value without a catalog colour (same value, same colour, every run). */
export function paletteColour(value: string): RGBA {
  let h = 0;
  for (let i = 0; i < value.length; i++) h = (h * 31 + value.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

/** RGBA per point (Uint8Array, 4 per point) from the catalog style: `by` + `categories`, else `fill`. */
export function pointColours(layer: LayerDef, count: number, column: (name: string) => unknown[]): Uint8Array {
  const out = new Uint8Array(count * 4);
  const s = layer.style;
  const values = s.by ? column(s.by) : null;
  const cache = new Map<string, RGBA>();
  for (let i = 0; i < count; i++) {
    let c: RGBA = s.fill ?? DEFAULT_POINT;
    if (values) {
      const v = String(values[i]);
      let hit = cache.get(v);
      if (!hit) { hit = s.categories?.[v] ?? paletteColour(v); cache.set(v, hit); }
      c = hit;
    }
    out.set(c, i * 4);
  }
  return out;
}

export interface Clusters {
  count: number;
  /** lon, lat of each cell's mean position (interleaved). */
  positions: Float64Array;
  /** Points per cell. */
  counts: Uint32Array;
  /** First member index of each cell (a single-point cell picks that point). */
  first: Uint32Array;
}

/** Cell size in degrees of longitude for CLUSTER_CELL_PX pixels at deck.gl zoom `zoom`. */
export function cellDegrees(zoom: number, cellPx = CLUSTER_CELL_PX): number {
  return (cellPx * 360) / (512 * 2 ** zoom);
}

/**
 * Aggregates interleaved lon/lat `positions` into square cells of `cellDeg` degrees (latitude cells
 * are scaled by 1/cos(lat0) so cells are square on screen near the city). One pass, O(n).
 */
export function gridClusters(positions: Float64Array, cellDeg: number, lat0: number): Clusters {
  const n = positions.length / 2;
  const cellLat = cellDeg * Math.cos((lat0 * Math.PI) / 180);
  const cells = new Map<string, number>();
  const sx: number[] = [], sy: number[] = [], cnt: number[] = [], first: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = positions[2 * i], y = positions[2 * i + 1];
    const key = `${Math.floor(x / cellDeg)},${Math.floor(y / cellLat)}`;
    let c = cells.get(key);
    if (c === undefined) {
      c = cnt.length;
      cells.set(key, c);
      sx.push(0); sy.push(0); cnt.push(0); first.push(i);
    }
    sx[c] += x; sy[c] += y; cnt[c] += 1;
  }
  const m = cnt.length;
  const out: Clusters = { count: m, positions: new Float64Array(2 * m), counts: new Uint32Array(cnt), first: new Uint32Array(first) };
  for (let c = 0; c < m; c++) {
    out.positions[2 * c] = sx[c] / cnt[c];
    out.positions[2 * c + 1] = sy[c] / cnt[c];
  }
  return out;
}

/** Binary point set ready for a ScatterplotLayer: typed positions (fp64 on the GPU) and colours. */
export interface BinaryPoints {
  layerId: string;
  data: PointLayerData;
  colours: Uint8Array;
  /** Clusters per integer zoom, computed on first use. */
  clusters: Map<number, Clusters>;
}

export function binaryPoints(layer: LayerDef, data: PointLayerData): BinaryPoints {
  return { layerId: layer.id, data, colours: pointColours(layer, data.count, data.column), clusters: new Map() };
}

export function clustersAt(points: BinaryPoints, zoom: number, lat0: number): Clusters {
  const z = Math.floor(zoom);
  let c = points.clusters.get(z);
  if (!c) { c = gridClusters(points.data.positions, cellDegrees(z), lat0); points.clusters.set(z, c); }
  return c;
}
