// Cameras and IoT sensors. Each kind draws from a pool of plausible spots (street corners, points along
// roads, buildings, shores, bridges), shuffled with the theme's RNG, and takes its scaled count from it;
// every device lies in a grid and knows its grid code.
import type { Rng } from './rng.ts';
import { CITY, WET } from './content-spatial.ts';
import type { World } from './content-world.ts';
import type { RoadRec, RoadsResult } from './roads.ts';
import type { BuildResult } from './buildings.ts';

interface Spot { x: number; y: number; name: string; heading: number }

const CAMERAS_AT_1 = 5_400;
const SENSORS_AT_1: Record<SensorKind, number> = {
  smoke: 5_500, fire_hydrant: 4_000, manhole: 3_500, gas: 2_500, power: 2_000, water_level: 1_200,
  noise: 1_000, bridge_strain: 800, rain: 600, air_quality: 500,
};
type SensorKind = 'water_level' | 'manhole' | 'gas' | 'smoke' | 'power' | 'air_quality' | 'bridge_strain' | 'noise' | 'rain' | 'fire_hydrant';
const SENSOR_META: Record<SensorKind, { dept: string; unit: string; title: string }> = {
  water_level: { dept: 'water', unit: 'm', title: '水位监测' },
  manhole: { dept: 'urban', unit: 'cm', title: '井盖监测' },
  gas: { dept: 'gas', unit: '%LEL', title: '燃气泄漏监测' },
  smoke: { dept: 'fire', unit: '%obs/m', title: '烟感' },
  power: { dept: 'power', unit: 'kW', title: '配电监测' },
  air_quality: { dept: 'ecology', unit: 'μg/m³', title: '空气质量监测' },
  bridge_strain: { dept: 'transport', unit: 'με', title: '桥梁应变监测' },
  noise: { dept: 'ecology', unit: 'dB', title: '噪声监测' },
  rain: { dept: 'water', unit: 'mm', title: '雨量监测' },
  fire_hydrant: { dept: 'fire', unit: 'MPa', title: '消火栓水压监测' },
};

/** Compass heading (degrees clockwise from north) of a direction in local metres. */
export function headingOf(dx: number, dy: number): number {
  return Math.round(((Math.atan2(dx, dy) * 180) / Math.PI + 360) % 360 * 10) / 10;
}

export function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Points every `step` metres along roads (offset `side` metres to the right), facing along the road. */
export function alongRoads(roads: RoadRec[], step: number, side: number, filter: (r: RoadRec) => boolean): Spot[] {
  const out: Spot[] = [];
  for (const r of roads) {
    if (!filter(r)) continue;
    let carry = step / 2, chain = 0;
    for (let i = 0; i + 3 < r.pts.length; i += 2) {
      const xa = r.pts[i], ya = r.pts[i + 1], dx = r.pts[i + 2] - xa, dy = r.pts[i + 3] - ya;
      const len = Math.hypot(dx, dy);
      if (!len) continue;
      for (let t = carry; t < len; t += step) {
        const x = xa + (dx * t) / len + (dy / len) * side, y = ya + (dy * t) / len - (dx / len) * side;
        const c = chain + t;
        out.push({ x, y, name: `${r.name}K${Math.floor(c / 1000)}+${String(Math.round(c % 1000)).padStart(3, '0')}`, heading: headingOf(dx, dy) });
      }
      carry = (((carry - len) % step) + step) % step;
      chain += len;
    }
  }
  return out;
}

const dry = (w: World, x: number, y: number): boolean => (w.raster.at(x, y) & (CITY | WET)) === CITY;

