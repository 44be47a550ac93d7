// Roads: arterials between town cores routed around lakes (A* on a 200 m grid, then string-pulled),
// and a rotated street grid in every urban core. Arterials and main streets carry the real Changshu
// road names; other streets get generated names, unique city-wide.
import { Delaunay } from 'd3-delaunay';
import type { Rng } from './rng.ts';
import { BLOCKED, CITY, OWN_ROAD, WET } from './content-spatial.ts';
import type { Core, World } from './content-world.ts';
import { REAL_ROADS, type NamePool } from './names.ts';

export type RoadClass = 'arterial' | 'secondary' | 'local' | 'lane';
export interface RoadRec { name: string; cls: RoadClass; pts: number[] }
/** A street line of a core grid: index k along the other axis; names may differ by half (海虞北路/南路). */
export interface LineInfo { name: string; nameNeg: string; cls: RoadClass }
export interface CoreLines { v: Map<number, LineInfo>; h: Map<number, LineInfo> }
export interface Crossing { x: number; y: number; a: string; b: string; angle: number; core: Core }
export interface RoadsResult {
  roads: RoadRec[];
  lines: Map<number, CoreLines>;
  bridges: { x: number; y: number; road: string }[];
  crossings: Crossing[];
}

/** Names kept for the arterials (the longest get the 大道 / 公路 names). */
const HIGHWAY_FIRST = ['东南大道', '新世纪大道', '西南公路', '通港路', '通江路', '长江路', '黄河路', '外环北路', '南三环路',
  '泰山路', '武夷山路', '黄浦江路', '兴华港区大道', '东张中心大道', '珠江路', '湖山路', '金都路', '昭文路'];

export function lineName(l: LineInfo, t: number): string { return t < 0 ? l.nameNeg : l.name; }

