import { describe, expect, it } from 'vitest';
import { fetchTileJson, parseTileJson } from './tilejson.ts';

const base = 'http://127.0.0.1:8080/tiles/basemap.json';

describe('parseTileJson', () => {
  it('keeps absolute templates and resolves relative ones with their braces intact', () => {
    expect(parseTileJson({ tiles: ['http://127.0.0.1:9/tiles/basemap/{z}/{x}/{y}.mvt'] }, base).tiles)
      .toEqual(['http://127.0.0.1:9/tiles/basemap/{z}/{x}/{y}.mvt']);
    expect(parseTileJson({ tiles: ['/tiles/basemap/{z}/{x}/{y}.mvt'] }, base).tiles)
      .toEqual(['http://127.0.0.1:8080/tiles/basemap/{z}/{x}/{y}.mvt']);
  });

  it('reads zooms and strips markup from the attribution', () => {
    const tj = parseTileJson({ tiles: ['/t/{z}/{x}/{y}'], minzoom: 2, maxzoom: 14, attribution: '<a href="x">国家统计局</a>' }, base);
    expect([tj.minzoom, tj.maxzoom, tj.attribution]).toEqual([2, 14, '国家统计局']);
  });

  it('rejects documents without usable tile templates', () => {
    expect(() => parseTileJson(null, base)).toThrow(/not a JSON object/);
    expect(() => parseTileJson({ tiles: [] }, base)).toThrow(/no "tiles"/);
    expect(() => parseTileJson({ tiles: ['/t/{z}/{x}.mvt'] }, base)).toThrow(/lacks \{z\}\/\{x\}\/\{y\}/);
    expect(() => parseTileJson({ tiles: ['/t/{z}/{x}/{y}'], minzoom: 9, maxzoom: 3 }, base)).toThrow(/minzoom 9 > maxzoom 3/);
  });
});

describe('fetchTileJson', () => {
  it('reports the server JSON error with the URL', async () => {
    const fake = (async () => new Response(JSON.stringify({ error: { code: 'not_found', message: 'no archive basemap.pmtiles' } }), { status: 404 })) as typeof fetch;
    await expect(fetchTileJson('basemap', 'http://127.0.0.1:8080/', fake))
      .rejects.toThrow('http://127.0.0.1:8080/tiles/basemap.json: HTTP 404 not_found: no archive basemap.pmtiles');
  });

  it('fetches /tiles/{tileset}.json relative to the page', async () => {
    let asked = '';
    const fake = (async (url: string) => { asked = url; return new Response(JSON.stringify({ tiles: ['/tiles/overlay/{z}/{x}/{y}.mvt'] })); }) as unknown as typeof fetch;
    const tj = await fetchTileJson('overlay', 'http://127.0.0.1:8080/some/page', fake);
    expect(asked).toBe('http://127.0.0.1:8080/tiles/overlay.json');
    expect(tj.tiles[0]).toBe('http://127.0.0.1:8080/tiles/overlay/{z}/{x}/{y}.mvt');
  });
});