export function generateCameras(w: World, roads: RoadsResult, bld: BuildResult, rng: Rng, scale: number): GeoJSON.Feature[] {
  const pool: Spot[] = [];
  const CORNERS: [number, number][] = [[1, 1], [-1, 1], [1, -1], [-1, -1]];
  for (const c of roads.crossings) {
    const cs = Math.cos(c.angle), sn = Math.sin(c.angle);
    for (const [p, q] of CORNERS) {
      const ox = 12 * (p * cs - q * sn), oy = 12 * (p * sn + q * cs);
      const corner = (oy > 0 ? (Math.abs(ox) > Math.abs(oy) * 0.2 ? (ox > 0 ? '东北' : '西北') : '北') : (Math.abs(ox) > Math.abs(oy) * 0.2 ? (ox > 0 ? '东南' : '西南') : '南'));
      // face back across the crossing along one of the two streets
      const alongV = rng.chance(0.5);
      const hx = alongV ? sn * q : -cs * p, hy = alongV ? -cs * q : -sn * p;
      pool.push({ x: c.x + ox, y: c.y + oy, name: `${c.a}与${c.b}路口${corner}${corner.length === 1 ? '侧' : '角'}`, heading: headingOf(hx, hy) });
    }
  }
  pool.push(...alongRoads(roads.roads, 350, 9, (r) => r.cls === 'arterial' || r.cls === 'secondary'));
  for (const g of bld.gates) pool.push({ x: g.x, y: g.y, name: `${g.name}南门`, heading: 0 });
  const target = Math.max(1, Math.round(CAMERAS_AT_1 * scale));
  const KINDS = ['枪机', '球机', '半球', '人脸卡口'];
  const out: GeoJSON.Feature[] = [];
  for (const s of shuffle(pool, rng)) {
    if (out.length >= target) break;
    if (!dry(w, s.x, s.y)) continue;
    const grid = w.gridAt(s.x, s.y);
    if (grid < 0) continue;
    const kind = rng.weighted(KINDS, [0.5, 0.25, 0.1, 0.15]);
    const heading = kind === '球机' ? Math.round(rng.range(0, 3600)) / 10 : Math.round(((s.heading + rng.range(-15, 15) + 360) % 360) * 10) / 10;
    out.push({
      type: 'Feature', geometry: { type: 'Point', coordinates: w.lonLat(s.x, s.y) },
      properties: {
        id: `cam-${String(out.length + 1).padStart(6, '0')}`, name: s.name, kind,
        height_m: Math.round(rng.range(3, 12) * 10) / 10, heading,
        fov: Math.round(kind === '球机' ? rng.range(50, 90) : rng.range(30, 75)),
        range_m: Math.round(kind === '球机' ? rng.range(80, 150) : kind === '人脸卡口' ? rng.range(30, 60) : rng.range(40, 130)),
        status: rng.weighted(['online', 'offline', 'fault'], [0.92, 0.05, 0.03]),
        department: kind === '人脸卡口' ? 'police' : rng.weighted(['police', 'urban', 'transport'], [0.8, 0.1, 0.1]),
        grid_code: w.grids[grid].code, synthetic: true,
      },
    });
  }
  return out;
}

