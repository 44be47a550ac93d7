// A fine Voronoi mesh of the city and region growing on it. Towns, villages and grids are all unions of
// the same mesh cells, so each level tiles the one above it exactly: adjacent cells share vertex ids,
// and a union is edge cancellation, not floating-point polygon clipping.
import { Delaunay } from 'd3-delaunay';
import { ringSignedArea, unionCellRings, type XY } from './geom.ts';

export interface Mesh {
  /** Number of real cells (sites inside the region); sites n.. are the outer guard ring. */
  n: number;
  /** Site coordinates (m), interleaved, real sites first. */
  sites: Float64Array;
  /** Cell area (m²), capped for the unbounded-looking cells at the edge of the region. */
  area: Float64Array;
  /** Per cell: vertex ids, counter-clockwise. */
  cells: Int32Array[];
  /** Vertex coordinates (m), interleaved by vertex id. */
  verts: Float64Array;
  /** CSR adjacency between real cells (Delaunay neighbours). */
  adjStart: Int32Array;
  adj: Int32Array;
}

/**
 * Build the mesh. `sites` are inside the region; `guards` lie well outside it, so that every real
 * cell is a finite polygon made only of Delaunay circumcentres (no cell is cut by the bounding box,
 * whose cut points would not be shared exactly between neighbours). `capArea(i)` bounds the area
 * counted for cell i (edge cells reach out towards the guards).
 */
export function buildMesh(sites: Float64Array, guards: Float64Array, capArea: (i: number) => number): Mesh {
  const n = sites.length / 2;
  const all = new Float64Array(sites.length + guards.length);
  all.set(sites, 0);
  all.set(guards, sites.length);
  const delaunay = new Delaunay(all);
  let minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
  for (let i = 0; i < all.length; i += 2) {
    minx = Math.min(minx, all[i]); maxx = Math.max(maxx, all[i]);
    miny = Math.min(miny, all[i + 1]); maxy = Math.max(maxy, all[i + 1]);
  }
  const pad = Math.max(maxx - minx, maxy - miny);
  const voronoi = delaunay.voronoi([minx - pad, miny - pad, maxx + pad, maxy + pad]);
  const vid = new Map<string, number>();
  const vx: number[] = [];
  const cells: Int32Array[] = [];
  const area = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const poly = voronoi.cellPolygon(i) as unknown as XY[] | null;
    if (!poly) throw new Error(`buildMesh: site ${i} has no Voronoi cell (duplicate site?) - jitter the sites`);
    const ring = poly.slice(0, -1);
    if (ringSignedArea(ring) < 0) ring.reverse();
    const ids = new Int32Array(ring.length);
    ring.forEach(([x, y], k) => {
      const key = `${x},${y}`;
      let id = vid.get(key);
      if (id === undefined) { id = vx.length / 2; vid.set(key, id); vx.push(x, y); }
      ids[k] = id;
    });
    cells.push(ids);
    area[i] = Math.min(ringSignedArea(ring), capArea(i));
  }
  const adjStart = new Int32Array(n + 1);
  const adjList: number[] = [];
  for (let i = 0; i < n; i++) {
    adjStart[i] = adjList.length;
    for (const j of delaunay.neighbors(i)) if (j < n) adjList.push(j);
  }
  adjStart[n] = adjList.length;
  return { n, sites, area, cells, verts: Float64Array.from(vx), adjStart, adj: Int32Array.from(adjList) };
}

/** Binary min-heap of (key, value) pairs on parallel arrays. */
class Heap {
  private k: number[] = [];
  private v: number[] = [];
  get size(): number { return this.k.length; }
  push(key: number, val: number): void {
    const k = this.k, v = this.v;
    let i = k.length;
    k.push(key); v.push(val);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p] < key || (k[p] === key && v[p] <= val)) break;
      k[i] = k[p]; v[i] = v[p]; i = p;
    }
    k[i] = key; v[i] = val;
  }
  /** Pops the smallest; returns its value, the key in `lastKey`. */
  lastKey = 0;
  pop(): number {
    const k = this.k, v = this.v;
    const topK = k[0], topV = v[0];
    const lk = k.pop()!, lv = v.pop()!;
    const n = k.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = -1;
        let mk = lk, mv = lv;
        if (l < n && (k[l] < mk || (k[l] === mk && v[l] < mv))) { m = l; mk = k[l]; mv = v[l]; }
        if (r < n && (k[r] < mk || (k[r] === mk && v[r] < mv))) { m = r; }
        if (m < 0) break;
        k[i] = k[m]; v[i] = v[m]; i = m;
      }
      k[i] = lk; v[i] = lv;
    }
    this.lastKey = topK;
    return topV;
  }
}

export interface GrowOptions {
  /** Cells that may be labelled (others stay -1). */
  members: Int32Array;
  /** Seed cell per region (must be members, distinct). */
  seeds: readonly number[];
  /** Wanted area per region (any unit; only ratios matter). */
  targets: readonly number[];
  /** Per-cell travel cost factor (> 0): boundaries bend where it varies. */
  cost: Float64Array;
  /** Rounds of speed adjustment towards the target areas. */
  rounds?: number;
  /** Area counted per cell towards the targets (default: mesh.area), e.g. less for water. */
  weight?: Float64Array;
}

