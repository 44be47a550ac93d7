// Shortest travel times on a RoadGraph. One search from a snapped point settles every node, so ranking N
// responders costs one Dijkstra plus O(1) per responder (the graph is undirected: time to the incident =
// time from it). Work arrays are allocated once per Router and reset by an epoch stamp, not cleared.
// Not re-entrant: one search at a time per Router (fine in Node's single thread; make one per worker).
import { SPEED_KMH, type RoadGraph } from './road-graph.ts';
import type { Snap } from './snap.ts';

/** Off-road leg speed, m/s (the `access` class: an unmapped yard, track or village road to the mapped roads). */
export const OFFROAD_MPS = SPEED_KMH.access / 3.6;
/** Unmapped ways are not straight: road distance ≈ 1.3 × straight distance (the usual circuity of local road
 *  networks, 1.2–1.4: Ballou, Rahardja & Sakai 2002, "Selected country circuity factors for road travel distance
 *  estimation"). The demo's rural hamlets have lanes but no mapped link to the network, so this matters there. */
export const CIRCUITY = 1.3;
/** The off-road leg for a straight distance d. */
export function offroad(d: number): Leg { return { seconds: (d * CIRCUITY) / OFFROAD_MPS, metres: d * CIRCUITY }; }

export interface Leg { seconds: number; metres: number }

export class Router {
  private readonly dist: Float64Array;
  private readonly len: Float64Array;
  private readonly via: Int32Array; // half-edge index that reached the node, -1 for a seed
  private readonly stamp: Uint32Array;
  private epoch = 0;
  private heapKey: Float64Array;
  private heapNode: Uint32Array;
  private heapSize = 0;
  /** Nodes settled by the last search (for benchmarks and tests). */
  settled = 0;

  constructor(readonly graph: RoadGraph) {
    const n = graph.nodeCount;
    this.dist = new Float64Array(n);
    this.len = new Float64Array(n);
    this.via = new Int32Array(n);
    this.stamp = new Uint32Array(n);
    this.heapKey = new Float64Array(Math.max(16, 2 * graph.edgeCount + 4));
    this.heapNode = new Uint32Array(this.heapKey.length);
  }

  /** Runs a search from `src`; settles everything unless `stop(node)` returns true or maxSeconds is passed. */
  search(src: Snap, maxSeconds = Infinity, stop?: (node: number, seconds: number) => boolean): void {
    const g = this.graph;
    this.epoch++;
    if (this.epoch >= 0x7fffffff) { this.stamp.fill(0); this.epoch = 1; } // stamps hold 2·epoch
    this.heapSize = 0;
    this.settled = 0;
    const e = src.edge, a = g.ea[e], b = g.eb[e];
    const off = offroad(src.dist);
    this.seed(a, off.seconds + src.t * g.seconds[e], off.metres + src.t * g.metres[e]);
    this.seed(b, off.seconds + (1 - src.t) * g.seconds[e], off.metres + (1 - src.t) * g.metres[e]);
    const { adjStart, adjTo, adjEdge, seconds, metres } = g;
    const dist = this.dist, len = this.len, stamp = this.stamp, via = this.via, epoch = this.epoch;
    const done = epoch * 2; // stamp == epoch*2 → settled; epoch*2-1 → reached (values valid)
    while (this.heapSize > 0) {
      const d = this.heapKey[0], n = this.heapNode[0];
      this.pop();
      if (stamp[n] === done || d > dist[n]) continue;
      stamp[n] = done;
      this.settled++;
      if (d > maxSeconds || (stop && stop(n, d))) break;
      for (let h = adjStart[n], end = adjStart[n + 1]; h < end; h++) {
        const m = adjTo[h];
        if (stamp[m] === done) continue;
        const nd = d + seconds[adjEdge[h]];
        if (stamp[m] !== done - 1 || nd < dist[m]) {
          stamp[m] = done - 1;
          dist[m] = nd;
          len[m] = len[n] + metres[adjEdge[h]];
          via[m] = h;
          this.push(nd, m);
        }
      }
    }
  }

  /** Seconds and metres from the last search's source to node n (reached or settled), or null. */
  nodeLeg(n: number): Leg | null {
    const s = this.stamp[n];
    if (s !== this.epoch * 2 && s !== this.epoch * 2 - 1) return null;
    return { seconds: this.dist[n], metres: this.len[n] };
  }

