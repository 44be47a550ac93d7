// Dispatch candidates: who should handle an incident, best first, with the reasons (Chinese) for each place.
// Travel time is on the road graph (layers/routing): one Dijkstra from the incident settles the whole city,
// then every responder costs a snap lookup and two additions. The ranking cost, in seconds of "effective
// travel", adds to the drive: open workload, a missing skill, another department, another grid's manager.
// For a grid-level case the grid's own manager comes first whatever the cost (网格化管理: the grid manager is
// the first handler in their grid; GB/T 30428.1 — cases climb to town/city departments on escalation).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEPARTMENTS } from '../../layers/catalog.ts';
import { createTransformer } from '../../layers/crs.ts';
import { openFlatGeobuf } from '../../layers/formats/flatgeobuf.ts';
import { offroad, Router, type Leg } from '../../layers/routing/dijkstra.ts';
import { roadLinesFromFgb } from '../../layers/routing/from-fgb.ts';
import { buildRoadGraph, type BuildOptions, type RoadGraph } from '../../layers/routing/road-graph.ts';
import { EdgeIndex, type Snap } from '../../layers/routing/snap.ts';
import type { Candidate, Incident } from '../../layers/incidents/model.ts';

export interface ResponderRec { id: string; name: string; kind: string; department: string | null; gridCode: string | null; skills: string[]; lon: number; lat: number }

export type RankInput = Pick<Incident, 'lon' | 'lat' | 'category' | 'gridCode' | 'level' | 'severity' | 'department'>;
export interface RankContext { workload: Map<string, number>; positions: Map<string, { lon: number; lat: number; at: number }>; now: number; limit?: number }

export interface Dispatcher {
  responders(): ResponderRec[];
  /** Candidates for an incident, best first, with reasons (Chinese first). */
  rank(incident: RankInput, ctx: RankContext): Candidate[];
  /** Road travel time/distance between two points (for the client's route line too). */
  route(from: [number, number], to: [number, number]): { seconds: number; metres: number; path: [number, number][] } | null;
}

/** A live position older than this is not trusted; the responder's home (base) is used instead. */
export const LIVE_MAX_AGE_MS = 15 * 60_000;
/** Ranking weights, seconds of effective travel (see the file comment). */
export const WEIGHTS = {
  perOpenCase: 600,
  /** Severity-4 cases (fire, gas): arriving first matters more than spreading the work. */
  perOpenCaseUrgent: 300,
  skillMissing: 600,
  otherDepartment: 1200,
  otherGridManager: 1800,
} as const;

/**
 * The responder skills (scripts/data/responders.ts SKILLS) that fit each category; a responder with any of
 * them has a skill match. Our mapping: the category's work (GB/T 30428.2 descriptions) to the skill names.
 */
export const CATEGORY_SKILLS: Readonly<Record<string, readonly string[]>> = {
  '0101': ['井盖处置', '安全巡查'], '0102': ['抢险救援', '安全巡查'], '0103': ['市容巡查', '安全巡查'],
  '0104': ['危化品处置', '抢险救援', '应急处置'], '0105': ['抢险救援', '安全巡查'],
  '0201': ['安全巡查', '市容巡查'], '0202': ['交通疏导'], '0203': ['交通疏导', '安全巡查'],
  '0301': ['垃圾清运协调', '环境巡查', '市容巡查'], '0302': ['市容巡查', '环境巡查'], '0401': ['抢险救援', '应急处置', '市容巡查'],
  '1101': ['垃圾清运协调', '环境巡查', '市容巡查'], '1102': ['防汛抗旱', '防汛巡查', '抢险救援'], '1103': ['环境巡查', '防汛巡查'],
  '1201': ['市容巡查'], '1301': ['矛盾调解', '违建巡查'], '1302': ['市容巡查', '垃圾清运协调'],
  '1401': ['抢险救援', '应急处置', '急救'], '1402': ['危化品处置', '抢险救援', '应急处置'], '1403': ['交通疏导', '现场处置', '急救'],
  '1501': ['占道经营处置', '市容巡查'], '1502': ['交通疏导'], '1601': ['占道经营处置', '市容巡查'],
  '1701': ['矛盾调解', '警情核查'], '1702': ['环境巡查'],
};

