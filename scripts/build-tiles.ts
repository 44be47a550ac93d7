// Cuts the vector tiles: for each tileset (basemap, overlay) reads the catalog layers' FlatGeobuf files
// from {dir}, cuts MVT tiles z0…14 with geojson-vt (the client overzooms past 14), gzips each tile and
// writes {dir}/{tileset}.pmtiles. CLI: npx tsx scripts/build-tiles.ts [--dir geodata/build]

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import GeoJSONVT from 'geojson-vt';
import { CITY, tilesetLayers, TILESETS, type FieldType, type LayerDef, type Tileset } from '../layers/catalog.ts';
import { geometryBbox, openFlatGeobuf, type Bbox } from '../layers/formats/flatgeobuf.ts';
import { writePmtiles, type PmtilesTile } from '../layers/formats/pmtiles-writer.ts';
import { encodeMvt, type MvtLayerInput } from './tiles/mvt-encode.ts';

export const TILE_MAX_ZOOM = 14;
const EXTENT = 4096;
const BUFFER = 64;
/** What the map draws or labels with; everything else stays in the FlatGeobuf files (and the feature API). */
export const TILE_PROPERTIES = ['id', 'name', 'class', 'kind', 'height', 'floors', 'code', 'rank'];

export interface TilesetResult { tileset: Tileset; tiles: number; bytes: number; seconds: number; path: string }

type Layer = { def: LayerDef; features: GeoJSON.Feature[]; bbox: Bbox };

function signedArea(ring: GeoJSON.Position[]): number {
  let s = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) s += (ring[i][0] - ring[j][0]) * (ring[i][1] + ring[j][1]);
  return s; // > 0 ⇔ clockwise with y up
}

/**
 * Outer rings clockwise and holes counter-clockwise in lon/lat, so that in tile space (y down) exteriors
 * have positive area as MVT 2.1 §4.3.4.4 requires. geojson-vt 5 keeps the input winding.
 */
export function rewindForMvt(g: GeoJSON.Geometry): GeoJSON.Geometry {
  const fix = (poly: GeoJSON.Position[][]) =>
    poly.map((ring, i) => ((signedArea(ring) > 0) === (i === 0) ? ring : [...ring].reverse()));
  if (g.type === 'Polygon') return { type: 'Polygon', coordinates: fix(g.coordinates) };
  if (g.type === 'MultiPolygon') return { type: 'MultiPolygon', coordinates: g.coordinates.map(fix) };
  return g;
}

function readLayer(dir: string, def: LayerDef): Layer {
  const path = join(dir, def.fgb);
  // A city loading its own data may not have every layer: a missing layer is left out of the tiles
  // (buildTileset says so); only a tileset with no layer at all is an error.
  if (!existsSync(path)) return { def, features: [], bbox: geometryBbox(null) };
  const file = openFlatGeobuf(readFileSync(path));
  // Personal fields (FieldDef.personal) never go into tiles, even if named in TILE_PROPERTIES: tiles are cached
  // and shared, so they cannot be masked per caller (issue 9).
  const keep = TILE_PROPERTIES.filter((p) => def.fields.some((f) => f.name === p && !f.personal));
  const features: GeoJSON.Feature[] = [];
  for (const f of file.features()) {
    const props: Record<string, unknown> = {};
    for (const k of keep) if (f.properties?.[k] !== undefined && f.properties[k] !== null) props[k] = f.properties[k];
    features.push({ type: 'Feature', geometry: rewindForMvt(f.geometry), properties: props });
  }
  return { def, features, bbox: file.count ? file.bbox : geometryBbox(null) };
}

function lonToX(lon: number, z: number): number {
  return ((lon + 180) / 360) * 2 ** z;
}
function latToY(lat: number, z: number): number {
  const s = Math.sin((lat * Math.PI) / 180);
  return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 2 ** z;
}

/** Tile column/row range at z covering bbox plus the tile buffer. */
function tileRange(b: Bbox, z: number): [number, number, number, number] {
  const pad = BUFFER / EXTENT;
  const n = 2 ** z;
  const clamp = (v: number) => Math.max(0, Math.min(n - 1, Math.floor(v)));
  return [clamp(lonToX(b[0], z) - pad), clamp(latToY(b[3], z) - pad), clamp(lonToX(b[2], z) + pad), clamp(latToY(b[1], z) + pad)];
}

const FIELD_TYPE: Record<FieldType, string> = { string: 'String', int: 'Number', number: 'Number', boolean: 'Boolean', datetime: 'String' };

function metadata(tileset: Tileset, layers: Layer[]): Record<string, unknown> {
  const sources = [...new Set(layers.map((l) => `${l.def.title}：${l.def.sourceNote}`))];
  return {
    name: tileset === 'basemap' ? `${CITY.name}底图` : `${CITY.name}行政区划与网格`,
    description: tileset === 'basemap'
      ? `${CITY.name}演示底图：水系、用地、道路、建筑、地名（OneMap 一网统管演示数据）`
      : `${CITY.name}行政区划叠加：市界、镇（街道）、村（社区）、网格（OneMap 一网统管演示数据）`,
    attribution: `OneMap 演示数据（含生成数据）；${sources.join('；')}`,
    type: tileset === 'basemap' ? 'baselayer' : 'overlay',
    version: '1.0.0',
    format: 'pbf',
    vector_layers: layers.map((l) => ({
      id: l.def.tiles!.sourceLayer,
      description: l.def.title,
      minzoom: l.def.tiles!.minzoom,
      maxzoom: l.def.tiles!.maxzoom,
      fields: Object.fromEntries(l.def.fields.filter((f) => TILE_PROPERTIES.includes(f.name) && !f.personal).map((f) => [f.name, FIELD_TYPE[f.type]])),
    })),
  };
}

