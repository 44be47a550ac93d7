// GCJ-02 ("Mars coordinates", 国测局坐标) and BD-09 (Baidu) obfuscations of WGS84 lon/lat.
//
// GCJ-02 is not a datum: it is a secret, deliberately non-linear offset (~100–700 m) that Chinese
// consumer maps (AMap/Gaode, Tencent, Google China) are required to apply. The forward formula below
// is the reverse-engineered one that every open implementation shares, with the Krasovsky 1940
// ellipsoid constants (a = 6378245, e² = 0.00669342162296594323), e.g.
//   https://github.com/googollee/eviltransform, https://github.com/wandergis/coordtransform,
//   https://github.com/Artoria2e5/PRCoords.
// It has no closed-form inverse: the usual "one-step" inverse (wgs = gcj - offset(gcj)) is off by up
// to a few metres, so gcj → wgs here iterates the forward to ~1e-10° (sub-millimetre).
//
// Outside the rough China bounding box the offset is zero (GCJ-02 equals WGS84). The box is the one
// used by coordtransform/eviltransform, so results match theirs, but it is rough: it includes e.g.
// parts of Mongolia, Korea and Japan, where true GCJ-02 services would not offset either.
//
// BD-09 is Baidu's further rotation/scaling of GCJ-02 (formula from the same libraries). Only its lon/lat
// form is handled; BD-09 Mercator ("BD09MC", Baidu's metre coordinates) is a different thing.
//
// Kernels work in place on interleaved [x0, y0, x1, y1, ...] Float64Arrays over [start, end) so that
// the bulk path allocates nothing per point; the scalar API in crs.ts calls them on a 2-slot scratch.

const KRASOVSKY_A = 6378245.0;
const KRASOVSKY_EE = 0.00669342162296594323;
const PI = Math.PI;
const DEG = PI / 180;
/** Baidu's x_pi constant (π·3000/180) as published in the libraries above. */
const X_PI = (PI * 3000.0) / 180.0;

