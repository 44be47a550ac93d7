import { describe, expect, it } from 'vitest';
import { HttpError } from './http-errors.ts';
import {
  MAX_LIMIT, acceptsGzip, etagMatches, parseBbox, parseLimit, parseOffset, parseRange, parseTarget, parseTileCoord, parseUint, tileBounds,
} from './params.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpError) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'ok';
}

describe('parseTarget', () => {
  it('splits path and query and decodes segments', () => {
    expect(parseTarget('/tiles/basemap/1/2/3.mvt?x=1')).toEqual({ segments: ['tiles', 'basemap', '1', '2', '3.mvt'], query: 'x=1' });
    expect(parseTarget('/')).toEqual({ segments: [''], query: '' });
    expect(parseTarget('/ogc/collections/towns/items/town-%E8%99%9E').segments[4]).toBe('town-虞');
  });
  it.each([
    '/pmtiles/../package.json', '/pmtiles/..%2f..%2fpackage.json', '/a/%2e%2e/b', '/a/%2E%2e', '/a/.%2E/b', '/a/./b',
    '/a\\b', '/a%5c..%5cb', '/a/%00', '/a/\0', '/a/%zz', 'relative', '/a%2fb',
  ])('rejects %j with bad_path', (url) => {
    expect(code(() => parseTarget(url))).toBe('400 bad_path');
  });
  it('rejects over-long URLs with 414', () => {
    expect(code(() => parseTarget('/' + 'a'.repeat(5000)))).toBe('414 uri_too_long');
  });
});

describe('parseTileCoord', () => {
  it('accepts valid z/x/y', () => {
    expect(parseTileCoord('12', '3421', '1670')).toEqual({ z: 12, x: 3421, y: 1670 });
    expect(parseTileCoord('0', '0', '0')).toEqual({ z: 0, x: 0, y: 0 });
  });
  it.each([
    ['-1', '0', '0'], ['1.5', '0', '0'], ['a', '0', '0'], ['', '0', '0'], ['1', '2', '0'], ['1', '0', '2'],
    ['31', '0', '0'], ['3', '1e1', '0'], ['3', '0x1', '0'], ['3', ' 1', '0'], ['99999999999', '0', '0'],
  ])('rejects %s/%s/%s', (z, x, y) => {
    expect(code(() => parseTileCoord(z, x, y))).toBe('400 bad_tile_coords');
  });
  it('parseUint allows only plain digits', () => {
    expect(parseUint('0042')).toBe(42);
    expect(parseUint('+1')).toBe(-1);
    expect(parseUint('')).toBe(-1);
  });
  it('tileBounds of z1 tiles meet at the equator and meridian', () => {
    const [w, s, e, n] = tileBounds(1, 1, 0);
    expect([w, s, e]).toEqual([0, 0, 180]);
    expect(n).toBeCloseTo(85.0511, 3);
  });
});

describe('parseBbox', () => {
  it('parses 4 and 6 numbers', () => {
    expect(parseBbox('120.7,31.6,120.8,31.7')).toEqual([120.7, 31.6, 120.8, 31.7]);
    expect(parseBbox('120.7,31.6,0,120.8,31.7,10')).toEqual([120.7, 31.6, 120.8, 31.7]);
    expect(parseBbox('-180,-90,180,90')).toEqual([-180, -90, 180, 90]);
  });
  it.each(['', '1,2,3', '1,2,3,4,5', 'a,b,c,d', '1,2,3,NaN', '1,2,3,Infinity', '0x1,0,1,1', '1,,2,3',
    '-181,0,0,1', '0,-91,1,0', '0,0,181,1', '0,0,1,91', '2,0,1,1', '0,2,1,1'])('rejects %j', (s) => {
    expect(code(() => parseBbox(s))).toBe('400 bad_bbox');
  });
});

describe('parseLimit / parseOffset', () => {
  it('defaults, clamps and rejects', () => {
    expect(parseLimit(null)).toBe(100);
    expect(parseLimit('7')).toBe(7);
    expect(parseLimit('10001')).toBe(MAX_LIMIT);
    for (const bad of ['0', '-1', '1.5', 'abc', '', '1e3', '1234567890123456']) expect(code(() => parseLimit(bad))).toBe('400 bad_limit');
    expect(parseOffset(null)).toBe(0);
    expect(parseOffset('250')).toBe(250);
    for (const bad of ['-1', '1.5', 'x', '', '1000000001', '99999999999']) expect(code(() => parseOffset(bad))).toBe('400 bad_offset');
  });
});

describe('etagMatches', () => {
  it('uses weak comparison over lists', () => {
    expect(etagMatches('"a"', '"a"')).toBe(true);
    expect(etagMatches('W/"a"', '"a"')).toBe(true);
    expect(etagMatches('"b", "a"', '"a"')).toBe(true);
    expect(etagMatches('*', '"a"')).toBe(true);
    expect(etagMatches('"b"', '"a"')).toBe(false);
    expect(etagMatches(undefined, '"a"')).toBe(false);
    expect(etagMatches('"a', '"a"')).toBe(false);
  });
});

describe('parseRange', () => {
  it('handles single ranges, suffixes and unsatisfiable ones', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=90-200', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('bytes=5-1', 100)).toBeNull();
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(parseRange('items=0-1', 100)).toBeNull();
  });
});

describe('acceptsGzip', () => {
  it('reads Accept-Encoding', () => {
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('br;q=1.0, gzip;q=0.8')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});
