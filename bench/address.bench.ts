// Geocoder speed and size over the demo standard addresses (geodata/build/addresses.fgb, ~485k), seeded.
// Run: npx tsx bench/address.bench.ts   (needs `npm run data`; about 30 s of CPU)
//
// Queries are made messy from a seeded sample of real records: the city/town prefix is dropped or kept,
// 幢 becomes 栋 or 号楼, numbers become Chinese numerals (十八号, 三栋, 五零二室), 室 is dropped after a
// unit, and one query in ten has a typo in the road name. Accuracy = the expected record is the top match.
//
// Named peer: a naive linear scan — normalise the query with the same normaliser, strip the city/town
// prefix, then test every record's `full` with String.includes — the obvious index-free approach. It is
// timed on PEER_N queries (each scans every record). Parse-only throughput against the npm parsers
// (address-parse, zh-address-parse) is ADDR-CORE's bench/address-parse.bench.ts.
import vm from 'node:vm';
import v8 from 'node:v8';
import { createRng } from '../scripts/data/rng.ts';
import { loadGazetteer } from '../scripts/lib/load-gazetteer.ts';
import { normalizeAddress } from '../address-standards/normalize.ts';
import { buildAddressIndex, type AddressRecord } from '../address-standards/geocode.ts';
import { loadAddressRecords } from '../tile-server/address-api.ts';
import { readFileSync } from 'node:fs';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';

const DATA_DIR = process.env.DATA_DIR ?? 'geodata/build';
const N = 3000;
const PEER_N = 60;
const SEED = 20261129;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers; };

const DIGITS = '零一二三四五六七八九';
function chinese(n: number, positional: boolean): string {
  if (positional || n >= 100) return String(n).split('').map((d) => DIGITS[Number(d)]).join('');
  if (n < 10) return DIGITS[n];
  if (n < 20) return '十' + (n % 10 ? DIGITS[n % 10] : '');
  return DIGITS[Math.floor(n / 10)] + '十' + (n % 10 ? DIGITS[n % 10] : '');
}

