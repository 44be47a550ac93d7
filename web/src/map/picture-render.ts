// Draws one tile of the 2D picture (raster-tile-layer.ts): the fills and lines of every shown tileset,
// in order, onto one canvas. Runs in the picture worker (picture-worker.ts), or on the page where a
// browser has no module workers or OffscreenCanvas. Everything in a request is plain data, so it can
// be posted to a worker: the styles are rebuilt from the shown layer ids.
import type { Tileset } from '../../../layers/catalog.ts';
import { BUILDING_OUTLINE_MIN_ZOOM, tilesetStyle, type TilesetStyle } from './catalog-style.ts';
import { createTileSource, type TileSource } from './cesium-vector-tiles.ts';
import { drawVectorTile, placementInAncestor } from './tile-raster.ts';
import type { TileJSON } from './tilejson.ts';

/** One tileset in a picture tile. */
export interface PicturePart {
  tileset: Tileset;
  /** Its TileJSON; `tiles[0]` is the URL template (with ?rev=N after an edit). */
  tileJson: TileJSON;
  /** The catalog layers shown, as the vector layer shows them. */
  shown: string[];
  /** The map's zoom (decides, like the vector layer, whether building footprints are outlined). */
  zoom: number;
}

export interface PictureRequest {
  z: number; x: number; y: number;
  /** Canvas size in pixels, and canvas pixels per CSS pixel. */
  px: number; pixelRatio: number;
  parts: PicturePart[];
  /** Opacity by catalog layer id (missing = 1). */
  alpha: Record<string, number>;
}

/** Decoded tiles by URL template (a new revision is a new source), and styles by what they draw. */
export class PictureTiles {
  private readonly sources = new Map<string, TileSource>();
  private readonly styles = new Map<string, TilesetStyle>();

  source(part: PicturePart): TileSource {
    const key = part.tileJson.tiles[0];
    let s = this.sources.get(key);
    if (!s) {
      // Errors reach the caller through the rejected promise.
      s = createTileSource(part.tileset, part.tileJson, () => {});
      this.sources.set(key, s);
      // Older revisions of the same tileset are dropped.
      for (const [k, old] of this.sources) if (k !== key && old.tileset === part.tileset) this.sources.delete(k);
    }
    return s;
  }

  style(part: PicturePart): TilesetStyle {
    const outlined = part.zoom >= BUILDING_OUTLINE_MIN_ZOOM;
    const key = `${part.tileset}|${part.shown.join(',')}|${outlined}`;
    let s = this.styles.get(key);
    if (!s) {
      s = tilesetStyle(part.tileset, part.shown, part.zoom, { buildingOutlineMinZoom: BUILDING_OUTLINE_MIN_ZOOM });
      this.styles.set(key, s);
    }
    return s;
  }
}

/** A 2D context on a canvas of `px` × `px` whose drawing is handed over as an ImageBitmap (premultiplied alpha). */
export interface PictureCanvas { ctx: CanvasRenderingContext2D; done(): Promise<ImageBitmap> }

export function offscreenCanvas(px: number): PictureCanvas {
  const c = new OffscreenCanvas(px, px);
  return { ctx: c.getContext('2d') as unknown as CanvasRenderingContext2D, done: async () => c.transferToImageBitmap() };
}

/** The picture of one tile, or null when nothing of it is shown there. Rejects when a tile cannot be fetched. */
export async function renderPicture(req: PictureRequest, tiles: PictureTiles, canvas: (px: number) => PictureCanvas): Promise<ImageBitmap | null> {
  const { z, x, y, px, pixelRatio } = req;
  const found = await Promise.all(req.parts.map(async (part) => {
    const tj = part.tileJson;
    if (z < tj.minzoom || !part.shown.length) return null;
    const zs = Math.min(z, tj.maxzoom);
    const at = placementInAncestor(z, x, y, zs, px, pixelRatio);
    const tile = await tiles.source(part).get(zs, at.x, at.y);
    return tile ? { tile, style: tiles.style(part), placement: at.placement } : null;
  }));
  if (found.every((t) => !t)) return null;
  const { ctx, done } = canvas(px);
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  const alphaOf = (id: string) => req.alpha[id] ?? 1;
  let drawn = 0;
  for (const t of found) if (t) drawn += drawVectorTile(ctx, t.tile, t.style, alphaOf, t.placement);
  return drawn ? done() : null;
}