  /** Travel from the last search's source to a snapped point (its off-road leg included); null if unreached.
   *  Exact when both ends of the point's edge are settled (after a full search they are). With `src` (the
   *  search's source) two shortcuts count: along a shared edge, and straight across (`direct`, off-road). */
  legTo(p: Snap, src?: Snap): Leg | null {
    return this.legVia(p, src).leg;
  }

  /** legTo, and which way won: the edge end node ea/eb it arrives through, 'edge' (along a shared edge) or 'direct'. */
  legVia(p: Snap, src?: Snap): { leg: Leg | null; via: 'a' | 'b' | 'edge' | 'direct' | null } {
    const g = this.graph, e = p.edge, off = offroad(p.dist);
    let best: Leg | null = null, via: 'a' | 'b' | 'edge' | 'direct' | null = null;
    const a = this.nodeLeg(g.ea[e]), b = this.nodeLeg(g.eb[e]);
    if (a) { best = { seconds: a.seconds + p.t * g.seconds[e] + off.seconds, metres: a.metres + p.t * g.metres[e] + off.metres }; via = 'a'; }
    if (b) {
      const s = b.seconds + (1 - p.t) * g.seconds[e] + off.seconds;
      if (!best || s < best.seconds) { best = { seconds: s, metres: b.metres + (1 - p.t) * g.metres[e] + off.metres }; via = 'b'; }
    }
    if (src) {
      // both points on one edge: driving along it can beat going round through an end
      if (src.edge === e) {
        const dt = Math.abs(src.t - p.t), o = offroad(src.dist);
        const s = o.seconds + dt * g.seconds[e] + off.seconds;
        if (!best || s < best.seconds) { best = { seconds: s, metres: o.metres + dt * g.metres[e] + off.metres }; via = 'edge'; }
      }
      // neighbours far from any mapped road (a rural hamlet): straight across beats two long legs to the network
      const d = offroad(Math.hypot(p.x - src.x, p.y - src.y));
      if (!best || d.seconds < best.seconds) { best = d; via = 'direct'; }
    }
    return { leg: best, via };
  }

  /** Node sequence from the last search's source to node n (first node is a seed), or null. */
  pathTo(n: number): number[] | null {
    if (!this.nodeLeg(n)) return null;
    const out = [n];
    const g = this.graph;
    let cur = n;
    for (let guard = 0; this.via[cur] >= 0 && guard < g.nodeCount; guard++) {
      const h = this.via[cur];
      const e = g.adjEdge[h];
      cur = g.ea[e] === cur ? g.eb[e] : g.ea[e];
      out.push(cur);
    }
    return out.reverse();
  }

  /** Point-to-point: a search from `from` that stops once both ends of `to`'s edge are settled. */
  pointToPoint(from: Snap, to: Snap): Leg | null {
    const g = this.graph;
    const a = g.ea[to.edge], b = g.eb[to.edge];
    let left = a === b ? 1 : 2;
    this.search(from, Infinity, (n) => (n === a || n === b ? --left === 0 : false));
    return this.legTo(to, from);
  }

  private seed(n: number, d: number, m: number): void {
    const s = this.stamp[n], reached = this.epoch * 2 - 1;
    if (s === reached && this.dist[n] <= d) return;
    this.stamp[n] = reached;
    this.dist[n] = d;
    this.len[n] = m;
    this.via[n] = -1;
    this.push(d, n);
  }

  private push(k: number, n: number): void {
    if (this.heapSize === this.heapKey.length) {
      const nk = new Float64Array(this.heapKey.length * 2), nn = new Uint32Array(this.heapKey.length * 2);
      nk.set(this.heapKey); nn.set(this.heapNode);
      this.heapKey = nk; this.heapNode = nn;
    }
    const hk = this.heapKey, hn = this.heapNode;
    let i = this.heapSize++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (hk[p] <= k) break;
      hk[i] = hk[p]; hn[i] = hn[p];
      i = p;
    }
    hk[i] = k; hn[i] = n;
  }

  private pop(): void {
    const hk = this.heapKey, hn = this.heapNode;
    const size = --this.heapSize;
    if (size === 0) return;
    const k = hk[size], n = hn[size];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && hk[c + 1] < hk[c]) c++;
      if (hk[c] >= k) break;
      hk[i] = hk[c]; hn[i] = hn[c];
      i = c;
    }
    hk[i] = k; hn[i] = n;
  }
}
