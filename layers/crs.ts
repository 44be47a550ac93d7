// Coordinate reference systems that OneMap reads and writes, and conversion between any two of them.
// Storage is WGS84; conversion happens once, at the edge (see DESIGN.md "Coordinates").
//
// Axis order everywhere: x = longitude / easting, y = latitude / northing, as in GeoJSON, shapefiles
// and proj4. (The EPSG registry orders EPSG:4326 as lat,lon and EPSG:4549/4528 as northing,easting;
// GIS files do not, and neither do we.)
//
// Every conversion composes through WGS84 as a list of in-place kernels over interleaved
// Float64Arrays; the scalar API runs the same kernels on a 2-slot scratch array, so both paths give
// bit-identical results. Gauss–Krüger and Web Mercator are computed here rather than through proj4:
// no per-point arrays or objects, and fewer transcendental calls (bench/crs.bench.ts: ~1.5–2.5× a
// reused proj4 converter, ~50× the usual per-call proj4(from, to, xy)); crs.spec.ts checks agreement
// with proj4 (using PROJ4_DEFS below) to better than a millimetre.

import type { Geometry, Position } from 'geojson';
import {
  bd09ToGcj02InPlace,
  gcj02ToBd09InPlace,
  gcj02ToWgs84InPlace,
  wgs84ToGcj02InPlace,
} from './gcj02.ts';

export type LonLat = [number, number];
export type CrsCode = 'EPSG:4326' | 'EPSG:4490' | 'EPSG:3857' | 'EPSG:4549' | 'EPSG:4528' | 'GCJ02' | 'BD09';

export const CRS_CODES: readonly CrsCode[] = ['EPSG:4326', 'EPSG:4490', 'EPSG:3857', 'EPSG:4549', 'EPSG:4528', 'GCJ02', 'BD09'];

/** Human names, used in error messages and for UI pickers. */
export const CRS_NAMES: Readonly<Record<CrsCode, string>> = {
  'EPSG:4326': 'WGS 84 (lon/lat)',
  'EPSG:4490': 'CGCS2000 国家2000 (lon/lat)',
  'EPSG:3857': 'Web Mercator (metres)',
  'EPSG:4549': 'CGCS2000 3° Gauss–Krüger CM 120°E, no zone prefix (metres)',
  'EPSG:4528': 'CGCS2000 3° Gauss–Krüger zone 40, easting with prefix 40 (metres)',
  GCJ02: 'GCJ-02 火星坐标 (AMap/Tencent lon/lat)',
  BD09: 'BD-09 百度坐标 (Baidu lon/lat)',
};

/**
 * proj4 definitions of the EPSG CRSs, written out from the EPSG registry (epsg.org, dataset v11):
 * EPSG:4549 "CGCS2000 / 3-degree Gauss-Kruger CM 120E" and EPSG:4528 "... zone 40" are Transverse
 * Mercator (method 9807) on the CGCS2000 ellipsoid (EPSG:1024, a = 6378137, 1/f = 298.257222101 —
 * numerically GRS80), lat0 = 0, lon0 = 120°E, k0 = 1, FN = 0, FE = 500 000 m or 40 500 000 m.
 * EPSG:4490 is CGCS2000 geographic; it is treated as WGS84 (towgs84 all zero): the two frames
 * differ by a few centimetres (the CGCS2000 frame is ITRF97 at epoch 2000.0, WGS84 (G1762) agrees
 * with ITRF2008 at the cm level), which is below what any source data here resolves.
 * Exported so other modules can register them with proj4 (`proj4.defs(code, def)`); the tests do.
 */
export const PROJ4_DEFS: Readonly<Record<'EPSG:4326' | 'EPSG:4490' | 'EPSG:3857' | 'EPSG:4549' | 'EPSG:4528', string>> = {
  'EPSG:4326': '+proj=longlat +datum=WGS84 +no_defs',
  'EPSG:4490': '+proj=longlat +a=6378137 +rf=298.257222101 +towgs84=0,0,0,0,0,0,0 +no_defs',
  'EPSG:3857': '+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +no_defs',
  'EPSG:4549': '+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=500000 +y_0=0 +a=6378137 +rf=298.257222101 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs',
  'EPSG:4528': '+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=40500000 +y_0=0 +a=6378137 +rf=298.257222101 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs',
};

