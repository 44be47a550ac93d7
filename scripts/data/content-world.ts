// The shared state of one content run: the local projection, the city raster (water, lakes, city,
// occupancy), the boundary polygons with their indexes, and the urban cores every theme builds on.
import { localProjection, roundCoord, type LocalProjection } from './geom.ts';
import type { Rng } from './rng.ts';
import {
  BLOCKED, CITY, PolygonIndex, Raster, WET, interiorPoint, pointInLocalPoly, polyArea, toLocalPoly, type LocalPoly,
} from './content-spatial.ts';
import { townShort, villageShort } from './names.ts';

export interface BoundaryInput {
  city: GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon>;
  towns: GeoJSON.Feature[]; villages: GeoJSON.Feature[]; grids: GeoJSON.Feature[]; water: GeoJSON.Feature[];
}

export interface TownInfo { code: string; name: string; short: string; kind: string; poly: LocalPoly; cx: number; cy: number; villageCount: number }
export interface VillageInfo { code: string; name: string; short: string; kind: string; townCode: string; poly: LocalPoly; area: number }
export interface GridInfo {
  code: string; name: string; villageCode: string; townCode: string;
  managerId: string; managerName: string; managerPhone: string; poly: LocalPoly;
}
export type CoreKind = 'city' | 'town' | 'zone';
/** An urban core: a street grid of `sx` × `sy` blocks rotated by `angle`, inside a circle. */
export interface Core { owner: number; kind: CoreKind; townCode: string; cx: number; cy: number; r: number; angle: number; sx: number; sy: number }

export interface World {
  proj: LocalProjection;
  raster: Raster;
  towns: TownInfo[]; townByCode: Map<string, TownInfo>; townIndex: PolygonIndex;
  villages: VillageInfo[]; villageByCode: Map<string, VillageInfo>;
  grids: GridInfo[]; gridIndex: PolygonIndex;
  cores: Core[];
  /** 虞山 ridge as an ellipse (centre, semi-axes, rotation): forest, no town blocks. */
  hill: { cx: number; cy: number; a: number; b: number; rot: number };
  lonLat(x: number, y: number): [number, number];
  /** Grid index (or -1) of the point as it will be written, i.e. after rounding to 1e-7°, so a point
   *  a hair from a grid edge cannot land in one grid here and in its neighbour in the output. */
  gridAt(x: number, y: number): number;
}

/** Old town (琴川) and 虞山 anchors from SOURCES.md. */
export const OLD_TOWN: [number, number] = [120.75, 31.65];
const HILL: [number, number] = [120.70, 31.67];
const RASTER_CELL = 10;

/** Lakes and the Yangtze block roads; canals and rivers are bridged. Names decide first (kinds vary by source). */
export function isBlockingWater(props: Record<string, unknown>, area: number): boolean {
  const name = String(props.name ?? ''), kind = String(props.kind ?? '').toLowerCase();
  if (/长江|湖|荡/.test(name) || /lake|reservoir|sea|yangtze|estuary/.test(kind)) return true;
  if (/河|港|塘|浦|泾|渠|浜/.test(name) || /canal|stream|ditch|river/.test(kind)) return false;
  return area > 500_000;
}

