import { describe, expect, it } from 'vitest';
import { Lru } from './lru.ts';

describe('Lru', () => {
  it('evicts the least recently used entry by count', () => {
    const c = new Lru<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3);
    expect(c.has('b')).toBe(false);
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
  });
  it('keeps total size within the budget and accounts replacements', () => {
    const c = new Lru<number, Uint8Array>(100, 10, (v) => v.length);
    c.set(1, new Uint8Array(4));
    c.set(2, new Uint8Array(4));
    c.set(1, new Uint8Array(2)); // replace: 2 + 4
    expect(c.bytes).toBe(6);
    c.set(3, new Uint8Array(5)); // 11 > 10 → evict 2 (oldest)
    expect(c.has(2)).toBe(false);
    expect(c.bytes).toBe(7);
    c.set(4, new Uint8Array(11)); // larger than the whole budget: not stored, nothing evicted
    expect(c.has(4)).toBe(false);
    expect(c.size).toBe(2);
    expect(c.delete(1)).toBe(true);
    expect(c.bytes).toBe(5);
  });
  it('rejects a zero capacity', () => {
    expect(() => new Lru(0)).toThrow(/maxEntries/);
  });
});
