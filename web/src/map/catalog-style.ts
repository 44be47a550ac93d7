// Turns the catalog's layer styles into deck.gl accessors for one tileset. One MVTLayer draws a whole
// tileset (each tile is fetched once); features carry their MVT layer name in `properties.layerName`
// (loaders.gl MVT `layerProperty` default), which picks the catalog layer and its style.
import { tilesetLayers, type LayerDef, type LayerStyle, type Tileset } from '../../../layers/catalog.ts';

export type RGBA = [number, number, number, number];
export interface FeatureLike { properties?: Record<string, unknown> | null }

export const LAYER_PROPERTY = 'layerName';
export const TRANSPARENT: RGBA = [0, 0, 0, 0];
/** Lines without a catalog colour still show, in a neutral grey, rather than vanish silently. */
export const DEFAULT_LINE: RGBA = [120, 120, 120, 255];
export const LABEL_COLOR: RGBA = [35, 35, 35, 255];
export const LABEL_HALO: RGBA = [255, 255, 255, 230];
/** Local CJK fonts only: no web font is ever fetched (fonts-noto-cjk on Linux, YaHei on Windows, PingFang on macOS). */
export const CJK_FONT_STACK = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";

/** Place kinds as the data writes them (Chinese, from the statistical division names) or in English. */
const KIND_MIN_ZOOM: Record<string, number> = {
  city: 0, 市: 0, 县级市: 0,
  town: 9, subdistrict: 9, 镇: 9, 街道: 9, 乡: 9,
  village: 11.5, community: 11.5, 村: 11.5, 社区: 11.5, 村委会: 11.5, 居委会: 11.5,
  mountain: 9, lake: 9, river: 9,
};

/**
 * The zoom at which a place label appears, from its kind (city, town/sub-district, village/community):
 * ~250 village names at city zoom would hide each other and the map. Unknown kinds fall back to `rank`
 * (1 = most important), then to 12.
 */
export function labelMinZoom(props: Record<string, unknown>): number {
  const byKind = KIND_MIN_ZOOM[String(props.kind)];
  if (byKind !== undefined) return byKind;
  const rank = Number(props.rank);
  return props.rank !== undefined && props.rank !== null && Number.isFinite(rank) ? Math.max(0, 7 + 2 * (rank - 1)) : 12;
}

/** Label size in pixels: bigger for more important places. */
export function labelSize(props: Record<string, unknown>): number {
  const z = labelMinZoom(props);
  return z <= 0 ? 18 : z <= 9 ? 15 : 12;
}

function categoryColor(style: LayerStyle, props: Record<string, unknown>): RGBA | undefined {
  if (!style.by || !style.categories) return undefined;
  return style.categories[String(props[style.by])];
}

/**
 * The 2D map outlines extruded polygons (buildings) from this zoom on: below it a building is a few
 * pixels wide and its outline mostly noise, while outlining thousands of them is most of a frame's
 * cost on software WebGL. (The 3D imagery is rasterised once per tile and keeps them.)
 */
export const BUILDING_OUTLINE_MIN_ZOOM = 15;

export interface TilesetStyle {
  /** Changes whenever any accessor's result could change: use as the deck.gl updateTrigger. */
  readonly key: string;
  /** Catalog layers of this tileset that are drawn, by MVT source-layer name. */
  readonly bySourceLayer: ReadonlyMap<string, LayerDef>;
  /** Whether any shown polygon gets an outline: when none does, the outline pass is not drawn at all. */
  readonly stroked: boolean;
  fill(f: FeatureLike): RGBA;
  line(f: FeatureLike): RGBA;
  lineWidth(f: FeatureLike): number;
  text(f: FeatureLike): string;
  textSize(f: FeatureLike): number;
}

/**
 * Accessors for `tileset` drawing only the catalog layers in `shownIds`, at `zoom` (which decides
 * which place labels show, rounded to the label thresholds in `key`, and whether buildings are
 * outlined when `opts.buildingOutlineMinZoom` is set).
 */
export function tilesetStyle(tileset: Tileset, shownIds: readonly string[], zoom: number,
  opts: { buildingOutlineMinZoom?: number } = {}): TilesetStyle {
  const bySourceLayer = new Map<string, LayerDef>();
  for (const l of tilesetLayers(tileset)) {
    if (l.tiles && shownIds.includes(l.id)) bySourceLayer.set(l.tiles.sourceLayer, l);
  }
  const layerOf = (f: FeatureLike): [LayerDef | undefined, Record<string, unknown>] => {
    const props = f.properties ?? {};
    return [bySourceLayer.get(String(props[LAYER_PROPERTY])), props];
  };
  // Labels switch on at half-zoom steps, so the text accessor (and its GPU buffers) is rebuilt at most
  // twice per zoom level rather than on every frame of a zoom gesture.
  const labelZoom = Math.floor(zoom * 2) / 2;
  const outlined = (l: LayerDef) => !!l.style.line && l.style.line[3] > 0 && (!l.style.extrude || zoom >= (opts.buildingOutlineMinZoom ?? 0));
  const stroked = [...bySourceLayer.values()].some((l) => l.geometry === 'polygon' && outlined(l));

  return {
    key: `${tileset}:${[...bySourceLayer.keys()].join(',')}:${labelZoom}:${stroked ? 's' : ''}`,
    bySourceLayer,
    stroked,
    fill(f) {
      const [l, props] = layerOf(f);
      if (!l || l.geometry !== 'polygon') return TRANSPARENT;
      return categoryColor(l.style, props) ?? l.style.fill ?? TRANSPARENT;
    },
    line(f) {
      const [l, props] = layerOf(f);
      if (!l) return TRANSPARENT;
      if (l.geometry === 'line') return categoryColor(l.style, props) ?? l.style.line ?? DEFAULT_LINE;
      return outlined(l) ? l.style.line! : TRANSPARENT;
    },
    lineWidth(f) {
      const [l] = layerOf(f);
      return l?.style.lineWidth ?? 1;
    },
    text(f) {
      const [l, props] = layerOf(f);
      if (!l || l.geometry !== 'point' || !l.style.label) return '';
      if (labelMinZoom(props) > labelZoom) return '';
      const value = props[l.style.label];
      return value === undefined || value === null ? '' : String(value);
    },
    textSize(f) {
      const [, props] = layerOf(f);
      return labelSize(props);
    },
  };
}