/** Graph build settings for the demo roads (layers/routing/README.md has the figures behind them). */
export const GRAPH_OPTIONS: BuildOptions = { mergeM: 1, tJunctionM: 15, tJunctionMajorM: 60, connectMaxM: 100 };

const toGk = createTransformer('EPSG:4326', 'EPSG:4549');
const toWgs = createTransformer('EPSG:4549', 'EPSG:4326');
const deptName = (d: string | null): string => (d && d in DEPARTMENTS ? DEPARTMENTS[d as keyof typeof DEPARTMENTS] : d ?? '未知部门');

/** Responders from the `responders` layer file. */
export function respondersFromFgb(bytes: Uint8Array): ResponderRec[] {
  const f = openFlatGeobuf(bytes);
  const xy = f.pointXY();
  if (!xy) throw new Error('responders.fgb: every responder must be a Point; rebuild the data (npm run build:data).');
  const col = (n: string) => f.column(n);
  const [id, name, kind, dept, grid, skills] = ['id', 'name', 'kind', 'department', 'grid_code', 'skills'].map(col);
  return Array.from({ length: f.count }, (_, i): ResponderRec => ({
    id: String(id[i]), name: String(name[i] ?? id[i]), kind: String(kind[i] ?? 'patrol'),
    department: (dept[i] as string | undefined) ?? null, gridCode: (grid[i] as string | undefined) ?? null,
    skills: typeof skills[i] === 'string' && skills[i] ? String(skills[i]).split(',').map((s) => s.trim()).filter(Boolean) : [],
    lon: xy[2 * i], lat: xy[2 * i + 1],
  }));
}

export async function openDispatcher(dataDir: string, opts: { extraResponders?: ResponderRec[] } = {}): Promise<Dispatcher> {
  const read = (name: string): Uint8Array => {
    try { return new Uint8Array(readFileSync(join(dataDir, name))); } catch (e) {
      throw new Error(`Cannot read ${join(dataDir, name)} (${(e as Error).message}); build the demo data first (npm run build:data) or pass the right data directory.`);
    }
  };
  const graph = buildRoadGraph(roadLinesFromFgb(openFlatGeobuf(read('roads.fgb'))), GRAPH_OPTIONS);
  return createDispatcher(graph, [...respondersFromFgb(read('responders.fgb')), ...(opts.extraResponders ?? [])]);
}

interface Placed { snap: Snap | null; x: number; y: number }

