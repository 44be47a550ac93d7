// Tile build: our tiler (geojson-vt + our MVT encoder + PMTiles writer) vs GDAL's `ogr2ogr -f MVT`, on
// the same basemap FlatGeobuf files, the same layers, tiled properties and per-layer zoom ranges, in one run.
// Usage: npx tsx bench/tile-build.bench.ts [--dir geodata/build]
// The input is the output of `npm run data` (seeded, so runs compare like with like).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tilesetLayers } from '../layers/catalog.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { buildTileset, TILE_MAX_ZOOM, TILE_PROPERTIES } from '../scripts/build-tiles.ts';

const argDir = process.argv.indexOf('--dir');
const dir = resolve(argDir > 0 ? process.argv[argDir + 1] : 'geodata/build');
const layers = tilesetLayers('basemap');

const missing = layers.filter((l) => !existsSync(join(dir, l.fgb)));
if (missing.length) {
  console.error(`tile-build bench: ${missing.map((l) => l.fgb).join(', ')} missing in ${dir}. Build the demo data first: npm run data`);
  process.exit(1);
}
if (spawnSync('ogr2ogr', ['--version']).status !== 0) {
  console.error('tile-build bench: ogr2ogr not found. Install GDAL: apt-get install gdal-bin');
  process.exit(1);
}
const gdalVersion = spawnSync('ogr2ogr', ['--version'], { encoding: 'utf8' }).stdout.trim();

const counts = layers.map((l) => `${l.id} ${openFlatGeobuf(readFileSync(join(dir, l.fgb))).count}`);
console.log(`input ${dir}: ${counts.join(', ')}`);
const work = mkdtempSync(join(tmpdir(), 'onemap-tile-bench-'));

function countFiles(d: string): number {
  let n = 0;
  for (const e of readdirSync(d, { withFileTypes: true })) {
    if (e.isDirectory()) n += countFiles(join(d, e.name));
    else if (e.name.endsWith('.pbf')) n++;
  }
  return n;
}

try {
  // Ours.
  console.log('our tiler …');
  const ours = await buildTileset('basemap', { dir, outDir: work, onProgress: (m) => console.log(`  ${m}`) });
  console.log(`ours: ${ours.tiles} tiles, ${(ours.bytes / 1048576).toFixed(1)} MiB archive, ${ours.seconds.toFixed(2)} s`);

  // GDAL: one VRT holding every basemap layer with only the tiled fields, and a CONF giving each layer our
  // MVT layer name and zoom range, so both tools cut the same features at the same zooms.
  const vrt = ['<OGRVRTDataSource>'];
  const conf: Record<string, { target_name: string; minzoom: number; maxzoom: number }> = {};
  for (const l of layers) {
    const keep = TILE_PROPERTIES.filter((p) => l.fields.some((f) => f.name === p));
    vrt.push(`<OGRVRTLayer name="${l.id}"><SrcDataSource>${join(dir, l.fgb)}</SrcDataSource>`
      + `<SrcSQL>SELECT ${keep.join(', ')} FROM "${l.id}"</SrcSQL></OGRVRTLayer>`);
    conf[l.id] = { target_name: l.tiles!.sourceLayer, minzoom: l.tiles!.minzoom, maxzoom: Math.min(l.tiles!.maxzoom, TILE_MAX_ZOOM) };
  }
  vrt.push('</OGRVRTDataSource>');
  const vrtPath = join(work, 'basemap.vrt');
  writeFileSync(vrtPath, vrt.join('\n'));
  const outDir = join(work, 'ogr-mvt');
  const minzoom = Math.min(...Object.values(conf).map((c) => c.minzoom));
  const args = ['-f', 'MVT', outDir, vrtPath, '-dsco', 'FORMAT=DIRECTORY', '-dsco', `MINZOOM=${minzoom}`, '-dsco', `MAXZOOM=${TILE_MAX_ZOOM}`,
    '-dsco', 'COMPRESS=YES', '-dsco', `CONF=${JSON.stringify(conf)}`];
  console.log(`ogr2ogr ${args.map((a) => (/[\s{"]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const t0 = performance.now();
  const r = spawnSync('ogr2ogr', args, { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  const gdalSeconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`ogr2ogr failed (exit ${r.status}): ${r.stderr}`);
  const gdalTiles = countFiles(outDir);
  let gdalBytes = 0;
  const sum = (d: string) => { for (const e of readdirSync(d, { withFileTypes: true })) { const p = join(d, e.name); if (e.isDirectory()) sum(p); else gdalBytes += statSync(p).size; } };
  sum(outDir);
  console.log(`ogr2ogr: ${gdalTiles} tiles, ${(gdalBytes / 1048576).toFixed(1)} MiB in files, ${gdalSeconds.toFixed(2)} s`);

  const ratio = gdalSeconds / ours.seconds;
  console.log(['BENCH', `tile build: basemap z0-${TILE_MAX_ZOOM} (${counts.join(', ')})`, `${ours.seconds.toFixed(2)} s`,
    `ogr2ogr -f MVT (${gdalVersion.replace(/,.*/, '')})`, `${gdalSeconds.toFixed(2)} s`, `${ratio.toFixed(2)}x`,
    `ratio = ogr2ogr time / our time, >1 means we are faster; tiles: ours ${ours.tiles}, ogr2ogr ${gdalTiles}; ours includes reading FGB and writing one PMTiles file`].join('\t'));
} finally {
  rmSync(work, { recursive: true, force: true });
}
