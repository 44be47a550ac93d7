import { describe, expect, it } from 'vitest';
import type { CameraView } from './engine.ts';
import { DECK_FOVY_DEG, distanceForZoom, globeCameraToView, metersPerPixelAt, viewToGlobeCamera, zoomForDistance } from './camera.ts';

const vp = { height: 800, fovyDeg: 40 };

describe('metersPerPixelAt', () => {
  // deck.gl zoom counts 512-px tiles, so its z is the 256-px table's z+1: half the table's 156543 m/px at z0.
  // Bug: with 256 the 3D view showed twice the 2D extent at the same zoom.
  it('matches deck.gl zoom (the 256-px Web Mercator table shifted by one level) and shrinks with cos(lat)', () => {
    expect(metersPerPixelAt(0, 0)).toBeCloseTo(156543.03 / 2, 1);
    expect(metersPerPixelAt(60, 10)).toBeCloseTo(156543.03 / 2048 / 2, 2);
  });
});

describe('zoom ⇄ distance', () => {
  it('shows the 2D ground extent: viewport height × m/px spans the vertical fov', () => {
    const d = distanceForZoom(31.65, 13, vp);
    const ground = 2 * d * Math.tan((20 * Math.PI) / 180);
    expect(ground).toBeCloseTo(800 * metersPerPixelAt(31.65, 13), 3);
    // deck.gl's own camera: altitude 1.5 viewport heights
    expect(distanceForZoom(31.65, 13, { height: 800, fovyDeg: DECK_FOVY_DEG })).toBeCloseTo(1.5 * 800 * metersPerPixelAt(31.65, 13), 3);
  });

  it('one zoom level halves the distance, and the inverse round-trips', () => {
    expect(distanceForZoom(31.65, 14, vp) / distanceForZoom(31.65, 13, vp)).toBeCloseTo(0.5, 9);
    for (const z of [6, 10.5, 13, 17.25]) expect(zoomForDistance(31.65, distanceForZoom(31.65, z, vp), vp)).toBeCloseTo(z, 9);
  });
});

describe('CameraView ⇄ globe camera', () => {
  it('looks straight down from above the centre at pitch 0', () => {
    const cam = viewToGlobeCamera({ lon: 120.7, lat: 31.655, zoom: 13, bearing: 0, pitch: 0 }, vp, 50);
    expect(cam.lon).toBeCloseTo(120.7, 9);
    expect(cam.lat).toBeCloseTo(31.655, 9);
    expect(cam.pitch).toBe(-90);
    expect(cam.height).toBeCloseTo(50 + distanceForZoom(31.655, 13, vp), 6);
  });

  it('stands back from the centre, opposite the bearing, when pitched', () => {
    const cam = viewToGlobeCamera({ lon: 120.7, lat: 31.655, zoom: 13, bearing: 0, pitch: 60 }, vp);
    expect(cam.lat).toBeLessThan(31.655); // bearing north: the camera is south of the centre
    expect(cam.lon).toBeCloseTo(120.7, 9);
    expect(cam.pitch).toBeCloseTo(-30, 9);
    expect(cam.height).toBeCloseTo(distanceForZoom(31.655, 13, vp) / 2, 3);
    const east = viewToGlobeCamera({ lon: 120.7, lat: 31.655, zoom: 13, bearing: 90, pitch: 45 }, vp);
    expect(east.lon).toBeLessThan(120.7); // looking east: the camera is west of the centre
    expect(east.heading).toBeCloseTo(90, 0); // up to the meridians' convergence
  });

  it('round-trips within a few metres and hundredths of a zoom', () => {
    const views: CameraView[] = [
      { lon: 120.7, lat: 31.655, zoom: 13, bearing: 20, pitch: 60 },
      { lon: 120.752, lat: 31.654, zoom: 10.5, bearing: 0, pitch: 0 },
      { lon: 120.9, lat: 31.8, zoom: 16.3, bearing: -135, pitch: 30 },
      { lon: 120.6, lat: 31.5, zoom: 8, bearing: 179, pitch: 85 },
    ];
    for (const v of views) {
      const back = globeCameraToView(viewToGlobeCamera(v, vp, 120), vp, 120);
      expect(Math.abs(back.lon - v.lon) * 95_000).toBeLessThan(2);
      expect(Math.abs(back.lat - v.lat) * 111_000).toBeLessThan(2);
      expect(back.zoom).toBeCloseTo(v.zoom, 2);
      expect(back.bearing).toBeCloseTo(v.bearing, 6);
      expect(back.pitch).toBeCloseTo(v.pitch, 6);
    }
  });

  it('clamps pitch to what a globe camera can show and wraps bearings', () => {
    const cam = viewToGlobeCamera({ lon: 120.7, lat: 31.655, zoom: 12, bearing: 370, pitch: 120 }, vp);
    expect(cam.pitch).toBe(-5);
    expect(cam.heading).toBeCloseTo(10, 0);
  });
});