/** Rough China bbox of coordtransform/eviltransform: lon 72.004–137.8347, lat 0.8293–55.8271. */
export function isOutsideChina(lon: number, lat: number): boolean {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

// `common` is the term ((20 sin 6xπ + 20 sin 2xπ)·2/3) that both published formulas compute; computing
// it once saves two sines per call and leaves every result bit-identical.
function offsetLat(x: number, y: number, common: number): number {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += common;
  r += ((20.0 * Math.sin(y * PI) + 40.0 * Math.sin((y / 3.0) * PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * PI) + 320 * Math.sin((y * PI) / 30.0)) * 2.0) / 3.0;
  return r;
}

function offsetLon(x: number, y: number, common: number): number {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += common;
  r += ((20.0 * Math.sin(x * PI) + 40.0 * Math.sin((x / 3.0) * PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * PI) + 300.0 * Math.sin((x / 30.0) * PI)) * 2.0) / 3.0;
  return r;
}

// The offset is returned through these two module-private slots instead of a tuple: the bulk path
// calls it several million times and an array per call would dominate the cost.
let dLonOut = 0;
let dLatOut = 0;

/** GCJ-02 offset (degrees) at WGS84 (lon, lat); zero outside China. Result in dLonOut/dLatOut. */
function gcjOffset(lon: number, lat: number): void {
  if (isOutsideChina(lon, lat)) {
    dLonOut = 0;
    dLatOut = 0;
    return;
  }
  const x = lon - 105.0;
  const y = lat - 35.0;
  const common = ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
  const dLat = offsetLat(x, y, common);
  const dLon = offsetLon(x, y, common);
  const radLat = lat * DEG;
  const s = Math.sin(radLat);
  const magic = 1 - KRASOVSKY_EE * s * s;
  const sqrtMagic = Math.sqrt(magic);
  dLatOut = (dLat * 180.0) / (((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sqrtMagic)) * PI);
  dLonOut = (dLon * 180.0) / ((KRASOVSKY_A / sqrtMagic) * Math.cos(radLat) * PI);
}

export function wgs84ToGcj02InPlace(b: Float64Array, start: number, end: number): void {
  for (let i = start; i < end; i += 2) {
    const lon = b[i];
    const lat = b[i + 1];
    gcjOffset(lon, lat);
    b[i] = lon + dLonOut;
    b[i + 1] = lat + dLatOut;
  }
}

/**
 * Stop once a correction is below this (1e-8° ≈ 1 mm). The offset's derivative is at most ~5e-3 °/°,
 * so the fixed-point iteration gains over 2 digits a step and the error left after the last
 * correction is ~5e-11° (crs.spec.ts checks the round trips). 4 steps from a ~5e-3° start.
 */
const INVERSE_TOLERANCE_DEG = 1e-8;
/** The cap only matters at the edge of the China bbox, where the forward jumps. */
const INVERSE_MAX_STEPS = 12;

export function gcj02ToWgs84InPlace(b: Float64Array, start: number, end: number): void {
  for (let i = start; i < end; i += 2) {
    const gLon = b[i];
    const gLat = b[i + 1];
    if (isOutsideChina(gLon, gLat)) continue;
    let wLon = gLon;
    let wLat = gLat;
    for (let k = 0; k < INVERSE_MAX_STEPS; k++) {
      gcjOffset(wLon, wLat);
      const eLon = wLon + dLonOut - gLon;
      const eLat = wLat + dLatOut - gLat;
      wLon -= eLon;
      wLat -= eLat;
      if (Math.abs(eLon) < INVERSE_TOLERANCE_DEG && Math.abs(eLat) < INVERSE_TOLERANCE_DEG) break;
    }
    b[i] = wLon;
    b[i + 1] = wLat;
  }
}

export function gcj02ToBd09InPlace(b: Float64Array, start: number, end: number): void {
  for (let i = start; i < end; i += 2) {
    const x = b[i];
    const y = b[i + 1];
    const z = Math.sqrt(x * x + y * y) + 0.00002 * Math.sin(y * X_PI);
    const theta = Math.atan2(y, x) + 0.000003 * Math.cos(x * X_PI);
    b[i] = z * Math.cos(theta) + 0.0065;
    b[i + 1] = z * Math.sin(theta) + 0.006;
  }
}

/**
 * BD-09 → GCJ-02. The published one-step inverse (below, as the start value) misses the forward by up
 * to ~0.2 m; a few fixed-point steps on gcj02ToBd09 make the pair consistent to < 1e-9°, so data that
 * is imported from BD-09 and exported back comes out where it went in.
 */
export function bd09ToGcj02InPlace(b: Float64Array, start: number, end: number): void {
  for (let i = start; i < end; i += 2) {
    const bLon = b[i];
    const bLat = b[i + 1];
    const x = bLon - 0.0065;
    const y = bLat - 0.006;
    const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * X_PI);
    const theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * X_PI);
    let gLon = z * Math.cos(theta);
    let gLat = z * Math.sin(theta);
    for (let k = 0; k < INVERSE_MAX_STEPS; k++) {
      const z2 = Math.sqrt(gLon * gLon + gLat * gLat) + 0.00002 * Math.sin(gLat * X_PI);
      const t2 = Math.atan2(gLat, gLon) + 0.000003 * Math.cos(gLon * X_PI);
      const eLon = z2 * Math.cos(t2) + 0.0065 - bLon;
      const eLat = z2 * Math.sin(t2) + 0.006 - bLat;
      gLon -= eLon;
      gLat -= eLat;
      if (Math.abs(eLon) < INVERSE_TOLERANCE_DEG && Math.abs(eLat) < INVERSE_TOLERANCE_DEG) break;
    }
    b[i] = gLon;
    b[i + 1] = gLat;
  }
}