/**
 * Multi-source Dijkstra over the cell graph with a speed per region: a weighted Voronoi diagram on the
 * mesh whose regions are always connected (every cell joins the region of a neighbour). The speeds are
 * re-tuned each round so that region areas approach their targets. Returns the label per cell
 * (index into seeds; -1 outside `members`).
 */
export function growRegions(mesh: Mesh, o: GrowOptions): Int32Array {
  const { members, seeds, targets, cost } = o;
  const k = seeds.length;
  const label = new Int32Array(mesh.n).fill(-1);
  if (k === 0) return label;
  const isMember = new Uint8Array(mesh.n);
  for (const c of members) isMember[c] = 1;
  for (const s of seeds) if (!isMember[s]) throw new Error(`growRegions: seed cell ${s} is not among the member cells`);
  const w = o.weight ?? mesh.area;
  let totalArea = 0;
  for (const c of members) totalArea += w[c];
  let totalTarget = 0;
  for (const t of targets) totalTarget += t;
  const want = targets.map((t) => (t / totalTarget) * totalArea);
  const speed = new Float64Array(k).fill(1);
  const dist = new Float64Array(mesh.n);
  const s = mesh.sites;
  const rounds = k === 1 ? 1 : (o.rounds ?? 24);
  for (let round = 0; round < rounds; round++) {
    for (const c of members) { label[c] = -1; dist[c] = Infinity; }
    const heap = new Heap();
    seeds.forEach((c, r) => { dist[c] = 0; label[c] = r; heap.push(0, c); });
    const done = new Uint8Array(mesh.n);
    while (heap.size > 0) {
      const c = heap.pop();
      if (done[c]) continue;
      if (heap.lastKey > dist[c]) continue;
      done[c] = 1;
      const r = label[c];
      const sp = speed[r];
      for (let e = mesh.adjStart[c]; e < mesh.adjStart[c + 1]; e++) {
        const d = mesh.adj[e];
        if (!isMember[d] || done[d]) continue;
        const len = Math.hypot(s[2 * d] - s[2 * c], s[2 * d + 1] - s[2 * c + 1]);
        const nd = dist[c] + (len * 0.5 * (cost[c] + cost[d])) / sp;
        if (nd < dist[d]) { dist[d] = nd; label[d] = r; heap.push(nd, d); }
      }
    }
    if (round === rounds - 1) break;
    const got = new Float64Array(k);
    for (const c of members) if (label[c] >= 0) got[label[c]] += w[c];
    // Area grows roughly with speed²; damp the step so neighbours do not oscillate.
    for (let r = 0; r < k; r++) speed[r] *= Math.min(1.35, Math.max(0.75, Math.pow(want[r] / Math.max(got[r], 1e-9), 0.35)));
  }
  // Members not reachable inside the member set (a detached sliver): give them a neighbour's label.
  for (let pass = 0; pass < 50; pass++) {
    let left = 0;
    for (const c of members) {
      if (label[c] >= 0) continue;
      left++;
      for (let e = mesh.adjStart[c]; e < mesh.adjStart[c + 1]; e++) {
        const d = mesh.adj[e];
        if (isMember[d] && label[d] >= 0) { label[c] = label[d]; break; }
      }
    }
    if (left === 0) break;
  }
  for (const c of members) if (label[c] < 0) label[c] = 0;
  return label;
}

/** Rings (planar, closed) of the union of the given cells. */
export function cellsUnion(mesh: Mesh, cells: readonly number[]): XY[][] {
  const rings = unionCellRings(cells.map((c) => mesh.cells[c] as unknown as number[]));
  return rings.map((ids) => {
    const r: XY[] = ids.map((id) => [mesh.verts[2 * id], mesh.verts[2 * id + 1]]);
    r.push([r[0][0], r[0][1]]);
    return r;
  });
}

/** Farthest-point sampling: pick `count` more cells from `candidates`, each farthest from all chosen so far. */
export function farthestPoints(mesh: Mesh, candidates: readonly number[], chosen: readonly number[], count: number,
  jitter: (c: number) => number = () => 1): number[] {
  const s = mesh.sites;
  const d = new Float64Array(candidates.length).fill(Infinity);
  const picked: number[] = [];
  const update = (p: number): void => {
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i];
      const dd = Math.hypot(s[2 * c] - s[2 * p], s[2 * c + 1] - s[2 * p + 1]);
      if (dd < d[i]) d[i] = dd;
    }
  };
  for (const p of chosen) update(p);
  for (let k = 0; k < count; k++) {
    let best = -1, bestV = -1;
    for (let i = 0; i < candidates.length; i++) {
      const v = (d[i] === Infinity ? 1e12 : d[i]) * jitter(candidates[i]);
      if (v > bestV) { bestV = v; best = i; }
    }
    if (best < 0) break;
    picked.push(candidates[best]);
    update(candidates[best]);
    d[best] = 0;
  }
  return picked;
}
