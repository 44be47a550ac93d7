// One deck.gl MVTLayer per tileset, styled from the catalog: on screen it draws the labels, and it keeps
// every feature for picking and the hover highlight; the fills and lines the user sees are the picture
// (raster-tile-layer.ts), drawn once per tile. Tiles are parsed on the main thread:
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
/** Where an MVTLayer's tiles come from and how they are decoded (only `sourceLayers`), shared by the label and hover layers. */
function tileSourceProps(tileJson: TileJSON, sourceLayers: string[]) {
  return {
    data: tileJson.tiles,
    minZoom: tileJson.minzoom,
    maxZoom: tileJson.maxzoom,
    // Only ask for tiles inside the archive's bounds; the server answers 404 outside them.
    extent: tileJson.bounds ?? null,
    loaders: LOADERS,
    loadOptions: loadOptionsFor(sourceLayers),
    binary: true,
  };
}
/** SDF glyphs so the white halo keeps labels readable over roads and boundaries. */
const FONT_SETTINGS = { sdf: true, fontSize: 48, buffer: 6, radius: 12 };

/**
 * A tile of the vector layer. The picture of fills and lines comes from the raster layer
 * (raster-tile-layer.ts), drawn once per tile; this layer keeps the features for picking (a click
 * finds the building, road or town under it) and draws only the labels on screen. Its fills and lines
 * drawn on screen would repaint every pixel of the tile on every frame of a pan, at full cost on
 * software WebGL, for nothing the picture does not already show.
 * This has to be a sub-layer filter: deck.gl's `layerFilter` is asked once per top-level layer
 * (`tiles-basemap`), never per sub-layer.
 */
class LabelPickTileLayer extends GeoJsonLayer {
  static override layerName = 'LabelPickTileLayer';
  override filterSubLayer({ layer, isPicking }: FilterContext): boolean {
    return isPicking || layer.id.endsWith('-points-text');
  }
}
/**
 * A tile of the hover layer: transparent fills and lines, so only the highlighted feature shows (in
 * the highlight colour, over the picture); drawn only in tiles that hold it, and never picked.
 */
class HoverTileLayer extends GeoJsonLayer {
  static override layerName = 'HoverTileLayer';
  override filterSubLayer({ layer, isPicking }: FilterContext): boolean {
    if (isPicking || layer.id.endsWith('-points-text')) return false;
    const h = this.props.highlightedObjectIndex;
    return typeof h === 'number' && h >= 0;
  }
}
// Hoisted: one function per kind, so a rebuilt MVTLayer passes the same prop.
const LABEL_PICK_TILE = (props: Record<string, unknown>) => new LabelPickTileLayer(props);
const HOVER_TILE = (props: Record<string, unknown>) => new HoverTileLayer(props);

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
const HOVER_COLOUR: RGBA = [255, 200, 0, 110];
const TRANSPARENT_FILL: RGBA = [0, 0, 0, 0];

export interface TilesetLayerOptions {
  /** Opacity 0–1 by catalog layer id (missing = 1). */
  opacity?: Readonly<Record<string, number>>;
  pickable?: boolean;
}

/** The layers drawn less than fully opaque, as a key for deck.gl's update triggers ('' when none is). */
export function opacityKeyOf(opacity: Readonly<Record<string, number>>): string {
  return Object.entries(opacity).filter(([, v]) => v < 1).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(',');
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
  const opacityKey = opacityKeyOf(opacity);
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
    ...tileSourceProps(tileJson, sourceLayers),
    // On screen, labels only (see LabelPickTileLayer).
    renderSubLayers: LABEL_PICK_TILE,
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
    uniqueIdProperty: 'id',
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

/**
 * The hover highlight of one tile feature (`featureId`, of the catalog layers in `style`), across tile
 * borders (the same `id` in every tile): a vector layer that decodes only that feature's source layer
 * and draws nothing but the highlighted feature (see HoverTileLayer). Exists only while the pointer
 * rests on a tile feature. Not deck.gl's autoHighlight: that picks on every pointer move, also during a
 * drag, and a picking pass costs as much as a frame (the engine picks for hover only when the pointer rests).
 */
export function createHoverTileLayer(tileset: Tileset, tileJson: TileJSON, style: TilesetStyle, featureId: string): MVTLayer {
  const sourceLayers = [...style.bySourceLayer.keys()].sort();
  return new MVTLayer({
    id: `hover-${tileset}`,
    ...tileSourceProps(tileJson, sourceLayers),
    renderSubLayers: HOVER_TILE,
    filled: true,
    stroked: true,
    getFillColor: TRANSPARENT_FILL,
    getLineColor: TRANSPARENT_FILL,
    getLineWidth: (x: unknown) => style.lineWidth(x as FeatureLike) + 2,
    lineWidthUnits: 'pixels',
    lineWidthMinPixels: 2,
    pointType: 'circle',
    getPointRadius: 0,
    // Highlighting works through the picking colours, so the layer is pickable; the engine keeps it out of its picks.
    pickable: true,
    uniqueIdProperty: 'id',
    highlightedFeatureId: featureId,
    highlightColor: HOVER_COLOUR,
    updateTriggers: { getTileData: sourceLayers.join(','), getLineWidth: style.key },
  });
}
