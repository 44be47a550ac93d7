// The administrative tiers of the demo city: the real outline of 常熟市, and generated polygons for its
// 17 real town-level units, 359 real villages/communities and ~2,000 grids. The three generated tiers are
// unions of one fine Voronoi mesh (partition.ts), so towns tile the city, villages tile their town and
// grids tile their village with no gaps or overlaps; only groups touching the outline are clipped to it.
import * as turf from '@turf/turf';
import { gcj02ToWgs84 } from '../../layers/crs.ts';
import {
  assembleRings, closeRing, localProjection, pointInRing, ringSignedArea, roundGeometry, valueNoise,
  type LocalProjection, type Ring, type XY,
} from './geom.ts';
import { buildMesh, cellsUnion, farthestPoints, growRegions, type Mesh } from './partition.ts';
import type { Rng } from './rng.ts';

export interface TownSpec { code: string; name: string; kind: string; villageCount?: number }
export interface VillageSpec { code: string; name: string; kind: string; townCode: string; townName: string }

export interface BoundarySources {
  /** The 常熟市 feature of suzhou_counties_gcj02_lowres.geojson (GCJ-02). */
  outlineGcj02: GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon>;
  towns: TownSpec[];
  villages: VillageSpec[];
  /** Whether a WGS84 point is dry land (not river or lake): village and grid seeds and labels stay on land,
   * and water counts little towards their sizes, so riverside villages reach into the Yangtze as strips
   * instead of villages lying wholly in the river. Default: all land. */
  isLand?: (lon: number, lat: number) => boolean;
}

export interface AdminBoundaries {
  city: GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon>;
  towns: GeoJSON.Feature[];
  villages: GeoJSON.Feature[];
  grids: GeoJSON.Feature[];
  /** Label points (lon/lat) inside each town and village, by code. */
  labels: Map<string, [number, number]>;
  proj: LocalProjection;
  /** The city outline ring in local metres (outer ring of the largest part). */
  outlineM: Ring;
}

/**
 * Where each town-level unit sits and how big it is: the anchor is a WGS84 point near the unit's middle
 * and `land` its land area (km²), from changshu_towns_facts.json where a page states it, else a plausible
 * figure; `river` is its share (km²) of the 102 km² of Yangtze inside the city outline. Positions follow
 * the stated neighbours: riverside W→E 海虞, 梅李, 碧溪, 经开区; 街道 around the old town (120.75, 31.65);
 * 莫城 on the west shore of 昆承湖; 沙家浜 south between the lakes; 辛庄 south-west; 尚湖镇 west.
 * 昆承湖 is placed where the ASTER samples have an 18 km² hole (120.72–120.76E, 31.57–31.62N).
 */
export const TOWN_LAYOUT: Record<string, { at: XY; land: number; river?: number }> = {
  '320581001': { at: [120.722, 31.662], land: 60 }, // 虞山街道: old town + 虞山 (虞山镇 189 km² split four ways)
  '320581002': { at: [120.758, 31.700], land: 45 }, // 常福街道: north of the old town (no public data)
  '320581003': { at: [120.785, 31.650], land: 42 }, // 琴川街道: main urban area east of the old city
  '320581004': { at: [120.705, 31.598], land: 37.1 }, // 莫城街道: 37.1 km² (2015), west shore of 昆承湖
  '320581005': { at: [120.955, 31.742], land: 55, river: 30 }, // 碧溪街道: NE riverside, east of 梅李
  '320581006': { at: [120.800, 31.600], land: 38 }, // 东南街道: SE of the urban area, south of 古里
  '320581101': { at: [120.870, 31.742], land: 80.84, river: 22 }, // 梅李镇: 80.84 km² (2023)
  '320581102': { at: [120.765, 31.770], land: 109.97, river: 28 }, // 海虞镇: 109.97 km² (2012)
  '320581104': { at: [120.845, 31.660], land: 96.4 }, // 古里镇: 96.4 km² (2022), east suburb
  '320581105': { at: [120.815, 31.545], land: 70.24 }, // 沙家浜镇: 70.24 km² (2017)
  '320581106': { at: [120.945, 31.610], land: 92 }, // 支塘镇: 47 km² before 任阳 merged in
  '320581107': { at: [120.915, 31.680], land: 62.5 }, // 董浜镇: 62.5 km² (c.2004)
  '320581110': { at: [120.650, 31.560], land: 95 }, // 辛庄镇: incl. 杨园 and 张桥
  '320581111': { at: [120.610, 31.655], land: 105 }, // 尚湖镇: west, 练塘/王庄/冶塘
  '320581401': { at: [121.035, 31.725], land: 22, river: 22 }, // 经开区: NE riverside around 常熟港
  '320581402': { at: [120.835, 31.615], land: 14 }, // 高新区: with 东南街道
  '320581407': { at: [120.765, 31.622], land: 6 }, // 大学科技园: on the 昆承湖 shore
};

