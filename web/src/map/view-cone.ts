// A camera's field of view on the ground as a polygon: the apex at the camera, an arc at `rangeM`
// from heading − fov/2 to heading + fov/2. Both engines draw it for the selected camera (deck.gl
// PolygonLayer in 2D, a ground-clamped Primitive in 3D), so it lives here, free of either engine.
import type { LonLat } from './engine.ts';

/** Mean Earth radius (IUGG), metres: plenty for cones of a few hundred metres. */
const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

/** The point `distanceM` from (lon, lat) along initial bearing `bearingDeg` (great circle; Williams, Aviation Formulary). */
export function destination(lon: number, lat: number, bearingDeg: number, distanceM: number): LonLat {
  const d = distanceM / EARTH_RADIUS_M;
  const b = bearingDeg * RAD;
  const p1 = lat * RAD;
  const l1 = lon * RAD;
  const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
  const l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
  return [((l2 / RAD + 540) % 360) - 180, p2 / RAD];
}

/**
 * The closed ring (first point = last point = the camera) of a camera's view cone.
 * headingDeg: clockwise from north; fovDeg: full horizontal angle, clamped to (0, 360];
 * steps: arc segments. A fov of 360 gives a full circle around the camera (apex kept for a valid ring).
 */
export function viewConePolygon(lon: number, lat: number, headingDeg: number, fovDeg: number, rangeM: number, steps = 16): LonLat[] {
  if (![lon, lat, headingDeg, fovDeg, rangeM].every(Number.isFinite)) {
    throw new Error(`viewConePolygon: non-finite input (lon ${lon}, lat ${lat}, heading ${headingDeg}, fov ${fovDeg}, range ${rangeM})`);
  }
  if (rangeM <= 0 || fovDeg <= 0) throw new Error(`viewConePolygon: range (${rangeM} m) and fov (${fovDeg}°) must be positive`);
  const fov = Math.min(fovDeg, 360);
  const n = Math.max(1, Math.round(steps));
  const apex: LonLat = [lon, lat];
  const ring: LonLat[] = [apex];
  const start = headingDeg - fov / 2;
  for (let i = 0; i <= n; i++) ring.push(destination(lon, lat, start + (fov * i) / n, rangeM));
  ring.push(apex);
  return ring;
}
