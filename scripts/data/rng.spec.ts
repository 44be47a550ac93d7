import { describe, expect, it } from 'vitest';
import { createRng } from './rng.ts';

describe('createRng', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = createRng(42), b = createRng(42), c = createRng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    const sb = Array.from({ length: 5 }, () => b.next());
    const sc = Array.from({ length: 5 }, () => c.next());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });
  it('stays in range and is roughly uniform', () => {
    const r = createRng('u');
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      bins[Math.floor(x * 10)]++;
    }
    for (const n of bins) expect(Math.abs(n - 10_000)).toBeLessThan(500);
  });
  it('forks into independent, reproducible streams', () => {
    expect(createRng(1).fork('roads').next()).toBe(createRng(1).fork('roads').next());
    expect(createRng(1).fork('roads').next()).not.toBe(createRng(1).fork('water').next());
  });
  it('refuses to pick from an empty list with a clear message', () => {
    expect(() => createRng(1).pick([])).toThrow(/empty list/);
  });
});
