// Spatial queries: the embedded store (tile-server/storage/embedded-store.ts) against PostGIS (the same
// SpatialStore interface, tile-server/storage/postgis-store.ts) and against a naive turf loop, in one run.
// Run: npx tsx bench/spatial.bench.ts   (starts the local PostgreSQL from scripts/pg-local.ts and loads the
// data when needed; DATABASE_URL overrides the local server). About 1–2 minutes, most of it PostGIS.
//
//  1. point → grid for 1,000,000 seeded random points in the city's bbox: embedded gridCodesAt vs PostGIS
//     gridCodesAt (ST_Intersects with the GiST index, batches of 20k points per statement, one connection)
//     vs a naive loop of @turf/boolean-point-in-polygon over all grids (timed on the first NAIVE_N points).
//     All three apply the same boundary rule (smallest code wins) and their answers are compared.
//  2. k nearest cameras (k = 10) at 2,000 seeded points, one query at a time.
//  3. a ~2 km polygon over all addresses (count + the first 1,000 rows by id), 30 seeded polygons.
//  4. GET /api/lookup over HTTP (keep-alive, one request at a time) at 1,000 seeded random points inside the
//     city, on two servers started in this process (startServer): embedded store vs PostGIS store, after a
//     warm-up; p50/p95 per store, and how many answers differ between them.
// Parts can be chosen: BENCH_PARTS=4 (or e.g. 1,3); default all.

import { readFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { booleanPointInPolygon } from '@turf/turf';
import { CITY, getLayer } from '../layers/catalog.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { fromGeoJSON, locate, OUTSIDE, prepare } from '../layers/query/geometry.ts';
import { createRng } from '../scripts/data/rng.ts';
import { DEFAULT_DATA_DIR, loadPostgis } from '../scripts/load-postgis.ts';
import { start as startLocalPg } from '../scripts/pg-local.ts';
import { signIn } from '../test/helpers/session.ts';
import { startServer } from '../tile-server/server.ts';
import { openEmbeddedStore } from '../tile-server/storage/embedded-store.ts';
import { openPostgisStore } from '../tile-server/storage/postgis-store.ts';
import type { SpatialStore } from '../tile-server/storage/spatial-store.ts';

const SEED = 20261129;
const N = 1_000_000;
const NAIVE_N = 2_000;
const KNN_N = 2_000;
const POLY_N = 30;
const LOOKUP_N = 1_000;
const LOOKUP_WARM = 200;
const PARTS = new Set((process.env.BENCH_PARTS ?? '1,2,3,4').split(',').map((x) => Number(x.trim())));
const part = (k: number) => PARTS.has(k);
const dataDir = DEFAULT_DATA_DIR;

const log = (m: string) => console.log(m);
const rng = createRng(SEED).fork('bench-spatial');

function bench(what: string, ours: string, peer: string, theirs: string, ratio: number, note: string): void {
  console.log(`BENCH\t${what}\t${ours}\t${peer}\t${theirs}\t${ratio.toFixed(2)}x\t${note}`);
}
const mpts = (pps: number) => (pps >= 1e5 ? `${(pps / 1e6).toFixed(3)}M pts/s` : `${(pps / 1e3).toFixed(2)}k pts/s`);
const qps = (x: number) => `${x.toFixed(0)} queries/s`;

// ---------------------------------------------------------------- setup
const city = openFlatGeobuf(new Uint8Array(readFileSync(join(dataDir, 'city.fgb'))));
const [west, south, east, north] = city.bbox;
log(`spatial bench: seed ${SEED}; parts ${[...PARTS].join(',')}; city bbox ${[west, south, east, north].map((v) => v.toFixed(4)).join(', ')}; load average ${loadavg().map((v) => v.toFixed(2)).join(' ')} (2 cores shared: timings are noisy)`);

const databaseUrl = process.env.DATABASE_URL ?? startLocalPg(log);
const load = await loadPostgis(databaseUrl, { dataDir, log });
log(load.loaded ? `  loaded PostGIS in ${(load.ms / 1000).toFixed(1)} s` : `  PostGIS already holds this data build (checked in ${load.ms.toFixed(0)} ms)`);

const pgStore = await openPostgisStore(databaseUrl, { max: 2 });
let emStore: SpatialStore;
try {
  emStore = await openEmbeddedStore(dataDir, { log });
} catch (e) {
  console.error(`spatial bench: the embedded store cannot open (${(e as Error).message}); it is tile-server/storage/embedded-store.ts.`);
  await pgStore.close();
  process.exit(1);
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

// ---------------------------------------------------------------- 1. point → grid
if (part(1)) {
  const lons = new Float64Array(N), lats = new Float64Array(N);
  for (let i = 0; i < N; i++) { lons[i] = rng.range(west, east); lats[i] = rng.range(south, north); }
  log(`\n1. point → grid, ${N.toLocaleString('en')} random points in the city bbox`);

  // Warm-up (index build, JIT) on other points, then the timed run.
  const warm = 20_000;
  const wl = new Float64Array(warm).map(() => rng.range(west, east)), wt = new Float64Array(warm).map(() => rng.range(south, north));
  const [, emBuild] = await timed(() => emStore.gridCodesAt(wl, wt));
  log(`  embedded warm-up (includes the lazy index build): ${emBuild.toFixed(0)} ms`);
  let em: (string | null)[] = [];
  let emMs = Infinity;
  for (let r = 0; r < 3; r++) {
    const [res, ms] = await timed(() => emStore.gridCodesAt(lons, lats));
    em = res; emMs = Math.min(emMs, ms);
  }
  const inside = em.filter((c) => c !== null).length;
  log(`  embedded: ${emMs.toFixed(0)} ms (best of 3), ${mpts((N / emMs) * 1000)}; ${inside.toLocaleString('en')} points inside a grid`);

  await pgStore.gridCodesAt(wl.subarray(0, 2000), wt.subarray(0, 2000)); // warm the connection and caches
  const [pgRes, pgMs] = await timed(() => pgStore.gridCodesAt(lons, lats));
  let diff = 0;
  for (let i = 0; i < N; i++) if (pgRes[i] !== em[i]) diff++;
  log(`  PostGIS:  ${pgMs.toFixed(0)} ms, ${mpts((N / pgMs) * 1000)}; answers differing from embedded: ${diff}`);

  // Naive: every grid polygon tested with turf, smallest code among the hits (the same boundary rule).
  const grids = openFlatGeobuf(new Uint8Array(readFileSync(join(dataDir, getLayer('grids')!.fgb))));
  const polys = [...grids.features()].map((f) => ({ code: String(f.properties!.code), f: f as GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon> }));
  const naive = (i: number): string | null => {
    let best: string | null = null;
    const pt = [lons[i], lats[i]];
    for (const p of polys) if ((best === null || p.code < best) && booleanPointInPolygon(pt, p.f)) best = p.code;
    return best;
  };
  for (let i = 0; i < 50; i++) naive(i);
  const t0 = performance.now();
  const nv: (string | null)[] = [];
  for (let i = 0; i < NAIVE_N; i++) nv.push(naive(i));
  const nvMs = performance.now() - t0;
  let nvDiff = 0;
  for (let i = 0; i < NAIVE_N; i++) if (nv[i] !== em[i]) nvDiff++;
  log(`  naive turf loop over ${polys.length} grids: ${nvMs.toFixed(0)} ms for ${NAIVE_N} points, ${mpts((NAIVE_N / nvMs) * 1000)}; differing from embedded: ${nvDiff}`);

  const emRate = (N / emMs) * 1000, pgRate = (N / pgMs) * 1000, nvRate = (NAIVE_N / nvMs) * 1000;
  bench('point→grid lookup, 1M random points in the city bbox', mpts(emRate), 'PostGIS 3.3 ST_Intersects + GiST (batched unnest/LATERAL)', mpts(pgRate), emRate / pgRate,
    `higher is better; embedded gridCodesAt vs PostGIS gridCodesAt on the same 1M points, ${diff} answers differ`);
  bench('point→grid lookup vs naive loop', mpts(emRate), 'naive @turf/boolean-point-in-polygon over all grids', mpts(nvRate), emRate / nvRate,
    `higher is better; naive timed on the first ${NAIVE_N} of the 1M points, ${nvDiff} answers differ`);
}

// ---------------------------------------------------------------- 2. k nearest cameras
if (part(2)) {
  log(`\n2. 10 nearest cameras at ${KNN_N} random points`);
  const qs = Array.from({ length: KNN_N }, () => ({ lon: rng.range(west, east), lat: rng.range(south, north) }));
  const run = async (s: SpatialStore, n: number) => {
    const out: string[][] = [];
    for (let i = 0; i < n; i++) out.push((await s.nearest({ layer: 'cameras', lon: qs[i].lon, lat: qs[i].lat, k: 10 })).map((h) => h.id));
    return out;
  };
  await run(emStore, 50); await run(pgStore, 50);
  const [emR, emMs] = await timed(() => run(emStore, KNN_N));
  const [pgR, pgMs] = await timed(() => run(pgStore, KNN_N));
  let diff = 0;
  for (let i = 0; i < KNN_N; i++) if (emR[i].join() !== pgR[i].join()) diff++;
  const a = (KNN_N / emMs) * 1000, b = (KNN_N / pgMs) * 1000;
  log(`  embedded ${qps(a)}, PostGIS ${qps(b)}; result lists differing: ${diff}`);
  bench('k-nearest cameras (k=10), one query at a time', qps(a), 'PostGIS 3.3 KNN <-> on GiST (geom_m)', qps(b), a / b,
    `higher is better; ${KNN_N} seeded points, ${diff} lists differ`);
}

// ---------------------------------------------------------------- 3. polygon over addresses
if (part(3)) {
  log(`\n3. ~2 km polygons over all addresses (count + first 1,000 rows), ${POLY_N} polygons`);
  // Centres near the city centre (where the addresses are dense): 12-sided polygons of radius ~1 km
  // (about 2 km across) with jittered radii, in degrees scaled for latitude.
  const [cx, cy] = CITY.center; // the old town: the densest addresses
  const polys: GeoJSON.Polygon[] = Array.from({ length: POLY_N }, () => {
    const x0 = cx + rng.range(-0.05, 0.05), y0 = cy + rng.range(-0.04, 0.04);
    const ring: GeoJSON.Position[] = [];
    for (let k = 0; k < 12; k++) {
      const a = (2 * Math.PI * k) / 12, r = 1000 * rng.range(0.8, 1.2);
      ring.push([x0 + (r * Math.cos(a)) / (111_320 * Math.cos((y0 * Math.PI) / 180)), y0 + (r * Math.sin(a)) / 110_574]);
    }
    ring.push(ring[0]);
    return { type: 'Polygon', coordinates: [ring] };
  });
  const run = async (s: SpatialStore) => {
    const out: string[] = [];
    for (const g of polys) {
      const r = await s.query({ layer: 'addresses', geometry: g, predicate: 'intersects', limit: 1000 });
      out.push(`${r.count}:${r.features.map((f) => f.id).join(',')}`);
    }
    return out;
  };
  await run(emStore); await run(pgStore);
  const [emR, emMs] = await timed(() => run(emStore));
  const [pgR, pgMs] = await timed(() => run(pgStore));
  let diff = 0;
  for (let i = 0; i < POLY_N; i++) if (emR[i] !== pgR[i]) diff++;
  const counts = emR.map((r) => Number(r.split(':')[0]));
  const a = emMs / POLY_N, b = pgMs / POLY_N;
  log(`  matches per polygon: min ${Math.min(...counts)}, max ${Math.max(...counts)}; embedded ${a.toFixed(2)} ms, PostGIS ${b.toFixed(2)} ms per query; answers differing: ${diff}`);
  bench('~2 km polygon over 486k addresses (count + 1,000 rows)', `${a.toFixed(2)} ms/query`, 'PostGIS 3.3 ST_Intersects + GiST', `${b.toFixed(2)} ms/query`, b / a,
    `higher is better (PostGIS time / ours); ${POLY_N} seeded polygons, ${diff} answers differ`);
}

// ---------------------------------------------------------------- 4. /api/lookup over HTTP
if (part(4)) {
  await emStore.close(); // drop parts 1–3's indexes: the servers below build their own, and a bigger heap lengthens GC pauses
  log(`\n4. GET /api/lookup at ${LOOKUP_N} random points inside the city, embedded vs PostGIS server (after ${LOOKUP_WARM} warm-up requests)`);
  const cityShape = prepare(fromGeoJSON(city.feature(0).geometry));
  const inCity = (n: number) => {
    const out: [number, number][] = [];
    while (out.length < n) {
      const x = rng.range(west, east), y = rng.range(south, north);
      if (locate(cityShape, x, y) !== OUTSIDE) out.push([x, y]);
    }
    return out;
  };
  const warmPts = inCity(LOOKUP_WARM), pts = inCity(LOOKUP_N);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let cookie = '';
  const fetchJson = (url: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    get(url, { agent, headers: { Cookie: cookie } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    }).on('error', reject);
  });
  type Lookup = Record<string, unknown> & { town: { code: string } | null; village: { code: string } | null; grid: { code: string } | null; address: { code: string } | null };
  const summary = (j: Lookup) => JSON.stringify([j.town?.code, j.village?.code, j.grid?.code, j.address?.code,
    ...(['cameras', 'sensors', 'facilities', 'incidents'] as const).map((k) => (j[k] as { id: string }[]).map((h) => h.id).join(',')), j.nearby]);
  const runServer = async (label: string, url: string | null) => {
    // Signed in (issue 9), with the per-session search limit lifted: this measures the store, not the limiter.
    const srv = await startServer({ dataDir, databaseUrl: url, port: 0, demoPassword: 'onemap-bench-pass', auth: { searchPerSecond: 1e9, searchBurst: 1e9 } });
    cookie = (await signIn(srv.url, 'analyst', 'onemap-bench-pass')).cookie;
    try {
      const at = ([x, y]: [number, number]) => `${srv.url}/api/lookup?lon=${x.toFixed(7)}&lat=${y.toFixed(7)}`;
      const t0 = performance.now();
      const first = await fetchJson(at(warmPts[0]));
      if (first.status !== 200) throw new Error(`${label}: /api/lookup answered ${first.status}: ${first.body.slice(0, 300)}`);
      const coldMs = performance.now() - t0;
      for (const p of warmPts) await fetchJson(at(p));
      const ms: number[] = [];
      const answers: string[] = [];
      for (const p of pts) {
        const t = performance.now();
        const r = await fetchJson(at(p));
        ms.push(performance.now() - t);
        if (r.status !== 200) throw new Error(`${label}: /api/lookup answered ${r.status}: ${r.body.slice(0, 300)}`);
        answers.push(summary(JSON.parse(r.body) as Lookup));
      }
      const sorted = [...ms].sort((a, b) => a - b);
      const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))];
      log(`  ${label}: first request ${coldMs.toFixed(0)} ms (cold: builds the indexes it needs); then p50 ${q(0.5).toFixed(2)} ms, p95 ${q(0.95).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, max ${q(1).toFixed(1)} ms`);
      return { p50: q(0.5), p95: q(0.95), answers };
    } finally {
      await srv.close();
    }
  };
  const em = await runServer('embedded', null);
  const pg = await runServer('PostGIS ', databaseUrl);
  agent.destroy();
  let diff = 0;
  for (let i = 0; i < LOOKUP_N; i++) if (em.answers[i] !== pg.answers[i]) diff++;
  log(`  answers differing between the stores: ${diff} of ${LOOKUP_N}; load average now ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  bench('/api/lookup p95 (embedded)', `${em.p95.toFixed(2)} ms`, 'PostGIS store', `${pg.p95.toFixed(2)} ms`, pg.p95 / em.p95,
    `lower ms is better, ratio = PostGIS p95 / ours; aim p95 < 5 ms; HTTP keep-alive, one at a time, ${LOOKUP_N} seeded points in the city after ${LOOKUP_WARM} warm-up; p50 ${em.p50.toFixed(2)} vs ${pg.p50.toFixed(2)} ms; ${diff} answers differ; load avg ${loadavg()[0].toFixed(1)} on 2 cores`);
}

await emStore.close();
await pgStore.close();
