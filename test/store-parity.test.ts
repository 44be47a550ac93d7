// The embedded engine and PostGIS must give identical answers (issue 5): thousands of seeded points
// (random inside and outside the city, exactly on grid vertices, on edges, inside holes) and random
// polygons and circles, on the built demo data. Where a distance lies within 1 mm of a threshold the two
// engines may round differently (GK projection in proj4 vs PROJ), so such features are excluded from
// the comparison — that is the only tolerance.
//
// PostGIS comes from TEST_DATABASE_URL (scripts/test.sh starts it). Without it this file FAILS unless
// ONEMAP_SKIP_POSTGIS=1; then the embedded store is still checked against a brute-force reference on
// points off every boundary.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITY } from '../layers/catalog.ts';
import { openFlatGeobuf, type FgbFile } from '../layers/formats/flatgeobuf.ts';
import type { FeatureHit, Predicate } from '../layers/query/types.ts';
import { createRng, type Rng } from '../scripts/data/rng.ts';
import { openEmbeddedStore } from '../tile-server/storage/embedded-store.ts';
import type { SpatialStore } from '../tile-server/storage/spatial-store.ts';

const DATA = join(process.cwd(), 'geodata/build');
const PG_URL = process.env.TEST_DATABASE_URL;
const SKIP_PG = process.env.ONEMAP_SKIP_POSTGIS === '1';
const MM = 0.001;

