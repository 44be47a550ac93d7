// A routable graph from road centrelines (pure; planar metres in, typed arrays out).
//
// Road layers are drawn, not noded: the demo build writes every street of a core grid as one straight
// line from rim to rim, so two streets cross with no shared vertex, and side streets end a few metres
// short of (or past) the street they meet. A graph built from shared vertices alone is thousands of
// one-line islands (see README.md in this folder for the figures). So the builder
//   1. splits segments at every proper crossing (all crossings are taken as at-grade junctions: the
//      source has no layer/bridge attribute to say otherwise),
//   2. joins T-junctions: a line end within `tJunctionM` of another line is tied to the nearest point on it,
//   3. merges nodes closer than `mergeM`,
//   4. optionally links the remaining islands (villages whose lanes the generator never connected) to the
//      nearest other component with an inferred `access` edge, shortest first, when the gap is at most
//      `connectMaxM` — those edges are counted and marked so the report can say how much is inferred.
// Undirected (no one-way data); travel time = length / class speed.

export type RoadClass = 'arterial' | 'secondary' | 'local' | 'lane' | 'access';
export const ROAD_CLASSES: readonly RoadClass[] = ['arterial', 'secondary', 'local', 'lane', 'access'];

/** Typical urban operating speeds for response vehicles, km/h (not limits: junction delay included). `access`
 *  is an inferred link or an unmapped way (farm track, yard, village road) from a point to the mapped roads. */
export const SPEED_KMH: Readonly<Record<RoadClass, number>> = { arterial: 45, secondary: 35, local: 25, lane: 15, access: 12 };

export interface RoadLine {
  /** Interleaved x, y in metres (a projected CRS), ≥ 2 vertices. */
  xy: ArrayLike<number>;
  cls: RoadClass;
}

export interface BuildOptions {
  /** Nodes closer than this are one node, m (default 1). */
  mergeM?: number;
  /** A local street or lane end this close to another line is joined to it, m (default 15). */
  tJunctionM?: number;
  /** The same for arterial and secondary ends, m (default 60): the demo build aims them at a town core and stops
   *  them 3 % of the core radius short of its rim, so their ends sit up to tens of metres off the street grid. */
  tJunctionMajorM?: number;
  /** Link islands to the nearest other component when the gap is at most this, m (default 0 = never). */
  connectMaxM?: number;
}

export interface BuildStats {
  lines: number;
  inputVertices: number;
  /** Distinct vertex positions shared by two or more input lines (before any splitting). */
  sharedVertices: number;
  crossings: number;
  tJunctions: number;
  mergedNodes: number;
  connectors: number;
  connectorMetres: number;
  /** Components (of edges) before and after linking islands, and the largest one's share of road length. */
  componentsBefore: number;
  componentsAfter: number;
  largestShare: number;
  nodes: number;
  edges: number;
}

export interface RoadGraph {
  readonly nodeCount: number;
  readonly edgeCount: number;
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** Edge endpoints, length and travel time (undirected; edge e joins ea[e] and eb[e]). */
  readonly ea: Uint32Array;
  readonly eb: Uint32Array;
  readonly metres: Float32Array;
  readonly seconds: Float32Array;
  readonly cls: Uint8Array;
  /** CSR adjacency: the half-edges of node n are adjStart[n] .. adjStart[n+1]-1; adjTo = neighbour, adjEdge = edge id. */
  readonly adjStart: Uint32Array;
  readonly adjTo: Uint32Array;
  readonly adjEdge: Uint32Array;
  /** Component id of every node (0 = the largest by road length). */
  readonly component: Uint32Array;
  readonly stats: BuildStats;
}

const CLASS_INDEX = new Map(ROAD_CLASSES.map((c, i) => [c, i]));

export function speedMps(cls: RoadClass): number {
  return SPEED_KMH[cls] / 3.6;
}

