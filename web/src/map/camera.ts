// CameraView (the 2D engine's centre/zoom/bearing/pitch) ⇄ a Cesium camera (position, heading, pitch).
// Pure: no Cesium import, so it is unit-tested in Node and the 2D bundle can use it.
// zoom ⇄ distance: the camera stands at the distance where the viewport's height covers the same
// ground as the Web Mercator map at that zoom at the view centre, so a 2D ⇄ 3D switch keeps the extent.
import type { CameraView } from './engine.ts';
import { destination } from './view-cone.ts';

/** WGS84 semi-major axis: the Web Mercator "sphere" (EPSG:3857). */
const WEB_MERCATOR_RADIUS = 6_378_137;
// deck.gl (math.gl) counts zoom in 512-px tiles: at zoom z the world is 512·2^z CSS pixels wide.
// With 256 the 3D view showed twice the extent of the 2D view at the same zoom.
const TILE_SIZE = 512;
const RAD = Math.PI / 180;
/** deck.gl's MapView: altitude 1.5 viewport heights, i.e. a vertical fov of 2·atan(1/3) ≈ 36.87°. */
export const DECK_FOVY_DEG = 2 * Math.atan(0.5 / 1.5) / RAD;
/** Past 89° Cesium's camera looks along the ground and the centre pick misses; 2D allows 60. */
export const MAX_PITCH_DEG = 85;

/** Ground metres per CSS pixel of the Web Mercator map at `lat` and `zoom`. */
export function metersPerPixelAt(lat: number, zoom: number): number {
  return (2 * Math.PI * WEB_MERCATOR_RADIUS * Math.cos(lat * RAD)) / (TILE_SIZE * 2 ** zoom);
}

export interface Viewport {
  /** CSS pixels. */
  height: number;
  /** Vertical field of view of the 3D camera, degrees. */
  fovyDeg: number;
}

/** Camera-to-centre distance (m) that shows the 2D view's ground extent at `lat`/`zoom`. */
export function distanceForZoom(lat: number, zoom: number, vp: Viewport): number {
  const groundHeight = vp.height * metersPerPixelAt(lat, zoom);
  return groundHeight / 2 / Math.tan((vp.fovyDeg * RAD) / 2);
}

/** Inverse of distanceForZoom. */
export function zoomForDistance(lat: number, distanceM: number, vp: Viewport): number {
  const groundHeight = 2 * distanceM * Math.tan((vp.fovyDeg * RAD) / 2);
  const mpp = groundHeight / vp.height;
  return Math.log2((2 * Math.PI * WEB_MERCATOR_RADIUS * Math.cos(lat * RAD)) / (TILE_SIZE * mpp));
}

/** A Cesium camera in plain numbers: position (WGS84 degrees, ellipsoid height m), heading/pitch in degrees. */
export interface GlobeCamera {
  lon: number;
  lat: number;
  height: number;
  /** Clockwise from north. */
  heading: number;
  /** Cesium convention: −90 looks straight down, 0 at the horizon. */
  pitch: number;
}

/** Initial great-circle bearing (degrees clockwise from north) from point 1 to point 2. */
export function initialBearing(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const p1 = lat1 * RAD, p2 = lat2 * RAD, dl = (lon2 - lon1) * RAD;
  return Math.atan2(Math.sin(dl) * Math.cos(p2), Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl)) / RAD;
}

const wrap180 = (deg: number) => ((((deg + 180) % 360) + 360) % 360) - 180;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * The camera that looks at the view's centre (at ground height `groundM`) with its bearing and pitch.
 * When pitched, the camera stands back from the centre, opposite to where it looks.
 */
export function viewToGlobeCamera(view: CameraView, vp: Viewport, groundM = 0): GlobeCamera {
  const pitch = clamp(view.pitch, 0, MAX_PITCH_DEG);
  const d = distanceForZoom(view.lat, view.zoom, vp);
  const back = d * Math.sin(pitch * RAD);
  if (back < 0.01) return { lon: view.lon, lat: view.lat, height: groundM + d, heading: wrap180(view.bearing), pitch: pitch - 90 };
  const [lon, lat] = destination(view.lon, view.lat, view.bearing + 180, back);
  // Cesium's heading is local to the camera: on a sphere the direction back to the centre differs from
  // the view's bearing by the meridians' convergence (noticeable at city scale with a steep pitch).
  return { lon, lat, height: groundM + d * Math.cos(pitch * RAD), heading: wrap180(initialBearing(lon, lat, view.lon, view.lat)), pitch: pitch - 90 };
}

/** The view a camera shows, given the ground point at the screen centre (and its distance), e.g. from a globe pick. */
export function viewFromCentre(centre: { lon: number; lat: number; distance: number }, heading: number, pitch: number, vp: Viewport): CameraView {
  return {
    lon: centre.lon,
    lat: centre.lat,
    zoom: zoomForDistance(centre.lat, centre.distance, vp),
    bearing: wrap180(heading),
    pitch: clamp(pitch + 90, 0, MAX_PITCH_DEG),
  };
}

/**
 * The view of a camera when no ground point could be picked (terrain not loaded yet): intersect the
 * line of sight with the level ground at `groundM`, the exact inverse of viewToGlobeCamera.
 */
export function globeCameraToView(cam: GlobeCamera, vp: Viewport, groundM = 0): CameraView {
  const pitch = clamp(cam.pitch + 90, 0, MAX_PITCH_DEG);
  const above = Math.max(1, cam.height - groundM);
  const d = above / Math.cos(pitch * RAD);
  const ahead = above * Math.tan(pitch * RAD);
  if (ahead < 0.01) return viewFromCentre({ lon: cam.lon, lat: cam.lat, distance: d }, cam.heading, cam.pitch, vp);
  const [lon, lat] = destination(cam.lon, cam.lat, cam.heading, ahead);
  return viewFromCentre({ lon, lat, distance: d }, initialBearing(lon, lat, cam.lon, cam.lat) + 180, cam.pitch, vp);
}
