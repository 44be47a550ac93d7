// Water of the demo city: the Yangtze, the two lakes and the main canals, as polygons. Positions follow
// real features (changshu_towns_facts.json "physical"); shapes are generated.
// - The Yangtze shore is read off the ASTER samples, which have none over the river: the shore runs
//   half a lattice step north of the northernmost sample of each lattice column.
// - 尚湖 and 昆承湖 sit on the two large holes of the ASTER samples (6.6 km² at 120.67–120.71E,
//   31.64–31.67N; 17.8 km² at 120.72–120.76E, 31.57–31.62N), with the stated areas (8.0 and 18.4 km²),
//   尚湖 parallel to the NW–SE ridge of 虞山 and 昆承湖 about 6 km N–S by 3.9 km.
import * as turf from '@turf/turf';
import { blob, chaikin, densify, ribbon, ringSignedArea, roundGeometry, valueNoise, type LocalProjection, type Ring, type XY } from './geom.ts';
import type { DemSample } from './terrain.ts';
import type { Rng } from './rng.ts';

interface RiverDef { id: string; name: string; kind: 'river' | 'canal'; width: number; path: XY[] }

/** Courses (WGS84 way points) after the facts file: 白茆塘 from the old town's east moat SE, E, then NE
 * through 支塘 to the Yangtze NE of 东张; 元和塘 S→N west of 昆承湖 (between 莫城 and 杨园) to the moat;
 * 常浒河 from the city NE through 梅李 to 浒浦; 望虞河 from the 张桥 area (SW) north past 尚湖 and 虞山
 * through 海虞 to the Yangtze; 盐铁塘 N–S through 梅李 and 支塘; 福山塘 N–S through west 海虞; 张家港河
 * SE→NW across the north end of 昆承湖; 青墩塘 E–W across 古里. Widths are typical of these channels. */
export const RIVERS: RiverDef[] = [
  { id: 'water-wangyuhe', name: '望虞河', kind: 'canal', width: 90,
    path: [[120.600, 31.520], [120.625, 31.575], [120.648, 31.615], [120.660, 31.672], [120.690, 31.702], [120.738, 31.750], [120.772, 31.800], [120.790, 31.840]] },
  { id: 'water-baimaotang', name: '白茆塘', kind: 'canal', width: 60,
    path: [[120.758, 31.650], [120.790, 31.636], [120.840, 31.628], [120.900, 31.622], [120.945, 31.626], [120.990, 31.668], [121.030, 31.718], [121.065, 31.770]] },
  { id: 'water-yuanhetang', name: '元和塘', kind: 'canal', width: 55,
    path: [[120.698, 31.500], [120.704, 31.555], [120.712, 31.598], [120.726, 31.630], [120.743, 31.646]] },
  { id: 'water-changhuhe', name: '常浒河', kind: 'river', width: 60,
    path: [[120.760, 31.662], [120.800, 31.690], [120.858, 31.730], [120.890, 31.762], [120.905, 31.810]] },
  { id: 'water-yantietang', name: '盐铁塘', kind: 'canal', width: 40,
    path: [[120.842, 31.815], [120.866, 31.752], [120.902, 31.700], [120.938, 31.645], [120.950, 31.600], [120.962, 31.530]] },
  { id: 'water-fushantang', name: '福山塘', kind: 'canal', width: 40,
    path: [[120.738, 31.678], [120.726, 31.722], [120.714, 31.770], [120.708, 31.830]] },
  { id: 'water-zhangjiaganghe', name: '张家港河', kind: 'canal', width: 60,
    path: [[120.870, 31.520], [120.805, 31.575], [120.760, 31.614], [120.705, 31.628], [120.650, 31.642], [120.605, 31.690], [120.575, 31.725]] },
  { id: 'water-qinduntang', name: '青墩塘', kind: 'canal', width: 30,
    path: [[120.772, 31.676], [120.850, 31.668], [120.935, 31.664]] },
];

export const LAKES = {
  shanghu: { id: 'water-shanghu', name: '尚湖', at: [120.684, 31.649] as XY, a: 2300, b: 1100, rotDeg: -36 },
  kunchenghu: { id: 'water-kunchenghu', name: '昆承湖', at: [120.742, 31.592] as XY, a: 3000, b: 1950, rotDeg: 84 },
};

export interface WaterResult { features: GeoJSON.Feature[]; yangtzeLabel: [number, number] }

function wobbly(r: Rng, amp: number): (t: number) => number {
  const p = [r.range(0, 6.3), r.range(0, 6.3), r.range(0, 6.3)];
  return (t) => amp * (0.6 * Math.sin(3 * t + p[0]) + 0.3 * Math.sin(5 * t + p[1]) + 0.15 * Math.sin(9 * t + p[2]));
}

function toLonLat(ring: Ring, proj: LocalProjection): GeoJSON.Position[] {
  return ring.map(([x, y]) => proj.inv(x, y));
}