export type CrsErrorCode =
  | 'CRS_UNKNOWN'
  | 'CRS_COORD_NOT_FINITE'
  | 'CRS_LAT_OUT_OF_RANGE'
  | 'CRS_LON_OUT_OF_RANGE'
  | 'CRS_OUT_OF_DOMAIN'
  | 'CRS_BAD_INPUT';

/** Thrown for unknown CRS names and for coordinates a CRS cannot hold; importers catch it to report bad rows. */
export class CrsError extends Error {
  override readonly name = 'CrsError';
  constructor(
    readonly code: CrsErrorCode,
    message: string,
    /** Index of the offending point (bulk calls) or -1. */
    readonly index = -1,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Names

const BY_NUMBER: Readonly<Record<string, CrsCode>> = {
  '4326': 'EPSG:4326',
  '4490': 'EPSG:4490',
  '3857': 'EPSG:3857',
  // Earlier codes for the same spherical Web Mercator (Google's unofficial 900913, EPSG's
  // deprecated 3785, Esri's 102100/102113); files in the wild still carry them.
  '900913': 'EPSG:3857',
  '3785': 'EPSG:3857',
  '102100': 'EPSG:3857',
  '102113': 'EPSG:3857',
  '4549': 'EPSG:4549',
  '4528': 'EPSG:4528',
};

/** Keys are lower case with spaces, '-', '_', '.', '/' removed (see normaliseName). */
const BY_NAME: Readonly<Record<string, CrsCode>> = {
  wgs84: 'EPSG:4326',
  wgs1984: 'EPSG:4326',
  gcswgs1984: 'EPSG:4326',
  crs84: 'EPSG:4326',
  'ogc:crs84': 'EPSG:4326',
  'urn:ogc:def:crs:ogc:13:crs84': 'EPSG:4326',
  cgcs2000: 'EPSG:4490',
  gcscgcs2000: 'EPSG:4490',
  chinageodeticcoordinatesystem2000: 'EPSG:4490',
  gcschinageodeticcoordinatesystem2000: 'EPSG:4490',
  国家2000: 'EPSG:4490',
  '2000国家大地坐标系': 'EPSG:4490',
  webmercator: 'EPSG:3857',
  pseudomercator: 'EPSG:3857',
  wgs84pseudomercator: 'EPSG:3857',
  sphericalmercator: 'EPSG:3857',
  googlemercator: 'EPSG:3857',
  cgcs20003degreegausskrugercm120e: 'EPSG:4549',
  cgcs20003degreegausskrugerzone40: 'EPSG:4528',
  gcj02: 'GCJ02',
  gcj: 'GCJ02',
  gcj2: 'GCJ02',
  mars: 'GCJ02',
  火星坐标: 'GCJ02',
  火星坐标系: 'GCJ02',
  国测局坐标: 'GCJ02',
  bd09: 'BD09',
  bd09ll: 'BD09',
  bd: 'BD09',
  baidu: 'BD09',
  百度: 'BD09',
  百度坐标: 'BD09',
};

const EPSG_FORM = /^(?:epsg:{1,2}|urn:ogc:def:crs:epsg:[\d.]*:|https?:\/\/www\.opengis\.net\/def\/crs\/epsg\/0\/)?(\d+)$/;

function normaliseName(s: string): string {
  return s.replace(/[\s\-_./]/g, '');
}

export const ACCEPTED_CRS_HELP =
  'EPSG:4326 (or 4326, WGS84, CRS84), EPSG:4490 (or 4490, CGCS2000, 国家2000), ' +
  'EPSG:3857 (or 3857, 900913, Web Mercator), EPSG:4549 (CGCS2000 3° Gauss–Krüger CM 120°E, easting like 560000), ' +
  'EPSG:4528 (the same with zone prefix, easting like 40560000), GCJ02 (or GCJ-02, gcj, 火星坐标), ' +
  'BD09 (or BD-09, bd09ll, baidu, 百度)';

/** Accepts common spellings, case-insensitive; throws CrsError 'CRS_UNKNOWN' listing what is accepted. */
export function parseCrs(input: string): CrsCode {
  if (typeof input !== 'string') {
    throw new CrsError('CRS_UNKNOWN', `CRS must be a string, got ${typeof input}. Accepted: ${ACCEPTED_CRS_HELP}.`);
  }
  const s = input.trim().toLowerCase();
  const m = EPSG_FORM.exec(s);
  if (m) {
    const code = BY_NUMBER[m[1]];
    if (code) return code;
  } else {
    const code = BY_NAME[normaliseName(s)];
    if (code) return code;
  }
  const hint = /bd09mc|baidu ?mercator|百度墨卡托/.test(s)
    ? ' BD-09 Mercator (BD09MC, Baidu metre coordinates) is not supported: convert to BD-09 lon/lat first.'
    : '';
  throw new CrsError(
    'CRS_UNKNOWN',
    `Unknown CRS "${input}".${hint} Accepted: ${ACCEPTED_CRS_HELP}. ` +
      'Name the CRS of your data with one of these, or reproject it to EPSG:4326 first (e.g. ogr2ogr -t_srs EPSG:4326).',
  );
}

function assertCode(code: CrsCode): void {
  if (!(CRS_CODES as readonly string[]).includes(code)) {
    throw new CrsError(
      'CRS_UNKNOWN',
      `Unknown CRS code "${String(code)}": expected one of ${CRS_CODES.join(', ')}. Use parseCrs() to turn names like "wgs84" or "4549" into a code.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Input checks

const GEOGRAPHIC: ReadonlySet<CrsCode> = new Set<CrsCode>(['EPSG:4326', 'EPSG:4490', 'GCJ02', 'BD09']);

/**
 * Half-width allowed around a Gauss–Krüger false easting. It covers the 60° limit of the forward
 * projection (8.4e6 m at the equator) and still keeps the 4549 and 4528 ranges apart, so an easting
 * with or without the zone prefix under the wrong code is caught.
 */
const GK_EASTING_SPAN = 10_000_000;
/** Length of the CGCS2000 meridian quadrant is 10 001 966 m; anything beyond is not a northing. */
const GK_MAX_NORTHING = 10_002_000;

function fmt(x: number, y: number): string {
  return `(x=${x}, y=${y})`;
}

function looksLikeDegrees(x: number, y: number): boolean {
  return Math.abs(x) <= 180 && Math.abs(y) <= 90;
}

/** Why (x, y) is not a valid coordinate in `crs`, or null when it is. */
function inputProblem(crs: CrsCode, x: number, y: number, index: number): CrsError | null {
  if (!Number.isFinite(x) || !Number.isFinite(y)) {
    return new CrsError(
      'CRS_COORD_NOT_FINITE',
      `Coordinate ${fmt(x, y)} in ${crs} is not a finite number. Remove or fix the point (empty cells often parse as NaN).`,
      index,
    );
  }
  if (GEOGRAPHIC.has(crs)) {
    if (y < -90 || y > 90) {
      return new CrsError(
        'CRS_LAT_OUT_OF_RANGE',
        `Latitude ${y} in ${crs} ${fmt(x, y)} is outside [-90, 90]. Coordinates go as x = longitude, y = latitude; ` +
          'if yours are in lat,lon order, swap them; if they are metres, name a projected CRS such as EPSG:4549.',
        index,
      );
    }
    if (x < -180 || x > 180) {
      return new CrsError(
        'CRS_LON_OUT_OF_RANGE',
        `Longitude ${x} in ${crs} ${fmt(x, y)} is outside [-180, 180]. If the data use 0–360°, subtract 360 from values above 180; ` +
          'if they are metres, name a projected CRS such as EPSG:4549.',
        index,
      );
    }
    return null;
  }
  if (crs === 'EPSG:4549' || crs === 'EPSG:4528') {
    const fe = crs === 'EPSG:4549' ? 500_000 : 40_500_000;
    if (Math.abs(x - fe) > GK_EASTING_SPAN || Math.abs(y) > GK_MAX_NORTHING) {
      let hint = `${crs} eastings lie near ${fe} m and northings within ±${GK_MAX_NORTHING} m.`;
      if (looksLikeDegrees(x, y)) {
        hint = 'These look like degrees: name a geographic CRS such as EPSG:4326 or EPSG:4490.';
      } else if (Math.abs(y - fe) <= GK_EASTING_SPAN && Math.abs(x) <= GK_MAX_NORTHING) {
        hint = 'x and y look swapped: x is the easting, y the northing.';
      } else if (crs === 'EPSG:4549' && Math.abs(x - 40_500_000) <= GK_EASTING_SPAN) {
        hint = 'The easting carries the zone prefix 40: name the CRS EPSG:4528 instead.';
      } else if (crs === 'EPSG:4528' && Math.abs(x - 500_000) <= GK_EASTING_SPAN) {
        hint = 'The easting has no zone prefix: name the CRS EPSG:4549 instead.';
      }
      return new CrsError('CRS_OUT_OF_DOMAIN', `Coordinate ${fmt(x, y)} is not a valid ${crs} position. ${hint}`, index);
    }
  }
  return null;
}

/** [xmin, xmax, ymin, ymax] inside which inputProblem() finds nothing wrong (NaN fails every comparison). */
const INPUT_BOX: Readonly<Record<CrsCode, readonly [number, number, number, number]>> = {
  'EPSG:4326': [-180, 180, -90, 90],
  'EPSG:4490': [-180, 180, -90, 90],
  GCJ02: [-180, 180, -90, 90],
  BD09: [-180, 180, -90, 90],
  'EPSG:3857': [-Number.MAX_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MAX_VALUE],
  'EPSG:4549': [500_000 - GK_EASTING_SPAN, 500_000 + GK_EASTING_SPAN, -GK_MAX_NORTHING, GK_MAX_NORTHING],
  'EPSG:4528': [40_500_000 - GK_EASTING_SPAN, 40_500_000 + GK_EASTING_SPAN, -GK_MAX_NORTHING, GK_MAX_NORTHING],
};

// ---------------------------------------------------------------------------------------------
// Kernels: in place over interleaved [x, y, ...] in [start, end)

type Kernel = (b: Float64Array, start: number, end: number) => void;

const DEG = Math.PI / 180;
const RAD = 180 / Math.PI;

// Web Mercator (EPSG:3857): the spherical formulas on WGS84 lon/lat, R = 6378137 (EPSG method 1024).
const R_MERC = 6378137;

const wgs84ToMercator: Kernel = (b, start, end) => {
  for (let i = start; i < end; i += 2) {
    const lat = b[i + 1];
    const y = R_MERC * Math.log(Math.tan(Math.PI / 4 + (lat * DEG) / 2));
    if (!Number.isFinite(y) || Math.abs(lat) >= 90) {
      throw new CrsError(
        'CRS_OUT_OF_DOMAIN',
        `Latitude ${lat} cannot be shown in EPSG:3857: Web Mercator puts the poles at infinity. Clip the data to ±85.05°.`,
        (i - start) >> 1,
      );
    }
    b[i] = R_MERC * b[i] * DEG;
    b[i + 1] = y;
  }
};

const mercatorToWgs84: Kernel = (b, start, end) => {
  for (let i = start; i < end; i += 2) {
    b[i] = (b[i] / R_MERC) * RAD;
    b[i + 1] = (Math.PI / 2 - 2 * Math.atan(Math.exp(-b[i + 1] / R_MERC))) * RAD;
  }
};

// Gauss–Krüger = transverse Mercator on the CGCS2000 ellipsoid, by Krüger's series in the third
// flattening n to order n⁶ as given by C. F. F. Karney, "Transverse Mercator with an accuracy of a few
// nanometers", J. Geodesy 85 (2011) 475–485, eqs. (14)–(21), (35)–(36). Accurate to nanometres
// within 3900 km of the central meridian, which covers all of China in the 120°E zone.
const GK_A = 6378137;
const GK_F = 1 / 298.257222101;
const GK_LON0 = 120;
const N = GK_F / (2 - GK_F);
const E2 = GK_F * (2 - GK_F);
const E = Math.sqrt(E2);
const N2 = N * N, N3 = N2 * N, N4 = N3 * N, N5 = N4 * N, N6 = N5 * N;
/** Rectifying radius: meridian length = A_RECT · (rectifying latitude). */
const A_RECT = (GK_A / (1 + N)) * (1 + N2 / 4 + N4 / 64 + N6 / 256);
const ALPHA = [
  N / 2 - (2 * N2) / 3 + (5 * N3) / 16 + (41 * N4) / 180 - (127 * N5) / 288 + (7891 * N6) / 37800,
  (13 * N2) / 48 - (3 * N3) / 5 + (557 * N4) / 1440 + (281 * N5) / 630 - (1983433 * N6) / 1935360,
  (61 * N3) / 240 - (103 * N4) / 140 + (15061 * N5) / 26880 + (167603 * N6) / 181440,
  (49561 * N4) / 161280 - (179 * N5) / 168 + (6601661 * N6) / 7257600,
  (34729 * N5) / 80640 - (3418889 * N6) / 1995840,
  (212378941 * N6) / 319334400,
];
const BETA = [
  N / 2 - (2 * N2) / 3 + (37 * N3) / 96 - N4 / 360 - (81 * N5) / 512 + (96199 * N6) / 604800,
  N2 / 48 + N3 / 15 - (437 * N4) / 1440 + (46 * N5) / 105 - (1118711 * N6) / 3870720,
  (17 * N3) / 480 - (37 * N4) / 840 - (209 * N5) / 4480 + (5569 * N6) / 90720,
  (4397 * N4) / 161280 - (11 * N5) / 504 - (830251 * N6) / 7257600,
  (4583 * N5) / 161280 - (108847 * N6) / 3991680,
  (20648693 * N6) / 638668800,
];
/** Refuse to project points further than this from the central meridian: the series (and the use of one zone) stop making sense. */
const GK_MAX_DLON = 60;

/**
 * Conformal → geodetic latitude, φ = χ + Σ c_j sin(2jχ), coefficients to n⁶ from K. Engsager &
 * K. Poder, "A highly accurate world wide algorithm for the transverse Mercator mapping (almost)",
 * Proc. XXIII Int. Cartographic Conf. (2007), as used by PROJ's tmerc ("cgb"). Replaces Karney's
 * Newton iteration for τ (eqs. 19–21): same accuracy, a third of the transcendental calls.
 */
const CHI_TO_PHI = [
  N * (2 + N * (-2 / 3 + N * (-2 + N * (116 / 45 + N * (26 / 45 + N * (-2854 / 675)))))),
  N2 * (7 / 3 + N * (-8 / 5 + N * (-227 / 45 + N * (2704 / 315 + N * (2323 / 945))))),
  N3 * (56 / 15 + N * (-136 / 35 + N * (-1262 / 105 + N * (73814 / 2835)))),
  N4 * (4279 / 630 + N * (-332 / 35 + N * (-399572 / 14175))),
  N5 * (4174 / 315 + N * (-144838 / 6237)),
  N6 * (601676 / 22275),
];

// Σ c_j sin(2jξ) cosh(2jη) and Σ c_j cos(2jξ) sinh(2jη), j = 1..6, by angle-addition recurrences
// from sin 2ξ, cos 2ξ, sinh 2η, cosh 2η, which the callers get algebraically where they can.
// Results in sumXi / sumEta (module slots rather than a tuple: this runs once per point).
let sumXi = 0;
let sumEta = 0;
function krugerSums(c: readonly number[], s2: number, c2: number, sh2: number, ch2: number): void {
  let cj = c2, sj = s2, chj = ch2, shj = sh2;
  let sx = 0, se = 0;
  for (let j = 0; j < 6; j++) {
    sx += c[j] * sj * chj;
    se += c[j] * cj * shj;
    const cn = cj * c2 - sj * s2;
    sj = sj * c2 + cj * s2;
    cj = cn;
    const chn = chj * ch2 + shj * sh2;
    shj = shj * ch2 + chj * sh2;
    chj = chn;
  }
  sumXi = sx;
  sumEta = se;
}

function gkForward(falseEasting: number): Kernel {
  return (b, start, end) => {
    for (let i = start; i < end; i += 2) {
      const dLon = b[i] - GK_LON0;
      if (Math.abs(dLon) > GK_MAX_DLON) {
        throw new CrsError(
          'CRS_OUT_OF_DOMAIN',
          `Longitude ${b[i]} is ${Math.abs(dLon).toFixed(1)}° from the 120°E central meridian of EPSG:4549/4528 (limit ${GK_MAX_DLON}°). ` +
            'Use a CRS whose zone contains the data, or keep it in EPSG:4326.',
          (i - start) >> 1,
        );
      }
      const lam = dLon * DEG;
      // tan of the conformal latitude from τ = tan φ (Karney eqs. 7–9). Through tan rather than
      // sin φ so that it stays exact next to the poles, where sin φ rounds to 1.
      const tau = Math.tan(b[i + 1] * DEG);
      const tau1 = Math.sqrt(1 + tau * tau);
      const sig = Math.sinh(E * Math.atanh((E * tau) / tau1));
      const t = tau * Math.sqrt(1 + sig * sig) - sig * tau1;
      const cl = Math.cos(lam);
      // ξ' = atan2(t, cos λ), η' = atanh(sin λ / √(1+t²)) (Karney eq. 10); the double angles follow
      // without further trig: with r² = t² + cos²λ, sin 2ξ' = 2t·cosλ/r², cos 2ξ' = (cos²λ − t²)/r²,
      // and e^{2η'} = (1+u)/(1−u).
      const xiP = Math.atan2(t, cl);
      const u = Math.sin(lam) / Math.sqrt(1 + t * t);
      const q = (1 + u) / (1 - u);
      const etaP = 0.5 * Math.log(q);
      const r2 = t * t + cl * cl;
      krugerSums(ALPHA, (2 * t * cl) / r2, (cl * cl - t * t) / r2, (q - 1 / q) / 2, (q + 1 / q) / 2);
      b[i] = falseEasting + A_RECT * (etaP + sumEta);
      b[i + 1] = A_RECT * (xiP + sumXi);
    }
  };
}

function gkInverse(falseEasting: number): Kernel {
  return (b, start, end) => {
    for (let i = start; i < end; i += 2) {
      const xi = b[i + 1] / A_RECT;
      const eta = (b[i] - falseEasting) / A_RECT;
      const ex = Math.exp(2 * eta);
      krugerSums(BETA, Math.sin(2 * xi), Math.cos(2 * xi), (ex - 1 / ex) / 2, (ex + 1 / ex) / 2);
      const xiP = xi - sumXi;
      const etaP = eta - sumEta;
      const shEta = Math.sinh(etaP);
      const cXi = Math.cos(xiP);
      // tan of the conformal latitude χ (Karney eq. 18), then φ from χ by the series above
      const tauP = Math.sin(xiP) / Math.sqrt(shEta * shEta + cXi * cXi);
      const d = 1 + tauP * tauP;
      const s2 = (2 * tauP) / d; // sin 2χ
      const c2 = (1 - tauP * tauP) / d; // cos 2χ
      // Clenshaw summation of Σ c_j sin(2jχ)
      let h1 = CHI_TO_PHI[5], h2 = 0, h = 0;
      for (let j = 4; j >= 0; j--) {
        h = -h2 + 2 * c2 * h1 + CHI_TO_PHI[j];
        h2 = h1;
        h1 = h;
      }
      const lon = GK_LON0 + Math.atan2(shEta, cXi) * RAD;
      // only at the pole can the angle pass ±180° (there any longitude is right); keep lon in range
      b[i] = lon > 180 ? lon - 360 : lon;
      b[i + 1] = (Math.atan(tauP) + h * s2) * RAD;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Pipelines

interface Step {
  readonly id: string;
  readonly inverseId: string;
  readonly run: Kernel;
}

const step = (id: string, inverseId: string, run: Kernel): Step => ({ id, inverseId, run });
const S = {
  gcjToWgs: step('gcj>wgs', 'wgs>gcj', gcj02ToWgs84InPlace),
  wgsToGcj: step('wgs>gcj', 'gcj>wgs', wgs84ToGcj02InPlace),
  bdToGcj: step('bd>gcj', 'gcj>bd', bd09ToGcj02InPlace),
  gcjToBd: step('gcj>bd', 'bd>gcj', gcj02ToBd09InPlace),
  mercToWgs: step('3857>wgs', 'wgs>3857', mercatorToWgs84),
  wgsToMerc: step('wgs>3857', '3857>wgs', wgs84ToMercator),
  gk4549ToWgs: step('4549>wgs', 'wgs>4549', gkInverse(500_000)),
  wgsToGk4549: step('wgs>4549', '4549>wgs', gkForward(500_000)),
  gk4528ToWgs: step('4528>wgs', 'wgs>4528', gkInverse(40_500_000)),
  wgsToGk4528: step('wgs>4528', '4528>wgs', gkForward(40_500_000)),
};

// CGCS2000 lon/lat = WGS84 lon/lat here (see PROJ4_DEFS), so EPSG:4490 has no steps.
const TO_WGS: Readonly<Record<CrsCode, readonly Step[]>> = {
  'EPSG:4326': [],
  'EPSG:4490': [],
  'EPSG:3857': [S.mercToWgs],
  'EPSG:4549': [S.gk4549ToWgs],
  'EPSG:4528': [S.gk4528ToWgs],
  GCJ02: [S.gcjToWgs],
  BD09: [S.bdToGcj, S.gcjToWgs],
};
const FROM_WGS: Readonly<Record<CrsCode, readonly Step[]>> = {
  'EPSG:4326': [],
  'EPSG:4490': [],
  'EPSG:3857': [S.wgsToMerc],
  'EPSG:4549': [S.wgsToGk4549],
  'EPSG:4528': [S.wgsToGk4528],
  GCJ02: [S.wgsToGcj],
  BD09: [S.wgsToGcj, S.gcjToBd],
};

interface Pipeline {
  readonly from: CrsCode;
  readonly to: CrsCode;
  readonly steps: readonly Step[];
}

// Compiled pipelines are immutable and there are at most 49, so they are cached for transform().
const PIPELINES = new Map<string, Pipeline>();

function pipeline(from: CrsCode, to: CrsCode): Pipeline {
  const key = `${from}>${to}`;
  let p = PIPELINES.get(key);
  if (p) return p;
  assertCode(from);
  assertCode(to);
  const down = [...TO_WGS[from]];
  const up = [...FROM_WGS[to]];
  // Cancel a step with its own inverse where the two halves meet (GCJ02 → BD09 must not make a
  // round trip through WGS84: slower, and the GCJ inverse is only exact to ~1e-10°).
  while (down.length && up.length && down[down.length - 1].inverseId === up[0].id) {
    down.pop();
    up.shift();
  }
  p = { from, to, steps: [...down, ...up] };
  PIPELINES.set(key, p);
  return p;
}

function withIndex(e: unknown, base: number): unknown {
  if (e instanceof CrsError && e.index >= 0) {
    const index = base + e.index;
    return new CrsError(e.code, `Point ${index}: ${e.message}`, index);
  }
  return e;
}

/** Validates and converts in place one interleaved point at b[0], b[1]; throws without a point index. */
function runScalar(p: Pipeline, b: Float64Array): void {
  const problem = inputProblem(p.from, b[0], b[1], -1);
  if (problem) throw problem;
  try {
    for (const s of p.steps) s.run(b, 0, 2);
  } catch (e) {
    if (e instanceof CrsError) throw new CrsError(e.code, e.message);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Public API

export function createTransformer(from: CrsCode, to: CrsCode): (x: number, y: number) => LonLat {
  const p = pipeline(from, to);
  const b = new Float64Array(2);
  return (x, y) => {
    b[0] = x;
    b[1] = y;
    runScalar(p, b);
    return [b[0], b[1]];
  };
}

export function transform(from: CrsCode, to: CrsCode, x: number, y: number): LonLat {
  return createTransformer(from, to)(x, y);
}

/**
 * Converts interleaved [x0, y0, x1, y1, ...] from one CRS to another. Writes to `out` (which may be
 * `xy` itself for in-place conversion) or to a new array; `xy` is not modified otherwise. Every
 * point is validated before any is converted, so a bad point throws (CrsError with `index`) before
 * `out` is touched — except that domain errors found during projection (a pole into Web Mercator,
 * a point 60° from the Gauss–Krüger meridian) can leave `out` partly written.
 */
export function transformCoords(from: CrsCode, to: CrsCode, xy: Float64Array, out?: Float64Array): Float64Array {
  const p = pipeline(from, to);
  if (!(xy instanceof Float64Array)) {
    throw new CrsError('CRS_BAD_INPUT', 'transformCoords expects a Float64Array of interleaved x, y values; wrap plain arrays with new Float64Array(values).');
  }
  const n = xy.length;
  if (n % 2 !== 0) {
    throw new CrsError('CRS_BAD_INPUT', `transformCoords expects interleaved x, y pairs, but the array has an odd length (${n}).`);
  }
  if (out !== undefined && (!(out instanceof Float64Array) || out.length < n)) {
    throw new CrsError('CRS_BAD_INPUT', `transformCoords: out must be a Float64Array of at least ${n} values (the input length).`);
  }
  // A cheap box test per point; the full check (which builds the message) only runs on failure.
  const [x0, x1, y0, y1] = INPUT_BOX[from];
  for (let i = 0; i < n; i += 2) {
    const x = xy[i];
    const y = xy[i + 1];
    if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) {
      const problem = inputProblem(from, x, y, i >> 1);
      if (problem) throw withIndex(problem, 0);
    }
  }
  const target = out ?? new Float64Array(n);
  if (target !== xy) target.set(xy);
  try {
    for (const s of p.steps) s.run(target, 0, n);
  } catch (e) {
    throw withIndex(e, 0);
  }
  return target;
}

/** Returns a new geometry in `to`; the input is not mutated. Z and further ordinates are kept as they are. */
export function transformGeometry<G extends Geometry>(from: CrsCode, to: CrsCode, g: G): G {
  const p = pipeline(from, to);
  const b = new Float64Array(2);
  const position = (pos: Position): Position => {
    if (!Array.isArray(pos) || pos.length < 2) {
      throw new CrsError('CRS_BAD_INPUT', `Invalid GeoJSON position ${JSON.stringify(pos)}: expected [x, y] or [x, y, z].`);
    }
    b[0] = pos[0];
    b[1] = pos[1];
    runScalar(p, b);
    return pos.length === 2 ? [b[0], b[1]] : [b[0], b[1], ...pos.slice(2)];
  };
  const list = (ps: Position[]): Position[] => ps.map(position);
  const geometry = (geom: Geometry): Geometry => {
    if (geom === null || typeof geom !== 'object') {
      throw new CrsError('CRS_BAD_INPUT', `Expected a GeoJSON geometry object, got ${geom === null ? 'null' : typeof geom}.`);
    }
    let r: Geometry;
    switch (geom.type) {
      case 'Point':
        r = { ...geom, coordinates: position(geom.coordinates) };
        break;
      case 'MultiPoint':
      case 'LineString':
        r = { ...geom, coordinates: list(geom.coordinates) };
        break;
      case 'MultiLineString':
      case 'Polygon':
        r = { ...geom, coordinates: geom.coordinates.map(list) };
        break;
      case 'MultiPolygon':
        r = { ...geom, coordinates: geom.coordinates.map((poly) => poly.map(list)) };
        break;
      case 'GeometryCollection':
        r = { ...geom, geometries: geom.geometries.map(geometry) };
        break;
      default:
        throw new CrsError(
          'CRS_BAD_INPUT',
          `Unknown GeoJSON geometry type "${(geom as { type?: unknown }).type}": expected Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon or GeometryCollection.`,
        );
    }
    if (geom.bbox) r.bbox = bboxOf(r, geom.bbox);
    return r;
  };
  return geometry(g) as G;
}

/** A transformed bbox is the bounds of the transformed vertices (RFC 7946 §5); z bounds are kept. */
function bboxOf(g: Geometry, old: NonNullable<Geometry['bbox']>): NonNullable<Geometry['bbox']> {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const visit = (pos: Position): void => {
    if (pos[0] < minX) minX = pos[0];
    if (pos[0] > maxX) maxX = pos[0];
    if (pos[1] < minY) minY = pos[1];
    if (pos[1] > maxY) maxY = pos[1];
  };
  const walk = (geom: Geometry): void => {
    switch (geom.type) {
      case 'Point': visit(geom.coordinates); break;
      case 'MultiPoint': case 'LineString': geom.coordinates.forEach(visit); break;
      case 'MultiLineString': case 'Polygon': geom.coordinates.forEach((l) => l.forEach(visit)); break;
      case 'MultiPolygon': geom.coordinates.forEach((pl) => pl.forEach((l) => l.forEach(visit))); break;
      case 'GeometryCollection': geom.geometries.forEach(walk); break;
    }
  };
  walk(g);
  return old.length === 6 ? [minX, minY, old[2], maxX, maxY, old[5]] : [minX, minY, maxX, maxY];
}

function scalar(run: Kernel, from: CrsCode, lon: number, lat: number): LonLat {
  const problem = inputProblem(from, lon, lat, -1);
  if (problem) throw problem;
  const b = new Float64Array([lon, lat]);
  run(b, 0, 2);
  return [b[0], b[1]];
}

/** WGS84 → GCJ-02; identity outside the rough China bbox (see gcj02.ts). */
export function wgs84ToGcj02(lon: number, lat: number): LonLat {
  return scalar(wgs84ToGcj02InPlace, 'EPSG:4326', lon, lat);
}

/** GCJ-02 → WGS84 by iterating the forward to ~1e-10° (the one-step inverse is off by metres). */
export function gcj02ToWgs84(lon: number, lat: number): LonLat {
  return scalar(gcj02ToWgs84InPlace, 'GCJ02', lon, lat);
}

export function gcj02ToBd09(lon: number, lat: number): LonLat {
  return scalar(gcj02ToBd09InPlace, 'GCJ02', lon, lat);
}

/** BD-09 → GCJ-02, the exact inverse of gcj02ToBd09 (to ~1e-10°). */
export function bd09ToGcj02(lon: number, lat: number): LonLat {
  return scalar(bd09ToGcj02InPlace, 'BD09', lon, lat);
}
