// The city's vector basemap and overlay, rasterised tile by tile for the globe: an ImageryProvider in
// Web Mercator whose z/x/y are exactly the MVT tiles' z/x/y, drawn to a canvas with the same catalog
// styles as the 2D map (catalog-style.ts). Cesium overzooms past level 14, as the 2D map does.
// Place names are not drawn here (a tile edge would cut them): cesium-labels.ts puts them on the globe.
import { Credit, Event, Rectangle, WebMercatorTilingScheme, type ImageryProvider } from 'cesium';
import { getLayer, type Tileset } from '../../../layers/catalog.ts';
import { tilesetStyle, type TilesetStyle } from './catalog-style.ts';
import type { EngineLayerState } from './engine.ts';
import type { Dem } from './cesium-dem.ts';
import type { TileSource } from './cesium-vector-tiles.ts';
import { drawVectorTile, type TilePlacement } from './tile-raster.ts';

export const TILE_PX = 256;
export const MAX_LEVEL = 14;
const IDENTITY: TilePlacement = { size: TILE_PX, scale: 1, dx: 0, dy: 0 };

/** Which layers a tile at `level` shows, and how opaque: the 2D rule (catalog zoom range) on the tile's level. */
export function shownAtLevel(layers: readonly EngineLayerState[], level: number): Map<string, number> {
  const shown = new Map<string, number>();
  for (const s of layers) {
    const l = getLayer(s.id);
    if (!l?.tiles || !s.visible || s.opacity <= 0) continue;
    // A tile of level z fills the screen at zoom z…z+1: show what 2D shows anywhere in that range.
    if (level + 1 > l.minzoom && level < l.maxzoom) shown.set(s.id, s.opacity);
  }
  return shown;
}

/** Only where our tilesets have data: Cesium then asks for no tile elsewhere (the globe's base colour shows there). */
function dataRectangle(sources: TileSource[], scheme: WebMercatorTilingScheme): Rectangle {
  const b = sources.map((s) => s.tileJson.bounds).filter((x): x is [number, number, number, number] => !!x);
  if (!b.length) return scheme.rectangle;
  const r = Rectangle.fromDegrees(Math.min(...b.map((x) => x[0])), Math.min(...b.map((x) => x[1])), Math.max(...b.map((x) => x[2])), Math.max(...b.map((x) => x[3])));
  return Rectangle.intersection(r, scheme.rectangle) ?? scheme.rectangle;
}

/** Light from the north-west, 45° up (the cartographic convention), relief exaggerated 3× for the shading only: the hills here are 100–260 m. */
const SUN_AZIMUTH = (315 * Math.PI) / 180, SUN_ZENITH = (45 * Math.PI) / 180, Z_FACTOR = 3;
const SHADE_PX = 128;
const SUN = [Math.sin(SUN_AZIMUTH) * Math.sin(SUN_ZENITH), Math.cos(SUN_AZIMUTH) * Math.sin(SUN_ZENITH), Math.cos(SUN_ZENITH)];