function messy(r: AddressRecord, rng: ReturnType<typeof createRng>, towns: Map<string, string>): string {
  const num = (s: string | null | undefined, suffix: string, alt: string[], positional = false) => {
    if (!s) return '';
    const n = Number(/\d+/.exec(s)![0]);
    const body = rng.chance(0.35) ? chinese(n, positional) : String(n);
    return body + (alt.length && rng.chance(0.5) ? rng.pick(alt) : suffix);
  };
  const prefix = r.full.slice(0, r.full.indexOf(r.road ?? '\u0000'));
  const town = towns.get(r.town_code) ?? '';
  const head = rng.chance(0.3) ? prefix : rng.chance(0.5) ? town : '';
  // One query in ten has a typo in the road name (a character swapped for a look-alike or sound-alike).
  let road = r.road ?? '';
  if (road.length >= 3 && rng.chance(0.1)) {
    const k = rng.int(0, road.length - 2);
    road = road.slice(0, k) + rng.pick([...'陆露鹿璐芦庐湖虎'].filter((c) => c !== road[k])) + road.slice(k + 1);
  }
  let s = head + road + num(r.houseno, '号', []) + (r.compound ?? '');
  s += num(r.building, '幢', ['栋', '号楼']);
  s += num(r.unit, '单元', []);
  if (r.room) s += rng.chance(0.2) && r.unit ? String(Number(/\d+/.exec(r.room)![0])) : num(r.room, '室', ['房'], true);
  return s;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const fmt = (x: number, d = 2) => x.toFixed(d);

async function main(): Promise<void> {
  console.log(`address bench: reading ${DATA_DIR}/addresses.fgb …`);
  const gaz = loadGazetteer();
  const h0 = heap();
  const records = await loadAddressRecords(DATA_DIR);
  const recordsMB = (heap() - h0) / 2 ** 20;
  const openNamed = (n: string) => {
    const b = readFileSync(`${DATA_DIR}/${n}.fgb`);
    return [...openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).features()].map((f) => f.properties ?? {});
  };
  const towns = openNamed('towns').map((p) => ({ code: String(p.code), name: String(p.name) }));
  const villages = openNamed('villages').map((p) => ({ code: String(p.code), name: String(p.name) }));
  const rb = readFileSync(`${DATA_DIR}/roads.fgb`);
  const roads = [...openFlatGeobuf(new Uint8Array(rb.buffer, rb.byteOffset, rb.byteLength)).features()]
    .filter((f) => f.geometry?.type === 'LineString' && f.properties?.name)
    .map((f) => ({ name: String(f.properties!.name), coords: (f.geometry as GeoJSON.LineString).coordinates }));
  console.log(`  ${records.length.toLocaleString('en')} records as JS objects: ${fmt(recordsMB, 0)} MB of heap`);

  const h1 = heap();
  const t0 = performance.now();
  const index = buildAddressIndex(records, gaz, { towns, villages, roads });
  const buildS = (performance.now() - t0) / 1000;
  const indexHeapMB = (heap() - h1) / 2 ** 20;
  const indexMB = index.memoryBytes() / 2 ** 20;
  console.log(`  index built in ${fmt(buildS)} s; ${fmt(indexMB, 1)} MB by its own count, ${fmt(indexHeapMB, 1)} MB heap growth`);

  const rng = createRng(SEED).fork('bench-address');
  const townNames = new Map(towns.map((t) => [t.code, t.name]));
  const sample: { q: string; code: string; clean: string }[] = [];
  for (let k = 0; k < N; k++) {
    const r = records[rng.int(0, records.length - 1)];
    sample.push({ q: messy(r, rng, townNames), code: r.code, clean: r.full });
  }
  console.log(`  e.g. ${sample.slice(0, 4).map((s) => s.q).join(' | ')}`);

  // Warm-up so the JIT has compiled the hot paths before timing.
  for (let k = 0; k < 300; k++) index.search(sample[k].q, 10);
  const lat: number[] = [];
  let hit = 0;
  const tAll = performance.now();
  for (const s of sample) {
    const t = performance.now();
    const res = index.search(s.q, 10);
    lat.push(performance.now() - t);
    if (res[0]?.record.code === s.code) hit++;
    else if (process.env.DEBUG && lat.length % 10 === 0) console.log("  miss", s.q, "→", res[0]?.record.full, res[0]?.reason, res[0]?.score, "want", s.clean);
    if (process.env.DEBUG && lat[lat.length - 1] > 3) console.log("  slow", lat[lat.length - 1].toFixed(1), s.q);
  }
  const ourQps = N / ((performance.now() - tAll) / 1000);
  lat.sort((a, b) => a - b);
  const p50 = pct(lat, 0.5), p95 = pct(lat, 0.95), p99 = pct(lat, 0.99);
  console.log(`  ours: ${N} queries, p50 ${fmt(p50, 3)} ms, p95 ${fmt(p95, 3)} ms, p99 ${fmt(p99, 3)} ms, ${fmt(ourQps, 0)} q/s, top-1 ${fmt(100 * hit / N, 1)} %`);

  // Peer: normalise, strip the admin prefix, scan all `full` strings with includes.
  const fulls = records.map((r) => r.full);
  const peerLat: number[] = [];
  let peerHit = 0;
  const tPeer = performance.now();
  for (const s of sample.slice(0, PEER_N)) {
    const t = performance.now();
    const core = normalizeAddress(s.q).text.replace(/^.*?(街道|镇|园)/, '');
    let found = -1;
    for (let i = 0; i < fulls.length; i++) if (fulls[i].includes(core)) { found = i; break; }
    peerLat.push(performance.now() - t);
    if (found >= 0 && records[found].code === s.code) peerHit++;
  }
  const peerQps = PEER_N / ((performance.now() - tPeer) / 1000);
  peerLat.sort((a, b) => a - b);
  const peerP95 = pct(peerLat, 0.95);
  console.log(`  peer (linear scan, includes): ${PEER_N} queries, p95 ${fmt(peerP95, 1)} ms, ${fmt(peerQps, 1)} q/s, top-1 ${fmt(100 * peerHit / PEER_N, 1)} %`);

  const n = records.length.toLocaleString('en');
  const note = 'ratio = peer/ours, >1 means we are better';
  console.log(`BENCH\tgeocode p95 latency, ${n} addresses, messy queries (top-1 ${fmt(100 * hit / N, 1)}%)\t${fmt(p95, 3)} ms\tnaive linear scan (String.includes)\t${fmt(peerP95, 1)} ms\t${fmt(peerP95 / p95)}x\t${note}; peer top-1 ${fmt(100 * peerHit / PEER_N, 1)}%`);
  console.log(`BENCH\tgeocode throughput, ${n} addresses\t${fmt(ourQps, 0)} q/s\tnaive linear scan (String.includes)\t${fmt(peerQps, 1)} q/s\t${fmt(ourQps / peerQps)}x\tratio = ours/peer, >1 means we are faster`);
  console.log(`BENCH\taddress index memory, ${n} addresses\t${fmt(indexMB, 1)} MB\tthe records as JS objects\t${fmt(recordsMB, 0)} MB\t${fmt(recordsMB / indexMB)}x\t${note} (smaller); index build ${fmt(buildS)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
