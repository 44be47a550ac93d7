// A small data folder for server tests, built with the project's own encoders in a temp dir: catalog
// layers towns (polygons, one with a hole, one multipolygon), roads (lines) and facilities (points) with
// Chinese names, plus basemap.pmtiles (roads) and overlay.pmtiles (towns) of gzip MVT tiles.
// Seeded, so every run builds the same bytes.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import GeoJSONVT from 'geojson-vt';
import { getLayer } from '../../layers/catalog.ts';
import { encodeFlatGeobuf } from '../../layers/formats/flatgeobuf.ts';
import { writePmtiles, type PmtilesTile } from '../../layers/formats/pmtiles-writer.ts';
import { createRng } from '../../scripts/data/rng.ts';

// vt-pbf is CommonJS without type declarations.
const vtpbf = createRequire(import.meta.url)('vt-pbf') as {
  fromGeojsonVt(layers: Record<string, unknown>, opts?: { version?: number; extent?: number }): Uint8Array;
};

export interface Fixture {
  dir: string;
  webDir: string;
  towns: GeoJSON.Feature[];
  roads: GeoJSON.Feature[];
  facilities: GeoJSON.Feature[];
  /** Tiles written per archive, as `z/x/y` keys. */
  tiles: { basemap: Set<string>; overlay: Set<string> };
  /** Archive bounds and zooms. */
  bounds: [number, number, number, number];
  minZoom: number;
  maxZoom: number;
  cleanup(): Promise<void>;
}

export const FIXTURE_BOUNDS: [number, number, number, number] = [120.70, 31.60, 120.82, 31.70];
const MIN_ZOOM = 8;
const MAX_ZOOM = 14;

const TOWN_NAMES = ['虞山街道', '常福街道', '琴川街道', '莫城街道', '琴湖街道', '碧溪街道'];
const ROAD_NAMES = ['海虞北路', '虞山北路', '黄河路', '青墩塘路', '珠江路', '湘江路', '长江路', '世纪大道', '东南大道', '通港路'];
const FACILITY_KINDS = ['school', 'hospital', 'fire_station', 'police_station', 'community_centre'];
const KIND_NAMES: Record<string, string> = {
  school: '小学', hospital: '卫生院', fire_station: '消防站', police_station: '派出所', community_centre: '社区服务中心',
};

function box(w: number, s: number, e: number, n: number): GeoJSON.Position[] {
  return [[w, s], [e, s], [e, n], [w, n], [w, s]];
}

function makeTowns(): GeoJSON.Feature[] {
  const [w, s, e, n] = FIXTURE_BOUNDS;
  const dx = (e - w) / 3;
  const dy = (n - s) / 2;
  const out: GeoJSON.Feature[] = [];
  for (let i = 0; i < 6; i++) {
    const cx = w + (i % 3) * dx;
    const cy = s + Math.floor(i / 3) * dy;
    const outer = box(cx + 0.002, cy + 0.002, cx + dx - 0.002, cy + dy - 0.002);
    let geometry: GeoJSON.Geometry = { type: 'Polygon', coordinates: [outer] };
    if (i === 1) {
      // A hole (a lake enclave): bbox queries inside it must not match the town.
      geometry = { type: 'Polygon', coordinates: [outer, box(cx + dx * 0.3, cy + dy * 0.3, cx + dx * 0.7, cy + dy * 0.7).reverse()] };
    }
    if (i === 4) {
      geometry = { type: 'MultiPolygon', coordinates: [[box(cx + 0.002, cy + 0.002, cx + dx / 2 - 0.002, cy + dy - 0.002)], [box(cx + dx / 2 + 0.01, cy + 0.01, cx + dx - 0.01, cy + dy / 2)]] };
    }
    const code = `320581${String(i + 1).padStart(3, '0')}`;
    out.push({ type: 'Feature', geometry, properties: { id: `town-${code}`, code, name: TOWN_NAMES[i], kind: '街道', synthetic: true } });
  }
  return out;
}

function makeRoads(rng: ReturnType<typeof createRng>): GeoJSON.Feature[] {
  const [w, s, e, n] = FIXTURE_BOUNDS;
  const out: GeoJSON.Feature[] = [];
  for (let i = 0; i < 40; i++) {
    const pts: GeoJSON.Position[] = [];
    let x = rng.range(w + 0.005, e - 0.005);
    let y = rng.range(s + 0.005, n - 0.005);
    const steps = rng.int(2, 6);
    for (let k = 0; k <= steps; k++) {
      pts.push([x, y]);
      x = Math.min(e - 0.001, Math.max(w + 0.001, x + rng.range(-0.006, 0.006)));
      y = Math.min(n - 0.001, Math.max(s + 0.001, y + rng.range(-0.006, 0.006)));
    }
    out.push({
      type: 'Feature',
      geometry: { type: 'LineString', coordinates: pts },
      properties: { id: `road-${i + 1}`, name: `${rng.pick(ROAD_NAMES)}${i}段`, class: rng.pick(['arterial', 'secondary', 'local']), synthetic: true },
    });
  }
  return out;
}

