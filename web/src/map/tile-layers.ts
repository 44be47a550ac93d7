// One deck.gl MVTLayer per tileset, styled from the catalog. Tiles are parsed on the main thread:
// loaders.gl's MVTWorkerLoader would otherwise load its worker script from unpkg.com, and this map
// must never contact another host (COMMON.md). Parsing an MVT tile takes a few milliseconds.
import { MVTLayer } from '@deck.gl/geo-layers';
import { MVTLoader } from '@loaders.gl/mvt';
import type { Tileset } from '../../../layers/catalog.ts';
import { CJK_FONT_STACK, LABEL_COLOR, LABEL_HALO, type FeatureLike, type TilesetStyle } from './catalog-style.ts';
import type { TileJSON } from './tilejson.ts';

// Hoisted so that rebuilding the layer on a style change passes identical objects: deck.gl compares
// these props and would otherwise reload every tile or rebuild the glyph atlas.
const LOADERS = [MVTLoader];
const LOAD_OPTIONS = { core: { worker: false, useLocalLibraries: true } };
/** SDF glyphs so the white halo keeps labels readable over roads and boundaries. */
const FONT_SETTINGS = { sdf: true, fontSize: 48, buffer: 6, radius: 12 };

export interface TilesetLayerHandlers {
  /** A tile was fetched and decoded; `content` is null for an empty tile (HTTP 204). */
  onTile(tileset: Tileset, content: unknown): void;
  onViewportLoad(tileset: Tileset): void;
  onError(tileset: Tileset, error: unknown): void;
}

export function createTilesetLayer(tileset: Tileset, tileJson: TileJSON, style: TilesetStyle, on: TilesetLayerHandlers): MVTLayer {
  const acc = <T>(f: (x: FeatureLike) => T) => (x: unknown) => f(x as FeatureLike);
  return new MVTLayer({
    id: `tiles-${tileset}`,
    data: tileJson.tiles,
    minZoom: tileJson.minzoom,
    maxZoom: tileJson.maxzoom,
    // Only ask for tiles inside the archive's bounds; the server answers 404 outside them.
    extent: tileJson.bounds ?? null,
    loaders: LOADERS,
    loadOptions: LOAD_OPTIONS,
    binary: true,
    // Boundaries, roads and fills are styled per feature; extrusion waits for the 3D view.
    filled: true,
    stroked: true,
    getFillColor: acc(style.fill),
    getLineColor: acc(style.line),
    getLineWidth: acc(style.lineWidth),
    lineWidthUnits: 'pixels',
    lineWidthMinPixels: 0.5,
    pointType: 'text',
    getText: acc(style.text),
    getTextSize: acc(style.textSize),
    getTextColor: LABEL_COLOR,
    textCharacterSet: 'auto',
    textFontFamily: CJK_FONT_STACK,
    textFontWeight: 500,
    textFontSettings: FONT_SETTINGS,
    textOutlineWidth: 3,
    textOutlineColor: LABEL_HALO,
    textSizeUnits: 'pixels',
    updateTriggers: {
      getFillColor: style.key, getLineColor: style.key, getLineWidth: style.key, getText: style.key, getTextSize: style.key,
    },
    onTileLoad: (tile) => on.onTile(tileset, tile.content),
    onViewportLoad: () => on.onViewportLoad(tileset),
    onTileError: (error: unknown) => on.onError(tileset, error),
  });
}
