// Dispatch ranking: one incident among 5,000 responders (the built ones plus seeded synthetic ones around them),
// travel times on the road graph. Ours: tile-server/incidents/dispatcher.ts rank() — one Dijkstra from the
// incident, then O(1) per responder. Peers, in the same run on the same graph:
//   1. per-responder point-to-point Dijkstra (early exit when the responder's edge is settled) — the same
//      travel times, computed the obvious way; timed on a few incidents (it takes seconds each);
//   2. straight-line ranking (planar distance, no roads) — faster, but another answer: we report how often
//      its first choice differs from the road-time first choice.
// Run: npx tsx bench/dispatch.bench.ts   (needs geodata/build; ~1 minute)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { createTransformer } from '../layers/crs.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { INCIDENT_CATEGORIES } from '../layers/incident-categories.ts';
import { Router } from '../layers/routing/dijkstra.ts';
import { roadLinesFromFgb } from '../layers/routing/from-fgb.ts';
import { buildRoadGraph } from '../layers/routing/road-graph.ts';
import { EdgeIndex } from '../layers/routing/snap.ts';
import { createDispatcher, GRAPH_OPTIONS, respondersFromFgb, type ResponderRec } from '../tile-server/incidents/dispatcher.ts';
import { createRng } from '../scripts/data/rng.ts';

const SEED = 20261129;
const TOTAL = 5_000;
const WARM = 30, RUNS = 300, PEER_RUNS = 3;
const dataDir = join(import.meta.dirname, '..', 'geodata', 'build');
const rng = createRng(SEED).fork('bench-dispatch');
const log = (m: string) => console.log(m);
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

log(`dispatch bench: seed ${SEED}; load average ${loadavg().map((v) => v.toFixed(2)).join(' ')} (2 shared cores: timings are noisy)`);
let t = performance.now();
const graph = buildRoadGraph(roadLinesFromFgb(openFlatGeobuf(new Uint8Array(readFileSync(join(dataDir, 'roads.fgb'))))), GRAPH_OPTIONS);
log(`  graph: ${graph.nodeCount} nodes, ${graph.edgeCount} edges, built in ${(performance.now() - t).toFixed(0)} ms; ${JSON.stringify(graph.stats)}`);
const built = respondersFromFgb(new Uint8Array(readFileSync(join(dataDir, 'responders.fgb'))));

// synthetic responders: jittered copies (sd 1.5 km) of built ones, so they sit where people are
const toWgs = createTransformer('EPSG:4549', 'EPSG:4326'), toGk = createTransformer('EPSG:4326', 'EPSG:4549');
const extra: ResponderRec[] = [];
const depts = ['police', 'urban', 'emergency', 'fire', 'water', 'gas', 'power', 'transport'];
const skillPool = ['治安巡逻', '交通疏导', '现场处置', '急救', '市容巡查', '占道经营处置', '井盖处置', '垃圾清运协调', '抢险救援', '防汛抗旱', '危化品处置', '应急处置'];
for (let i = 0; extra.length < TOTAL - built.length; i++) {
  const base = rng.pick(built);
  const [x, y] = toGk(base.lon, base.lat);
  const [lon, lat] = toWgs(x + rng.normal(0, 1500), y + rng.normal(0, 1500));
  extra.push({ id: `syn-${String(i).padStart(5, '0')}`, name: `合成处置组${i}`, kind: 'patrol', department: rng.pick(depts), gridCode: base.gridCode,
    skills: [rng.pick(skillPool), rng.pick(skillPool)], lon, lat });
}
const all = [...built, ...extra];
t = performance.now();
const dispatcher = createDispatcher(graph, all);
log(`  ${all.length} responders (${built.length} built + ${extra.length} synthetic), dispatcher ready in ${(performance.now() - t).toFixed(0)} ms`);

const now = Date.UTC(2026, 10, 29, 9);
const workload = new Map<string, number>(), positions = new Map<string, { lon: number; lat: number; at: number }>();
for (const r of all) {
  if (rng.chance(0.5)) workload.set(r.id, rng.int(1, 4));
  if (rng.chance(0.3)) positions.set(r.id, { lon: r.lon + rng.normal(0, 0.005), lat: r.lat + rng.normal(0, 0.005), at: now - rng.int(0, 30) * 60_000 });
}
const incidents = Array.from({ length: WARM + RUNS }, () => {
  const base = rng.pick(built), c = rng.pick(INCIDENT_CATEGORIES);
  return { lon: base.lon + rng.normal(0, 0.01), lat: base.lat + rng.normal(0, 0.01), category: c.code, gridCode: base.gridCode,
    level: rng.pick(['grid', 'grid', 'town', 'city'] as const), severity: c.severity, department: c.department };
});

