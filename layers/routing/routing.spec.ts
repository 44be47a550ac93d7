import { describe, expect, it } from 'vitest';
import { Router, offroad } from './dijkstra.ts';
import { buildRoadGraph, speedMps, type RoadLine } from './road-graph.ts';
import { EdgeIndex } from './snap.ts';

const L = (cls: RoadLine['cls'], ...xy: number[]): RoadLine => ({ xy, cls });

describe('buildRoadGraph', () => {
  it('splits two crossing lines with no shared vertex into a 4-way junction', () => {
    const g = buildRoadGraph([L('local', 0, 500, 1000, 500), L('local', 500, 0, 500, 1000)]);
    expect(g.stats.crossings).toBe(1);
    expect(g.nodeCount).toBe(5);
    expect(g.edgeCount).toBe(4);
    expect(g.stats.componentsAfter).toBe(1);
  });
  it('ties a side street ending short of a street (T-junction) and leaves a far one apart', () => {
    const g = buildRoadGraph([L('local', 0, 0, 1000, 0), L('lane', 300, 10, 300, 200), L('lane', 700, 40, 700, 200)], { tJunctionM: 15 });
    expect(g.stats.tJunctions).toBe(1);
    expect(g.stats.componentsAfter).toBe(2);
  });
  it('links an island only within connectMaxM, with an access edge', () => {
    const lines = [L('local', 0, 0, 1000, 0), L('lane', 2000, 80, 2200, 80)];
    expect(buildRoadGraph(lines, { connectMaxM: 50 }).stats.componentsAfter).toBe(2);
    const g = buildRoadGraph(lines, { connectMaxM: 1100 });
    expect(g.stats.connectors).toBe(1);
    expect(g.stats.componentsAfter).toBe(1);
    expect(g.stats.connectorMetres).toBeCloseTo(Math.hypot(1000, 80), 6);
  });
  it('merges near-coincident ends and does not mutate its input', () => {
    const a = L('local', 0, 0, 100, 0), b = L('local', 100.4, 0.3, 200, 0);
    const copy = [...(a.xy as number[])];
    const g = buildRoadGraph([a, b], { mergeM: 1 });
    expect(g.stats.componentsAfter).toBe(1);
    expect([...(a.xy as number[])]).toEqual(copy);
  });
  it('rejects a one-vertex line with a message that says what to do', () => {
    expect(() => buildRoadGraph([L('local', 0, 0)])).toThrow(/at least 2/);
  });
});

describe('snap + Router', () => {
  // a square block: a fast arterial round three sides, a slow lane across the fourth
  const g = buildRoadGraph([L('arterial', 0, 0, 0, 1000, 1000, 1000, 1000, 0), L('lane', 0, 0, 1000, 0)]);
  const idx = new EdgeIndex(g), r = new Router(g);
  it('snaps to the nearest edge with the perpendicular distance', () => {
    const s = idx.snap(500, -30)!;
    expect(s.dist).toBeCloseTo(30, 9);
    expect(g.cls[s.edge]).toBe(3); // lane
    expect(idx.snap(5000, 5000, 100)).toBeNull();
  });
  it('prefers the faster road when it is quicker, and matches point-to-point', () => {
    const a = idx.snap(0, -1)!, b = idx.snap(1000, -1)!;
    r.search(a);
    const leg = r.legTo(b, a)!;
    const lane = 1000 / speedMps('lane'), round = 3000 / speedMps('arterial');
    expect(leg.seconds).toBeCloseTo(Math.min(lane, round) + 2 * offroad(1).seconds, 6);
    expect(r.pointToPoint(a, b)!.seconds).toBeCloseTo(leg.seconds, 9);
  });
  it('gives the path through the graph and straight across for close points far from roads', () => {
    const a = idx.snap(500, 2000)!, b = idx.snap(520, 2000)!;
    const { via, leg } = r.legVia(b, a);
    expect(via).toBe('direct');
    expect(leg!.metres).toBeCloseTo(offroad(20).metres, 9);
    r.search(idx.snap(0, 500)!);
    const path = r.pathTo(g.ea[idx.snap(1000, 500)!.edge])!;
    expect(path.length).toBeGreaterThan(1);
  });
});
