import { describe, expect, it } from 'vitest';
import type { EditFeature } from '../../../layers/editing/model.ts';
import { EditSession } from './session.ts';

// Two grids sharing the edge x = 120.01 (vertices (120.01, 31) and (120.01, 31.01)), counter-clockwise.
const A: EditFeature = { type: 'Feature', id: 'g-a', properties: { id: 'g-a', name: '甲' },
  geometry: { type: 'Polygon', coordinates: [[[120, 31], [120.01, 31], [120.01, 31.01], [120, 31.01], [120, 31]]] } };
const B: EditFeature = { type: 'Feature', id: 'g-b', properties: { id: 'g-b', name: '乙' },
  geometry: { type: 'Polygon', coordinates: [[[120.01, 31], [120.02, 31], [120.02, 31.01], [120.01, 31.01], [120.01, 31]]] } };
const FAR: EditFeature = { type: 'Feature', id: 'g-far', properties: { id: 'g-far' },
  geometry: { type: 'Polygon', coordinates: [[[121, 31], [121.01, 31], [121.01, 31.01], [121, 31]]] } };

const ring = (g: GeoJSON.Geometry | null) => (g as GeoJSON.Polygon).coordinates[0];

describe('edit session', () => {
  it('is clean when opened; a vertex move makes one update based on the opened version; undo/redo walk it back and forth', () => {
    const s = EditSession.open('grids', A, 3);
    expect(s.dirty).toBe(false);
    s.moveVertex({ part: 0, ring: 0, index: 2 }, [120.012, 31.012]);
    const ch = s.changes();
    expect(ch).toHaveLength(1);
    expect(ch[0]).toMatchObject({ op: 'update', id: 'g-a', version: 3 });
    expect(ring(ch[0].feature!.geometry)[2]).toEqual([120.012, 31.012]);
    expect(s.undo()).toBe(true);
    expect(s.dirty).toBe(false);
    expect(s.redo()).toBe(true);
    expect(s.dirty).toBe(true);
    expect(s.redo()).toBe(false);
  });

  it('moves the shared vertex of a neighbour too when topological editing is on, and saves both as one batch', () => {
    const s = EditSession.open('grids', A, 1);
    expect(s.addNeighbours([{ feature: B, version: 4 }, { feature: FAR, version: 0 }])).toBe(1);
    s.beginDrag();
    s.dragVertex({ part: 0, ring: 0, index: 1 }, [120.011, 31.0], true);
    s.dragVertex({ part: 0, ring: 0, index: 1 }, [120.013, 30.999], true);
    s.endDrag();
    const ch = s.changes();
    expect(ch.map((c) => [c.op, c.id, c.version])).toEqual([['update', 'g-a', 1], ['update', 'g-b', 4]]);
    expect(ring(ch[1].feature!.geometry)).toContainEqual([120.013, 30.999]);
    expect(ring(ch[1].feature!.geometry)).not.toContainEqual([120.01, 31]);
    // The whole drag is one undo step.
    s.undo();
    expect(s.changes()).toEqual([]);
  });

  it('leaves the neighbour alone without topology', () => {
    const s = EditSession.open('grids', A, 1);
    s.addNeighbours([{ feature: B, version: 4 }]);
    s.moveVertex({ part: 0, ring: 0, index: 1 }, [120.011, 31], false);
    expect(s.changes().map((c) => c.id)).toEqual(['g-a']);
  });

  it('inserts a vertex into the shared edge of both, and deletes it from both', () => {
    const s = EditSession.open('grids', A, 1);
    s.addNeighbours([{ feature: B, version: 2 }]);
    const v = s.insertVertex({ part: 0, ring: 0, index: 1 }, [120.01, 31.005], true);
    s.moveVertex(v, [120.012, 31.005], true);
    let ch = s.changes();
    expect(ch).toHaveLength(2);
    expect(ring(ch[1].feature!.geometry)).toContainEqual([120.012, 31.005]);
    s.undo(); s.undo();
    s.insertVertex({ part: 0, ring: 0, index: 1 }, [120.01, 31.005], true);
    s.deleteVertex(undefined, true);
    ch = s.changes();
    expect(ch).toEqual([]);
  });

  it('splits a polygon into an update and a create that copies the attributes but not the id', () => {
    const s = EditSession.open('grids', A, 5);
    s.splitByLine([[120.005, 30.99], [120.005, 31.02]]);
    const ch = s.changes();
    expect(ch.map((c) => c.op)).toEqual(['update', 'create']);
    expect(ch[1].feature!.properties).toEqual({ name: '甲' });
    expect(ch[1].id).toBeUndefined();
  });

  it('merges a neighbour into the primary: an update and a delete of the other at its version', () => {
    const s = EditSession.open('grids', A, 5);
    s.mergeWith(B, 7);
    const ch = s.changes();
    expect(ch.map((c) => [c.op, c.id, c.version])).toEqual([['update', 'g-a', 5], ['delete', 'g-b', 7]]);
    expect(ring(ch[0].feature!.geometry).length).toBeGreaterThanOrEqual(5);
  });

  it('draws a new line vertex by vertex and only offers it once it is a line', () => {
    const s = EditSession.create('roads', 'line', { name: '新路' });
    s.addVertex([120, 31]);
    expect(s.changes()).toEqual([]);
    s.addVertex([120.01, 31]);
    expect(s.changes()).toEqual([{ op: 'create', feature: { geometry: { type: 'LineString', coordinates: [[120, 31], [120.01, 31]] }, properties: { name: '新路' } } }]);
  });

  it('deletes the feature at its version, and splits a line at its selected vertex', () => {
    const s = EditSession.open('grids', A, 2);
    s.deleteFeature();
    expect(s.changes()).toEqual([{ op: 'delete', id: 'g-a', version: 2 }]);
    const road: EditFeature = { type: 'Feature', id: 'r1', properties: { id: 'r1' }, geometry: { type: 'LineString', coordinates: [[0 + 120, 31], [120.1, 31], [120.2, 31]] } };
    const l = EditSession.open('roads', road, 0);
    l.select({ part: 0, ring: 0, index: 1 });
    l.splitAtVertex();
    expect(l.changes().map((c) => c.op)).toEqual(['update', 'create']);
  });

  it('squashes recorded steps into one undo step', () => {
    const s = EditSession.open('grids', A, 1);
    const d = s.depth;
    s.insertVertex({ part: 0, ring: 0, index: 0 }, [120.005, 31]);
    s.moveVertex({ part: 0, ring: 0, index: 1 }, [120.005, 30.999]);
    s.squash(s.depth - d);
    expect(s.depth).toBe(d + 1);
    s.undo();
    expect(s.changes()).toEqual([]);
  });

  it('does not mutate the features it was opened with', () => {
    const copy = JSON.stringify(A);
    const s = EditSession.open('grids', A, 1);
    s.moveVertex({ part: 0, ring: 0, index: 0 }, [119.99, 30.99]);
    s.setProperties({ id: 'g-a', name: '改' });
    expect(JSON.stringify(A)).toBe(copy);
  });
});
