// Edited features in the vector tiles without rebuilding the archive (issue 8: "tiles of the edited area
// are rebuilt or overlaid"). A tile whose area an edit touched is decoded, loses every feature of an
// edited id in that layer (matched by the `id` tag the build writes), gains the current versions cut with
// the build's own settings (geojson-vt, extent 4096, buffer 64, tolerance 3 — scripts/build-tiles.ts;
// geojson-vt cuts and simplifies each feature on its own, so one cut alone equals its cut among all), and
// is re-encoded with the build's encoder. Untouched tiles are served as stored.
import { VectorTile } from '@mapbox/vector-tile';
import GeoJSONVT from 'geojson-vt';
import type { RawFeature, RawTile } from 'geojson-vt';
import { PbfReader } from 'pbf';
import { tilesetLayers, type LayerDef, type Tileset } from '../../layers/catalog.ts';
import type { Bbox } from '../../layers/formats/flatgeobuf.ts';
import type { EditFeature } from '../../layers/editing/model.ts';
import { rewindForMvt, TILE_MAX_ZOOM, TILE_PROPERTIES } from '../../scripts/build-tiles.ts';
import { encodeMvt, type MvtLayerInput } from '../../scripts/tiles/mvt-encode.ts';

/** As scripts/build-tiles.ts cuts (not exported there). */
export const TILE_EXTENT = 4096;
const BUFFER = 64;
const TOLERANCE = 3;

/** One MVT layer's change in one tile: drop these ids, add these already-cut features. */
export interface TilePatchLayer {
  name: string;
  drop: ReadonlySet<string>;
  add: RawTile | null;
}

/**
 * Re-encodes `stored` (uncompressed MVT, null = no tile) with the patches applied. Layers keep the stored
 * order; a layer the tile did not have is placed by `order` (the tileset's drawing order). Returns an
 * empty array when no feature is left.
 */
export function patchMvt(stored: Uint8Array | null, patches: TilePatchLayer[], order: readonly string[]): Uint8Array {
  const vt = stored && stored.length ? new VectorTile(new PbfReader(stored)) : null;
  const names = vt ? Object.keys(vt.layers) : [];
  for (const p of patches) {
    if (names.includes(p.name)) continue;
    // Insert before the first stored layer that comes later in drawing order.
    const rank = order.indexOf(p.name);
    const at = names.findIndex((n) => order.indexOf(n) > rank);
    if (at < 0) names.push(p.name); else names.splice(at, 0, p.name);
  }
  const out: MvtLayerInput[] = [];
  for (const name of names) {
    const patch = patches.find((p) => p.name === name);
    const layer = vt?.layers[name];
    const features: RawFeature[] = [];
    let extent = TILE_EXTENT;
    if (layer) {
      extent = layer.extent;
      for (let i = 0; i < layer.length; i++) {
        const f = layer.feature(i);
        if (patch && patch.drop.has(String(f.properties.id))) continue;
        features.push(toRaw(f.type, f.loadGeometry(), f.properties));
      }
    }
    if (patch?.add) {
      // Added features are cut at the build's extent; scale if a stored layer used another one.
      for (const f of patch.add.features) features.push(extent === TILE_EXTENT ? f : scaleRaw(f, extent / TILE_EXTENT));
    }
    if (features.length) out.push({ name, tile: { features }, extent });
  }
  return out.length ? encodeMvt(out) : new Uint8Array(0);
}

function toRaw(type: number, rings: { x: number; y: number }[][], tags: Record<string, unknown>): RawFeature {
  if (type === 1) {
    const pts = rings.flat();
    if (pts.length === 1) return { type: 4, x: pts[0].x, y: pts[0].y, tags };
    const g = new Int32Array(2 * pts.length);
    pts.forEach((p, k) => { g[2 * k] = p.x; g[2 * k + 1] = p.y; });
    return { type: 1, geometry: g, tags };
  }
  const geometry = rings.map((r) => {
    const g = new Int32Array(2 * r.length);
    r.forEach((p, k) => { g[2 * k] = p.x; g[2 * k + 1] = p.y; });
    return g;
  });
  return { type: type === 3 ? 3 : 2, geometry, tags };
}

function scaleRaw(f: RawFeature, s: number): RawFeature {
  const sc = (a: Int16Array | Int32Array) => Int32Array.from(a, (v) => Math.round(v * s));
  if (f.type === 4) return { ...f, x: Math.round(f.x * s), y: Math.round(f.y * s) };
  if (f.type === 1) return { ...f, geometry: sc(f.geometry) };
  return { ...f, geometry: f.geometry.map(sc) };
}

