import { readFileSync } from 'node:fs';
import type { Geometry } from 'geojson';
import proj4 from 'proj4';
import { describe, expect, it } from 'vitest';
import { createRng } from '../scripts/data/rng.ts';
import {
  CRS_CODES,
  CrsError,
  PROJ4_DEFS,
  bd09ToGcj02,
  createTransformer,
  gcj02ToBd09,
  gcj02ToWgs84,
  parseCrs,
  transform,
  transformCoords,
  transformGeometry,
  wgs84ToGcj02,
  type CrsCode,
  type LonLat,
} from './crs.ts';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../test/fixtures/crs/${name}.json`, import.meta.url), 'utf8')) as T;

/** Great-circle distance in metres (mean Earth radius, IUGG 6371008.8 m). */
function haversine(a: readonly number[], b: readonly number[]): number {
  const r = Math.PI / 180;
  const dLat = (b[1] - a[1]) * r;
  const dLon = (b[0] - a[0]) * r;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * r) * Math.cos(b[1] * r) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function grid(lon0: number, lon1: number, lat0: number, lat1: number, step: number): LonLat[] {
  const pts: LonLat[] = [];
  for (let lon = lon0; lon <= lon1 + 1e-9; lon += step) for (let lat = lat0; lat <= lat1 + 1e-9; lat += step) pts.push([lon, lat]);
  return pts;
}

const CHANGSHU = grid(120.5, 121.05, 31.45, 31.9, 0.01);
// Mainland China's rough extent; points outside the GCJ bbox would be trivial identities.
const CHINA = grid(73.5, 134.5, 18, 53.5, 0.5);

const SCALAR: Record<string, (lon: number, lat: number) => LonLat> = { wgs84ToGcj02, gcj02ToWgs84, gcj02ToBd09, bd09ToGcj02 };

describe('GCJ-02 / BD-09 against published test vectors', () => {
  interface Case { source: string; name?: string; fn: string; in: LonLat; out: LonLat; kind: 'exact' | 'approximate'; tolerance_deg?: number; tolerance_m?: number }
  const { cases } = fixture<{ cases: Case[] }>('gcj02-published');
  for (const c of cases) {
    it(`${c.source} ${c.fn}(${c.in}) ${c.name ?? ''}`, () => {
      const got = SCALAR[c.fn](c.in[0], c.in[1]);
      if (c.kind === 'exact') {
        expect(Math.abs(got[0] - c.out[0])).toBeLessThanOrEqual(c.tolerance_deg!);
        expect(Math.abs(got[1] - c.out[1])).toBeLessThanOrEqual(c.tolerance_deg!);
      } else {
        expect(haversine(got, c.out)).toBeLessThan(c.tolerance_m!);
      }
    });
  }

  it('our GCJ-02 inverse reprojects onto its input better than the published one-step value', () => {
    const c = cases.find((x) => x.fn === 'gcj02ToWgs84' && x.kind === 'approximate')!;
    const ours = gcj02ToWgs84(c.in[0], c.in[1]);
    const oursErr = haversine(wgs84ToGcj02(ours[0], ours[1]), c.in);
    const theirsErr = haversine(wgs84ToGcj02(c.out[0], c.out[1]), c.in);
    expect(oursErr).toBeLessThan(1e-3);
    expect(theirsErr).toBeGreaterThan(oursErr);
  });
});

describe('GCJ-02 / BD-09 round trips (haversine, metres)', () => {
  const worst = (pts: LonLat[], there: (p: LonLat) => LonLat, back: (p: LonLat) => LonLat): number =>
    Math.max(...pts.map((p) => haversine(p, back(there(p)))));
  const w2g = (p: LonLat) => wgs84ToGcj02(p[0], p[1]);
  const g2w = (p: LonLat) => gcj02ToWgs84(p[0], p[1]);
  const g2b = (p: LonLat) => gcj02ToBd09(p[0], p[1]);
  const b2g = (p: LonLat) => bd09ToGcj02(p[0], p[1]);

  it('WGS→GCJ→WGS and GCJ→WGS→GCJ < 0.5 m over Changshu', () => {
    expect(worst(CHANGSHU, w2g, g2w)).toBeLessThan(0.5);
    expect(worst(CHANGSHU, g2w, w2g)).toBeLessThan(0.5);
  });

  it('WGS→GCJ→WGS and GCJ→WGS→GCJ < 0.5 m across China', () => {
    expect(worst(CHINA, w2g, g2w)).toBeLessThan(0.5);
    expect(worst(CHINA, g2w, w2g)).toBeLessThan(0.5);
  });

  it('GCJ-02 really moves points in China (by 100–1000 m), so the round trips are not trivial', () => {
    for (const p of [...CHANGSHU, ...CHINA.filter((_, i) => i % 7 === 0)]) {
      const d = haversine(p, w2g(p));
      expect(d).toBeGreaterThan(20);
      expect(d).toBeLessThan(1500);
    }
  });

  it('GCJ→BD→GCJ < 0.5 m across China', () => {
    expect(worst(CHINA, g2b, b2g)).toBeLessThan(0.5);
    expect(worst(CHANGSHU, g2b, b2g)).toBeLessThan(0.5);
  });

  it('outside the China bbox GCJ-02 is WGS84', () => {
    for (const p of [[-0.1276, 51.5072], [-74.006, 40.7128], [139.6917, 35.6895], [151.2093, -33.8688], [120.5, 0.5]] as LonLat[]) {
      expect(wgs84ToGcj02(p[0], p[1])).toEqual(p);
      expect(gcj02ToWgs84(p[0], p[1])).toEqual(p);
    }
  });
});

describe('bug fixtures', () => {
  it('issue-bd09-inverse-consistency', () => {
    const { cases } = fixture<{ cases: { in: LonLat; tolerance_m: number }[] }>('issue-bd09-inverse-consistency');
    for (const c of cases) {
      const b = gcj02ToBd09(c.in[0], c.in[1]);
      expect(haversine(bd09ToGcj02(b[0], b[1]), c.in)).toBeLessThan(c.tolerance_m);
    }
  });

  it('issue-gk-wide-easting', () => {
    const { cases } = fixture<{ cases: { crs: CrsCode; in: LonLat; tolerance_deg: number }[] }>('issue-gk-wide-easting');
    for (const c of cases) {
      const xy = transform('EPSG:4326', c.crs, c.in[0], c.in[1]);
      const back = transform(c.crs, 'EPSG:4326', xy[0], xy[1]);
      expect(Math.abs(back[0] - c.in[0])).toBeLessThan(c.tolerance_deg);
      expect(Math.abs(back[1] - c.in[1])).toBeLessThan(c.tolerance_deg);
    }
  });

  it('issue-gk-pole-longitude', () => {
    const { cases } = fixture<{ cases: { crs: CrsCode; in: LonLat; out: [null, number]; tolerance_deg: number }[] }>('issue-gk-pole-longitude');
    for (const c of cases) {
      const [lon, lat] = transform(c.crs, 'EPSG:4326', c.in[0], c.in[1]);
      expect(Math.abs(lat - c.out[1])).toBeLessThan(c.tolerance_deg);
      expect(lon).toBeGreaterThanOrEqual(-180);
      expect(lon).toBeLessThanOrEqual(180);
    }
  });

  it('issue-gk-near-pole', () => {
    const { cases } = fixture<{ cases: { crs: CrsCode; in: LonLat; out: LonLat; tolerance_m: number }[] }>('issue-gk-near-pole');
    for (const c of cases) {
      const [x, y] = transform('EPSG:4326', c.crs, c.in[0], c.in[1]);
      expect(Math.abs(x - c.out[0])).toBeLessThan(c.tolerance_m);
      expect(Math.abs(y - c.out[1])).toBeLessThan(c.tolerance_m);
    }
  });

  it('issue-4528-swapped-hint', () => {
    const { cases } = fixture<{ cases: { crs: CrsCode; in: LonLat; code: string; message_includes: string[] }[] }>('issue-4528-swapped-hint');
    for (const c of cases) expectCrsError(() => transform(c.crs, 'EPSG:4326', c.in[0], c.in[1]), c.code, c.message_includes);
  });
});

describe('Gauss–Krüger (EPSG:4549 / 4528) and Web Mercator', () => {
  interface Case { name: string; from: CrsCode; to: CrsCode; in: LonLat; out: LonLat; tolerance_m: number }
  const { cases } = fixture<{ cases: Case[] }>('gauss-kruger');
  for (const c of cases) {
    it(`${c.to}: ${c.name}`, () => {
      const got = transform(c.from, c.to, c.in[0], c.in[1]);
      expect(Math.abs(got[0] - c.out[0])).toBeLessThanOrEqual(c.tolerance_m);
      expect(Math.abs(got[1] - c.out[1])).toBeLessThanOrEqual(c.tolerance_m);
      if (Math.abs(c.in[1]) < 90) {
        const back = transform(c.to, c.from, c.out[0], c.out[1]);
        // 1 mm of the rounded reference is ~1e-8°
        expect(haversine(back, c.in)).toBeLessThan(0.002);
      }
    });
  }

  // Meridian arc from the equator, two ways that share nothing with crs.ts (which goes through the
  // rectifying radius and Krüger's α series): Helmert's series in n (e.g. Deakin & Hunter, "Geometric
  // geodesy", eq. for m), and Simpson integration of the meridian radius of curvature ρ = a(1-e²)/W³.
  const a = 6378137;
  const f = 1 / 298.257222101;
  const e2 = f * (2 - f);
  const n = f / (2 - f);
  const helmert = (phi: number): number =>
    (a / (1 + n)) *
    ((1 + n ** 2 / 4 + n ** 4 / 64) * phi -
      1.5 * (n - n ** 3 / 8) * Math.sin(2 * phi) +
      (15 / 16) * (n ** 2 - n ** 4 / 4) * Math.sin(4 * phi) -
      (35 / 48) * n ** 3 * Math.sin(6 * phi) +
      (315 / 512) * n ** 4 * Math.sin(8 * phi));
  const simpson = (phi: number): number => {
    const steps = 2000;
    const h = phi / steps;
    const rho = (t: number) => (a * (1 - e2)) / (1 - e2 * Math.sin(t) ** 2) ** 1.5;
    let s = rho(0) + rho(phi);
    for (let k = 1; k < steps; k++) s += (k % 2 ? 4 : 2) * rho(k * h);
    return (s * h) / 3;
  };

  it('on the central meridian: easting is exactly 500000 and northing is the meridian arc', () => {
    for (let lat = 0; lat <= 89; lat += 0.5) {
      const [x, y] = transform('EPSG:4326', 'EPSG:4549', 120, lat);
      const phi = (lat * Math.PI) / 180;
      expect(x).toBe(500000);
      expect(Math.abs(y - helmert(phi))).toBeLessThan(1e-4);
      expect(Math.abs(y - simpson(phi))).toBeLessThan(1e-4);
    }
  });

  it('points symmetric about the central meridian have mirrored eastings and equal northings', () => {
    for (const lat of [18.2, 31.65, 45, 53.5]) {
      for (const d of [0.1, 0.75, 1.5, 5]) {
        const [xw, yw] = transform('EPSG:4326', 'EPSG:4549', 120 - d, lat);
        const [xe, ye] = transform('EPSG:4326', 'EPSG:4549', 120 + d, lat);
        expect(Math.abs(xw - 500000 + (xe - 500000))).toBeLessThan(1e-6);
        expect(Math.abs(yw - ye)).toBeLessThan(1e-6);
        expect(xe).toBeGreaterThan(500000);
      }
    }
  });

  it('EPSG:4528 easting = EPSG:4549 easting + 40 000 000, northing equal', () => {
    for (const [lon, lat] of CHANGSHU.filter((_, i) => i % 5 === 0)) {
      const p = transform('EPSG:4326', 'EPSG:4549', lon, lat);
      const q = transform('EPSG:4326', 'EPSG:4528', lon, lat);
      expect(Math.abs(q[0] - (p[0] + 40_000_000))).toBeLessThan(1e-6);
      expect(q[1]).toBe(p[1]);
      const r = transform('EPSG:4528', 'EPSG:4549', q[0], q[1]);
      expect(haversine(transform('EPSG:4549', 'EPSG:4326', r[0], r[1]), [lon, lat])).toBeLessThan(1e-6);
    }
  });

  it('agrees with proj4 (same EPSG definitions) to < 1 mm over China, both ways', () => {
    for (const code of ['EPSG:4549', 'EPSG:4528', 'EPSG:3857'] as const) {
      const ref = proj4('EPSG:4326', PROJ4_DEFS[code]);
      for (const p of CHINA) {
        const ours = transform('EPSG:4326', code, p[0], p[1]);
        const theirs = ref.forward([p[0], p[1]]);
        expect(Math.hypot(ours[0] - theirs[0], ours[1] - theirs[1])).toBeLessThan(1e-3);
        const back = transform(code, 'EPSG:4326', theirs[0], theirs[1]);
        expect(haversine(back, ref.inverse([theirs[0], theirs[1]]))).toBeLessThan(1e-3);
      }
    }
  });

  it('EPSG:4490 (CGCS2000) is treated as WGS84: identity both ways', () => {
    expect(transform('EPSG:4490', 'EPSG:4326', 120.7526, 31.654)).toEqual([120.7526, 31.654]);
    expect(transform('EPSG:4326', 'EPSG:4490', 120.7526, 31.654)).toEqual([120.7526, 31.654]);
    expect(transform('EPSG:4490', 'EPSG:4549', 120.7526, 31.654)).toEqual(transform('EPSG:4326', 'EPSG:4549', 120.7526, 31.654));
  });
});

describe('transform / createTransformer compose through WGS84', () => {
  const p: LonLat = [120.7526, 31.654];

  it('every pair round-trips within 0.5 m in Changshu', () => {
    for (const from of CRS_CODES) {
      const start = transform('EPSG:4326', from, p[0], p[1]);
      for (const to of CRS_CODES) {
        const there = transform(from, to, start[0], start[1]);
        const back = transform(to, from, there[0], there[1]);
        const wgs = transform(from, 'EPSG:4326', back[0], back[1]);
        expect(haversine(wgs, p), `${from} → ${to} → ${from}`).toBeLessThan(0.5);
      }
    }
  });

  it('a composed conversion equals the chain of single steps', () => {
    const gcj = wgs84ToGcj02(p[0], p[1]);
    const bd = gcj02ToBd09(gcj[0], gcj[1]);
    expect(transform('EPSG:4326', 'BD09', p[0], p[1])).toEqual(bd);
    expect(transform('GCJ02', 'BD09', gcj[0], gcj[1])).toEqual(bd);
    const viaWgs = transform('EPSG:4326', 'EPSG:4549', ...gcj02ToWgs84(...bd09ToGcj02(bd[0], bd[1])));
    expect(transform('BD09', 'EPSG:4549', bd[0], bd[1])).toEqual(viaWgs);
    expect(createTransformer('BD09', 'EPSG:4549')(bd[0], bd[1])).toEqual(viaWgs);
  });

  it('same CRS is the identity', () => {
    for (const c of CRS_CODES) {
      const start = transform('EPSG:4326', c, p[0], p[1]);
      expect(transform(c, c, start[0], start[1])).toEqual(start);
    }
  });
});

describe('transformCoords (bulk)', () => {
  const rng = createRng(20261129).fork('crs-spec');
  const pts = new Float64Array(2000);
  for (let i = 0; i < pts.length; i += 2) {
    pts[i] = rng.range(120.5, 121.05);
    pts[i + 1] = rng.range(31.45, 31.9);
  }

  it('gives bit-identical results to the scalar transform for every pair, without touching the input', () => {
    const before = pts.slice();
    for (const to of CRS_CODES) {
      const start = transformCoords('EPSG:4326', to, pts);
      for (const dest of CRS_CODES) {
        const startCopy = start.slice();
        const bulk = transformCoords(to, dest, start);
        expect(start).toEqual(startCopy);
        const t = createTransformer(to, dest);
        for (let i = 0; i < start.length; i += 2) {
          const [x, y] = t(start[i], start[i + 1]);
          expect(bulk[i]).toBe(x);
          expect(bulk[i + 1]).toBe(y);
        }
      }
    }
    expect(pts).toEqual(before);
  });

  it('writes into out, including out === xy (in place)', () => {
    const out = new Float64Array(pts.length + 4).fill(7);
    const r = transformCoords('EPSG:4326', 'EPSG:4549', pts, out);
    expect(r).toBe(out);
    expect(out[pts.length]).toBe(7);
    const inPlace = pts.slice();
    expect(transformCoords('EPSG:4326', 'EPSG:4549', inPlace, inPlace)).toBe(inPlace);
    expect(inPlace).toEqual(out.subarray(0, pts.length));
  });

  it('a bad point throws before the output is written', () => {
    const bad = pts.slice();
    bad[101] = Number.NaN;
    const out = new Float64Array(bad.length);
    expect(() => transformCoords('EPSG:4326', 'GCJ02', bad, out)).toThrow(/Point 50:/);
    expect(out.every((v) => v === 0)).toBe(true);
  });
});

describe('transformGeometry', () => {
  const ring = [[120.7, 31.6], [120.8, 31.6], [120.8, 31.7], [120.7, 31.6]];
  const geoms: Geometry[] = [
    { type: 'Point', coordinates: [120.75, 31.65, 12.5] },
    { type: 'MultiPoint', coordinates: [[120.7, 31.6], [120.8, 31.7]] },
    { type: 'LineString', coordinates: [[120.7, 31.6], [120.8, 31.7]], bbox: [120.7, 31.6, 120.8, 31.7] },
    { type: 'MultiLineString', coordinates: [[[120.7, 31.6], [120.8, 31.7]], [[120.6, 31.5], [120.65, 31.55]]] },
    { type: 'Polygon', coordinates: [ring] },
    { type: 'MultiPolygon', coordinates: [[ring], [ring.map(([x, y]) => [x + 0.2, y])]] },
    { type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: [120.75, 31.65] }, { type: 'Polygon', coordinates: [ring] }] },
  ];

  it('converts every geometry type position by position, keeping Z, and never mutates the input', () => {
    const t = createTransformer('GCJ02', 'EPSG:4549');
    const walk = (a: unknown, b: unknown): void => {
      if (Array.isArray(a) && typeof a[0] === 'number') {
        const [x, y] = t(a[0], a[1]);
        expect(b).toEqual([x, y, ...a.slice(2)]);
      } else if (Array.isArray(a)) {
        expect((b as unknown[]).length).toBe(a.length);
        a.forEach((v, i) => walk(v, (b as unknown[])[i]));
      }
    };
    for (const g of geoms) {
      const before = structuredClone(g);
      const out = transformGeometry('GCJ02', 'EPSG:4549', g);
      expect(g).toEqual(before);
      expect(out).not.toBe(g);
      expect(out.type).toBe(g.type);
      if (g.type === 'GeometryCollection' && out.type === 'GeometryCollection') {
        g.geometries.forEach((sub, i) => walk((sub as { coordinates: unknown }).coordinates, (out.geometries[i] as { coordinates: unknown }).coordinates));
      } else {
        walk((g as { coordinates: unknown }).coordinates, (out as { coordinates: unknown }).coordinates);
      }
    }
  });

  it('recomputes a bbox from the converted vertices', () => {
    const out = transformGeometry('EPSG:4326', 'EPSG:4549', geoms[2]);
    const [a, b] = (out as { coordinates: number[][] }).coordinates;
    expect(out.bbox).toEqual([Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])]);
  });

  it('rejects an unknown type and a bad position with clear messages', () => {
    expect(() => transformGeometry('EPSG:4326', 'GCJ02', { type: 'Circle', coordinates: [1, 2] } as unknown as Geometry)).toThrow(/Unknown GeoJSON geometry type "Circle"/);
    expect(() => transformGeometry('EPSG:4326', 'GCJ02', { type: 'Point', coordinates: [120] } as Geometry)).toThrow(/Invalid GeoJSON position \[120\]/);
    expect(() => transformGeometry('EPSG:4326', 'GCJ02', { type: 'Point', coordinates: [31.6, 120.7] })).toThrow(/swap them/);
  });
});

function expectCrsError(fn: () => unknown, code: string, includes: string[], index?: number): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CrsError);
  const e = err as CrsError;
  expect(e.code).toBe(code);
  for (const s of includes) expect(e.message).toContain(s);
  if (index !== undefined) expect(e.index).toBe(index);
}

describe('parseCrs', () => {
  const { accept, reject } = fixture<{ accept: [string, CrsCode][]; reject: { in: string; message_includes: string[] }[] }>('parse');
  it.each(accept)('%j → %s', (input, code) => {
    expect(parseCrs(input)).toBe(code);
    expect(parseCrs(input.toUpperCase())).toBe(code);
  });
  it.each(reject)('rejects $in', (c) => expectCrsError(() => parseCrs(c.in), 'CRS_UNKNOWN', c.message_includes));
});

describe('bad input', () => {
  interface Case { fn: 'transform' | 'transformCoords'; args: unknown[]; code: string; index?: number; message_includes: string[] }
  const { cases } = fixture<{ cases: Case[] }>('errors');
  // JSON has no NaN/Infinity: they are spelled as strings in the fixture.
  const num = (v: unknown): unknown => (v === 'NaN' ? Number.NaN : v === 'Infinity' ? Infinity : v);
  it.each(cases)('$fn $args → $code', (c) => {
    const [from, to, ...rest] = c.args as [CrsCode, CrsCode, ...unknown[]];
    const call =
      c.fn === 'transform'
        ? () => transform(from, to, num(rest[0]) as number, num(rest[1]) as number)
        : () => transformCoords(from, to, new Float64Array((rest[0] as unknown[]).map(num) as number[]));
    expectCrsError(call, c.code, c.message_includes, c.index);
  });
});