/** Yangtze polygon: shore from the DEM lattice, then out over the river (beyond the city) and back. */
export function yangtzeRing(samples: readonly DemSample[], outline: readonly GeoJSON.Position[]): GeoJSON.Position[] {
  const step = 0.005556; // 20 ASTER pixels of 1″
  const cols = new Map<number, number[]>();
  for (const s of samples) {
    const k = Math.round(s.lon / step);
    const l = cols.get(k);
    if (l) l.push(s.lat); else cols.set(k, [s.lat]);
  }
  // North edge of the outline per column (the city's share of the river lies inside it).
  const northEdge = (lon: number): number => {
    let n = -Infinity;
    for (let i = 0; i < outline.length - 1; i++) {
      const [x0, y0] = outline[i], [x1, y1] = outline[i + 1];
      if ((x0 <= lon && x1 >= lon) || (x1 <= lon && x0 >= lon)) {
        const y = x1 === x0 ? Math.max(y0, y1) : y0 + ((lon - x0) / (x1 - x0)) * (y1 - y0);
        if (y > n) n = y;
      }
    }
    return n;
  };
  const shore: XY[] = [];
  for (const k of [...cols.keys()].sort((a, b) => a - b)) {
    const lats = cols.get(k)!.sort((a, b) => b - a);
    // The northernmost sample with another one just south of it (skips lone samples on jetties and sand bars).
    let top = lats[lats.length - 1];
    for (let i = 0; i < lats.length - 1; i++) if (lats[i] - lats[i + 1] < step * 1.5) { top = lats[i]; break; }
    const lon = k * step;
    const edge = northEdge(lon);
    if (lon > 120.74 && edge - top > 2 * step) shore.push([lon, top + step / 2]);
  }
  if (shore.length < 3) throw new Error('yangtzeRing: no river columns found - are these the Changshu ASTER samples?');
  const smooth = chaikin(shore.map((p, i) => {
    const a = shore[Math.max(0, i - 1)], b = shore[Math.min(shore.length - 1, i + 1)];
    return [p[0], (a[1] + 2 * p[1] + b[1]) / 4] as XY;
  }), 2);
  const [w] = smooth[0], [e, ey] = smooth[smooth.length - 1];
  // Out over the river: downstream to the SE past the city's east tip, across to the far (Nantong) bank, back upstream.
  const ring: GeoJSON.Position[] = [
    ...smooth,
    [e + 0.07, ey - 0.05], [e + 0.12, ey - 0.02], [e + 0.10, 31.86], [w + 0.15, 31.93], [w - 0.03, 31.90], [w - 0.02, smooth[0][1] + 0.004],
  ];
  ring.push([...ring[0]]);
  return ring;
}

export function buildWater(opts: {
  proj: LocalProjection; outline: GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon>; outlineRing: readonly GeoJSON.Position[];
  samples: readonly DemSample[]; rng: Rng;
}): WaterResult {
  const { proj, rng } = opts;
  const features: GeoJSON.Feature[] = [];
  const yr = yangtzeRing(opts.samples, opts.outlineRing);
  const ccw = ringSignedArea(yr as XY[]) > 0 ? yr : [...yr].reverse(); // RFC 7946: exterior rings counter-clockwise
  features.push({ type: 'Feature', id: 'water-changjiang', properties: { id: 'water-changjiang', name: '长江', kind: 'river', synthetic: true },
    geometry: roundGeometry({ type: 'Polygon', coordinates: [ccw] }) });
  const mid = yr[Math.floor((yr.length - 7) / 2)];
  const yangtzeLabel: [number, number] = [Math.round(mid[0] * 1e6) / 1e6, Math.round((mid[1] + 0.02) * 1e6) / 1e6];

  for (const lake of [LAKES.shanghu, LAKES.kunchenghu]) {
    const [cx, cy] = proj.fwd(...lake.at);
    const ring = blob(cx, cy, lake.a, lake.b, (lake.rotDeg * Math.PI) / 180, wobbly(rng.fork(lake.id), 0.08), 120);
    features.push({ type: 'Feature', id: lake.id, properties: { id: lake.id, name: lake.name, kind: 'lake', synthetic: true },
      geometry: roundGeometry({ type: 'Polygon', coordinates: [toLonLat(ring, proj)] }) });
  }

  for (const r of RIVERS) {
    const rr = rng.fork(r.id);
    const meander = valueNoise(rr.next, 1800);
    const pts = densify(r.path.map(([lon, lat]) => proj.fwd(lon, lat)), 150);
    // Meander sideways along the normal, then smooth: generated courses, not straight ruled lines.
    const wig: XY[] = pts.map((p, i) => {
      const a = pts[Math.max(0, i - 1)], b = pts[Math.min(pts.length - 1, i + 1)];
      const dx = b[0] - a[0], dy = b[1] - a[1], l = Math.hypot(dx, dy) || 1;
      const off = (i === 0 || i === pts.length - 1 ? 0 : 1) * 140 * meander(p[0], p[1]);
      return [p[0] - (dy / l) * off, p[1] + (dx / l) * off];
    });
    const line = chaikin(wig, 2);
    const ring = ribbon(line, (i) => r.width * (0.9 + 0.2 * Math.abs(meander(line[i][0] + 5e4, line[i][1]))));
    const poly = turf.polygon([toLonLat(ring, proj)]);
    const clipped = turf.intersect(turf.featureCollection([poly, turf.feature(opts.outline.geometry)]));
    if (!clipped) continue;
    features.push({ type: 'Feature', id: r.id, properties: { id: r.id, name: r.name, kind: r.kind, synthetic: true }, geometry: roundGeometry(clipped.geometry) });
  }
  return { features, yangtzeLabel };
}
