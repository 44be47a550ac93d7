// One deck.gl MVTLayer per tileset, styled from the catalog. Tiles are parsed on the main thread:
// loaders.gl's MVTWorkerLoader would otherwise load its worker script from unpkg.com, and this map
// must never contact another host (COMMON.md). Parsing an MVT tile takes a few milliseconds.
import type { FilterContext } from '@deck.gl/core';
import { MVTLayer } from '@deck.gl/geo-layers';
import { GeoJsonLayer } from '@deck.gl/layers';
import { MVTLoader } from '@loaders.gl/mvt';
import type { Tileset } from '../../../layers/catalog.ts';
import { CJK_FONT_STACK, LABEL_COLOR, LABEL_HALO, LAYER_PROPERTY, type FeatureLike, type RGBA, type TilesetStyle } from './catalog-style.ts';
import type { TileJSON } from './tilejson.ts';

// Hoisted so that rebuilding the layer on a style change passes identical objects: deck.gl compares
// these props and would otherwise reload every tile or rebuild the glyph atlas.
const LOADERS = [MVTLoader];
const CORE_OPTIONS = { worker: false, useLocalLibraries: true };
/**
 * Load options by the set of MVT source layers to decode: a tile keeps only the features of catalog
 * layers that are shown. Hidden layers' features were drawn before, transparent, at full cost: the
 * basemap's buildings alone made each frame of a pan many times slower on software WebGL.
 */
const loadOptionsCache = new Map<string, { core: typeof CORE_OPTIONS; mvt: { layers: string[] } }>();
function loadOptionsFor(sourceLayers: string[]) {
  const key = sourceLayers.join(',');
  let o = loadOptionsCache.get(key);
  if (!o) { o = { core: CORE_OPTIONS, mvt: { layers: sourceLayers } }; loadOptionsCache.set(key, o); }
  return o;
}
/** SDF glyphs so the white halo keeps labels readable over roads and boundaries. */
const FONT_SETTINGS = { sdf: true, fontSize: 48, buffer: 6, radius: 12 };

/**
 * A tile of a tileset whose shown polygons have no visible fill (the administrative overlay: outlines
 * only). Its fill sub-layer is still needed for picking (a click inside a town finds it, see
 * PICK_BY_FILL), but drawn on screen it shades every pixel of the tile once per boundary layer
 * (towns, villages and the city outline each cover the whole map), invisibly, at full cost on
 * software WebGL. So the fill is drawn only in picking passes, and on screen only in a tile holding
 * the hovered feature (its hover highlight is drawn by the fill).
 * This has to be a sub-layer filter: deck.gl's `layerFilter` is asked once per top-level layer
 * (`tiles-overlay`), never per sub-layer, so a filter on the fill's id there matched nothing.
 */
class OutlineTileLayer extends GeoJsonLayer {
  static override layerName = 'OutlineTileLayer';
  override filterSubLayer({ layer, isPicking }: FilterContext): boolean {
    if (isPicking || !layer.id.endsWith('-polygons-fill')) return true;
    const h = this.props.highlightedObjectIndex;
    return typeof h === 'number' && h >= 0;
  }
}
// Hoisted: one function per kind, so a rebuilt MVTLayer passes the same prop.
const OUTLINE_TILE = (props: Record<string, unknown>) => new OutlineTileLayer(props);
const FILLED_TILE = (props: Record<string, unknown>) => new GeoJsonLayer(props);

export interface TilesetLayerHandlers {
  /** A tile was fetched and decoded; `content` is null for an empty tile (HTTP 204). */
  onTile(tileset: Tileset, content: unknown): void;
  onViewportLoad(tileset: Tileset): void;
  onError(tileset: Tileset, error: unknown): void;
}

/**
 * Administrative units are drawn as outlines only, but a click inside one must find it: deck.gl does
 * not pick fragments with alpha 0, so their fill gets alpha 1 (invisible on screen, ≤ 1/255 change).
 * The city outline keeps alpha 0: it covers everything and would hide the towns from picking.
 */
const PICK_BY_FILL = new Set(['towns', 'villages', 'grids']);
const PICK_FILL: RGBA = [0, 0, 0, 1];
const HOVER_COLOUR: RGBA = [255, 200, 0, 80];

