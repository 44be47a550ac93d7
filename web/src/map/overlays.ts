// Analysis overlays: what the analyst panel, the hot-spot layer and the lookup card ask both engines to
// draw above the catalog layers (MapEngine.setOverlays). Plain data, already styled, so deck.gl and
// Cesium draw the same thing; the builders here are pure (no DOM), tested in overlays.spec.ts.
import type { LonLat } from './engine.ts';

export type Rgba = [number, number, number, number];

/** A raster over a lon/lat rectangle; row 0 is the north edge. Cells with alpha 0 are not drawn. */
export interface GridOverlay {
  kind: 'grid';
  id: string;
  bounds: [west: number, south: number, east: number, north: number];
  width: number;
  height: number;
  /** width × height × 4 bytes, row-major from the north-west corner. */
  rgba: Uint8ClampedArray;
}

export interface Marker { lonLat: LonLat; radiusPx: number; fill: Rgba; line?: Rgba; label?: string }
export interface MarkerOverlay { kind: 'markers'; id: string; markers: Marker[] }

/** Shapes outlined (and, for polygons, filled); points among them are drawn as rings of `pointRadiusPx`. */
export interface GeometryOverlay {
  kind: 'geometries';
  id: string;
  geometries: GeoJSON.Geometry[];
  fill: Rgba;
  line: Rgba;
  lineWidthPx: number;
  pointRadiusPx?: number;
}

/** One filled area of an AreaOverlay (a town, village or grid of an indicator's choropleth, issue 10). */
export interface Area { id: string; geometry: GeoJSON.Polygon | GeoJSON.MultiPolygon; fill: Rgba; label?: string; labelAt?: LonLat }

/** Areas each filled with its own colour (a choropleth): one layer for all of them in 2D, one batched ground
 *  primitive in 3D. Drawn under the point layers, like a background. */
export interface AreaOverlay { kind: 'areas'; id: string; areas: Area[]; line: Rgba; lineWidthPx: number }
/** Area labels sit this far below their point: a layer's own name label is usually drawn at about the same place. */
export const AREA_LABEL_OFFSET_PX = 16;

export type MapOverlay = GridOverlay | MarkerOverlay | GeometryOverlay | AreaOverlay;

/** The hot-spot density grid as /api/hotspots returns it (tile-server/query-api.ts; layers/query/hotspot.ts). */
export interface DensityGrid {
  west: number; south: number; east: number; north: number;
  cols: number; rows: number; cellM: number; max: number;
  values: ArrayLike<number>;
}

/** Yellow → orange → red → dark red: sequential, readable on the light basemap (ColorBrewer YlOrRd). */
export const DENSITY_RAMP: readonly Rgba[] = [
  [255, 237, 160, 0], [254, 178, 76, 150], [253, 141, 60, 180], [240, 59, 32, 205], [189, 0, 38, 230],
];
/** Below this share of the maximum a cell is left transparent, so the basemap shows between hot spots. */
export const DENSITY_FLOOR = 0.04;

/** The ramp colour for t ∈ [0, 1], interpolated between stops. */
export function rampColour(t: number, ramp: readonly Rgba[] = DENSITY_RAMP): Rgba {
  const x = Math.min(1, Math.max(0, t)) * (ramp.length - 1);
  const i = Math.min(ramp.length - 2, Math.floor(x));
  const f = x - i;
  const a = ramp[i], b = ramp[i + 1];
  return [0, 1, 2, 3].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as Rgba;
}