function makeFacilities(rng: ReturnType<typeof createRng>): GeoJSON.Feature[] {
  const [w, s, e, n] = FIXTURE_BOUNDS;
  const out: GeoJSON.Feature[] = [];
  for (let i = 0; i < 257; i++) {
    const kind = rng.pick(FACILITY_KINDS);
    out.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [rng.range(w, e), rng.range(s, n)] },
      properties: {
        id: `facility-${String(i + 1).padStart(4, '0')}`, name: `第${i + 1}${KIND_NAMES[kind]}`, kind,
        department: 'city', address: `常熟市虞山街道${rng.pick(ROAD_NAMES)}${rng.int(1, 300)}号`,
        grid_code: `320581001001${String(rng.int(1, 20)).padStart(3, '0')}`, synthetic: true,
      },
    });
  }
  return out;
}

function tileArchive(layers: Record<string, GeoJSON.Feature[]>, name: string): { bytes: Uint8Array; keys: Set<string> } {
  const indexes = Object.entries(layers).map(([id, features]) => [id, new GeoJSONVT({ type: 'FeatureCollection', features }, { maxZoom: MAX_ZOOM, indexMaxZoom: MAX_ZOOM, tolerance: 3, extent: 4096, buffer: 64 })] as const);
  const tiles: PmtilesTile[] = [];
  const keys = new Set<string>();
  const [w, s, e, n] = FIXTURE_BOUNDS;
  for (let z = MIN_ZOOM; z <= MAX_ZOOM; z++) {
    const nTiles = 2 ** z;
    const tx = (lon: number) => Math.floor(((lon + 180) / 360) * nTiles);
    const ty = (lat: number) => Math.floor(((1 - Math.asinh(Math.tan((lat * Math.PI) / 180)) / Math.PI) / 2) * nTiles);
    for (let x = tx(w); x <= tx(e); x++) {
      for (let y = ty(n); y <= ty(s); y++) {
        const tileLayers: Record<string, unknown> = {};
        for (const [id, index] of indexes) {
          const t = index.getTile(z, x, y);
          if (t && t.features.length > 0) tileLayers[id] = t;
        }
        if (Object.keys(tileLayers).length === 0) continue;
        tiles.push({ z, x, y, data: gzipSync(vtpbf.fromGeojsonVt(tileLayers, { version: 2, extent: 4096 })) });
        keys.add(`${z}/${x}/${y}`);
      }
    }
  }
  const vector_layers = Object.entries(layers).map(([id, features]) => ({
    id,
    fields: Object.fromEntries(Object.keys(features[0]?.properties ?? {}).map((k) => [k, 'String'])),
    minzoom: MIN_ZOOM,
    maxzoom: MAX_ZOOM,
  }));
  const bytes = writePmtiles(tiles, {
    tileCompression: 'gzip', minZoom: MIN_ZOOM, maxZoom: MAX_ZOOM, bounds: FIXTURE_BOUNDS,
    center: [(w + e) / 2, (s + n) / 2, 12],
    metadata: { name: `fixture ${name}`, attribution: '测试数据 test fixture', vector_layers },
  });
  return { bytes, keys };
}

/** Builds the fixture into a fresh temp folder. `web: true` also writes a tiny built web app. */
export async function buildFixture(opts: { web?: boolean } = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'onemap-fixture-'));
  const rng = createRng('tile-server-fixture');
  const towns = makeTowns();
  const roads = makeRoads(rng.fork('roads'));
  const facilities = makeFacilities(rng.fork('facilities'));
  for (const [id, features] of [['towns', towns], ['roads', roads], ['facilities', facilities]] as const) {
    const def = getLayer(id)!;
    await writeFile(join(dir, def.fgb), encodeFlatGeobuf(features, { layerName: id, fields: def.fields }));
  }
  const basemap = tileArchive({ roads }, 'basemap');
  const overlay = tileArchive({ towns }, 'overlay');
  await writeFile(join(dir, 'basemap.pmtiles'), basemap.bytes);
  await writeFile(join(dir, 'overlay.pmtiles'), overlay.bytes);
  const webDir = join(dir, 'web');
  if (opts.web) {
    await mkdir(join(webDir, 'assets'), { recursive: true });
    await writeFile(join(webDir, 'index.html'), '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>一张图</title></head><body><div id="app"></div><script type="module" src="/assets/index-AbCd1234.js"></script></body></html>\n');
    await writeFile(join(webDir, 'assets', 'index-AbCd1234.js'), 'console.log("一张图");\n');
    await writeFile(join(webDir, 'assets', 'style-Zz9_x-12.css'), 'body{margin:0}\n');
    await writeFile(join(webDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
  }
  return {
    dir, webDir, towns, roads, facilities,
    tiles: { basemap: basemap.keys, overlay: overlay.keys },
    bounds: FIXTURE_BOUNDS, minZoom: MIN_ZOOM, maxZoom: MAX_ZOOM,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
