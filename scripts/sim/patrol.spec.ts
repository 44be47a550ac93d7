import { describe, expect, it } from 'vitest';
import { buildRoadGraph, closestT, speedMps, type RoadLine } from '../../layers/routing/road-graph.ts';
import { EdgeIndex } from '../../layers/routing/snap.ts';
import { createRng } from '../data/rng.ts';
import { PATROL_PACE, PatrolFleet } from './patrol.ts';

// a 5 × 5 street grid, 200 m blocks, plus a dead-end lane
const lines: RoadLine[] = [];
for (let k = 0; k <= 4; k++) {
  lines.push({ xy: [0, k * 200, 800, k * 200], cls: 'local' });
  lines.push({ xy: [k * 200, 0, k * 200, 800], cls: k === 2 ? 'arterial' : 'local' });
}
lines.push({ xy: [800, 400, 950, 400], cls: 'lane' });
const graph = buildRoadGraph(lines);

function distToRoad(x: number, y: number): number {
  let best = Infinity;
  for (let e = 0; e < graph.edgeCount; e++) {
    const ax = graph.x[graph.ea[e]], ay = graph.y[graph.ea[e]], bx = graph.x[graph.eb[e]], by = graph.y[graph.eb[e]];
    const t = closestT(ax, ay, bx, by, x, y);
    best = Math.min(best, Math.hypot(ax + t * (bx - ax) - x, ay + t * (by - ay) - y));
  }
  return best;
}

describe('PatrolFleet', () => {
  const make = (seed: number) => {
    const f = new PatrolFleet(graph, createRng(seed));
    const index = new EdgeIndex(graph);
    for (const [x, y] of [[10, 30], [450, 420], [900, 390], [790, 790]]) f.add(index, x, y);
    return f;
  };
  it('keeps every unit on a road, moving no faster than the road allows', () => {
    const f = make(3);
    const maxV = speedMps('arterial') * PATROL_PACE;
    let moved = 0;
    for (let step = 0; step < 2000; step++) {
      const before = f.units.map((_, i) => f.position(i));
      f.advance(0.5);
      f.units.forEach((u, i) => {
        const [x, y] = f.position(i);
        expect(distToRoad(x, y)).toBeLessThan(1e-6);
        expect(Math.hypot(x - before[i][0], y - before[i][1])).toBeLessThanOrEqual(maxV * 0.5 + 1e-6);
        expect(u.speed).toBeLessThanOrEqual(maxV + 1e-6);
        moved += Math.hypot(x - before[i][0], y - before[i][1]);
      });
    }
    expect(moved).toBeGreaterThan(1000); // they do drive
  });
  it('is deterministic per seed', () => {
    const a = make(11), b = make(11), c = make(12);
    for (let s = 0; s < 200; s++) { a.advance(1); b.advance(1); c.advance(1); }
    expect(a.units.map((_, i) => a.position(i))).toEqual(b.units.map((_, i) => b.position(i)));
    expect(c.units.map((_, i) => c.position(i))).not.toEqual(a.units.map((_, i) => a.position(i)));
  });
});