/** Anchors for communities tied to a place: the 虞山 forest farm's three communities and the 尚湖 resort. */
const VILLAGE_ANCHORS: Record<string, XY> = {
  '320581001029': [120.690, 31.655], // 尚湖旅游度假区管理社区: north shore of 尚湖
  '320581001035': [120.716, 31.675], // 兴福 (兴福寺, north foot of 虞山)
  '320581001036': [120.693, 31.679], // 三峰 (三峰寺, western ridge)
  '320581001037': [120.705, 31.663], // 宝岩 (south slope)
};

const OLD_TOWN: XY = [120.75, 31.65];
const LATTICE = 240; // m: mesh spacing in the countryside

/** Short label: drop the 居委会/村委会 suffix of NBS names (花园浜社区居委会 → 花园浜社区, 某某村委会 → 某某村). */
export function shortVillageName(name: string): string {
  return name.replace(/居委会$/, '').replace(/村委会$/, '村');
}

/** The outline in WGS84 (counter-clockwise outer rings), from the GCJ-02 source. */
/**
 * Drops repeated vertices and the needle spikes that the source's ~100 m vertex quantisation leaves on
 * the outline (a vertex where the boundary goes out and straight back, turning by more than 160°): they
 * showed as black ticks on the city line from zoom 11 up. Repeats until none is left.
 */
export function despike(ring: GeoJSON.Position[]): GeoJSON.Position[] {
  let pts = ring.slice();
  if (pts.length > 1 && pts[0][0] === pts[pts.length - 1][0] && pts[0][1] === pts[pts.length - 1][1]) pts.pop();
  const kx = Math.cos((31.65 * Math.PI) / 180); // metres per degree of longitude relative to latitude here
  for (let changed = true; changed && pts.length > 3; ) {
    changed = false;
    const out: GeoJSON.Position[] = [];
    const n = pts.length;
    for (let i = 0; i < n; i++) {
      const a = out.length ? out[out.length - 1] : pts[(i - 1 + n) % n];
      const b = pts[i], c = pts[(i + 1) % n];
      const ux = (b[0] - a[0]) * kx, uy = b[1] - a[1], vx = (c[0] - b[0]) * kx, vy = c[1] - b[1];
      const lu = Math.hypot(ux, uy), lv = Math.hypot(vx, vy);
      if (lu === 0) { changed = true; continue; } // repeated vertex
      if (lv > 0 && (ux * vx + uy * vy) / (lu * lv) < -0.94) { changed = true; continue; } // turns back by > ~160°
      out.push(b);
    }
    pts = out;
  }
  return pts;
}

export function outlineToWgs84(f: GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon>): GeoJSON.Polygon | GeoJSON.MultiPolygon {
  const conv = (ring: GeoJSON.Position[], outer: boolean): GeoJSON.Position[] => {
    const r = despike(ring.map(([x, y]) => gcj02ToWgs84(x, y) as GeoJSON.Position));
    const closed = closeRing(r as XY[]);
    const ccw = ringSignedArea(closed as XY[]) > 0;
    return ccw === outer ? closed : [...closed].reverse();
  };
  const g = f.geometry;
  if (g.type === 'Polygon') return { type: 'Polygon', coordinates: g.coordinates.map((r, i) => conv(r, i === 0)) };
  return { type: 'MultiPolygon', coordinates: g.coordinates.map((p) => p.map((r, i) => conv(r, i === 0))) };
}