/** The density grid coloured by the ramp (square-root scaled: a few very hot cells would wash out the rest); zeros transparent. */
export function densityOverlay(grid: DensityGrid, id = 'hotspot-density'): GridOverlay | null {
  const { cols, rows, max, values } = grid;
  if (!(cols > 0 && rows > 0) || values.length !== cols * rows) return null;
  const rgba = new Uint8ClampedArray(cols * rows * 4);
  // Transparent cells carry the ramp's first colour, not black: linear texture filtering blends
  // neighbours' RGB, and black would draw dark fringes around every hot spot (seen in Cesium).
  const [r0, g0, b0] = DENSITY_RAMP[0];
  for (let i = 0; i < rgba.length; i += 4) { rgba[i] = r0; rgba[i + 1] = g0; rgba[i + 2] = b0; }
  if (max > 0) {
    for (let i = 0; i < cols * rows; i++) {
      const t = values[i] / max;
      if (!(t > DENSITY_FLOOR)) continue; // NaN and zeros stay transparent
      const c = rampColour(Math.sqrt((t - DENSITY_FLOOR) / (1 - DENSITY_FLOOR)));
      rgba.set(c, i * 4);
    }
  }
  return { kind: 'grid', id, bounds: [grid.west, grid.south, grid.east, grid.north], width: cols, height: rows, rgba };
}

export interface ClusterSummary { id: number | string; count: number; center: LonLat }
const CLUSTER_FILL: Rgba = [120, 0, 60, 210];

/** One marker per cluster, sized by its count (log scale), labelled with the count. */
export function clusterOverlay(clusters: readonly ClusterSummary[], id = 'hotspot-clusters'): MarkerOverlay {
  return {
    kind: 'markers', id,
    markers: clusters.map((c) => ({
      lonLat: [c.center[0], c.center[1]] as LonLat,
      radiusPx: Math.min(24, 7 + 3 * Math.log2(Math.max(1, c.count))),
      fill: CLUSTER_FILL, line: [255, 255, 255, 255], label: String(c.count),
    })),
  };
}

export const QUERY_SHAPE_STYLE = { fill: [20, 110, 220, 40] as Rgba, line: [20, 110, 220, 230] as Rgba, lineWidthPx: 2 };
export const RESULT_STYLE = { fill: [0, 170, 140, 60] as Rgba, line: [0, 140, 110, 230] as Rgba, lineWidthPx: 2, pointRadiusPx: 5 };
export const FOCUS_STYLE = { fill: [255, 90, 0, 70] as Rgba, line: [255, 90, 0, 255] as Rgba, lineWidthPx: 4, pointRadiusPx: 10 };

/** The query shape, its hits and the focused hit, bottom to top. */
export function queryOverlays(shape: GeoJSON.Geometry | null, hits: readonly GeoJSON.Geometry[], focus: GeoJSON.Geometry | null): GeometryOverlay[] {
  const out: GeometryOverlay[] = [];
  if (shape) out.push({ kind: 'geometries', id: 'query-shape', geometries: [shape], ...QUERY_SHAPE_STYLE });
  if (hits.length) out.push({ kind: 'geometries', id: 'query-hits', geometries: [...hits], ...RESULT_STYLE });
  if (focus) out.push({ kind: 'geometries', id: 'query-focus', geometries: [focus], ...FOCUS_STYLE });
  return out;
}

/** Points, rings and lines of a geometry, for engines that draw each part with its own primitive. */
export function geometryParts(g: GeoJSON.Geometry): { points: LonLat[]; lines: LonLat[][]; polygons: LonLat[][][] } {
  const out = { points: [] as LonLat[], lines: [] as LonLat[][], polygons: [] as LonLat[][][] };
  const walk = (x: GeoJSON.Geometry): void => {
    switch (x.type) {
      case 'Point': out.points.push(x.coordinates as LonLat); break;
      case 'MultiPoint': out.points.push(...(x.coordinates as LonLat[])); break;
      case 'LineString': out.lines.push(x.coordinates as LonLat[]); break;
      case 'MultiLineString': out.lines.push(...(x.coordinates as LonLat[][])); break;
      case 'Polygon': out.polygons.push(x.coordinates as LonLat[][]); break;
      case 'MultiPolygon': out.polygons.push(...(x.coordinates as LonLat[][][])); break;
      case 'GeometryCollection': x.geometries.forEach(walk); break;
    }
  };
  walk(g);
  return out;
}