// ---- ours
const ctx = { workload, positions, now, limit: 10 };
const ours: number[] = [];
incidents.forEach((inc, k) => {
  const t0 = performance.now();
  dispatcher.rank(inc, ctx);
  if (k >= WARM) ours.push(performance.now() - t0);
});
const p50 = pct(ours, 0.5), p95 = pct(ours, 0.95);
log(`  ours: rank among ${all.length}: p50 ${p50.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms over ${RUNS} incidents (aim p95 < 10 ms)`);

// ---- peer 1: per-responder point-to-point Dijkstra, travel time only (home positions), same graph
const index = new EdgeIndex(graph), router = new Router(graph);
const snapLL = (lon: number, lat: number) => { const [x, y] = toGk(lon, lat); return index.snap(x, y)!; };
const homes = all.map((r) => snapLL(r.lon, r.lat));
const peerMs: number[] = [];
let maxDiff = 0;
for (let k = 0; k < PEER_RUNS; k++) {
  const inc = incidents[WARM + k];
  const src = snapLL(inc.lon, inc.lat);
  const t0 = performance.now();
  const times = homes.map((h) => router.pointToPoint(src, h)?.seconds ?? Infinity);
  peerMs.push(performance.now() - t0);
  // same answers as one full search?
  router.search(src);
  homes.forEach((h, i) => { maxDiff = Math.max(maxDiff, Math.abs((router.legTo(h, src)?.seconds ?? Infinity) - times[i])); });
  log(`  peer p2p Dijkstra, incident ${k + 1}/${PEER_RUNS}: ${peerMs[k].toFixed(0)} ms`);
}
const peerMean = peerMs.reduce((a, b) => a + b, 0) / peerMs.length;
log(`  peer p2p travel times agree with the one-search times to ${maxDiff.toExponential(1)} s`);
console.log(`BENCH\tdispatch rank, 1 incident among ${all.length} responders (road travel time + scoring), p95\t${p95.toFixed(2)} ms\tper-responder point-to-point Dijkstra (travel times only, mean of ${PEER_RUNS})\t${peerMean.toFixed(0)} ms\t${(peerMean / p95).toFixed(0)}x\tratio = peer time / our p95, >1 = we are faster; ours p50 ${p50.toFixed(2)} ms; same graph, same travel times (max diff ${maxDiff.toExponential(1)} s)`);

// ---- peer 2: straight-line ranking
const xy = new Float64Array(all.length * 2);
all.forEach((r, i) => { const [x, y] = toGk(r.lon, r.lat); xy[2 * i] = x; xy[2 * i + 1] = y; });
const lineMs: number[] = [];
let differ = 0;
incidents.forEach((inc, k) => {
  const t0 = performance.now();
  const [x, y] = toGk(inc.lon, inc.lat);
  let best = -1, bd = Infinity;
  for (let i = 0; i < all.length; i++) { const d = Math.hypot(xy[2 * i] - x, xy[2 * i + 1] - y); if (d < bd) { bd = d; best = i; } }
  if (k >= WARM) lineMs.push(performance.now() - t0);
  if (k >= WARM && k < WARM + 100) {
    // compare with the road-time nearest (home positions, travel only)
    const src = snapLL(inc.lon, inc.lat);
    router.search(src);
    let rb = -1, rs = Infinity;
    homes.forEach((h, i) => { const s = router.legTo(h, src)?.seconds ?? Infinity; if (s < rs) { rs = s; rb = i; } });
    if (rb !== best && Math.hypot(xy[2 * rb] - xy[2 * best], xy[2 * rb + 1] - xy[2 * best + 1]) > 1) differ++;
  }
});
const lp95 = pct(lineMs, 0.95);
log(`  peer straight line: p95 ${lp95.toFixed(3)} ms; its nearest responder differs from the fastest by road in ${differ}/100 incidents`);
console.log(`BENCH\tdispatch rank among ${all.length} responders, p95\t${p95.toFixed(2)} ms\tstraight-line nearest (planar distance, no roads, no scoring)\t${lp95.toFixed(3)} ms\t${(lp95 / p95).toFixed(2)}x\tratio = peer / ours, <1 = the peer is faster; but its first choice is not the fastest by road in ${differ}/100 incidents`);
