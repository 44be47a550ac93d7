// The picture of the map's tilesets in 2D: each tile's fills and lines, of every tileset in order
// (basemap, then the administrative overlay), drawn once onto one canvas (picture-render.ts, in a
// worker; the same drawing as the 3D imagery) and shown as one textured square per tile. Panning then
// costs one textured pass over the screen per frame instead of every parcel, building, road and
// boundary again: on software WebGL (headless browsers, old wall PCs without a GPU) the vector fills
// were most of each frame. The vector layers (tile-layers.ts) stay for labels, picking and the hover
// highlight; this is what OpenLayers calls the 'hybrid' render mode of vector tiles.
// Past a tileset's max zoom a tile is cut from its ancestor and drawn at full resolution (no blur).
import { TileLayer, type TileLayerProps } from '@deck.gl/geo-layers';
import { BitmapLayer } from '@deck.gl/layers';
import { PictureTiles, renderPicture, type PictureCanvas, type PicturePart, type PictureRequest } from './picture-render.ts';
import type { PictureReply } from './picture-worker.ts';
import { opacityKeyOf } from './tile-layers.ts';

/** deck.gl's tile size in CSS pixels (a tile at zoom z covers 512 px at zoom z). */
export const RASTER_TILE_SIZE = 512;
/** Picture tiles kept off screen for panning back, at most (a 512-px tile is 1 MB). */
const PICTURE_CACHE_BYTES = 96 * 1024 * 1024;
interface Picture { image: ImageBitmap; byteLength: number }
/** Deepest tile drawn: the 2D map's max zoom. */
const RASTER_MAX_ZOOM = 19;

export interface PictureHandlers {
  onViewportLoad(): void;
  onError(error: unknown): void;
}

/** Draws picture tiles: in a worker where the browser can, else on the page. */
export interface PictureRenderer {
  render(req: PictureRequest): Promise<ImageBitmap | null>;
  destroy(): void;
}

/** On the page: a canvas element, handed over as a premultiplied ImageBitmap. */
function pageCanvas(px: number): PictureCanvas {
  const c = document.createElement('canvas');
  c.width = c.height = px;
  return { ctx: c.getContext('2d')!, done: () => createImageBitmap(c, { premultiplyAlpha: 'premultiply' }) };
}

export function createPictureRenderer(): PictureRenderer {
  const onPage = new PictureTiles();
  const inPage = (req: PictureRequest) => renderPicture(req, onPage, pageCanvas);
  if (typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined') return { render: inPage, destroy() {} };
  let worker: Worker | null = new Worker(new URL('./picture-worker.ts', import.meta.url), { type: 'module', name: 'onemap-picture' });
  let next = 1;
  const pending = new Map<number, { req: PictureRequest; resolve(v: ImageBitmap | null): void; reject(e: Error): void }>();
  worker.onmessage = (e: MessageEvent<PictureReply>) => {
    const p = pending.get(e.data.id);
    if (!p) return;
    pending.delete(e.data.id);
    if ('error' in e.data) p.reject(new Error(e.data.error)); else p.resolve(e.data.image);
  };
  // A worker that cannot start (blocked script, old browser) leaves the drawing to the page.
  worker.onerror = (e) => {
    e.preventDefault();
    worker?.terminate();
    worker = null;
    for (const p of pending.values()) inPage(p.req).then(p.resolve, p.reject);
    pending.clear();
  };
  return {
    render(req) {
      if (!worker) return inPage(req);
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { req, resolve, reject });
        worker!.postMessage({ id, req });
      });
    },
    destroy() { worker?.terminate(); worker = null; pending.clear(); },
  };
}

/**
 * The picture is drawn with premultiplied alpha (an ImageBitmap is uploaded as it is): blended as
 * straight alpha, every anti-aliased edge came out dark.
 */