/** Multiplies a hillshade of the DEM (central differences, 128 px per tile, scaled up) onto the tile. */
function shade(ctx: CanvasRenderingContext2D, dem: Dem, x: number, y: number, z: number): void {
  const { west, south, east, north } = dem.meta;
  const n = 2 ** z;
  const lonOf = (px: number) => ((x + px / SHADE_PX) / n) * 360 - 180;
  const latOf = (py: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * (y + py / SHADE_PX)) / n))) * 180) / Math.PI;
  if (lonOf(SHADE_PX) < west || lonOf(0) > east || latOf(0) < south || latOf(SHADE_PX) > north) return;
  const c = document.createElement('canvas');
  c.width = c.height = SHADE_PX;
  const sctx = c.getContext('2d')!;
  const img = sctx.createImageData(SHADE_PX, SHADE_PX);
  const cellX = ((360 / n / SHADE_PX) * 111_320) * Math.cos((latOf(SHADE_PX / 2) * Math.PI) / 180);
  const cellY = cellX; // Web Mercator pixels are square on the ground
  let any = false;
  for (let py = 0; py < SHADE_PX; py++) {
    const lat = latOf(py + 0.5), latN = latOf(py - 0.5), latS = latOf(py + 1.5);
    for (let px = 0; px < SHADE_PX; px++) {
      const lon = lonOf(px + 0.5);
      const dzdx = (dem.heightAt(lonOf(px + 1.5), lat) - dem.heightAt(lonOf(px - 0.5), lat)) / (2 * cellX);
      const dzdy = (dem.heightAt(lon, latN) - dem.heightAt(lon, latS)) / (2 * cellY);
      // Lambert: the unit normal (−z·∂h/∂e, −z·∂h/∂n, 1) against the unit vector towards the sun.
      const ex = -Z_FACTOR * dzdx, ny = -Z_FACTOR * dzdy;
      const lit = (ex * SUN[0] + ny * SUN[1] + SUN[2]) / Math.sqrt(ex * ex + ny * ny + 1);
      const v = Math.round(255 * Math.min(1, Math.max(0.45, lit / Math.cos(SUN_ZENITH))));
      if (v < 255) any = true;
      const o = (py * SHADE_PX + px) * 4;
      img.data[o] = img.data[o + 1] = img.data[o + 2] = v;
      img.data[o + 3] = 255;
    }
  }
  if (!any) return;
  sctx.putImageData(img, 0, 0);
  ctx.save();
  ctx.globalCompositeOperation = 'multiply';
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(c, 0, 0, TILE_PX, TILE_PX);
  ctx.restore();
}

export interface VectorImageryOptions {
  sources: TileSource[];
  layers: readonly EngineLayerState[];
  credit: string;
  /** Shade the map with the relief (虞山 reads as a hill even seen from straight above). */
  hillshade?: Dem;
  /** Called after each imagery tile is done, empty or not (the status line counts them; readiness needs one). */
  onTile?(): void;
}

/**
 * A Cesium ImageryProvider (the interface is duck-typed in Cesium: tilingScheme, tile size, levels,
 * requestImage…). Tiles outside the data, or with nothing visible, come back as one shared transparent canvas.
 */
export function createVectorImageryProvider(opts: VectorImageryOptions): ImageryProvider {
  const tilingScheme = new WebMercatorTilingScheme();
  const empty = document.createElement('canvas');
  empty.width = empty.height = 1;
  const errorEvent = new Event();
  const credit = new Credit(opts.credit, true);
  const styles = new Map<string, TilesetStyle>();
  const styleFor = (ts: Tileset, level: number, shown: Map<string, number>) => {
    const key = `${ts}/${level}/${[...shown.keys()].join(',')}`;
    let s = styles.get(key);
    if (!s) { s = tilesetStyle(ts, [...shown.keys()], level + 1); styles.set(key, s); }
    return s;
  };

  const provider = {
    tilingScheme,
    rectangle: dataRectangle(opts.sources, tilingScheme),
    tileWidth: TILE_PX,
    tileHeight: TILE_PX,
    minimumLevel: 0,
    maximumLevel: MAX_LEVEL,
    tileDiscardPolicy: undefined,
    errorEvent,
    credit,
    proxy: undefined,
    hasAlphaChannel: true,
    ready: true,
    getTileCredits: () => [],
    pickFeatures: () => undefined,
    async requestImage(x: number, y: number, level: number): Promise<HTMLCanvasElement> {
      try { return await render(x, y, level); } finally { opts.onTile?.(); }
    },
  };

  async function render(x: number, y: number, level: number): Promise<HTMLCanvasElement> {
    const shown = shownAtLevel(opts.layers, level);
    if (shown.size === 0) return empty;
    // A failed tile is reported by its source; here it only draws as empty.
    const tiles = await Promise.all(opts.sources.map((s) => s.get(level, x, y).catch(() => null)));
    if (tiles.every((t) => !t)) return empty;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = TILE_PX;
    const ctx = canvas.getContext('2d')!;
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    let drawn = 0;
    const alphaOf = (id: string) => shown.get(id) ?? 1;
    tiles.forEach((t, i) => { if (t) drawn += drawVectorTile(ctx, t, styleFor(opts.sources[i].tileset, level, shown), alphaOf, IDENTITY); });
    if (drawn && opts.hillshade && level >= 9) shade(ctx, opts.hillshade, x, y, level);
    return drawn ? canvas : empty;
  }
  return provider as unknown as ImageryProvider;
}