export function generateRoads(w: World, rng: Rng, pool: NamePool): RoadsResult {
  const real = new Set(REAL_ROADS);
  const takeReal = (pred: (n: string) => boolean = () => true): string | null => {
    for (const n of REAL_ROADS) if (real.has(n) && pred(n)) { real.delete(n); return n; }
    return null;
  };
  const res: RoadsResult = { roads: [], lines: new Map(), bridges: [], crossings: [] };
  const add = (name: string, cls: RoadClass, pts: number[]): void => {
    for (const piece of clip(w, pts, name, res.bridges)) res.roads.push({ name, cls, pts: piece });
  };

  // --- arterials between cores / town centres -----------------------------------------------------
  const nodes: { x: number; y: number; r: number }[] = w.cores.map((c) => ({ x: c.cx, y: c.cy, r: c.r }));
  const main = w.cores[0];
  for (const t of w.towns) {
    if (w.cores.some((c) => c.townCode === t.code)) continue;
    if (main && Math.hypot(t.cx - main.cx, t.cy - main.cy) < main.r * 1.3) continue;
    nodes.push({ x: t.cx, y: t.cy, r: 0 });
  }
  const edges = nodeEdges(nodes);
  edges.sort((p, q) => Number(q.mst) - Number(p.mst) || q.len - p.len || p.a - q.a || p.b - q.b);
  const astar = new CoarseRouter(w);
  const highway = HIGHWAY_FIRST.filter((n) => real.has(n));
  for (const e of edges) {
    const A = nodes[e.a], B = nodes[e.b];
    const ux = (B.x - A.x) / e.len, uy = (B.y - A.y) / e.len;
    const sx = A.x + ux * A.r * 0.97, sy = A.y + uy * A.r * 0.97, tx = B.x - ux * B.r * 0.97, ty = B.y - uy * B.r * 0.97;
    const path = astar.route(sx, sy, tx, ty);
    if (!path) continue;
    let name = highway.shift() ?? null;
    if (name) real.delete(name); else name = pool.street().replace(/[街巷弄]$/, '路');
    const cls: RoadClass = e.mst ? 'arterial' : 'secondary';
    add(name, cls, path);
    w.raster.claimLine(path, 14, OWN_ROAD);
  }

  // --- street grids in the cores --------------------------------------------------------------------
  for (const core of w.cores) {
    const town = w.townByCode.get(core.townCode);
    const mine = town ? REAL_ROADS.filter((n) => real.has(n) && n.startsWith(town.short.slice(0, 2))) : [];
    const lines: CoreLines = { v: new Map(), h: new Map() };
    res.lines.set(core.owner, lines);
    const c = Math.cos(core.angle), s = Math.sin(core.angle);
    const mk = (k: number, isV: boolean): LineInfo => {
      const secondary = k % 4 === 0;
      if (core.kind === 'city' && isV && k === 0) {
        real.delete('海虞北路'); real.delete('海虞南路');
        return { name: '海虞北路', nameNeg: '海虞南路', cls: 'secondary' };
      }
      let name: string | null = null;
      if (secondary) {
        const own = mine.find((n) => real.has(n));
        if (own) { real.delete(own); name = own; } else if (core.kind === 'city' || rng.chance(0.5)) name = takeReal((n) => !/大道|公路/.test(n));
      }
      name ??= pool.street();
      return { name, nameNeg: name, cls: secondary ? 'secondary' : 'local' };
    };
    for (const isV of [true, false]) {
      const step = isV ? core.sx : core.sy;
      const n = Math.floor(core.r / step);
      // centre-out order so the real names land on the central lines
      const ks: number[] = [0];
      for (let k = 1; k <= n; k++) ks.push(k, -k);
      for (const k of ks) {
        const off = k * step, L = Math.sqrt(Math.max(0, core.r * core.r - off * off));
        if (L < 100) continue;
        const info = mk(k, isV);
        (isV ? lines.v : lines.h).set(k, info);
        // vertical lines: u = off, run along v; horizontal: v = off, run along u
        const pt = (t: number): [number, number] => isV
          ? [core.cx + off * c - t * s, core.cy + off * s + t * c]
          : [core.cx + t * c - off * s, core.cy + t * s + off * c];
        if (info.name !== info.nameNeg) {
          const [ax, ay] = pt(-L), [ox, oy] = pt(0), [bx, by] = pt(L);
          add(info.nameNeg, info.cls, [ax, ay, ox, oy]);
          add(info.name, info.cls, [ox, oy, bx, by]);
        } else {
          const [ax, ay] = pt(-L), [bx, by] = pt(L);
          add(info.name, info.cls, [ax, ay, bx, by]);
        }
        const [ax, ay] = pt(-L), [bx, by] = pt(L);
        w.raster.claimLine([ax, ay, bx, by], 5, OWN_ROAD);
      }
    }
    // crossings (for cameras)
    for (const [i, vi] of lines.v) for (const [j, hj] of lines.h) {
      const u = i * core.sx, v = j * core.sy;
      if (u * u + v * v > (core.r * 0.95) ** 2) continue;
      const x = core.cx + u * c - v * s, y = core.cy + u * s + v * c;
      if ((w.raster.at(x, y) & (WET | CITY)) !== CITY) continue;
      res.crossings.push({ x, y, a: lineName(vi, v), b: lineName(hj, u), angle: core.angle, core });
    }
  }
  return res;
}

/** Splits a polyline where it leaves the city or meets a lake; records canal crossings (bridges). */
export function clip(w: World, pts: number[], name: string, bridges: { x: number; y: number; road: string }[]): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let wetStart: [number, number] | null = null;
  const flush = (): void => {
    if (cur.length >= 4) {
      let len = 0;
      for (let i = 0; i + 3 < cur.length; i += 2) len += Math.hypot(cur[i + 2] - cur[i], cur[i + 3] - cur[i + 1]);
      if (len >= 40) out.push(simplifyStraight(cur));
    }
    cur = [];
  };
  for (let i = 0; i + 3 < pts.length; i += 2) {
    const xa = pts[i], ya = pts[i + 1], xb = pts[i + 2], yb = pts[i + 3];
    const k = Math.max(1, Math.ceil(Math.hypot(xb - xa, yb - ya) / 5));
    for (let q = i === 0 ? 0 : 1; q <= k; q++) {
      const x = xa + ((xb - xa) * q) / k, y = ya + ((yb - ya) * q) / k;
      const f = w.raster.at(x, y);
      const ok = (f & CITY) !== 0 && (f & BLOCKED) === 0;
      if (ok) {
        cur.push(x, y);
        if (f & WET) wetStart ??= [x, y];
        else if (wetStart) { bridges.push({ x: (wetStart[0] + x) / 2, y: (wetStart[1] + y) / 2, road: name }); wetStart = null; }
      } else { flush(); wetStart = null; }
    }
  }
  flush();
  return out;
}