export interface TilesetLayerOptions {
  /** Opacity 0–1 by catalog layer id (missing = 1). */
  opacity?: Readonly<Record<string, number>>;
  pickable?: boolean;
  /** `id` of the feature to highlight (hover), in whichever tile it is. */
  highlightedFeatureId?: string | null;
}

/** `rgba` with its alpha scaled by `opacity`; the same array when opacity is 1 (no allocation). */
function fade(rgba: RGBA, opacity: number): RGBA {
  return opacity >= 1 ? rgba : [rgba[0], rgba[1], rgba[2], Math.round(rgba[3] * opacity)];
}

export function createTilesetLayer(tileset: Tileset, tileJson: TileJSON, style: TilesetStyle, on: TilesetLayerHandlers,
  opts: TilesetLayerOptions = {}): MVTLayer {
  const acc = <T>(f: (x: FeatureLike) => T) => (x: unknown) => f(x as FeatureLike);
  const opacity = opts.opacity ?? {};
  const layerIdOf = (f: FeatureLike) => style.bySourceLayer.get(String(f.properties?.[LAYER_PROPERTY]))?.id ?? '';
  const opacityOf = (f: FeatureLike) => opacity[layerIdOf(f)] ?? 1;
  const opacityKey = Object.entries(opacity).filter(([, v]) => v < 1).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(',');
  const key = `${style.key}|${opacityKey}`;
  const sourceLayers = [...style.bySourceLayer.keys()].sort();
  const fill = (f: FeatureLike): RGBA => {
    const c = style.fill(f);
    if (c[3] === 0) return PICK_BY_FILL.has(layerIdOf(f)) ? PICK_FILL : c;
    return fade(c, opacityOf(f));
  };
  const textColour = (f: FeatureLike): RGBA => fade(LABEL_COLOR, opacityOf(f));
  return new MVTLayer({
    id: `tiles-${tileset}`,
    data: tileJson.tiles,
    minZoom: tileJson.minzoom,
    maxZoom: tileJson.maxzoom,
    // Only ask for tiles inside the archive's bounds; the server answers 404 outside them.
    extent: tileJson.bounds ?? null,
    loaders: LOADERS,
    loadOptions: loadOptionsFor(sourceLayers),
    binary: true,
    // Which fill a tile draws on screen (see OutlineTileLayer). A change of `style.filled` comes with a
    // change of the decoded source layers, which reloads the tiles and so re-creates their sub-layers.
    renderSubLayers: style.filled ? FILLED_TILE : OUTLINE_TILE,
    // Boundaries, roads and fills are styled per feature; extrusion waits for the 3D view.
    filled: true,
    stroked: style.stroked,
    getFillColor: acc(fill),
    getLineColor: acc((f) => fade(style.line(f), opacityOf(f))),
    getLineWidth: acc(style.lineWidth),
    lineWidthUnits: 'pixels',
    lineWidthMinPixels: 0.5,
    pointType: 'text',
    getText: acc(style.text),
    getTextSize: acc(style.textSize),
    getTextColor: opacityKey ? acc(textColour) : LABEL_COLOR,
    textCharacterSet: 'auto',
    textFontFamily: CJK_FONT_STACK,
    textFontWeight: 500,
    textFontSettings: FONT_SETTINGS,
    textOutlineWidth: 3,
    textOutlineColor: LABEL_HALO,
    textSizeUnits: 'pixels',
    pickable: opts.pickable ?? true,
    // Hover highlight of the feature under the pointer, across tile borders (same `id` in every tile).
    // Not deck.gl's autoHighlight: that picks on every pointer move, also during a drag, and a picking
    // pass costs as much as a frame (the engine picks for hover only when the pointer rests).
    uniqueIdProperty: 'id',
    highlightedFeatureId: opts.highlightedFeatureId ?? null,
    highlightColor: HOVER_COLOUR,
    updateTriggers: {
      // Showing or hiding a layer of this tileset changes what a tile decodes: reload (old tiles stay until then).
      getTileData: sourceLayers.join(','),
      getFillColor: key, getLineColor: key, getLineWidth: key, getText: key, getTextSize: key, getTextColor: key,
    },
    onTileLoad: (tile) => on.onTile(tileset, tile.content),
    onViewportLoad: () => on.onViewportLoad(tileset),
    onTileError: (error: unknown) => on.onError(tileset, error),
  });
}
