import { describe, expect, it } from 'vitest';
import { withRevision } from './revision-url.ts';

describe('withRevision', () => {
  it('adds, replaces and keeps placeholders and other parameters', () => {
    expect(withRevision('http://h/tiles/overlay/{z}/{x}/{y}.mvt', 3)).toBe('http://h/tiles/overlay/{z}/{x}/{y}.mvt?rev=3');
    expect(withRevision('http://h/t/{z}/{x}/{y}.mvt?rev=3', 4)).toBe('http://h/t/{z}/{x}/{y}.mvt?rev=4');
    expect(withRevision('http://h/t.mvt?a=1&rev=3&b=2', 5)).toBe('http://h/t.mvt?a=1&b=2&rev=5');
    expect(withRevision('http://h/data/x.fgb?a=1', 2)).toBe('http://h/data/x.fgb?a=1&rev=2');
  });
});