const PREMULTIPLIED = {
  blend: true,
  blendColorSrcFactor: 'one', blendColorDstFactor: 'one-minus-src-alpha', blendColorOperation: 'add',
  blendAlphaSrcFactor: 'one', blendAlphaDstFactor: 'one-minus-src-alpha', blendAlphaOperation: 'add',
} as const;
/**
 * Bilinear, without mipmaps: deck.gl shows a tile of zoom z from zoom z − 0.5 to z + 0.5, i.e. at
 * 0.71–1.41 times its size, where one level is sharp enough, and a trilinear lookup costs twice the
 * texel reads for every pixel of every frame on software WebGL.
 */
const SAMPLER = { minFilter: 'linear', magFilter: 'linear', mipmapFilter: 'none', addressModeU: 'clamp-to-edge', addressModeV: 'clamp-to-edge' } as const;

/** What a picture tile draws, as a key: the tilesets' URL templates, shown layers, outlines and opacities. */
export function pictureKey(parts: PicturePart[], alpha: Record<string, number>): string {
  return `${parts.map((p) => `${p.tileJson.tiles[0]}:${p.shown.join(',')}`).join('|')}|${opacityKeyOf(alpha)}`;
}

/**
 * The picture layer of `parts` (bottom first), each catalog layer at `alpha[id]` opacity; `key`
 * (pictureKey, plus anything else that changes the drawing) changes whenever what is drawn does.
 */
export function createPictureLayer(parts: PicturePart[], alpha: Record<string, number>, key: string,
  renderer: PictureRenderer, on: PictureHandlers): TileLayer {
  const pixelRatio = Math.min(2, Math.max(1, globalThis.devicePixelRatio || 1));
  const px = Math.round(RASTER_TILE_SIZE * pixelRatio);
  const getTileData: TileLayerProps['getTileData'] = async ({ index: { x, y, z }, signal }): Promise<Picture | null> => {
    if (signal?.aborted) return null;
    const image = await renderer.render({ z, x, y, px, pixelRatio, parts, alpha });
    // The size lets deck.gl bound the cache in bytes (a tile at 2× pixel ratio is 4 MB).
    return image ? { image, byteLength: px * px * 4 } : null;
  };
  return new TileLayer({
    id: 'picture',
    // Also the URL templates: a new revision of a tileset (after an edit) reloads every tile.
    data: key,
    tileSize: RASTER_TILE_SIZE,
    minZoom: Math.min(...parts.map((p) => p.tileJson.minzoom)),
    maxZoom: RASTER_MAX_ZOOM,
    extent: unionBounds(parts),
    getTileData,
    // Tiles on screen are always kept; those panned away are dropped beyond this many bytes.
    maxCacheByteSize: PICTURE_CACHE_BYTES,
    // A dropped tile's bitmap is freed now rather than at the next garbage collection.
    onTileUnload: (tile) => (tile.content as Picture | null)?.image.close(),
    pickable: false,
    renderSubLayers: (props) => {
      const image = (props.data as Picture | null)?.image;
      if (!image) return null;
      const [[w, s], [e, n]] = props.tile.boundingBox;
      return new BitmapLayer({ id: props.id, image, bounds: [w, s, e, n], pickable: false, parameters: PREMULTIPLIED, textureParameters: SAMPLER });
    },
    updateTriggers: { getTileData: key },
    onViewportLoad: () => on.onViewportLoad(),
    onTileError: (error: unknown) => on.onError(error),
  });
}

/** Tiles are asked for only where some tileset has data (the server answers 404 outside its bounds). */
function unionBounds(parts: PicturePart[]): [number, number, number, number] | null {
  const b = parts.map((p) => p.tileJson.bounds);
  if (b.some((x) => !x)) return null;
  const all = b as [number, number, number, number][];
  return [Math.min(...all.map((x) => x[0])), Math.min(...all.map((x) => x[1])), Math.max(...all.map((x) => x[2])), Math.max(...all.map((x) => x[3]))];
}