export function inHill(w: World, x: number, y: number): boolean {
  const { cx, cy, a, b, rot } = w.hill;
  const dx = x - cx, dy = y - cy, c = Math.cos(rot), s = Math.sin(rot);
  const u = dx * c + dy * s, v = -dx * s + dy * c;
  return (u * u) / (a * a) + (v * v) / (b * b) <= 1;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

export function buildWorld(b: BoundaryInput, rng: Rng): World {
  const proj = localProjection(OLD_TOWN[0], OLD_TOWN[1]);
  const fwd = (lon: number, lat: number): [number, number] => proj.fwd(lon, lat) as [number, number];
  const city = toLocalPoly(b.city.geometry, fwd);
  const pad = 500;
  const x0 = city.minX - pad, y0 = city.minY - pad, x1 = city.maxX + pad, y1 = city.maxY + pad;
  const raster = new Raster(x0, y0, x1, y1, RASTER_CELL);
  raster.fillPoly(city, CITY);
  for (const f of b.water) {
    if (!f.geometry) continue;
    const p = toLocalPoly(f.geometry, fwd);
    const bits = WET | (isBlockingWater(f.properties ?? {}, polyArea(p)) ? BLOCKED : 0);
    raster.fillPoly(p, bits);
    raster.markEdges(p, bits);
  }

  const towns: TownInfo[] = b.towns.map((f) => {
    const p = f.properties ?? {};
    return { code: str(p.code), name: str(p.name), short: townShort(str(p.name)), kind: str(p.kind), poly: toLocalPoly(f.geometry, fwd), cx: 0, cy: 0, villageCount: 0 };
  });
  const townByCode = new Map(towns.map((t) => [t.code, t]));
  const villages: VillageInfo[] = b.villages.map((f) => {
    const p = f.properties ?? {};
    const poly = toLocalPoly(f.geometry, fwd);
    return { code: str(p.code), name: str(p.name), short: villageShort(str(p.name)), kind: str(p.kind), townCode: str(p.town_code), poly, area: polyArea(poly) };
  });
  const villageByCode = new Map(villages.map((v) => [v.code, v]));
  const grids: GridInfo[] = b.grids.map((f) => {
    const p = f.properties ?? {};
    return {
      code: str(p.code), name: str(p.name), villageCode: str(p.village_code), townCode: str(p.town_code),
      managerId: str(p.manager_id), managerName: str(p.manager_name), managerPhone: str(p.manager_phone),
      poly: toLocalPoly(f.geometry, fwd),
    };
  });
  const gridIndex = new PolygonIndex(grids.map((g) => g.poly), x0, y0, x1, y1, 400);
  const townIndex = new PolygonIndex(towns.map((t) => t.poly), x0, y0, x1, y1, 1000);

  // Town centre: the area-weighted middle of its 社区 (the built-up core), kept inside the town and dry.
  const dry = (x: number, y: number): boolean => (raster.at(x, y) & (WET | CITY)) === CITY;
  for (const t of towns) {
    const vs = villages.filter((v) => v.townCode === t.code);
    t.villageCount = vs.length;
    const core = vs.filter((v) => v.kind === '社区');
    let sx = 0, sy = 0, sa = 0;
    for (const v of core) { const [px, py] = interiorPoint(v.poly); sx += px * v.area; sy += py * v.area; sa += v.area; }
    const cands: [number, number][] = [];
    if (sa > 0) cands.push([sx / sa, sy / sa]);
    for (const v of [...core].sort((p, q) => q.area - p.area).slice(0, 3)) cands.push(interiorPoint(v.poly));
    cands.push(interiorPoint(t.poly));
    const pick = cands.find(([x, y]) => pointInLocalPoly(x, y, t.poly) && dry(x, y)) ?? cands[cands.length - 1];
    t.cx = pick[0]; t.cy = pick[1];
  }

  const cores = planCores(towns, raster, rng.fork('cores'), dry);
  const [hx, hy] = fwd(HILL[0], HILL[1]);
  return {
    proj, raster, towns, townByCode, townIndex, villages, villageByCode, grids, gridIndex, cores,
    hill: { cx: hx, cy: hy, a: 3500, b: 1300, rot: -0.45 },
    lonLat: (x, y) => { const [lon, lat] = proj.inv(x, y); return [roundCoord(lon), roundCoord(lat)]; },
    gridAt: (x, y) => {
      const [lon, lat] = proj.inv(x, y);
      const [sx, sy] = proj.fwd(roundCoord(lon), roundCoord(lat));
      return gridIndex.find(sx, sy);
    },
  };
}

/**
 * Urban cores: the main city around the old town (the 街道 centres near it merge into it), one core per
 * other town centre, industrial grids for the development zones. Cores never overlap, so their street
 * grids never cut each other's blocks.
 */
function planCores(towns: TownInfo[], raster: Raster, rng: Rng, dry: (x: number, y: number) => boolean): Core[] {
  const cores: Core[] = [];
  let owner = 2;
  const [mx, my] = dry(0, 0) ? [0, 0] : (() => {
    const t = [...towns].sort((p, q) => q.villageCount - p.villageCount)[0];
    return t ? [t.cx, t.cy] : [0, 0];
  })();
  const mainTown = towns.find((t) => pointInLocalPoly(mx, my, t.poly));
  cores.push({ owner: owner++, kind: 'city', townCode: mainTown?.code ?? '', cx: mx, cy: my, r: 3300, angle: 0.14, sx: 170, sy: 150 });
  for (const t of [...towns].sort((p, q) => (p.code < q.code ? -1 : 1))) {
    const zone = t.kind === '功能区' || t.code.slice(6, 7) === '4';
    let r = zone ? 1800 : t.kind === '街道' ? 1500 : Math.min(1400, Math.max(900, 700 + 25 * t.villageCount));
    const d0 = Math.hypot(t.cx - mx, t.cy - my);
    if (d0 < cores[0].r + 0.4 * r) continue; // part of the main city
    for (const c of cores) r = Math.min(r, Math.hypot(t.cx - c.cx, t.cy - c.cy) - c.r - 200);
    if (r < 500) continue;
    cores.push({
      owner: owner++, kind: zone ? 'zone' : 'town', townCode: t.code, cx: t.cx, cy: t.cy, r,
      angle: rng.range(-0.45, 0.45), sx: zone ? 300 : 160, sy: zone ? 240 : 140,
    });
  }
  void raster;
  return cores;
}