export function generateSensors(w: World, roads: RoadsResult, bld: BuildResult, rng: Rng, scale: number): GeoJSON.Feature[] {
  const allRoads = [...roads.roads, ...bld.lanes];
  const urban = (r: RoadRec): boolean => r.cls === 'local' || r.cls === 'secondary';
  const bname = (i: number): string => bld.recs[i].name ?? w.villageByCode.get(w.grids[bld.recs[i].grid].villageCode)?.short ?? '';
  const shore: Spot[] = [];
  {
    // dry city cells with water 20 m away, on a 60 m stride
    const r = w.raster, k = 6;
    for (let y = 2; y < r.h - 2; y += k) for (let x = 2; x < r.w - 2; x += k) {
      const i = y * r.w + x;
      if ((r.flags[i] & (CITY | WET)) !== CITY) continue;
      if (r.flags[i + 2] & WET || r.flags[i - 2] & WET || r.flags[i + 2 * r.w] & WET || r.flags[i - 2 * r.w] & WET) {
        shore.push({ x: r.x0 + (x + 0.5) * r.cell, y: r.y0 + (y + 0.5) * r.cell, name: '', heading: 0 });
      }
    }
  }
  const scatter = (n: number): Spot[] => {
    const out: Spot[] = [];
    const r = w.raster;
    for (let k = 0; k < n * 4 && out.length < n; k++) {
      const x = rng.range(r.x0, r.x0 + r.w * r.cell), y = rng.range(r.y0, r.y0 + r.h * r.cell);
      if (dry(w, x, y)) out.push({ x, y, name: '', heading: 0 });
    }
    return out;
  };
  const bspots = (pred: (i: number) => boolean): Spot[] => {
    const out: Spot[] = [];
    bld.recs.forEach((b, i) => { if (pred(i)) out.push({ x: b.x, y: b.y, name: bname(i), heading: 0 }); });
    return out;
  };
  const pools: Record<SensorKind, () => Spot[]> = {
    smoke: () => bspots((i) => bld.recs[i].use !== 'industrial' || bld.recs[i].core > 0),
    fire_hydrant: () => alongRoads(allRoads, 90, 10, urban),
    manhole: () => alongRoads(allRoads, 60, 2, urban),
    gas: () => alongRoads(allRoads, 120, 6, (r) => r.cls !== 'lane'),
    power: () => [...alongRoads(allRoads, 200, 8, () => true), ...bspots((i) => bld.recs[i].core > 0 && i % 7 === 0)],
    water_level: () => shore,
    noise: () => [...roads.crossings.map((c) => ({ x: c.x + 15, y: c.y + 15, name: `${c.a}与${c.b}路口`, heading: 0 }))],
    bridge_strain: () => roads.bridges.flatMap((b) => [{ x: b.x, y: b.y, name: `${b.road}桥`, heading: 0 }, { x: b.x + 3, y: b.y + 3, name: `${b.road}桥`, heading: 0 }]),
    rain: () => scatter(3000),
    air_quality: () => scatter(3000),
  };
  const out: GeoJSON.Feature[] = [];
  const total = Math.max(1, Math.round(Object.values(SENSORS_AT_1).reduce((a, b) => a + b, 0) * scale));
  const kinds = Object.keys(SENSORS_AT_1) as SensorKind[];
  const leftovers: { kind: SensorKind; spots: Spot[] }[] = [];
  const make = (kind: SensorKind, s: Spot, wet: boolean): boolean => {
    if (!wet && !dry(w, s.x, s.y)) return false;
    const grid = w.gridAt(s.x, s.y);
    if (grid < 0) return false;
    const meta = SENSOR_META[kind];
    const place = s.name ? s.name.replace(/K\d+\+\d+$/, '') : (w.villageByCode.get(w.grids[grid].villageCode)?.short ?? '');
    out.push({
      type: 'Feature', geometry: { type: 'Point', coordinates: w.lonLat(s.x, s.y) },
      properties: {
        id: `sen-${String(out.length + 1).padStart(6, '0')}`, name: `${place}${meta.title}${String(out.length + 1).padStart(5, '0')}`,
        kind, unit: meta.unit, status: rng.weighted(['online', 'offline', 'fault'], [0.93, 0.05, 0.02]),
        department: meta.dept, grid_code: w.grids[grid].code, synthetic: true,
      },
    });
    return true;
  };
  for (const kind of kinds) {
    const want = Math.max(1, Math.round(SENSORS_AT_1[kind] * scale));
    const spots = shuffle(pools[kind](), rng);
    let made = 0, k = 0;
    for (; k < spots.length && made < want; k++) if (make(kind, spots[k], kind === 'bridge_strain')) made++;
    leftovers.push({ kind, spots: spots.slice(k) });
  }
  // kinds that ran short of spots (few bridges in a small city) are made up by the road-side kinds
  for (const l of leftovers) for (const s of l.spots) {
    if (out.length >= total) break;
    if (l.kind === 'bridge_strain' || l.kind === 'water_level') continue;
    make(l.kind, s, false);
  }
  return out;
}