function readFgb(name: string): FgbFile {
  const b = readFileSync(join(DATA, `${name}.fgb`));
  return openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

let embedded: SpatialStore;
let postgis: SpatialStore | null = null;
let gridFeatures: GeoJSON.Feature[];

beforeAll(async () => {
  if (!existsSync(join(DATA, 'grids.fgb'))) throw new Error('geodata/build/grids.fgb missing: run npm run data first');
  embedded = await openEmbeddedStore(DATA);
  if (PG_URL) {
    const { openPostgisStore } = await import('../tile-server/storage/postgis-store.ts');
    postgis = await openPostgisStore(PG_URL);
  }
  gridFeatures = [...readFgb('grids').features()];
});

afterAll(async () => {
  await embedded?.close();
  await postgis?.close();
});

/** PostGIS tests run (and fail without TEST_DATABASE_URL) unless ONEMAP_SKIP_POSTGIS=1 skips them visibly. */
const itPg = PG_URL || !SKIP_PG ? it : it.skip;
function needPg(): SpatialStore {
  if (!postgis) throw new Error('no PostGIS store: set TEST_DATABASE_URL (or ONEMAP_SKIP_POSTGIS=1)');
  return postgis;
}

it('PostGIS is compared (TEST_DATABASE_URL), or skipped on purpose (ONEMAP_SKIP_POSTGIS=1)', () => {
  if (!PG_URL && !SKIP_PG) {
    throw new Error('TEST_DATABASE_URL is not set: start PostgreSQL (npx tsx scripts/pg-local.ts start; npm run db:load) and export TEST_DATABASE_URL, or set ONEMAP_SKIP_POSTGIS=1 to check the embedded store alone.');
  }
});

// ------------------------------------------------------------------------------------------ point sets

function rings(g: GeoJSON.Geometry): GeoJSON.Position[][] {
  if (g.type === 'Polygon') return g.coordinates;
  if (g.type === 'MultiPolygon') return g.coordinates.flat();
  return [];
}

/** Points of every kind the boundary rule must settle: random in and around the city, vertices, edge points, hole interiors. */
function testPoints(rng: Rng): { kind: string; lons: Float64Array; lats: Float64Array } [] {
  const [w, s, e, n] = CITY.bounds;
  const sets: { kind: string; pts: [number, number][] }[] = [];
  sets.push({ kind: 'random in the city bbox', pts: Array.from({ length: 3000 }, () => [rng.range(w, e), rng.range(s, n)]) });
  sets.push({ kind: 'outside the city', pts: Array.from({ length: 300 }, () => [rng.range(w - 1, w - 0.01), rng.range(s - 1, n + 1)]) });
  const vertices: [number, number][] = [], edges: [number, number][] = [], holes: [number, number][] = [];
  for (let k = 0; k < 1500; k++) {
    const f = gridFeatures[Math.floor(rng.next() * gridFeatures.length)];
    const rs = rings(f.geometry!);
    const r = rs[Math.floor(rng.next() * rs.length)];
    const i = Math.floor(rng.next() * (r.length - 1));
    vertices.push([r[i][0], r[i][1]]);
    // A point on the segment (i, i+1): on it up to the rounding of the double, which both engines then judge exactly.
    const t = rng.next();
    edges.push([r[i][0] + t * (r[i + 1][0] - r[i][0]), r[i][1] + t * (r[i + 1][1] - r[i][1])]);
    // Axis-aligned edges give points exactly on the edge.
    if (r[i][0] === r[i + 1][0] || r[i][1] === r[i + 1][1]) edges.push([(r[i][0] + r[i + 1][0]) / 2, (r[i][1] + r[i + 1][1]) / 2]);
  }
  for (const f of gridFeatures) {
    const polys = f.geometry!.type === 'Polygon' ? [f.geometry!.coordinates as GeoJSON.Position[][]] : f.geometry!.type === 'MultiPolygon' ? f.geometry!.coordinates as GeoJSON.Position[][][] : [];
    for (const p of polys) for (const hole of p.slice(1)) {
      // Points in the hole's bbox: some fall in the hole, some in the ring around it.
      const xs = hole.map((q) => q[0]), ys = hole.map((q) => q[1]);
      for (let k = 0; k < 20; k++) holes.push([rng.range(Math.min(...xs), Math.max(...xs)), rng.range(Math.min(...ys), Math.max(...ys))]);
      holes.push([hole[0][0], hole[0][1]]);
    }
  }
  sets.push({ kind: 'grid vertices', pts: vertices }, { kind: 'grid edges', pts: edges }, { kind: 'holes', pts: holes });
  return sets.map(({ kind, pts }) => ({ kind, lons: Float64Array.from(pts, (p) => p[0]), lats: Float64Array.from(pts, (p) => p[1]) }));
}

// A reference for points off every boundary: even–odd ray casting over all grids (holes and parts included).
function inRings(rs: GeoJSON.Position[][], x: number, y: number): boolean {
  let inside = false;
  for (const r of rs) {
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      const [xi, yi] = r[i], [xj, yj] = r[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}
function naiveGrid(x: number, y: number): string | null {
  let best: string | null = null;
  for (const f of gridFeatures) {
    const g = f.geometry!;
    const hit = g.type === 'Polygon' ? inRings(g.coordinates, x, y) : g.type === 'MultiPolygon' ? g.coordinates.some((p) => inRings(p, x, y)) : false;
    const code = String(f.properties!.code);
    if (hit && (best === null || code < best)) best = code;
  }
  return best;
}

describe('point → grid and admin units', () => {
  it('embedded agrees with brute force on random points (off boundaries)', async () => {
    const rng = createRng(20260505).fork('parity-naive');
    const [w, s, e, n] = CITY.bounds;
    const N = 1500;
    const lons = Float64Array.from({ length: N }, () => rng.range(w, e)), lats = Float64Array.from({ length: N }, () => rng.range(s, n));
    const got = await embedded.gridCodesAt(lons, lats);
    let inside = 0;
    for (let i = 0; i < N; i++) {
      const want = naiveGrid(lons[i], lats[i]);
      if (want) inside++;
      expect(got[i], `${lons[i]},${lats[i]}`).toBe(want);
    }
    expect(inside).toBeGreaterThan(N / 4);
  });

  itPg('gridCodesAt is identical on inside, outside, vertex, edge and hole points', async () => {
    const pg = needPg();
    for (const set of testPoints(createRng(20260505).fork('parity-points'))) {
      const [a, b] = await Promise.all([embedded.gridCodesAt(set.lons, set.lats), pg.gridCodesAt(set.lons, set.lats)]);
      expect(a.length).toBe(set.lons.length);
      const diffs = a.map((v, i) => (v === b[i] ? null : `${set.lons[i]},${set.lats[i]}: embedded ${v} vs postgis ${b[i]}`)).filter(Boolean);
      expect(diffs, `${set.kind}: ${diffs.slice(0, 5).join('; ')}`).toEqual([]);
    }
  });

  itPg('adminAt is identical (town, village, grid with manager)', async () => {
    const pg = needPg();
    const sets = testPoints(createRng(20260505).fork('parity-admin'));
    for (const set of sets) {
      const step = Math.max(1, Math.floor(set.lons.length / 150));
      for (let i = 0; i < set.lons.length; i += step) {
        const [a, b] = await Promise.all([embedded.adminAt(set.lons[i], set.lats[i]), pg.adminAt(set.lons[i], set.lats[i])]);
        expect(b, `${set.kind} ${set.lons[i]},${set.lats[i]}`).toEqual(a);
      }
    }
  });
});

// ------------------------------------------------------------------------------------------ shapes

function randomPolygon(rng: Rng): GeoJSON.Polygon {
  // A star-shaped polygon (simple by construction: angles increase, radii vary) 200 m – 2 km across.
  const [w, s, e, n] = CITY.bounds;
  const cx = rng.range(w + 0.05, e - 0.05), cy = rng.range(s + 0.05, n - 0.05);
  const rMax = rng.range(0.001, 0.01);
  const k = 5 + Math.floor(rng.next() * 12);
  const ring: [number, number][] = [];
  for (let i = 0; i < k; i++) {
    const a = (2 * Math.PI * (i + rng.range(0.1, 0.9))) / k;
    const r = rMax * rng.range(0.3, 1);
    ring.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
  }
  ring.push(ring[0]);
  return { type: 'Polygon', coordinates: [ring] };
}

/** Compares two answers; ids present on one side only must lie within 1 mm of the distance threshold. */
function compareHits(label: string, a: { count: number; features: FeatureHit[] }, b: { count: number; features: FeatureHit[] }, threshold?: number): void {
  const ia = new Map(a.features.map((f) => [f.id, f])), ib = new Map(b.features.map((f) => [f.id, f]));
  const onlyA = a.features.filter((f) => !ib.has(f.id)), onlyB = b.features.filter((f) => !ia.has(f.id));
  const excusable = (f: FeatureHit) => threshold !== undefined && f.distanceM !== undefined && Math.abs(f.distanceM - threshold) < MM;
  const bad = [...onlyA, ...onlyB].filter((f) => !excusable(f));
  expect(bad.map((f) => `${f.id} (${f.distanceM})`), label).toEqual([]);
  if (onlyA.length + onlyB.length === 0) {
    expect(b.count, label).toBe(a.count);
    expect(b.features.map((f) => f.id), label).toEqual(a.features.map((f) => f.id));
  }
}

describe('queries', () => {
  const LAYERS = ['addresses', 'cameras', 'buildings', 'grids'];
  const PREDS: Predicate[] = ['intersects', 'within', 'contains'];

  itPg('random polygons: identical ids for every predicate and layer', async () => {
    const pg = needPg();
    const rng = createRng(20260505).fork('parity-polygons');
    for (let i = 0; i < 40; i++) {
      const geometry = randomPolygon(rng);
      for (const layer of LAYERS) {
        for (const predicate of PREDS) {
          const spec = { layer, geometry, predicate, limit: 10_000 };
          const [a, b] = await Promise.all([embedded.query(spec), pg.query(spec)]);
          compareHits(`${layer} ${predicate} ${JSON.stringify(geometry)}`, a, b);
        }
      }
    }
  });

  itPg('random circles (dwithin a point) and corridors (dwithin a line): identical up to the 1 mm rule', async () => {
    const pg = needPg();
    const rng = createRng(20260505).fork('parity-circles');
    const [w, s, e, n] = CITY.bounds;
    for (let i = 0; i < 30; i++) {
      const p: [number, number] = [rng.range(w + 0.05, e - 0.05), rng.range(s + 0.05, n - 0.05)];
      const geometry: GeoJSON.Geometry = i % 3 === 2 ? { type: 'LineString', coordinates: [p, [p[0] + rng.range(-0.01, 0.01), p[1] + rng.range(-0.01, 0.01)]] } : { type: 'Point', coordinates: p };
      const distanceM = rng.range(20, 800);
      for (const layer of LAYERS) {
        const spec = { layer, geometry, predicate: 'dwithin' as const, distanceM, limit: 10_000 };
        const [a, b] = await Promise.all([embedded.query(spec), pg.query(spec)]);
        compareHits(`${layer} dwithin ${distanceM} of ${JSON.stringify(geometry)}`, a, b, distanceM);
        for (const f of a.features) expect(f.distanceM).toBeLessThanOrEqual(distanceM + MM);
      }
    }
  });

  itPg('k nearest: identical order (distance, then id)', async () => {
    const pg = needPg();
    const rng = createRng(20260505).fork('parity-nearest');
    const [w, s, e, n] = CITY.bounds;
    for (let i = 0; i < 60; i++) {
      const lon = rng.range(w, e), lat = rng.range(s, n);
      for (const layer of ['cameras', 'addresses', 'sensors']) {
        const spec = { layer, lon, lat, k: 10 };
        const [a, b] = await Promise.all([embedded.nearest(spec), pg.nearest(spec)]);
        expect(b.length).toBe(a.length);
        for (let j = 0; j < a.length; j++) {
          expect(Math.abs(a[j].distanceM! - b[j].distanceM!), `${layer} @${lon},${lat} #${j}`).toBeLessThan(MM);
          // Same id unless candidates are tied within 1 mm: then the engines' sub-millimetre projection
          // differences may order them (or cut them off at k) differently. The distance check above already
          // holds the two at this rank within 1 mm; here the id must be one of a tied group on the other side
          // or the group straddles the k cut-off.
          if (a[j].id !== b[j].id) {
            const d = a[j].distanceM!;
            const tiedA = a.filter((x) => Math.abs(x.distanceM! - d) < MM).map((x) => x.id);
            const atCut = Math.abs(a[a.length - 1].distanceM! - d) < MM;
            expect(tiedA.includes(b[j].id) || atCut, `${layer} @${lon},${lat} #${j}: ${a[j].id} vs ${b[j].id}`).toBe(true);
          }
        }
      }
    }
  });

  itPg('hot-spot inputs (incident points in a window, by category) are identical', async () => {
    const pg = needPg();
    if (!existsSync(join(DATA, 'incidents.fgb'))) throw new Error('geodata/build/incidents.fgb missing: run npm run data');
    const all = await embedded.points({ layer: 'incidents' });
    let max = -Infinity;
    for (const t of all.times) if (t > max) max = t;
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
    const rng = createRng(20260505).fork('parity-hotspot');
    let total = 0;
    for (let i = 0; i < 6; i++) {
      const to = Math.floor((max - rng.range(0, 200) * 86_400_000) / 1000) * 1000;
      const spec = {
        layer: 'incidents', time: { from: iso(to - 30 * 86_400_000), to: iso(to) },
        where: i % 2 ? [{ field: 'category', op: 'in' as const, value: ['1102', '0101', '1501'] }] : undefined,
        geometry: i % 3 === 0 ? randomPolygon(rng) : undefined,
      };
      const [a, b] = await Promise.all([embedded.points(spec), pg.points(spec)]);
      const order = (r: typeof a) => r.ids.map((id, k) => ({ id, lon: r.coords[2 * k], lat: r.coords[2 * k + 1], t: r.times[k] })).sort((x, y) => (x.id < y.id ? -1 : 1));
      expect(order(b)).toEqual(order(a));
      total += a.ids.length;
    }
    expect(total).toBeGreaterThan(0);
  });
});
