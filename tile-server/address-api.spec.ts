import { describe, expect, it } from 'vitest';
import { HttpError } from './http-errors.ts';
import { MAX_SEARCH_LIMIT, parseCoord, parseSearchLimit } from './address-api.ts';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpError) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'ok';
};

describe('parseSearchLimit', () => {
  it('defaults to 10, clamps large values to 50 and rejects the rest', () => {
    expect(parseSearchLimit(null)).toBe(10);
    expect(parseSearchLimit('')).toBe(10);
    expect(parseSearchLimit('7')).toBe(7);
    expect(parseSearchLimit('999999')).toBe(MAX_SEARCH_LIMIT);
    for (const s of ['0', '-1', '1.5', 'abc', '1e3', ' 5', '9'.repeat(16)]) expect(code(() => parseSearchLimit(s)), s).toBe('400 bad_limit');
  });
});

describe('parseCoord', () => {
  it('accepts plain decimal degrees within range only', () => {
    expect(parseCoord('120.7521', 'lon', 180)).toBe(120.7521);
    expect(parseCoord('-31.5', 'lat', 90)).toBe(-31.5);
    expect(parseCoord('.5', 'lat', 90)).toBe(0.5);
    for (const s of [null, '', 'abc', '181', '-90.1', '1e2', '0x10', 'Infinity', 'NaN', '1,2', '120.1.2']) {
      expect(code(() => parseCoord(s, s === '-90.1' ? 'lat' : 'lon', s === '-90.1' ? 90 : 180)), String(s)).toBe('400 bad_coords');
    }
  });
});