/** Drops the 5 m samples that lie on straight runs, keeping corners (collinearity within 0.5 m). */
function simplifyStraight(p: number[]): number[] {
  const out = [p[0], p[1]];
  for (let i = 2; i + 2 < p.length; i += 2) {
    const ax = out[out.length - 2], ay = out[out.length - 1], bx = p[i], by = p[i + 1], cx = p[i + 2], cy = p[i + 3];
    const cross = Math.abs((bx - ax) * (cy - ay) - (by - ay) * (cx - ax)) / (Math.hypot(cx - ax, cy - ay) || 1);
    if (cross > 0.5) out.push(bx, by);
  }
  out.push(p[p.length - 2], p[p.length - 1]);
  return out;
}

interface NodeEdge { a: number; b: number; len: number; mst: boolean }
/** Delaunay edges under 18 km plus the minimum spanning tree (always kept, marked arterial). */
function nodeEdges(nodes: { x: number; y: number }[]): NodeEdge[] {
  if (nodes.length < 2) return [];
  const all = new Map<string, NodeEdge>();
  const put = (a: number, b: number): void => {
    const [p, q] = a < b ? [a, b] : [b, a];
    const key = `${p},${q}`;
    if (!all.has(key)) all.set(key, { a: p, b: q, len: Math.hypot(nodes[q].x - nodes[p].x, nodes[q].y - nodes[p].y), mst: false });
  };
  if (nodes.length === 2) put(0, 1);
  else {
    const d = Delaunay.from(nodes.map((n) => [n.x, n.y] as [number, number]));
    for (let e = 0; e < d.halfedges.length; e++) put(d.triangles[e], d.triangles[e % 3 === 2 ? e - 2 : e + 1]);
    if (d.triangles.length === 0) for (let i = 1; i < nodes.length; i++) put(i - 1, i); // collinear nodes
  }
  const list = [...all.values()].sort((p, q) => p.len - q.len || p.a - q.a || p.b - q.b);
  const parent = nodes.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  for (const e of list) { const ra = find(e.a), rb = find(e.b); if (ra !== rb) { parent[ra] = rb; e.mst = true; } }
  return list.filter((e) => e.mst || e.len < 18_000);
}

