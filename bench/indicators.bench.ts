// Indicator computation benchmark (issue 10 item 4): the six built-in indicators at every level they name over a
// seeded, city-sized set of facts (200,000 incidents in 30 days, 27,000 devices, 2,000 alarms, 20,000 check-ins) and
// a city of 2,517 areas (the demo city has 2,372). Peer: the same per-area counts done by SQL — SQLite (better-sqlite3, in memory,
// indexed) `GROUP BY substr(code, 1, n)` per level — which is what a store-side aggregation would run; we count in
// one pass per measure and level in memory. Run: npx tsx bench/indicators.bench.ts   (a few seconds of CPU)
import Database from 'better-sqlite3';
import { createRng } from '../scripts/data/rng.ts';
import { BUILTIN_INDICATORS } from '../layers/indicators/builtins.ts';
import { CODE_LENGTH, INDICATOR_LEVELS } from '../layers/indicators/model.ts';
import { parseFormula } from '../layers/indicators/formula.ts';
import { computeAll, evaluateAt, type Area, type Facts } from '../tile-server/indicators/measures.ts';

const SEED = 20261129;
const rng = createRng(SEED).fork('indicators');
const NOW = Date.UTC(2026, 10, 29, 2);
const D = 86_400_000;

// 17 towns × 21 villages × 6 grids (2,517 areas; the demo city has 17 / 359 / 1,995).
const areas: Area[] = [{ level: 'city', code: '320581', name: '市', areaKm2: 1280, population: 1_682_900 }];
const grids: string[] = [];
for (let t = 0; t < 17; t++) {
  const town = `320581${String(100 + t).padStart(3, '0')}`;
  areas.push({ level: 'town', code: town, name: town, areaKm2: 70, population: 100_000 });
  for (let v = 0; v < 21; v++) {
    const village = `${town}${String(200 + v).padStart(3, '0')}`;
    areas.push({ level: 'village', code: village, name: village, areaKm2: 3, population: null });
    for (let g = 1; g <= 6; g++) {
      const grid = `${village}${String(g).padStart(3, '0')}`;
      areas.push({ level: 'grid', code: grid, name: grid, areaKm2: 0.5, population: null });
      grids.push(grid);
    }
  }
}
const pick = () => grids[Math.floor(rng.next() * grids.length)];
const STATUSES = ['reported', 'registered', 'dispatched', 'handling', 'handled', 'closed', 'closed', 'closed', 'rejected', 'merged'];
const incidents = Array.from({ length: 200_000 }, () => {
  const createdAt = NOW - Math.floor(rng.next() * 30 * D);
  const status = STATUSES[Math.floor(rng.next() * STATUSES.length)];
  return {
    code: pick(), status, category: '0101', createdAt, closedAt: status === 'closed' ? Math.min(NOW, createdAt + Math.floor(rng.next() * 2 * D)) : null,
    limitMs: 31.5 * 3_600_000, firstDispatchAt: status === 'reported' ? null : Math.min(NOW, createdAt + Math.floor(rng.next() * 3_600_000)),
  };
});
const KINDS = ['water_level', 'gas', 'smoke', 'camera', 'rain'];
const facts: Facts = {
  now: NOW, areas, incidents,
  devices: Array.from({ length: 27_000 }, () => ({ code: pick(), kind: KINDS[Math.floor(rng.next() * KINDS.length)], reporting: rng.next() < 0.95 })),
  alarms: Array.from({ length: 2_000 }, () => ({ code: pick(), kind: 'water_level', startedAt: NOW - Math.floor(rng.next() * 2 * D), health: rng.next() < 0.2 })),
  checkins: Array.from({ length: 20_000 }, () => ({ gridCode: pick(), at: NOW - Math.floor(rng.next() * 7 * D) })),
  features: new Map(),
};

function time(label: string, runs: number, fn: () => unknown): number {
  fn();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) fn();
  const ms = (performance.now() - t0) / runs;
  console.log(`${label}: ${ms.toFixed(1)} ms`);
  return ms;
}

console.log(`facts: ${incidents.length} incidents, ${facts.devices!.length} devices, ${facts.alarms!.length} alarms, ${facts.checkins!.length} check-ins; ${areas.length} areas`);
const all = time('all six built-ins, every level they name', 5, () => computeAll(BUILTIN_INDICATORS, facts));

// The one measure both sides compute: incidents reported in 30 days (not merged) per area, at all four levels.
const formula = parseFormula('incidents(since="30d")');
const ours = time('ours: incidents per area, 4 levels', 10, () => INDICATOR_LEVELS.map((l) => evaluateAt(formula, l, facts)));

const db = new Database(':memory:');
db.exec('CREATE TABLE incidents (code TEXT, status TEXT, created_at INTEGER); CREATE INDEX i_created ON incidents (created_at)');
const ins = db.prepare('INSERT INTO incidents VALUES (?, ?, ?)');
db.transaction(() => { for (const i of incidents) ins.run(i.code, i.status, i.createdAt); })();
const q = db.prepare(`SELECT substr(code, 1, ?) AS area, count(*) AS n FROM incidents WHERE created_at > ? AND created_at <= ? AND status <> 'merged' GROUP BY 1`);
const peer = time('SQLite GROUP BY substr: incidents per area, 4 levels', 10, () => INDICATOR_LEVELS.map((l) => q.all(CODE_LENGTH[l], NOW - 30 * D, NOW)));

// Same answers (town level), or the comparison means nothing.
const mine = new Map(evaluateAt(formula, 'town', facts).map((r) => [r.area.code, r.value]));
for (const row of q.all(9, NOW - 30 * D, NOW) as { area: string; n: number }[]) {
  if (mine.get(row.area) !== row.n) throw new Error(`town ${row.area}: ours ${mine.get(row.area)}, SQLite ${row.n}`);
}
db.close();

console.log(`BENCH\tindicators: 6 built-ins over 200k incidents, ${areas.length} areas\t${all.toFixed(1)} ms\t-\t-\t-\tone full computation (no peer)`);
console.log(`BENCH\tindicators: incidents per area, 4 levels, 200k incidents\t${ours.toFixed(1)} ms\tSQLite GROUP BY substr (in memory, indexed)\t${peer.toFixed(1)} ms\t${(peer / ours).toFixed(2)}x\t>1 = ours faster`);
