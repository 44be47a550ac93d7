// Nearest-edge snapping of arbitrary points onto a RoadGraph: a uniform grid of edge ids, searched in
// growing square rings until the best edge found is closer than anything an unseen ring could hold.
import { closestT, type RoadGraph } from './road-graph.ts';

export interface Snap {
  edge: number;
  /** Position along the edge from ea[edge] (0) to eb[edge] (1). */
  t: number;
  /** Straight distance from the point to the road, m (the off-road leg). */
  dist: number;
  /** The point itself. */
  x: number;
  y: number;
}

export class EdgeIndex {
  private readonly cells = new Map<number, number[]>();
  private readonly minCx: number; private readonly minCy: number; private readonly maxCx: number; private readonly maxCy: number;

  /** Indexes the edges whose nodes are in `component` (default 0, the largest), or all when component is -1. */
  constructor(readonly graph: RoadGraph, readonly cell = 200, component = 0) {
    const g = graph;
    let minCx = Infinity, minCy = Infinity, maxCx = -Infinity, maxCy = -Infinity;
    for (let e = 0; e < g.edgeCount; e++) {
      if (component >= 0 && g.component[g.ea[e]] !== component) continue;
      const ax = g.x[g.ea[e]], ay = g.y[g.ea[e]], bx = g.x[g.eb[e]], by = g.y[g.eb[e]];
      // register the cells the edge passes through (samples every cell/4), not its bbox: long diagonal
      // arterial segments would otherwise fill hundreds of cells they never enter
      const steps = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / (cell / 4)));
      let last = NaN;
      for (let k = 0; k <= steps; k++) {
        const cx = Math.floor((ax + ((bx - ax) * k) / steps) / cell), cy = Math.floor((ay + ((by - ay) * k) / steps) / cell);
        const key = this.key(cx, cy);
        if (key === last) continue;
        last = key;
        const l = this.cells.get(key);
        if (!l) this.cells.set(key, [e]); else if (l[l.length - 1] !== e) l.push(e);
        minCx = Math.min(minCx, cx); minCy = Math.min(minCy, cy); maxCx = Math.max(maxCx, cx); maxCy = Math.max(maxCy, cy);
      }
    }
    this.minCx = minCx; this.minCy = minCy; this.maxCx = maxCx; this.maxCy = maxCy;
  }

  private key(cx: number, cy: number): number { return (cx + 1_000_000) * 2_000_000 + (cy + 1_000_000); }

  /** The closest indexed edge within maxDistM (default unlimited), or null. Ties go to the lower edge id. */
  snap(x: number, y: number, maxDistM = Infinity): Snap | null {
    if (!(this.minCx <= this.maxCx)) return null;
    const g = this.graph, c = this.cell;
    const pcx = Math.floor(x / c), pcy = Math.floor(y / c);
    let best = -1, bestD = Infinity, bestT = 0;
    // rings r = 0, 1, 2 …; every point of an edge is within cell/8 of a registered sample, so after ring r every
    // edge within r·cell − cell/8 of the point has been seen
    const maxRing = Math.max(Math.abs(pcx - this.minCx), Math.abs(pcx - this.maxCx), Math.abs(pcy - this.minCy), Math.abs(pcy - this.maxCy));
    for (let r = 0; r <= maxRing; r++) {
      for (let cx = pcx - r; cx <= pcx + r; cx++) {
        const edgeRow = cx === pcx - r || cx === pcx + r;
        for (let cy = pcy - r; cy <= pcy + r; cy += edgeRow ? 1 : 2 * r) {
          const l = this.cells.get(this.key(cx, cy));
          if (l) for (const e of l) {
            const ax = g.x[g.ea[e]], ay = g.y[g.ea[e]], bx = g.x[g.eb[e]], by = g.y[g.eb[e]];
            const t = closestT(ax, ay, bx, by, x, y);
            const d = Math.hypot(ax + t * (bx - ax) - x, ay + t * (by - ay) - y);
            if (d < bestD || (d === bestD && e < best)) { bestD = d; best = e; bestT = t; }
          }
          if (r === 0) break;
        }
      }
      if (best >= 0 && bestD <= r * c - c / 8) break;
      if (r * c > maxDistM + c) break;
    }
    if (best < 0 || bestD > maxDistM) return null;
    return { edge: best, t: bestT, dist: bestD, x, y };
  }
}