/** Uniform grid of segment ids keyed by cell; segments are registered in every cell their bbox touches. */
class SegmentGrid {
  private readonly cells = new Map<number, number[]>();
  constructor(readonly cell: number) {}
  private key(cx: number, cy: number): number { return (cx + 32768) * 65536 + (cy + 32768); }
  add(id: number, x0: number, y0: number, x1: number, y1: number, pad = 0): void {
    const c = this.cell;
    for (let cx = Math.floor((Math.min(x0, x1) - pad) / c); cx <= Math.floor((Math.max(x0, x1) + pad) / c); cx++) {
      for (let cy = Math.floor((Math.min(y0, y1) - pad) / c); cy <= Math.floor((Math.max(y0, y1) + pad) / c); cy++) {
        const k = this.key(cx, cy);
        const l = this.cells.get(k);
        if (l) l.push(id); else this.cells.set(k, [id]);
      }
    }
  }
  /** Ids in cells within `r` of (x, y); may repeat. */
  near(x: number, y: number, r: number, out: number[]): number[] {
    out.length = 0;
    const c = this.cell;
    for (let cx = Math.floor((x - r) / c); cx <= Math.floor((x + r) / c); cx++) {
      for (let cy = Math.floor((y - r) / c); cy <= Math.floor((y + r) / c); cy++) {
        const l = this.cells.get(this.key(cx, cy));
        if (l) for (const id of l) out.push(id);
      }
    }
    return out;
  }
  values(): IterableIterator<number[]> { return this.cells.values(); }
}

/** Parameter t in [0, 1] of the closest point to (px, py) on segment a→b. */
export function closestT(ax: number, ay: number, bx: number, by: number, px: number, py: number): number {
  const dx = bx - ax, dy = by - ay;
  const l2 = dx * dx + dy * dy;
  if (l2 === 0) return 0;
  const t = ((px - ax) * dx + (py - ay) * dy) / l2;
  return t < 0 ? 0 : t > 1 ? 1 : t;
}