/** A* over 200 m cells that avoid lakes and stay inside the city; the path is string-pulled on the 10 m raster. */
class CoarseRouter {
  private readonly cs = 200;
  private readonly nx: number; private readonly ny: number;
  private readonly cost: Float32Array; // 0 = impassable
  constructor(private readonly w: World) {
    const r = w.raster, f = this.cs / r.cell;
    this.nx = Math.ceil(r.w / f); this.ny = Math.ceil(r.h / f);
    const blocked = new Uint8Array(this.nx * this.ny), wet = new Uint16Array(this.nx * this.ny), city = new Uint16Array(this.nx * this.ny);
    for (let y = 0; y < r.h; y++) for (let x = 0; x < r.w; x++) {
      const v = r.flags[y * r.w + x], k = Math.floor(y / f) * this.nx + Math.floor(x / f);
      if (v & BLOCKED) blocked[k] = 1;
      if (v & WET) wet[k]++;
      if (v & CITY) city[k]++;
    }
    this.cost = new Float32Array(this.nx * this.ny);
    for (let k = 0; k < this.cost.length; k++) this.cost[k] = blocked[k] || city[k] < (f * f) / 2 ? 0 : 1 + (wet[k] > 0 ? 2 : 0);
  }
  private cellOf(x: number, y: number): number {
    const c = Math.floor((x - this.w.raster.x0) / this.cs), r = Math.floor((y - this.w.raster.y0) / this.cs);
    return c < 0 || r < 0 || c >= this.nx || r >= this.ny ? -1 : r * this.nx + c;
  }
  private nearestOpen(k: number): number {
    if (k >= 0 && this.cost[k] > 0) return k;
    if (k < 0) return -1;
    const c0 = k % this.nx, r0 = Math.floor(k / this.nx);
    for (let d = 1; d < 15; d++) for (let r = r0 - d; r <= r0 + d; r++) for (let c = c0 - d; c <= c0 + d; c++) {
      if (r < 0 || c < 0 || r >= this.ny || c >= this.nx) continue;
      if (this.cost[r * this.nx + c] > 0) return r * this.nx + c;
    }
    return -1;
  }
  private centre(k: number): [number, number] {
    return [this.w.raster.x0 + ((k % this.nx) + 0.5) * this.cs, this.w.raster.y0 + (Math.floor(k / this.nx) + 0.5) * this.cs];
  }
  route(sx: number, sy: number, tx: number, ty: number): number[] | null {
    const s = this.nearestOpen(this.cellOf(sx, sy)), t = this.nearestOpen(this.cellOf(tx, ty));
    if (s < 0 || t < 0) return null;
    const n = this.cost.length;
    const g = new Float64Array(n).fill(Infinity), from = new Int32Array(n).fill(-1), closed = new Uint8Array(n);
    const heap = new MinHeap();
    const [tcx, tcy] = this.centre(t);
    const h = (k: number): number => { const [x, y] = this.centre(k); return Math.hypot(x - tcx, y - tcy) / this.cs; };
    g[s] = 0; heap.push(s, h(s));
    while (heap.size) {
      const k = heap.pop();
      if (k === t) break;
      if (closed[k]) continue;
      closed[k] = 1;
      const c = k % this.nx, r = Math.floor(k / this.nx);
      for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) {
        if (!dr && !dc) continue;
        const cc = c + dc, rr = r + dr;
        if (cc < 0 || rr < 0 || cc >= this.nx || rr >= this.ny) continue;
        const m = rr * this.nx + cc;
        if (!this.cost[m] || closed[m]) continue;
        const ng = g[k] + this.cost[m] * (dr && dc ? Math.SQRT2 : 1);
        if (ng < g[m]) { g[m] = ng; from[m] = k; heap.push(m, ng + h(m)); }
      }
    }
    if (from[t] < 0 && s !== t) return null;
    const cells: number[] = [];
    for (let k = t; k !== -1; k = k === s ? -1 : from[k]) cells.push(k);
    cells.reverse();
    const pts: [number, number][] = [[sx, sy], ...cells.map((k) => this.centre(k)), [tx, ty]];
    // string pulling: jump to the farthest point still visible over open land
    const out: number[] = [sx, sy];
    let i = 0;
    while (i < pts.length - 1) {
      let j = pts.length - 1;
      while (j > i + 1 && !this.visible(pts[i], pts[j])) j--;
      out.push(pts[j][0], pts[j][1]);
      i = j;
    }
    return out;
  }
  private visible(a: [number, number], b: [number, number]): boolean {
    const k = Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / 10);
    for (let q = 1; q < k; q++) {
      const f = this.w.raster.at(a[0] + ((b[0] - a[0]) * q) / k, a[1] + ((b[1] - a[1]) * q) / k);
      if (f & BLOCKED || !(f & CITY)) return false;
    }
    return true;
  }
}

class MinHeap {
  private ids: number[] = []; private keys: number[] = [];
  get size(): number { return this.ids.length; }
  push(id: number, key: number): void {
    const ids = this.ids, keys = this.keys;
    let i = ids.length;
    ids.push(id); keys.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] <= key) break;
      ids[i] = ids[p]; keys[i] = keys[p]; i = p;
    }
    ids[i] = id; keys[i] = key;
  }
  pop(): number {
    const ids = this.ids, keys = this.keys, top = ids[0];
    const id = ids.pop()!, key = keys.pop()!;
    if (ids.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i, mk = key;
        if (l < ids.length && keys[l] < mk) { m = l; mk = keys[l]; }
        if (r < ids.length && keys[r] < mk) { m = r; mk = keys[r]; }
        if (m === i) break;
        ids[i] = ids[m]; keys[i] = keys[m]; i = m;
      }
      ids[i] = id; keys[i] = key;
    }
    return top;
  }
}