export interface TilesetOptions { dir: string; /** where {tileset}.pmtiles goes; default `dir` */ outDir?: string; onProgress?: (msg: string) => void }

/** Builds one tileset's archive from {dir}/*.fgb into {outDir}/{tileset}.pmtiles; returns what was written. */
export async function buildTileset(tileset: Tileset, opts: TilesetOptions): Promise<TilesetResult> {
  const { dir } = opts;
  const onProgress = opts.onProgress ?? (() => {});
  const t0 = performance.now();
  const secs = () => ((performance.now() - t0) / 1000).toFixed(1);
  const defs = tilesetLayers(tileset);
  const layers = defs.map((d) => readLayer(dir, d)).filter((l) => l.features.length > 0);
  const absent = defs.filter((d) => !layers.some((l) => l.def.id === d.id)).map((d) => d.fgb);
  if (absent.length && layers.length) onProgress(`[tiles] ${tileset}: no features in ${absent.join(', ')} - left out of the tiles`);
  if (!layers.length) throw new Error(`no features in any ${tileset} layer (${defs.map((d) => d.fgb).join(', ')}) in ${dir}; put the layer files there (README: a real city's own data) or run \`npm run data\` for the demo city`);
  onProgress(`[tiles] ${tileset}: read ${layers.map((l) => `${l.def.id} ${l.features.length}`).join(', ')} (${secs()} s)`);

  const indexes = layers.map((l) => new GeoJSONVT({ type: 'FeatureCollection', features: l.features }, {
    maxZoom: Math.min(l.def.tiles!.maxzoom, TILE_MAX_ZOOM), indexMaxZoom: 5, indexMaxPoints: 100000,
    tolerance: 3, extent: EXTENT, buffer: BUFFER,
  }));
  onProgress(`[tiles] ${tileset}: indexed (${secs()} s)`);

  const bounds: Bbox = [Infinity, Infinity, -Infinity, -Infinity];
  for (const l of layers) {
    bounds[0] = Math.min(bounds[0], l.bbox[0]); bounds[1] = Math.min(bounds[1], l.bbox[1]);
    bounds[2] = Math.max(bounds[2], l.bbox[2]); bounds[3] = Math.max(bounds[3], l.bbox[3]);
  }
  const minZoom = Math.min(...layers.map((l) => l.def.tiles!.minzoom));
  const maxZoom = Math.min(TILE_MAX_ZOOM, Math.max(...layers.map((l) => l.def.tiles!.maxzoom)));

  const tiles: PmtilesTile[] = [];
  // Zoom by zoom, so each tile is cut from its already-cut parent (geojson-vt drills from the nearest one).
  for (let z = minZoom; z <= maxZoom; z++) {
    const active = layers.map((l, i) => ({ l, i })).filter(({ l }) => z >= l.def.tiles!.minzoom && z <= l.def.tiles!.maxzoom);
    if (!active.length) continue;
    const range: Bbox = [Infinity, Infinity, -Infinity, -Infinity];
    for (const { l } of active) {
      const r = tileRange(l.bbox, z);
      range[0] = Math.min(range[0], r[0]); range[1] = Math.min(range[1], r[1]);
      range[2] = Math.max(range[2], r[2]); range[3] = Math.max(range[3], r[3]);
    }
    let made = 0;
    for (let x = range[0]; x <= range[2]; x++) {
      for (let y = range[1]; y <= range[3]; y++) {
        const parts: MvtLayerInput[] = [];
        for (const { l, i } of active) {
          const raw = indexes[i].getTileRaw(z, x, y);
          if (raw && raw.features.length) parts.push({ name: l.def.tiles!.sourceLayer, tile: raw, extent: EXTENT });
        }
        if (!parts.length) continue;
        const pbf = encodeMvt(parts);
        if (pbf.length === 0) continue;
        tiles.push({ z, x, y, data: gzipSync(pbf, { level: 6 }) });
        made++;
      }
    }
    onProgress(`[tiles] ${tileset} z${z}: ${made} tiles, ${tiles.length} total (${secs()} s)`);
  }

  const archive = writePmtiles(tiles, {
    tileCompression: 'gzip', minZoom, maxZoom, bounds,
    center: [CITY.center[0], CITY.center[1], 11],
    metadata: metadata(tileset, layers),
  });
  const path = join(opts.outDir ?? dir, `${tileset}.pmtiles`);
  // Write then rename, so a running server never reads half a file.
  writeFileSync(`${path}.tmp`, archive);
  renameSync(`${path}.tmp`, path);
  onProgress(`[tiles] ${tileset}: wrote ${path} (${tiles.length} tiles, ${(archive.length / 1048576).toFixed(1)} MiB, ${secs()} s)`);
  return { tileset, tiles: tiles.length, bytes: archive.length, seconds: (performance.now() - t0) / 1000, path };
}

export async function buildTiles(opts: { dir: string; onProgress?: (msg: string) => void }): Promise<void> {
  for (const ts of TILESETS) await buildTileset(ts, { dir: opts.dir, onProgress: opts.onProgress });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--dir');
  const dir = i > 0 && process.argv[i + 1] ? process.argv[i + 1] : 'geodata/build';
  buildTiles({ dir, onProgress: (m) => process.stderr.write(`${m}\n`) }).catch((e: Error) => {
    process.stderr.write(`build-tiles failed: ${e.message}\n`);
    process.exit(1);
  });
}
