// Road lines from the `roads` layer (FlatGeobuf, WGS84) in Gauss–Krüger metres (EPSG:4549, CM 120°E: the
// city's own zone, so lengths are true to < 0.1 ‰ — see layers/crs.ts).
import { transformCoords } from '../crs.ts';
import type { FgbFile } from '../formats/flatgeobuf.ts';
import { ROAD_CLASSES, type RoadClass, type RoadLine } from './road-graph.ts';

/** Every LineString / MultiLineString part as a RoadLine; an unknown or missing `class` counts as `lane`. */
export function roadLinesFromFgb(file: FgbFile): RoadLine[] {
  const cls = file.column('class');
  const out: RoadLine[] = [];
  for (let i = 0; i < file.count; i++) {
    const g = file.rawGeometry(i);
    if (!g || (g.type !== 'LineString' && g.type !== 'MultiLineString')) continue;
    const c = ROAD_CLASSES.includes(cls[i] as RoadClass) && cls[i] !== 'access' ? (cls[i] as RoadClass) : 'lane';
    const xy = transformCoords('EPSG:4326', 'EPSG:4549', g.xy);
    let start = 0;
    const ends = g.ends.length ? g.ends : Uint32Array.of(xy.length >> 1);
    for (const end of ends) {
      if (end - start >= 2) out.push({ xy: xy.subarray(2 * start, 2 * end), cls: c });
      start = end;
    }
  }
  return out;
}