/** The properties a built tile carries for a feature (build-tiles readLayer): never a personal field (issue 9). */
export function tileProperties(def: LayerDef, props: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of TILE_PROPERTIES) {
    if (!def.fields.some((f) => f.name === k && !f.personal)) continue;
    const v = props[k];
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}

/** The lon/lat box of tile z/x/y widened by the cut's buffer. */
export function tileBounds(z: number, x: number, y: number): Bbox {
  const n = 2 ** z, pad = BUFFER / TILE_EXTENT;
  const lon = (t: number) => (t / n) * 360 - 180;
  const lat = (t: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * t) / n))) * 180) / Math.PI;
  return [lon(x - pad), lat(y + 1 + pad), lon(x + 1 + pad), lat(y - pad)];
}

export function boxesIntersect(a: Bbox, b: Bbox): boolean {
  return !(a[2] < b[0] || a[3] < b[1] || a[0] > b[2] || a[1] > b[3]);
}

/** What TileOverlay needs of the effective layers (tile-server/editing/effective.ts). */
export interface EditedLayers {
  edited(layer: string): ReadonlyMap<string, EditFeature | null>;
  revision(layer?: string): number;
  footprint(layer: string): Promise<Map<string, Bbox>>;
}

interface Cut { revision: number; vt: Promise<{ vt: GeoJSONVT | null; drop: Set<string>; boxes: Bbox[] }> }

export class TileOverlay {
  private readonly cuts = new Map<string, Cut>();

  constructor(private readonly view: EditedLayers) {}

  /** The tileset's revision: the last edit of any of its layers (0: as built). Part of patched tiles' ETags. */
  revision(tileset: string): number {
    let r = 0;
    for (const def of tilesetLayers(tileset as Tileset)) r = Math.max(r, this.view.revision(def.id));
    return r;
  }

  /**
   * The patched tile (uncompressed; empty = no features left), or undefined when no edit touches it.
   * `stored` gives the archive's tile, uncompressed (null when there is none); called only when needed.
   */
  async patch(tileset: string, z: number, x: number, y: number, stored: () => Uint8Array | null): Promise<Uint8Array | undefined> {
    if (!this.revision(tileset)) return undefined;
    const defs = tilesetLayers(tileset as Tileset);
    const bounds = tileBounds(z, x, y);
    const patches: TilePatchLayer[] = [];
    for (const def of defs) {
      const t = def.tiles!;
      if (z < t.minzoom || z > Math.min(t.maxzoom, TILE_MAX_ZOOM) || !this.view.revision(def.id)) continue;
      const cut = await this.cut(def);
      if (!cut.boxes.some((b) => boxesIntersect(b, bounds))) continue;
      const raw = cut.vt?.getTileRaw(z, x, y) ?? null;
      patches.push({ name: t.sourceLayer, drop: cut.drop, add: raw && raw.features.length ? raw : null });
    }
    if (!patches.length) return undefined;
    return patchMvt(stored(), patches, defs.map((d) => d.tiles!.sourceLayer));
  }

  /** The layer's current edited features, indexed for cutting like the build; per layer revision. */
  private cut(def: LayerDef): Cut['vt'] {
    const revision = this.view.revision(def.id);
    const hit = this.cuts.get(def.id);
    if (hit && hit.revision === revision) return hit.vt;
    const edited = new Map(this.view.edited(def.id));
    const vt = this.view.footprint(def.id).then((fp) => {
      const features: GeoJSON.Feature[] = [];
      for (const [id, f] of edited) {
        if (!f?.geometry) continue;
        features.push({ type: 'Feature', geometry: rewindForMvt(f.geometry), properties: tileProperties(def, { ...f.properties, id }) });
      }
      const t = def.tiles!;
      const index = features.length ? new GeoJSONVT({ type: 'FeatureCollection', features }, {
        maxZoom: Math.min(t.maxzoom, TILE_MAX_ZOOM), indexMaxZoom: 5, indexMaxPoints: 100000,
        tolerance: TOLERANCE, extent: TILE_EXTENT, buffer: BUFFER,
      }) : null;
      return { vt: index, drop: new Set(edited.keys()), boxes: [...fp.values()] };
    });
    this.cuts.set(def.id, { revision, vt });
    vt.catch(() => this.cuts.delete(def.id));
    return vt;
  }
}
