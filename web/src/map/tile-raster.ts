// Draws one decoded MVT tile onto a 2D canvas with the catalog styles (catalog-style.ts): fills, outlines
// and lines; never labels (a tile edge would cut them, so both engines draw names as text on the map).
// Shared by the 3D imagery (cesium-imagery.ts) and the 2D basemap picture (raster-tile-layer.ts), so the
// two views look the same.
import type { VectorTile } from '@mapbox/vector-tile';
import { LAYER_PROPERTY, type RGBA, type TilesetStyle } from './catalog-style.ts';

/** Width of the seam-closing stroke round opaque fills, in canvas pixels. */
const SEAM_PX = 1;
const TRANSPARENT_RGBA: RGBA = [0, 0, 0, 0];
const css = (c: RGBA, alpha = 1): string => `rgba(${c[0]},${c[1]},${c[2]},${((c[3] / 255) * alpha).toFixed(3)})`;

/**
 * Where the source tile lands on the canvas: a point (px, py) of the tile's extent is drawn at
 * (px / extent · size · scale − dx, py / extent · size · scale − dy). The identity (scale 1, no
 * offset) draws the tile itself; a deeper tile cut from it (overzoom past the archive's max zoom)
 * has scale 2^(z − zSource) and the offset of its corner.
 */
export interface TilePlacement {
  size: number; scale: number; dx: number; dy: number;
  /** Canvas pixels per CSS pixel: line widths (CSS px in the catalog) are multiplied by it. Default 1. */
  pixelRatio?: number;
}

/** The placement of tile (z, x, y) inside its ancestor at `zSource` (z ≥ zSource), for a canvas of `size` px. */
export function placementInAncestor(z: number, x: number, y: number, zSource: number, size: number, pixelRatio = 1): { x: number; y: number; placement: TilePlacement } {
  const scale = 2 ** Math.max(0, z - zSource);
  const ax = Math.floor(x / scale), ay = Math.floor(y / scale);
  return { x: ax, y: ay, placement: { size, scale, dx: (x - ax * scale) * size, dy: (y - ay * scale) * size, pixelRatio } };
}

/**
 * Draws `tile` into `ctx` (already sized `placement.size`), the shown layers of `style` only, each at
 * `alphaOf(layerId)` opacity. Features wholly outside the canvas are skipped before any path is built.
 * Within a source layer, features of the same colour (and width) share one path and one fill or
 * stroke: a tile holds thousands of buildings and parcels in a handful of colours, and one call per
 * colour instead of one per feature is several times faster. Fills use the non-zero rule, which holds
 * holes open because the tile build writes MVT winding (exteriors clockwise on screen, holes not).
 * Returns how many features were drawn.
 */
export function drawVectorTile(ctx: CanvasRenderingContext2D, tile: VectorTile, style: TilesetStyle,
  alphaOf: (layerId: string) => number, placement: TilePlacement): number {
  const { size, scale, dx, dy } = placement;
  const ratio = placement.pixelRatio ?? 1;
  let drawn = 0;
  for (const [sourceLayer, def] of style.bySourceLayer) {
    const layer = tile.layers[sourceLayer];
    if (!layer || def.geometry === 'point') continue;
    const alpha = alphaOf(def.id);
    if (alpha <= 0) continue;
    const k = (size * scale) / layer.extent;
    // Colours come from the catalog as shared arrays: each is turned into a CSS string once.
    const cssOf = new Map<RGBA, string>();
    const colour = (c: RGBA) => { let v = cssOf.get(c); if (v === undefined) { v = css(c, alpha); cssOf.set(c, v); } return v; };
    const fills = new Map<string, Path2D>();
    const strokes = new Map<string, { path: Path2D; width: number }>();
    // A tile drawn at its own zoom holds only what it shows (plus the tile buffer, which the canvas
    // clips); a tile cut from an ancestor skips the ancestor's features that miss it.
    const cull = scale > 1;
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      // A fresh object per feature() call: tagging it with its layer saves a copy.
      const props = f.properties as Record<string, unknown>;
      props[LAYER_PROPERTY] = sourceLayer;
      const like = { properties: props };
      const fill = f.type === 3 ? style.fill(like) : TRANSPARENT_RGBA;
      const line = style.line(like);
      if (fill[3] === 0 && line[3] === 0) continue;
      const width = line[3] > 0 ? Math.max(0.5, style.lineWidth(like)) * ratio : 0;
      const rings = f.loadGeometry();
      if (cull) {
        let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
        for (const ring of rings) for (const p of ring) {
          const x = p.x * k - dx, y = p.y * k - dy;
          if (x < x0) x0 = x; if (x > x1) x1 = x;
          if (y < y0) y0 = y; if (y > y1) y1 = y;
        }
        if (x1 < -width || y1 < -width || x0 > size + width || y0 > size + width) continue;
      }
      const targets: Path2D[] = [];
      if (fill[3] > 0) {
        const key = colour(fill);
        let p = fills.get(key);
        if (!p) { p = new Path2D(); fills.set(key, p); }
        targets.push(p);
      }
      if (width > 0) {
        const key = `${colour(line)} ${width}`;
        let st = strokes.get(key);
        if (!st) { st = { path: new Path2D(), width }; strokes.set(key, st); }
        targets.push(st.path);
      }
      for (const path of targets) {
        for (const ring of rings) {
          for (let j = 0; j < ring.length; j++) {
            const x = ring[j].x * k - dx, y = ring[j].y * k - dy;
            if (j === 0) path.moveTo(x, y); else path.lineTo(x, y);
          }
          if (f.type === 3) path.closePath();
        }
      }
      drawn++;
    }
    // Neighbouring parcels share an edge; each edge is anti-aliased on its own, so a hairline of the
    // background showed between them. Opaque fills of a layer that covers the ground (not footprints
    // standing apart, as extruded buildings) also get a thin stroke in their own colour over that seam
    // (a translucent fill would darken its own edge instead).
    const closeSeams = !def.style.extrude && alpha >= 1;
    for (const [colour, path] of fills) {
      ctx.fillStyle = colour;
      ctx.fill(path, 'nonzero');
      if (closeSeams && colour.endsWith(',1.000)')) { ctx.strokeStyle = colour; ctx.lineWidth = SEAM_PX * ratio; ctx.stroke(path); }
    }
    for (const [key, { path, width }] of strokes) {
      ctx.strokeStyle = key.slice(0, key.lastIndexOf(' '));
      ctx.lineWidth = width;
      ctx.stroke(path);
    }
  }
  return drawn;
}
