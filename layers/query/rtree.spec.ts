import { describe, expect, it } from 'vitest';
import { createRng } from '../../scripts/data/rng.ts';
import { PackedRTree } from './rtree.ts';

describe('PackedRTree', () => {
  const rng = createRng(7).fork('rtree');
  const n = 5000;
  const boxes = new Float64Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x = rng.next() * 100, y = rng.next() * 100, w = rng.next() * 2, h = rng.next() * 2;
    boxes.set([x, y, x + w, y + h], 4 * i);
  }
  const t = PackedRTree.from(boxes);
  it('search equals a brute-force scan', () => {
    for (let q = 0; q < 50; q++) {
      const x = rng.next() * 100, y = rng.next() * 100, s = rng.next() * 10;
      const got = t.search(x, y, x + s, y + s).sort((a, b) => a - b);
      const want: number[] = [];
      for (let i = 0; i < n; i++) if (!(boxes[4 * i] > x + s || boxes[4 * i + 1] > y + s || boxes[4 * i + 2] < x || boxes[4 * i + 3] < y)) want.push(i);
      expect(got).toEqual(want);
    }
  });
  it('neighbors returns the k nearest boxes in order, with ties', () => {
    const x = 50, y = 50;
    const d = (i: number) => Math.hypot(Math.max(boxes[4 * i] - x, 0, x - boxes[4 * i + 2]), Math.max(boxes[4 * i + 1] - y, 0, y - boxes[4 * i + 3]));
    const { items, dists } = t.neighbors(x, y, 10);
    const all = Array.from({ length: n }, (_, i) => i).sort((a, b) => d(a) - d(b));
    expect(items.slice(0, 10).map(d)).toEqual(all.slice(0, 10).map(d));
    expect(dists[0]).toBeLessThanOrEqual(dists[9]);
    const pts = PackedRTree.from(new Float64Array([1, 0, 1, 0, 0, 1, 0, 1, -1, 0, -1, 0, 5, 5, 5, 5]));
    expect(pts.neighbors(0, 0, 1).items.sort()).toEqual([0, 1, 2]); // three tied at distance 1
    expect(() => new PackedRTree(1).search(0, 0, 1, 1)).toThrow(/finish/);
  });
});
