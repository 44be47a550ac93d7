import { describe, expect, it } from 'vitest';
import { snap, type Project, type SnapCandidate } from './snap.ts';

// A flat test projection: 1000 px per degree, y down.
const project: Project = (p) => [(p[0] - 120) * 1000, (32 - p[1]) * 1000];
const grid: SnapCandidate = { layer: 'grids', id: 'g1', geometry: { type: 'Polygon', coordinates: [[[120, 31], [120.1, 31], [120.1, 31.1], [120, 31.1], [120, 31]]] } };
const road: SnapCandidate = { layer: 'roads', id: 'r1', geometry: { type: 'LineString', coordinates: [[120.2, 31], [120.2, 31.1]] } };

describe('snapping', () => {
  it('prefers a vertex within tolerance over a closer edge', () => {
    // 6 px right of the corner (120.1, 31.1) and 1 px below the top edge.
    const s = snap([106, 901], [grid], project, 8);
    expect(s).toMatchObject({ kind: 'vertex', id: 'g1', at: [120.1, 31.1] });
  });

  it('falls back to the nearest point on an edge, mapped back to lon/lat', () => {
    const s = snap([50, 903], [grid], project, 8)!;
    expect(s.kind).toBe('edge');
    expect(s.at[0]).toBeCloseTo(120.05, 9);
    expect(s.at[1]).toBeCloseTo(31.1, 9);
    expect(s.distancePx).toBeCloseTo(3, 6);
  });

  it('returns null beyond the tolerance and honours exclusions (a dragged vertex never snaps onto itself)', () => {
    expect(snap([50, 950], [grid, road], project, 8)).toBeNull();
    const s = snap([97, 902], [grid], project, 8, (_l, _id, at) => at[0] === 120.1 && at[1] === 31.1);
    expect(s?.kind).toBe('edge');
  });

  it('snaps across layers to whichever is nearest', () => {
    const s = snap([197, 950], [grid, road], project, 8);
    expect(s).toMatchObject({ layer: 'roads', kind: 'edge' });
  });
});
