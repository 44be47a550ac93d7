// Lengths and areas on the WGS84 ellipsoid for the measure tool, and circles as polygons. Pure
// functions, no I/O. Distances use Vincenty's inverse formula (Survey Review XXIII/176, 1975);
// areas use the authalic sphere (Snyder, "Map Projections — A Working Manual", 1987, eq. 3-11/3-12),
// whose area equals the ellipsoid's, so a 1 km square at 31.6°N measures 1 km² rather than the
// ~0.3 % off a mean-radius sphere gives.
import type { LonLat } from './engine.ts';
import { locale, translate, type Locale } from '../i18n.ts';

export const WGS84_A = 6378137;
export const WGS84_F = 1 / 298.257223563;
const B = WGS84_A * (1 - WGS84_F);
const E2 = WGS84_F * (2 - WGS84_F);
const E = Math.sqrt(E2);
const RAD = Math.PI / 180;

/** Metres between two points along the ellipsoid (Vincenty inverse); spherical fallback for near-antipodal pairs. */
export function geodesicDistance(a: LonLat, b: LonLat): number {
  const L = (b[0] - a[0]) * RAD;
  const U1 = Math.atan((1 - WGS84_F) * Math.tan(a[1] * RAD));
  const U2 = Math.atan((1 - WGS84_F) * Math.tan(b[1] * RAD));
  const sinU1 = Math.sin(U1), cosU1 = Math.cos(U1), sinU2 = Math.sin(U2), cosU2 = Math.cos(U2);
  let lambda = L;
  for (let iter = 0; iter < 200; iter++) {
    const sinL = Math.sin(lambda), cosL = Math.cos(lambda);
    const sinSigma = Math.hypot(cosU2 * sinL, cosU1 * sinU2 - sinU1 * cosU2 * cosL);
    if (sinSigma === 0) return 0; // coincident points
    const cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosL;
    const sigma = Math.atan2(sinSigma, cosSigma);
    const sinAlpha = (cosU1 * cosU2 * sinL) / sinSigma;
    const cos2Alpha = 1 - sinAlpha * sinAlpha;
    const cos2SigmaM = cos2Alpha === 0 ? 0 : cosSigma - (2 * sinU1 * sinU2) / cos2Alpha; // equatorial line
    const C = (WGS84_F / 16) * cos2Alpha * (4 + WGS84_F * (4 - 3 * cos2Alpha));
    const prev = lambda;
    lambda = L + (1 - C) * WGS84_F * sinAlpha
      * (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)));
    if (Math.abs(lambda - prev) < 1e-12) {
      const u2 = (cos2Alpha * (WGS84_A * WGS84_A - B * B)) / (B * B);
      const A = 1 + (u2 / 16384) * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
      const Bc = (u2 / 1024) * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
      const dSigma = Bc * sinSigma * (cos2SigmaM + (Bc / 4) * (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)
        - (Bc / 6) * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)));
      return B * A * (sigma - dSigma);
    }
  }
  // Vincenty does not converge for nearly antipodal points; nobody measures those on a city map.
  const R = 6371008.8;
  const dLat = (b[1] - a[1]) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * RAD) * Math.cos(b[1] * RAD) * Math.sin(L / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Total length in metres of a polyline. */
export function lineLength(coords: readonly LonLat[]): number {
  let sum = 0;
  for (let i = 1; i < coords.length; i++) sum += geodesicDistance(coords[i - 1], coords[i]);
  return sum;
}

/** Snyder eq. 3-12: q(φ); q at the pole gives the authalic radius. */
function q(phi: number): number {
  const s = Math.sin(phi);
  return (1 - E2) * (s / (1 - E2 * s * s) - (1 / (2 * E)) * Math.log((1 - E * s) / (1 + E * s)));
}
const QP = q(Math.PI / 2);
/** Radius of the sphere with the ellipsoid's surface area (≈ 6 371 007.2 m). */
export const AUTHALIC_RADIUS = WGS84_A * Math.sqrt(QP / 2);

/** Unsigned area (m²) of one ring, open or closed. Edges run straight in (λ, sin β) — exact for edges along meridians and parallels, and within metres of a geodesic for city-sized edges. */
export function ringArea(ring: readonly LonLat[]): number {
  const n = ring.length;
  if (n < 3) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = ring[i], r = ring[(i + 1) % n];
    let dl = (r[0] - p[0]) * RAD;
    if (dl > Math.PI) dl -= 2 * Math.PI; else if (dl < -Math.PI) dl += 2 * Math.PI;
    sum += dl * (q(p[1] * RAD) / QP + q(r[1] * RAD) / QP);
  }
  return Math.abs((sum * AUTHALIC_RADIUS * AUTHALIC_RADIUS) / 2);
}

/** Area in m² of a Polygon or MultiPolygon (holes subtracted). */
export function polygonArea(geometry: GeoJSON.Polygon | GeoJSON.MultiPolygon): number {
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let total = 0;
  for (const rings of polys) {
    rings.forEach((ring, i) => { total += (i === 0 ? 1 : -1) * ringArea(ring as LonLat[]); });
  }
  return total;
}

/** Meridional and prime-vertical radii of curvature at latitude φ (degrees). */
export function curvatureRadii(latDeg: number): { meridional: number; primeVertical: number } {
  const s = Math.sin(latDeg * RAD);
  const w = 1 - E2 * s * s;
  return { meridional: (WGS84_A * (1 - E2)) / w ** 1.5, primeVertical: WGS84_A / Math.sqrt(w) };
}

export const CIRCLE_STEPS = 64;

/** A closed ring approximating a circle of `radius` metres around `center` (first vertex due north,
 *  clockwise). Offsets use the local radii of curvature: exact to < 0.01 % for radii up to tens of km. */
export function circleRing(center: LonLat, radius: number, steps = CIRCLE_STEPS): LonLat[] {
  if (!(radius >= 0) || !Number.isFinite(radius)) throw new Error(`circle radius must be a finite number ≥ 0 (got ${radius})`);
  const { meridional, primeVertical } = curvatureRadii(center[1]);
  const cosLat = Math.cos(center[1] * RAD);
  const ring: LonLat[] = [];
  for (let i = 0; i < steps; i++) {
    const theta = (2 * Math.PI * i) / steps;
    ring.push([
      center[0] + ((radius * Math.sin(theta)) / (primeVertical * cosLat)) / RAD,
      center[1] + ((radius * Math.cos(theta)) / meridional) / RAD,
    ]);
  }
  ring.push([ring[0][0], ring[0][1]]);
  return ring;
}

function fixed(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** "850 米", "12.5 米", "1.25 公里" (en: m / km). */
export function formatLength(metres: number, loc: Locale = locale.value): string {
  if (metres < 1000) return `${fixed(metres, metres < 100 ? 1 : 0)} ${translate(loc, 'unitMetre')}`;
  return `${fixed(metres / 1000, metres < 100_000 ? 2 : 1)} ${translate(loc, 'unitKilometre')}`;
}

/** "320 平方米", "2.5 公顷" (1 公顷 = 10 000 m²), "1.2 平方公里" (en: m² / ha / km²). */
export function formatArea(m2: number, loc: Locale = locale.value): string {
  if (m2 < 10_000) return `${fixed(m2, 0)} ${translate(loc, 'unitSquareMetre')}`;
  if (m2 < 1_000_000) return `${fixed(m2 / 10_000, 2)} ${translate(loc, 'unitHectare')}`;
  return `${fixed(m2 / 1_000_000, 2)} ${translate(loc, 'unitSquareKilometre')}`;
}