function largestOuter(g: GeoJSON.Polygon | GeoJSON.MultiPolygon): GeoJSON.Position[] {
  if (g.type === 'Polygon') return g.coordinates[0];
  let best = g.coordinates[0][0], ba = 0;
  for (const p of g.coordinates) {
    const a = Math.abs(ringSignedArea(p[0] as XY[]));
    if (a > ba) { ba = a; best = p[0]; }
  }
  return best;
}

/** Mesh spacing (m) wanted at a point: fine in the old town and near town seats, where communities are small. */
function spacingAt(x: number, y: number, core: XY, seats: XY[]): number {
  const dc = Math.hypot(x - core[0], y - core[1]);
  let s = dc < 2500 ? 60 : dc < 5000 ? 60 + ((dc - 2500) / 2500) * 60 : LATTICE;
  for (const [sx, sy] of seats) {
    const d = Math.hypot(x - sx, y - sy);
    if (d < 1800) s = Math.min(s, 110);
    else if (d < 3000) s = Math.min(s, 160);
  }
  return s;
}

interface Group { cells: number[]; edge: boolean }

export function buildBoundaries(src: BoundarySources, rng: Rng, onProgress?: (msg: string) => void): AdminBoundaries {
  const cityGeom = outlineToWgs84(src.outlineGcj02);
  const outerLonLat = largestOuter(cityGeom);
  const [clon, clat] = [120.752, 31.654];
  const proj = localProjection(clon, clat);
  const outlineM: Ring = outerLonLat.map(([lon, lat]) => proj.fwd(lon, lat));
  const cityFeature: GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon> = {
    type: 'Feature', id: 'city-320581',
    properties: { id: 'city-320581', code: '320581', name: '常熟市' },
    geometry: roundGeometry(cityGeom),
  };

  // ---- mesh sites: a jittered lattice, subdivided where the spacing should be finer
  const townCodes = src.towns.map((t) => t.code).sort();
  for (const c of townCodes) if (!TOWN_LAYOUT[c]) throw new Error(`buildBoundaries: no layout anchor for town ${c} - add it to TOWN_LAYOUT`);
  const seatsM = townCodes.map((c) => proj.fwd(...TOWN_LAYOUT[c].at));
  const coreM = proj.fwd(...OLD_TOWN);
  let minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
  for (const [x, y] of outlineM) { minx = Math.min(minx, x); maxx = Math.max(maxx, x); miny = Math.min(miny, y); maxy = Math.max(maxy, y); }
  const jr = rng.fork('mesh');
  const sites: number[] = [];
  const spacing: number[] = [];
  for (let gy = Math.floor(miny / LATTICE); gy * LATTICE <= maxy; gy++) {
    for (let gx = Math.floor(minx / LATTICE); gx * LATTICE <= maxx; gx++) {
      const x0 = gx * LATTICE, y0 = gy * LATTICE;
      const s = spacingAt(x0 + LATTICE / 2, y0 + LATTICE / 2, coreM, seatsM);
      const m = Math.max(1, Math.round(LATTICE / s));
      const sub = LATTICE / m;
      for (let j = 0; j < m; j++) {
        for (let i = 0; i < m; i++) {
          const x = x0 + (i + 0.5 + (jr.next() - 0.5) * 0.8) * sub;
          const y = y0 + (j + 0.5 + (jr.next() - 0.5) * 0.8) * sub;
          if (pointInRing(x, y, outlineM)) { sites.push(x, y); spacing.push(sub); }
        }
      }
    }
  }
  const guards: number[] = [];
  const G = 8000, step = 2000;
  for (let x = minx - G; x <= maxx + G; x += step) guards.push(x, miny - G, x, maxy + G);
  for (let y = miny - G + step; y < maxy + G; y += step) guards.push(minx - G, y, maxx + G, y);
  const mesh = buildMesh(Float64Array.from(sites), Float64Array.from(guards), (i) => 1.5 * spacing[i] * spacing[i]);
  onProgress?.(`mesh ${mesh.n} cells`);

  // Cells that reach outside the outline (or hold an outline vertex) make their groups need clipping.
  const edge = new Uint8Array(mesh.n);
  for (let c = 0; c < mesh.n; c++) {
    for (const v of mesh.cells[c]) if (!pointInRing(mesh.verts[2 * v], mesh.verts[2 * v + 1], outlineM)) { edge[c] = 1; break; }
  }
  markCellsHoldingPoints(mesh, outlineM, edge);

  // Two octaves of noise in the travel cost: boundaries wander like real ones instead of Voronoi arcs.
  const nr = rng.fork('noise');
  const noiseA = valueNoise(nr.next, 3500), noiseB = valueNoise(nr.next, 900);
  const cost = new Float64Array(mesh.n);
  for (let c = 0; c < mesh.n; c++) {
    const x = mesh.sites[2 * c], y = mesh.sites[2 * c + 1];
    cost[c] = Math.exp(0.6 * noiseA(x, y) + 0.35 * noiseB(x, y));
  }

  const land = new Uint8Array(mesh.n);
  const landWeight = new Float64Array(mesh.n);
  for (let c = 0; c < mesh.n; c++) {
    land[c] = !src.isLand || src.isLand(...proj.inv(mesh.sites[2 * c], mesh.sites[2 * c + 1])) ? 1 : 0;
    landWeight[c] = mesh.area[c] * (land[c] ? 1 : 0.05);
  }
  /** The land cells of a list, or the list itself when it has none. */
  const onLand = (cells: number[]): number[] => {
    const l = cells.filter((c) => land[c]);
    return l.length > 0 ? l : cells;
  };

  const nearestCell = (p: XY, among: readonly number[]): number => {
    let best = among[0], bd = Infinity;
    for (const c of among) {
      const d = Math.hypot(mesh.sites[2 * c] - p[0], mesh.sites[2 * c + 1] - p[1]);
      if (d < bd) { bd = d; best = c; }
    }
    return best;
  };

  // ---- towns
  const all = Int32Array.from({ length: mesh.n }, (_, i) => i);
  const allList = Array.from(all);
  const townSeeds: number[] = [];
  for (const p of seatsM) {
    let c = nearestCell(p, allList);
    if (townSeeds.includes(c)) c = mesh.adj[mesh.adjStart[c]];
    townSeeds.push(c);
  }
  const townTargets = townCodes.map((c) => TOWN_LAYOUT[c].land * 1.12 + (TOWN_LAYOUT[c].river ?? 0));
  const townLabel = growRegions(mesh, { members: all, seeds: townSeeds, targets: townTargets, cost, rounds: 30 });
  const townCells: number[][] = townCodes.map(() => []);
  for (let c = 0; c < mesh.n; c++) townCells[townLabel[c]].push(c);
  onProgress?.('towns grown');

  // ---- villages inside each town
  const villagesByTown = new Map<string, VillageSpec[]>();
  for (const v of [...src.villages].sort((a, b) => (a.code < b.code ? -1 : 1))) {
    const l = villagesByTown.get(v.townCode);
    if (l) l.push(v); else villagesByTown.set(v.townCode, [v]);
  }
  const villageCells = new Map<string, number[]>();
  const vr = rng.fork('villages');
  townCodes.forEach((tc, ti) => {
    const vs = villagesByTown.get(tc) ?? [];
    const cells = townCells[ti];
    if (vs.length === 0) return;
    if (vs.length === 1) { villageCells.set(vs[0].code, cells); return; }
    const isStreet = src.towns.find((t) => t.code === tc)?.kind === '街道';
    const W = isStreet ? 5 : 4; // a 村 is several times a 社区 (社区 are the built-up cores)
    const comm = vs.filter((v) => v.kind === '社区');
    const rest = vs.filter((v) => v.kind !== '社区');
    const townArea = cells.reduce((s, c) => s + landWeight[c], 0);
    const aComm = townArea / (comm.length + W * rest.length);
    const seedOf = new Map<string, number>();
    const used = new Set<number>();
    for (const v of vs) {
      const a = VILLAGE_ANCHORS[v.code];
      if (!a) continue;
      const c = nearestCell(proj.fwd(...a), cells);
      if (!used.has(c)) { seedOf.set(v.code, c); used.add(c); }
    }
    // Communities: around the town seat, closest first (with jitter), kept apart by about a community's width.
    const seat = [mesh.sites[2 * townSeeds[ti]], mesh.sites[2 * townSeeds[ti] + 1]];
    const order = onLand(cells).map((c) => ({ c, k: Math.hypot(mesh.sites[2 * c] - seat[0], mesh.sites[2 * c + 1] - seat[1]) * (0.75 + 0.5 * vr.next()) }))
      .sort((p, q) => p.k - q.k || p.c - q.c);
    const minGap = 0.9 * Math.sqrt(aComm);
    const chosen: number[] = [...used];
    for (const v of comm) {
      if (seedOf.has(v.code)) continue;
      let pick = -1;
      for (let gap = minGap; pick < 0 && gap > 1; gap *= 0.7) {
        for (const { c } of order) {
          if (used.has(c)) continue;
          if (chosen.every((o) => Math.hypot(mesh.sites[2 * c] - mesh.sites[2 * o], mesh.sites[2 * c + 1] - mesh.sites[2 * o + 1]) >= gap)) { pick = c; break; }
        }
      }
      if (pick < 0) throw new Error(`buildBoundaries: no room for community ${v.code} in town ${tc} - refine the mesh`);
      seedOf.set(v.code, pick); used.add(pick); chosen.push(pick);
    }
    // Villages: spread over the rest of the town, each as far as possible from those placed so far.
    const restNeeding = rest.filter((v) => !seedOf.has(v.code));
    const free = onLand(cells).filter((c) => !used.has(c));
    const far = farthestPoints(mesh, free, chosen, restNeeding.length, () => 0.85 + 0.3 * vr.next());
    restNeeding.forEach((v, i) => seedOf.set(v.code, far[i]));
    const seeds = vs.map((v) => seedOf.get(v.code)!);
    const targets = vs.map((v) => (v.kind === '社区' ? 1 : W));
    const lab = growRegions(mesh, { members: Int32Array.from(cells), seeds, targets, cost, rounds: 24, weight: landWeight });
    const groups: number[][] = vs.map(() => []);
    for (const c of cells) groups[lab[c]].push(c);
    vs.forEach((v, i) => villageCells.set(v.code, groups[i]));
  });
  onProgress?.('villages grown');

  // ---- grids: ~2,000 in all, more per km² in communities
  const villagesSorted = [...src.villages].sort((a, b) => (a.code < b.code ? -1 : 1));
  const areaKm2 = (cells: number[]): number => cells.reduce((s, c) => s + landWeight[c], 0) / 1e6;
  const weightOf = (v: VillageSpec): number => {
    const cells = villageCells.get(v.code) ?? [];
    const isCommunity = v.kind === '社区' && !v.name.includes('虚拟');
    return (isCommunity ? 2.6 : 1) * Math.sqrt(Math.max(0.05, areaKm2(cells)));
  };
  const totalW = villagesSorted.reduce((s, v) => s + weightOf(v), 0);
  const TOTAL_GRIDS = 2000;
  const gr = rng.fork('grids');
  const gridCells = new Map<string, number[][]>();
  for (const v of villagesSorted) {
    const cells = villageCells.get(v.code) ?? [];
    const k = Math.max(2, Math.min(Math.floor(cells.length / 4), Math.round((TOTAL_GRIDS * weightOf(v)) / totalW)));
    if (k <= 1 || cells.length < 2) { gridCells.set(v.code, [cells]); continue; }
    const dry = onLand(cells);
    const first = dry[Math.floor(gr.next() * dry.length)];
    const seeds = [first, ...farthestPoints(mesh, dry.filter((c) => c !== first), [first], Math.min(k, dry.length) - 1, () => 0.9 + 0.2 * gr.next())];
    const lab = growRegions(mesh, { members: Int32Array.from(cells), seeds, targets: seeds.map(() => 1), cost, rounds: 16, weight: landWeight });
    const groups: number[][] = seeds.map(() => []);
    for (const c of cells) groups[lab[c]].push(c);
    // Number grids in a stable reading order: north to south, then west to east, by seed position.
    const order = seeds.map((s, i) => ({ i, y: mesh.sites[2 * s + 1], x: mesh.sites[2 * s] }))
      .sort((p, q) => Math.round((q.y - p.y) / 300) || p.x - q.x);
    gridCells.set(v.code, order.map((o) => groups[o.i]).filter((g) => g.length > 0));
  }
  onProgress?.('grids grown');

  // ---- polygons
  const outlinePoly = turf.polygon((cityGeom.type === 'Polygon' ? cityGeom.coordinates : cityGeom.coordinates[0]));
  const labels = new Map<string, [number, number]>();
  const toGeom = (group: Group): GeoJSON.Polygon | GeoJSON.MultiPolygon | null => {
    const rings = cellsUnion(mesh, group.cells);
    const polys = assembleRings(rings).map((p) => p.map((r) => r.map(([x, y]) => proj.inv(x, y))));
    const g: GeoJSON.Polygon | GeoJSON.MultiPolygon = polys.length === 1
      ? { type: 'Polygon', coordinates: polys[0] } : { type: 'MultiPolygon', coordinates: polys };
    if (!group.edge) return roundGeometry(g);
    const clipped = turf.intersect(turf.featureCollection([turf.feature(g), outlinePoly]));
    return clipped ? roundGeometry(clipped.geometry) : null;
  };
  const labelPoint = (cells: number[]): [number, number] => {
    let sx = 0, sy = 0, sa = 0;
    for (const c of onLand(cells)) { const a = mesh.area[c]; sx += mesh.sites[2 * c] * a; sy += mesh.sites[2 * c + 1] * a; sa += a; }
    const cx = sx / sa, cy = sy / sa;
    const inner = onLand(cells).filter((c) => !edge[c]);
    const best = nearestCell([cx, cy], inner.length ? inner : onLand(cells));
    const [lon, lat] = proj.inv(mesh.sites[2 * best], mesh.sites[2 * best + 1]);
    return [Math.round(lon * 1e7) / 1e7, Math.round(lat * 1e7) / 1e7];
  };
  const isEdge = (cells: number[]): boolean => cells.some((c) => edge[c] === 1);

  const towns: GeoJSON.Feature[] = [];
  townCodes.forEach((tc, ti) => {
    const t = src.towns.find((x) => x.code === tc)!;
    const geometry = toGeom({ cells: townCells[ti], edge: isEdge(townCells[ti]) });
    if (!geometry) throw new Error(`buildBoundaries: town ${tc} fell outside the outline`);
    labels.set(tc, proj.inv(...(mesh.sites.subarray(2 * townSeeds[ti], 2 * townSeeds[ti] + 2) as unknown as XY)).map((v) => Math.round(v * 1e7) / 1e7) as [number, number]);
    towns.push({ type: 'Feature', id: tc, properties: { id: tc, code: tc, name: t.name, kind: t.kind, synthetic: true }, geometry });
  });
  onProgress?.(`towns ${towns.length}`);

  const villages: GeoJSON.Feature[] = [];
  for (const v of villagesSorted) {
    const cells = villageCells.get(v.code);
    if (!cells || cells.length === 0) throw new Error(`buildBoundaries: village ${v.code} got no area - its town ${v.townCode} is missing from the town list`);
    const geometry = toGeom({ cells, edge: isEdge(cells) });
    if (!geometry) throw new Error(`buildBoundaries: village ${v.code} fell outside the outline`);
    labels.set(v.code, labelPoint(cells));
    villages.push({
      type: 'Feature', id: v.code,
      properties: { id: v.code, code: v.code, name: v.name, kind: v.kind, town_code: v.townCode, town_name: v.townName, synthetic: true },
      geometry,
    });
  }
  onProgress?.(`villages ${villages.length}`);

  const people = rng.fork('grid-managers');
  const grids: GeoJSON.Feature[] = [];
  for (const v of villagesSorted) {
    const groups = gridCells.get(v.code) ?? [];
    let k = 0;
    for (const cells of groups) {
      const geometry = toGeom({ cells, edge: isEdge(cells) });
      if (!geometry) continue; // a sliver wholly outside the outline
      k++;
      const code = `${v.code}${String(k).padStart(3, '0')}`;
      grids.push({
        type: 'Feature', id: code,
        properties: {
          id: code, code, name: `${shortVillageName(v.name)}第${k}网格`, village_code: v.code, town_code: v.townCode,
          manager_id: `gm-${code}`, manager_name: fictionalName(people), manager_phone: fictionalPhone(people), synthetic: true,
        },
        geometry,
      });
    }
  }
  onProgress?.(`grids ${grids.length}`);

  return { city: cityFeature, towns, villages, grids, labels, proj, outlineM };
}

