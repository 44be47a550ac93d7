// Throughput of layers/crs.ts on 1 000 000 seeded points in Changshu, against proj4 in the same run.
// Run: npx tsx bench/crs.bench.ts   (about 10 s of CPU)
//
// The named peer is proj4 called the way most code calls it, proj4(from, to, [x, y]) per point; that
// re-parses the definition every call, so it is timed on the first PEER_N points only. A second line
// gives proj4 with the converter built once (its best case), to show what remains after that fix.

import proj4 from 'proj4';
import { createRng } from '../scripts/data/rng.ts';
import { PROJ4_DEFS, createTransformer, gcj02ToWgs84, transformCoords } from '../layers/crs.ts';

const N = 1_000_000;
const PEER_N = 50_000;
const SEED = 20261129;

const rng = createRng(SEED).fork('bench-crs');
const wgs = new Float64Array(2 * N);
for (let i = 0; i < wgs.length; i += 2) {
  wgs[i] = rng.range(120.5, 121.05);
  wgs[i + 1] = rng.range(31.45, 31.9);
}
const gcj = transformCoords('EPSG:4326', 'GCJ02', wgs);
const gk = transformCoords('EPSG:4326', 'EPSG:4549', wgs);
const def4549 = PROJ4_DEFS['EPSG:4549'];

let sink = 0; // keeps results alive so the JIT cannot drop the work

/** Best of `runs` timings of fn(n); returns points per second. */
function rate(label: string, n: number, fn: (n: number) => void, runs = 3): number {
  fn(Math.min(n, 20_000)); // warm-up: let the JIT compile before timing
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn(n);
    best = Math.min(best, performance.now() - t0);
  }
  const pps = (n / best) * 1000;
  console.log(`  ${label.padEnd(58)} ${(pps / 1e6).toFixed(3).padStart(8)} M pts/s  (${best.toFixed(0)} ms for ${n.toLocaleString('en')})`);
  return pps;
}

const fmt = (pps: number): string => `${(pps / 1e6).toFixed(3)}M pts/s`;
function bench(what: string, ours: number, peer: string, theirs: number, note: string): void {
  console.log(`BENCH\t${what}\t${fmt(ours)}\t${peer}\t${fmt(theirs)}\t${(ours / theirs).toFixed(2)}x\t${note}`);
}

const out = new Float64Array(2 * N);

console.log(`crs bench: ${N.toLocaleString('en')} seeded points (seed ${SEED}) in Changshu, lon 120.5–121.05, lat 31.45–31.9`);

// Check first that the two sides compute the same thing.
{
  let maxErr = 0;
  for (let i = 0; i < 2 * 1000; i += 2) {
    const p = proj4('EPSG:4326', def4549, [wgs[i], wgs[i + 1]]);
    maxErr = Math.max(maxErr, Math.hypot(p[0] - gk[i], p[1] - gk[i + 1]));
  }
  console.log(`  ours vs proj4, WGS84→EPSG:4549, max difference over 1000 points: ${(maxErr * 1000).toFixed(6)} mm`);
}

console.log('(a) WGS84 → EPSG:4549');
const aOurs = rate('ours: transformCoords', N, (n) => {
  transformCoords('EPSG:4326', 'EPSG:4549', wgs.subarray(0, 2 * n), out);
  sink += out[0];
});
const aNaive = rate('proj4 naive: proj4("EPSG:4326", def, [x, y]) per point', PEER_N, (n) => {
  for (let i = 0; i < 2 * n; i += 2) sink += proj4('EPSG:4326', def4549, [wgs[i], wgs[i + 1]])[0];
}, 1);
const conv4549 = proj4('EPSG:4326', def4549);
const aReused = rate('proj4 converter built once, .forward([x, y])', N, (n) => {
  for (let i = 0; i < 2 * n; i += 2) sink += conv4549.forward([wgs[i], wgs[i + 1]])[0];
});
const aScalar = createTransformer('EPSG:4326', 'EPSG:4549');
rate('ours per point: createTransformer(...)(x, y)', N, (n) => {
  for (let i = 0; i < 2 * n; i += 2) sink += aScalar(wgs[i], wgs[i + 1])[0];
});

console.log('(b) GCJ02 → WGS84 (iterative inverse)');
const bOurs = rate('ours: transformCoords', N, (n) => {
  transformCoords('GCJ02', 'EPSG:4326', gcj.subarray(0, 2 * n), out);
  sink += out[0];
});
const bLoop = rate('ours per point: gcj02ToWgs84(lon, lat) in a loop', N, (n) => {
  for (let i = 0; i < 2 * n; i += 2) sink += gcj02ToWgs84(gcj[i], gcj[i + 1])[0];
});

console.log('(c) EPSG:4549 → WGS84');
const cOurs = rate('ours: transformCoords', N, (n) => {
  transformCoords('EPSG:4549', 'EPSG:4326', gk.subarray(0, 2 * n), out);
  sink += out[0];
});
const cNaive = rate('proj4 naive: proj4(def, "EPSG:4326", [x, y]) per point', PEER_N, (n) => {
  for (let i = 0; i < 2 * n; i += 2) sink += proj4(def4549, 'EPSG:4326', [gk[i], gk[i + 1]])[0];
}, 1);
const cReused = rate('proj4 converter built once, .inverse([x, y])', N, (n) => {
  for (let i = 0; i < 2 * n; i += 2) sink += conv4549.inverse([gk[i], gk[i + 1]])[0];
});

const peerNote = `proj4 naive timed on the first ${PEER_N.toLocaleString('en')} points; ratio = ours/peer throughput, >1 = ours faster`;
bench('WGS84→EPSG:4549, 1M Changshu pts', aOurs, 'proj4 2.22 naive proj4(from,def,[x,y])', aNaive, peerNote);
bench('WGS84→EPSG:4549, 1M Changshu pts', aOurs, 'proj4 2.22 converter reused', aReused, 'ratio = ours/peer throughput, >1 = ours faster');
bench('GCJ02→WGS84 (iterative), 1M Changshu pts', bOurs, 'own gcj02ToWgs84 per point', bLoop, 'peer is our scalar API in a loop (no library does the iterative inverse in bulk); >1 = bulk faster');
bench('EPSG:4549→WGS84, 1M Changshu pts', cOurs, 'proj4 2.22 naive proj4(def,to,[x,y])', cNaive, peerNote);
bench('EPSG:4549→WGS84, 1M Changshu pts', cOurs, 'proj4 2.22 converter reused', cReused, 'ratio = ours/peer throughput, >1 = ours faster');
if (!Number.isFinite(sink)) console.log('(sink)', sink);