/** A dispatcher over a built graph (planar metres in EPSG:4549) and a responder list. */
export function createDispatcher(graph: RoadGraph, list: ResponderRec[]): Dispatcher {
  const index = new EdgeIndex(graph);
  const router = new Router(graph);
  const responders = list.slice();
  const place = (lon: number, lat: number): Placed => {
    let x: number, y: number;
    try { [x, y] = toGk(lon, lat); } catch { return { snap: null, x: NaN, y: NaN }; }
    return { snap: index.snap(x, y), x, y };
  };
  const homes = responders.map((r) => place(r.lon, r.lat));
  const cost = new Float64Array(responders.length);
  const legSec = new Float64Array(responders.length);
  const legM = new Float64Array(responders.length);
  const live = new Uint8Array(responders.length);
  const snaps: (Snap | null)[] = new Array(responders.length).fill(null);
  const liveSnaps = new Map<string, { lon: number; lat: number; snap: Snap | null }>();
  let src: Placed = { snap: null, x: NaN, y: NaN };
  /** Off-network metres of the way from src to p (both off-road legs, or all of it when straight across wins). */
  const unmappedMetres = (p: Snap, s: Snap): number => {
    const { leg, via } = router.legVia(p, s);
    if (!leg) return 0;
    return via === 'direct' ? leg.metres : offroad(p.dist).metres + offroad(s.dist).metres;
  };

  function rank(inc: RankInput, ctx: RankContext): Candidate[] {
    const limit = Math.max(1, Math.min(ctx.limit ?? 10, responders.length));
    src = place(inc.lon, inc.lat);
    if (src.snap) router.search(src.snap);
    const wanted = CATEGORY_SKILLS[inc.category] ?? [];
    const perCase = inc.severity >= 4 ? WEIGHTS.perOpenCaseUrgent : WEIGHTS.perOpenCase;
    const gridLevel = inc.level === 'grid';
    // pass 1: effective cost of every responder (typed arrays, no objects)
    for (let i = 0; i < responders.length; i++) {
      const r = responders[i];
      let snap = homes[i].snap;
      live[i] = 0;
      const p = ctx.positions.get(r.id);
      if (p && ctx.now - p.at <= LIVE_MAX_AGE_MS && p.at <= ctx.now + 60_000) {
        // snapping a point far from the roads searches many cells: keep the last snap per responder
        let q = liveSnaps.get(r.id);
        if (!q || q.lon !== p.lon || q.lat !== p.lat) liveSnaps.set(r.id, (q = { lon: p.lon, lat: p.lat, snap: place(p.lon, p.lat).snap }));
        if (q.snap) { snap = q.snap; live[i] = 1; }
      }
      snaps[i] = snap;
      const leg: Leg | null = src.snap && snap ? router.legTo(snap, src.snap) : null;
      if (!leg) { legSec[i] = NaN; legM[i] = NaN; cost[i] = Infinity; continue; }
      legSec[i] = leg.seconds; legM[i] = leg.metres;
      let c = leg.seconds + (ctx.workload.get(r.id) ?? 0) * perCase;
      if (!r.skills.some((s) => wanted.includes(s))) c += WEIGHTS.skillMissing;
      const own = r.kind === 'grid_manager' && r.gridCode !== null && r.gridCode === inc.gridCode;
      if (r.kind === 'grid_manager') { if (gridLevel && !own) c += WEIGHTS.otherGridManager; }
      if (r.department !== inc.department && !(gridLevel && own)) c += WEIGHTS.otherDepartment;
      // tier 0: a grid-level case's own grid manager comes first (cost below every other)
      cost[i] = gridLevel && own ? c - 1e9 : c;
    }
    // pass 2: the `limit` smallest costs (insertion into a short sorted list; ties by responder id)
    const top: number[] = [];
    for (let i = 0; i < responders.length; i++) {
      const c = cost[i];
      if (top.length === limit && !(c < cost[top[limit - 1]] || (c === cost[top[limit - 1]] && responders[i].id < responders[top[limit - 1]].id))) continue;
      let k = top.length === limit ? limit - 1 : top.length;
      while (k > 0 && (cost[top[k - 1]] > c || (cost[top[k - 1]] === c && responders[top[k - 1]].id > responders[i].id))) { top[k] = top[k - 1]; k--; }
      top[k] = i;
    }
    return top.map((i) => candidate(i, inc, ctx, wanted));
  }

  function candidate(i: number, inc: RankInput, ctx: RankContext, wanted: readonly string[]): Candidate {
    const r = responders[i];
    const workload = ctx.workload.get(r.id) ?? 0;
    const matched = r.skills.filter((s) => wanted.includes(s));
    const own = r.kind === 'grid_manager' && r.gridCode !== null && r.gridCode === inc.gridCode;
    const departmentMatch = r.department === inc.department;
    const reachable = Number.isFinite(cost[i]);
    const reasons: string[] = [];
    if (own) reasons.push(inc.level === 'grid' ? '本网格网格员，网格级案件优先派遣' : '本网格网格员');
    else if (r.kind === 'grid_manager' && inc.level === 'grid') reasons.push('非本网格网格员');
    if (reachable) {
      const p = ctx.positions.get(r.id);
      reasons.push(`车程约 ${Math.max(1, Math.round(legSec[i] / 60))} 分钟（${(legM[i] / 1000).toFixed(1)} 公里，按${live[i] ? '实时位置' : '驻地位置'}）`);
      // say when much of the way is off the mapped roads (an estimate: layers/routing/dijkstra.ts CIRCUITY)
      const unmapped = snaps[i] && src.snap ? unmappedMetres(snaps[i]!, src.snap) : 0;
      if (unmapped >= 300) reasons.push(`其中约 ${(unmapped / 1000).toFixed(1)} 公里不在路网上，按估算`);
      if (!live[i] && p) reasons.push('实时位置超过 15 分钟未更新，按驻地计算');
    } else reasons.push('无法经道路到达（位置无效或无可用道路）');
    if (inc.severity >= 4) reasons.push('紧急案件：到达时间优先');
    reasons.push(workload === 0 ? '当前无在办案件' : `在办案件 ${workload} 件`);
    reasons.push(matched.length ? `技能匹配：${matched.join('、')}` : '技能与案件类别不匹配');
    reasons.push(departmentMatch ? `责任部门：${deptName(inc.department)}` : `非责任部门（${deptName(r.department)}，责任部门为${deptName(inc.department)}）`);
    // higher is better: 100 at zero effective cost, 50 at 10 min; +100 for the first tier
    const eff = cost[i] < -1e8 ? cost[i] + 1e9 : cost[i];
    const base = reachable ? 100 / (1 + Math.max(0, eff) / 600) : 0;
    return {
      responderId: r.id, name: r.name, kind: r.kind, department: r.department, gridCode: r.gridCode,
      travelSeconds: reachable ? Math.round(legSec[i]) : null, travelMetres: reachable ? Math.round(legM[i]) : null,
      positionSource: live[i] ? 'live' : 'home', workload, skillMatch: matched.length > 0, departmentMatch,
      ownGridManager: own, score: Math.round((base + (cost[i] < -1e8 ? 100 : 0)) * 10) / 10, reasons,
    };
  }

  function route(from: [number, number], to: [number, number]): { seconds: number; metres: number; path: [number, number][] } | null {
    const a = place(from[0], from[1]), b = place(to[0], to[1]);
    if (!a.snap || !b.snap) return null;
    const leg = router.pointToPoint(a.snap, b.snap);
    if (!leg) return null;
    const g = graph;
    const onEdge = (s: Snap): [number, number] => {
      const e = s.edge;
      return [g.x[g.ea[e]] + s.t * (g.x[g.eb[e]] - g.x[g.ea[e]]), g.y[g.ea[e]] + s.t * (g.y[g.eb[e]] - g.y[g.ea[e]])];
    };
    const { via } = router.legVia(b.snap, a.snap);
    const xy: [number, number][] = [[a.x, a.y]];
    if (via === 'a' || via === 'b') {
      xy.push(onEdge(a.snap));
      for (const n of router.pathTo(via === 'a' ? g.ea[b.snap.edge] : g.eb[b.snap.edge]) ?? []) xy.push([g.x[n], g.y[n]]);
    } else if (via === 'edge') xy.push(onEdge(a.snap));
    if (via !== 'direct') xy.push(onEdge(b.snap));
    xy.push([b.x, b.y]);
    const path: [number, number][] = [];
    for (const [x, y] of xy) {
      const p = toWgs(x, y);
      const last = path[path.length - 1];
      if (!last || last[0] !== p[0] || last[1] !== p[1]) path.push([Math.round(p[0] * 1e7) / 1e7, Math.round(p[1] * 1e7) / 1e7]);
    }
    return { seconds: Math.round(leg.seconds), metres: Math.round(leg.metres), path };
  }

  return { responders: () => responders.slice(), rank, route };
}