/** Marks cells that contain a vertex of the ring (the outline can poke into a cell without a cell vertex outside). */
function markCellsHoldingPoints(mesh: Mesh, ring: Ring, edge: Uint8Array): void {
  const B = 1000; // bucket size (m)
  const buckets = new Map<number, number[]>();
  const key = (x: number, y: number): number => Math.floor(x / B) * 100003 + Math.floor(y / B);
  for (let c = 0; c < mesh.n; c++) {
    const k = key(mesh.sites[2 * c], mesh.sites[2 * c + 1]);
    const l = buckets.get(k);
    if (l) l.push(c); else buckets.set(k, [c]);
  }
  for (const [x, y] of ring) {
    let best = -1, bd = Infinity;
    for (let r = 1; best < 0 || r <= 2; r++) {
      for (let dx = -r; dx <= r; dx++) {
        for (let dy = -r; dy <= r; dy++) {
          for (const c of buckets.get(key(x + dx * B, y + dy * B)) ?? []) {
            const d = Math.hypot(mesh.sites[2 * c] - x, mesh.sites[2 * c + 1] - y);
            if (d < bd) { bd = d; best = c; }
          }
        }
      }
      if (r > 8) break;
    }
    if (best >= 0) edge[best] = 1;
  }
}

// Fictional people for grid managers: common surnames of southern Jiangsu and ordinary given-name
// characters. Names and numbers are generated and belong to nobody.
const SURNAMES = '王张陈李周徐朱顾钱沈吴陆蒋孙杨黄赵许曹邵季姚缪殷归邹薛刘金范马胡汤俞庞严'.split('');
const GIVEN = '建国军华明芳丽娟敏静伟强磊洁燕萍红英霞兰杰涛斌俊晨宇浩雯婷佳琳欣怡志文海峰春秋梅兴福康平安'.split('');

export function fictionalName(r: Rng): string {
  const n = r.chance(0.65) ? 2 : 1;
  let s = r.pick(SURNAMES);
  for (let i = 0; i < n; i++) s += r.pick(GIVEN);
  return s;
}

/** 100-xxxx-xxxx: the 100 prefix is not an allocated mobile segment, so the number is plainly made up. */
export function fictionalPhone(r: Rng): string {
  const d = (n: number): string => Array.from({ length: n }, () => String(r.int(0, 9))).join('');
  return `100-${d(4)}-${d(4)}`;
}