export function buildRoadGraph(lines: readonly RoadLine[], opts: BuildOptions = {}): RoadGraph {
  const mergeM = opts.mergeM ?? 1;
  const tJunctionM = opts.tJunctionM ?? 15;
  const tJunctionMajorM = Math.max(tJunctionM, opts.tJunctionMajorM ?? 60);
  const connectMaxM = opts.connectMaxM ?? 0;

  // ---- segments of the input
  const sx0: number[] = [], sy0: number[] = [], sx1: number[] = [], sy1: number[] = [], sLine: number[] = [], sCls: number[] = [];
  const lineFirstSeg: number[] = [];
  let inputVertices = 0;
  const vertexUse = new Map<string, number>();
  lines.forEach((l, li) => {
    const n = l.xy.length >> 1;
    if (n < 2) throw new Error(`Road line ${li} has ${n} vertex: a road needs at least 2; drop it or fix the source.`);
    const cls = CLASS_INDEX.get(l.cls);
    if (cls === undefined) throw new Error(`Road line ${li} has class "${l.cls}"; expected one of ${ROAD_CLASSES.join(', ')}.`);
    inputVertices += n;
    const seen = new Set<string>();
    for (let k = 0; k < n; k++) {
      const key = `${l.xy[2 * k]},${l.xy[2 * k + 1]}`;
      if (!seen.has(key)) { seen.add(key); vertexUse.set(key, (vertexUse.get(key) ?? 0) + 1); }
    }
    lineFirstSeg.push(sx0.length);
    for (let k = 0; k + 1 < n; k++) {
      sx0.push(l.xy[2 * k]); sy0.push(l.xy[2 * k + 1]); sx1.push(l.xy[2 * k + 2]); sy1.push(l.xy[2 * k + 3]);
      sLine.push(li); sCls.push(cls);
    }
  });
  lineFirstSeg.push(sx0.length);
  let sharedVertices = 0;
  for (const c of vertexUse.values()) if (c > 1) sharedVertices++;
  const S = sx0.length;

  const grid = new SegmentGrid(250);
  for (let s = 0; s < S; s++) grid.add(s, sx0[s], sy0[s], sx1[s], sy1[s], tJunctionMajorM);
  /** Split points per segment as parameters t; 0 and 1 are always there. */
  const cuts: number[][] = Array.from({ length: S }, () => [0, 1]);
  /** Extra edges: [segA, tA, segB, tB] (a T-junction tie: from a line end to a point on another segment). */
  const ties: [number, number, number, number][] = [];

  // ---- 1. proper crossings (each pair tested once: in the lowest-numbered cell they share is not needed,
  // a pair set is cheaper to reason about at this size)
  let crossings = 0;
  const tested = new Set<number>();
  for (const ids of grid.values()) {
    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) {
      const a = Math.min(ids[i], ids[j]), b = Math.max(ids[i], ids[j]);
      if (a === b) continue;
      const pair = a * S + b;
      if (tested.has(pair)) continue;
      tested.add(pair);
      const rx = sx1[a] - sx0[a], ry = sy1[a] - sy0[a], qx = sx1[b] - sx0[b], qy = sy1[b] - sy0[b];
      const den = rx * qy - ry * qx;
      if (Math.abs(den) < 1e-9) continue; // parallel or collinear: overlaps are left to the end-point ties
      const wx = sx0[b] - sx0[a], wy = sy0[b] - sy0[a];
      const t = (wx * qy - wy * qx) / den, u = (wx * ry - wy * rx) / den;
      if (t < 0 || t > 1 || u < 0 || u > 1) continue;
      // consecutive segments of one line meet at their shared vertex: not a crossing
      if (sLine[a] === sLine[b] && (b === a + 1)) continue;
      cuts[a].push(t); cuts[b].push(u);
      if (t > 0 && t < 1 && u > 0 && u < 1) crossings++;
    }
  }

  // ---- 2. T-junctions: a line end near another line (not its own) is tied to the closest point on it
  let tJunctions = 0;
  const near: number[] = [];
  for (let li = 0; li < lines.length; li++) {
    const first = lineFirstSeg[li], last = lineFirstSeg[li + 1] - 1;
    const tol = sCls[first] <= 1 ? tJunctionMajorM : tJunctionM;
    for (const [seg, t] of [[first, 0], [last, 1]] as const) {
      const px = t === 0 ? sx0[seg] : sx1[seg], py = t === 0 ? sy0[seg] : sy1[seg];
      let best = -1, bestD = tol, bestT = 0;
      for (const s of grid.near(px, py, tol, near)) {
        if (sLine[s] === li) continue;
        const tt = closestT(sx0[s], sy0[s], sx1[s], sy1[s], px, py);
        const d = Math.hypot(sx0[s] + tt * (sx1[s] - sx0[s]) - px, sy0[s] + tt * (sy1[s] - sy0[s]) - py);
        if (d < bestD || (d === bestD && s < best)) { bestD = d; best = s; bestT = tt; }
      }
      if (best < 0) continue;
      if (bestD > mergeM) { cuts[best].push(bestT); ties.push([seg, t, best, bestT]); tJunctions++; }
      else cuts[best].push(bestT); // close enough: the merge step makes it one node
    }
  }

  // ---- 3. nodes (merged within mergeM) and edges
  const nx: number[] = [], ny: number[] = [];
  const nodeCells = new Map<number, number[]>();
  const cellKey = (cx: number, cy: number): number => (cx + 2_000_000) * 4_000_000 + (cy + 2_000_000);
  const cm = Math.max(mergeM, 1e-3);
  let mergedNodes = 0;
  const nodeAt = (x: number, y: number): number => {
    const cx = Math.floor(x / cm), cy = Math.floor(y / cm);
    let best = -1, bd = Infinity;
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) {
      const l = nodeCells.get(cellKey(cx + dx, cy + dy));
      if (l) for (const n of l) { const d = Math.hypot(nx[n] - x, ny[n] - y); if (d <= mergeM && d < bd) { bd = d; best = n; } }
    }
    if (best >= 0) { if (bd > 0) mergedNodes++; return best; }
    const id = nx.length;
    nx.push(x); ny.push(y);
    const k = cellKey(cx, cy);
    const l = nodeCells.get(k);
    if (l) l.push(id); else nodeCells.set(k, [id]);
    return id;
  };
  const ea: number[] = [], eb: number[] = [], em: number[] = [], ec: number[] = [];
  const edgeSet = new Set<string>();
  const addEdge = (a: number, b: number, m: number, c: number): void => {
    if (a === b) return;
    const key = a < b ? `${a},${b}` : `${b},${a}`;
    if (edgeSet.has(key)) return; // the same stretch drawn twice (two names for one street)
    edgeSet.add(key);
    ea.push(a); eb.push(b); em.push(m); ec.push(c);
  };
  const pointOn = (s: number, t: number): [number, number] => [sx0[s] + t * (sx1[s] - sx0[s]), sy0[s] + t * (sy1[s] - sy0[s])];
  for (let s = 0; s < S; s++) {
    const ts = [...new Set(cuts[s])].sort((p, q) => p - q);
    let prev = nodeAt(...pointOn(s, ts[0]));
    for (let k = 1; k < ts.length; k++) {
      const cur = nodeAt(...pointOn(s, ts[k]));
      addEdge(prev, cur, Math.hypot(nx[cur] - nx[prev], ny[cur] - ny[prev]), sCls[s]);
      prev = cur;
    }
  }
  for (const [sa, ta, sb, tb] of ties) {
    const a = nodeAt(...pointOn(sa, ta)), b = nodeAt(...pointOn(sb, tb));
    // the tie takes the smaller road's class (a lane meeting a street is driven at lane speed)
    addEdge(a, b, Math.hypot(nx[b] - nx[a], ny[b] - ny[a]), Math.max(sCls[sa], sCls[sb]));
  }

  // ---- 4. components, and links between them
  const N = nx.length;
  const parent = new Uint32Array(N);
  for (let i = 0; i < N; i++) parent[i] = i;
  const find = (a: number): number => { while (parent[a] !== a) { parent[a] = parent[parent[a]]; a = parent[a]; } return a; };
  const union = (a: number, b: number): boolean => { const ra = find(a), rb = find(b); if (ra === rb) return false; parent[ra] = rb; return true; };
  for (let e = 0; e < ea.length; e++) union(ea[e], eb[e]);
  const countComponents = (): number => { const r = new Set<number>(); for (let e = 0; e < ea.length; e++) r.add(find(ea[e])); return r.size; };
  const componentsBefore = countComponents();
  let connectors = 0, connectorMetres = 0;
  if (connectMaxM > 0 && componentsBefore > 1) {
    // Candidate links: from every node to the closest point of another component within connectMaxM;
    // then Kruskal (shortest first) so each island gets its shortest link and no loops are added.
    const edgeGrid = new SegmentGrid(Math.max(100, connectMaxM));
    for (let e = 0; e < ea.length; e++) edgeGrid.add(e, nx[ea[e]], ny[ea[e]], nx[eb[e]], ny[eb[e]]);
    const cand: { d: number; n: number; e: number; t: number }[] = [];
    const bestByComp = new Map<number, Map<number, { d: number; n: number; e: number; t: number }>>();
    for (let n = 0; n < N; n++) {
      const rn = find(n);
      for (const e of edgeGrid.near(nx[n], ny[n], connectMaxM, near)) {
        const re = find(ea[e]);
        if (re === rn) continue;
        const t = closestT(nx[ea[e]], ny[ea[e]], nx[eb[e]], ny[eb[e]], nx[n], ny[n]);
        const d = Math.hypot(nx[ea[e]] + t * (nx[eb[e]] - nx[ea[e]]) - nx[n], ny[ea[e]] + t * (ny[eb[e]] - ny[ea[e]]) - ny[n]);
        if (d > connectMaxM) continue;
        let m = bestByComp.get(rn);
        if (!m) bestByComp.set(rn, (m = new Map()));
        const cur = m.get(re);
        if (!cur || d < cur.d) m.set(re, { d, n, e, t });
      }
    }
    for (const m of bestByComp.values()) for (const c of m.values()) cand.push(c);
    cand.sort((p, q) => p.d - q.d || p.n - q.n || p.e - q.e);
    for (const c of cand) {
      if (!union(c.n, ea[c.e])) continue;
      const [x, y] = [nx[ea[c.e]] + c.t * (nx[eb[c.e]] - nx[ea[c.e]]), ny[ea[c.e]] + c.t * (ny[eb[c.e]] - ny[ea[c.e]])];
      // split the target edge at the link point (a new node unless the point is an end)
      let target: number;
      if (c.t * em[c.e] <= mergeM) target = ea[c.e];
      else if ((1 - c.t) * em[c.e] <= mergeM) target = eb[c.e];
      else {
        target = nx.length;
        nx.push(x); ny.push(y);
        const oldB = eb[c.e], len = em[c.e];
        eb[c.e] = target; em[c.e] = len * c.t;
        ea.push(target); eb.push(oldB); em.push(len * (1 - c.t)); ec.push(ec[c.e]);
      }
      ea.push(c.n); eb.push(target); em.push(c.d); ec.push(CLASS_INDEX.get('access')!);
      connectors++;
      connectorMetres += c.d;
    }
  }

  // ---- typed arrays, CSR adjacency, components by size
  const nodeCount = nx.length, edgeCount = ea.length;
  const g = {
    x: Float64Array.from(nx), y: Float64Array.from(ny),
    ea: Uint32Array.from(ea), eb: Uint32Array.from(eb), metres: Float32Array.from(em),
    seconds: Float32Array.from(em, (m, e) => m / speedMps(ROAD_CLASSES[ec[e]])), cls: Uint8Array.from(ec),
  };
  const deg = new Uint32Array(nodeCount + 1);
  for (let e = 0; e < edgeCount; e++) { deg[g.ea[e] + 1]++; deg[g.eb[e] + 1]++; }
  for (let n = 0; n < nodeCount; n++) deg[n + 1] += deg[n];
  const adjStart = deg.slice();
  const fill = deg.slice(0, nodeCount);
  const adjTo = new Uint32Array(2 * edgeCount), adjEdge = new Uint32Array(2 * edgeCount);
  for (let e = 0; e < edgeCount; e++) {
    const a = g.ea[e], b = g.eb[e];
    adjTo[fill[a]] = b; adjEdge[fill[a]++] = e;
    adjTo[fill[b]] = a; adjEdge[fill[b]++] = e;
  }
  // components from scratch over the final edges (connector splits added nodes)
  const comp = new Int32Array(nodeCount).fill(-1);
  const compLen: number[] = [];
  const stack: number[] = [];
  for (let s = 0; s < nodeCount; s++) {
    if (comp[s] >= 0) continue;
    const id = compLen.length;
    let len = 0;
    comp[s] = id; stack.push(s);
    while (stack.length) {
      const n = stack.pop()!;
      for (let h = adjStart[n]; h < adjStart[n + 1]; h++) {
        const m = adjTo[h];
        if (comp[m] < 0) { comp[m] = id; stack.push(m); }
        if (n < m) len += g.metres[adjEdge[h]];
      }
    }
    compLen.push(len);
  }
  const order = compLen.map((_, i) => i).sort((p, q) => compLen[q] - compLen[p] || p - q);
  const rank = new Uint32Array(order.length);
  order.forEach((c, r) => { rank[c] = r; });
  const component = Uint32Array.from(comp, (c) => rank[c]);
  const total = compLen.reduce((a, b) => a + b, 0);
  const withEdges = new Set<number>();
  for (let e = 0; e < edgeCount; e++) withEdges.add(component[g.ea[e]]);

  return {
    nodeCount, edgeCount, ...g, adjStart, adjTo, adjEdge, component,
    stats: {
      lines: lines.length, inputVertices, sharedVertices, crossings, tJunctions, mergedNodes, connectors, connectorMetres,
      componentsBefore, componentsAfter: withEdges.size, largestShare: total > 0 ? compLen[order[0]] / total : 0,
      nodes: nodeCount, edges: edgeCount,
    },
  };
}
