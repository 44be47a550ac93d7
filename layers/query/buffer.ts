// Buffers in metres, for display and for 'within'/'contains' a buffered shape. A point's buffer is a
// 64-gon circle computed in Gauss–Krüger metres (the plane distances are measured in, so a point inside
// the polygon is within `metres` up to the chord error, 0.12 % of the radius). Lines and polygons use
// @turf/buffer (JSTS), whose azimuthal-equidistant plane differs from Gauss–Krüger by < 0.1 % in the city.
// For exact answers "within d metres of a shape" use the 'dwithin' predicate, not a buffer.
import { buffer as turfBuffer } from '@turf/turf';
import { transformCoords } from '../crs.ts';

const CIRCLE_STEPS = 64;

export function bufferGeometry(g: GeoJSON.Geometry, metres: number): GeoJSON.Polygon | GeoJSON.MultiPolygon {
  if (!(metres > 0) || !Number.isFinite(metres)) throw new RangeError(`buffer distance must be a positive number of metres, got ${metres}`);
  if (g.type === 'Point') return circle(g.coordinates[0], g.coordinates[1], metres);
  const f = turfBuffer({ type: 'Feature', properties: {}, geometry: g } as GeoJSON.Feature, metres, { units: 'meters', steps: 16 });
  if (!f || !f.geometry) throw new Error(`buffering a ${g.type} by ${metres} m gave an empty shape; check the geometry`);
  return f.geometry as GeoJSON.Polygon | GeoJSON.MultiPolygon;
}

/** A circle of `metres` around lon/lat, as a WGS84 polygon (counter-clockwise, closed). */
export function circle(lon: number, lat: number, metres: number, steps = CIRCLE_STEPS): GeoJSON.Polygon {
  const [cx, cy] = transformCoords('EPSG:4326', 'EPSG:4549', new Float64Array([lon, lat]));
  const xy = new Float64Array(2 * steps);
  for (let i = 0; i < steps; i++) {
    const a = (2 * Math.PI * i) / steps;
    xy[2 * i] = cx + metres * Math.cos(a);
    xy[2 * i + 1] = cy + metres * Math.sin(a);
  }
  const ll = transformCoords('EPSG:4549', 'EPSG:4326', xy);
  const ring: GeoJSON.Position[] = [];
  for (let i = 0; i < steps; i++) ring.push([ll[2 * i], ll[2 * i + 1]]);
  ring.push([ll[0], ll[1]]);
  return { type: 'Polygon', coordinates: [ring] };
}
