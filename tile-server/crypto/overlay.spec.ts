import { describe, expect, it } from 'vitest';
import { overlay } from './overlay.ts';

describe('overlay', () => {
  class Store { n = 1; get() { return this.n; } put(x: number) { this.n = x; return x; } }

  it('replaces some methods and passes the others, bound to the target', () => {
    const s = new Store();
    const w = overlay(s, { get: () => s.get() * 10 });
    expect(w.get()).toBe(10);
    const put = w.put;
    expect(put(3)).toBe(3);
    expect(w.get()).toBe(30);
    expect(w.n).toBe(3);
  });

  it('takes an assignment to a wrapped method without looping (tile-server/incidents/service.spec.ts wraps update)', () => {
    const s = new Store();
    const w = overlay(s, { get: () => s.get() + 100 });
    const inner = w.get.bind(w);
    let calls = 0;
    w.get = () => { calls++; return inner(); };
    expect(w.get()).toBe(101);
    expect(calls).toBe(1);
    expect(s.get()).toBe(1); // the target is untouched
  });
});
