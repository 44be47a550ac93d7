// Patrol units driving along the road graph (pure): each unit starts on the road nearest its base and takes a
// random walk edge by edge (no U-turn unless a dead end), at a patrol pace below the class's response speed.
import { speedMps, ROAD_CLASSES, type RoadGraph } from '../../layers/routing/road-graph.ts';
import type { EdgeIndex } from '../../layers/routing/snap.ts';
import type { Rng } from '../data/rng.ts';

/** Patrol pace as a share of the response speed of the road class (a patrol car looks around; it does not race). */
export const PATROL_PACE = 0.6;
/** Units stop for a while at some junctions (a check, a conversation): chance per junction and length, s. */
export const STOP_CHANCE = 0.05;
export const STOP_S: readonly [number, number] = [20, 120];

export interface PatrolUnit {
  /** Current edge, travelling from node `from` to the other end. */
  edge: number;
  from: number;
  /** Metres travelled along the edge. */
  along: number;
  /** Seconds left of a stop (speed 0 while > 0). */
  stopLeft: number;
  /** Speed during the last advance, m/s. */
  speed: number;
}

export class PatrolFleet {
  readonly units: PatrolUnit[] = [];

  constructor(readonly graph: RoadGraph, private readonly rng: Rng) {}

  /** Adds a unit on the road nearest (x, y) (metres, the graph's CRS); null if the index holds no road. */
  add(index: EdgeIndex, x: number, y: number): PatrolUnit | null {
    const s = index.snap(x, y);
    if (!s) return null;
    const g = this.graph;
    const forward = this.rng.chance(0.5);
    const u: PatrolUnit = {
      edge: s.edge, from: forward ? g.ea[s.edge] : g.eb[s.edge],
      along: (forward ? s.t : 1 - s.t) * g.metres[s.edge], stopLeft: 0, speed: 0,
    };
    this.units.push(u);
    return u;
  }

  /** Moves every unit on by dt seconds. */
  advance(dt: number): void {
    for (const u of this.units) this.step(u, dt);
  }

  private step(u: PatrolUnit, dt: number): void {
    const g = this.graph;
    let left = dt, moved = 0;
    // guard: a unit on a tiny edge cluster cannot loop forever within one step
    for (let guard = 0; left > 1e-9 && guard < 10_000; guard++) {
      if (u.stopLeft > 0) { const w = Math.min(u.stopLeft, left); u.stopLeft -= w; left -= w; continue; }
      const v = speedMps(ROAD_CLASSES[g.cls[u.edge]]) * PATROL_PACE;
      const len = g.metres[u.edge];
      const need = (len - u.along) / v;
      if (need > left) { u.along += v * left; moved += v * left; left = 0; break; }
      moved += len - u.along;
      left -= need;
      // at the far node: pick the next edge
      const node = g.ea[u.edge] === u.from ? g.eb[u.edge] : g.ea[u.edge];
      const deg = g.adjStart[node + 1] - g.adjStart[node];
      let h = g.adjStart[node] + Math.floor(this.rng.next() * deg);
      if (deg > 1 && g.adjEdge[h] === u.edge) h = g.adjStart[node] + ((h - g.adjStart[node] + 1 + Math.floor(this.rng.next() * (deg - 1))) % deg);
      u.edge = g.adjEdge[h];
      u.from = node;
      u.along = 0;
      if (this.rng.chance(STOP_CHANCE)) u.stopLeft = this.rng.range(STOP_S[0], STOP_S[1]);
    }
    u.speed = dt > 0 ? moved / dt : 0;
  }

  /** Position of unit i, metres in the graph's CRS. */
  position(i: number): [number, number] {
    const g = this.graph, u = this.units[i];
    const to = g.ea[u.edge] === u.from ? g.eb[u.edge] : g.ea[u.edge];
    const len = g.metres[u.edge];
    const f = len > 0 ? Math.min(1, u.along / len) : 0;
    return [g.x[u.from] + f * (g.x[to] - g.x[u.from]), g.y[u.from] + f * (g.y[to] - g.y[u.from])];
  }
}
