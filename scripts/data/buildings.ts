// Buildings with their standard addresses: block layouts in the urban cores (old-town lanes, residential
// compounds of slab blocks, shops, schools, factories) and natural-village (自然村) house clusters along a
// lane in the countryside. Footprints are rectangles aligned to their street grid; none touches water
// (checked on the conservative water raster), none overlaps another group (occupancy raster).
import type { Rng } from './rng.ts';
import { CITY, OWN_FREE, OWN_RURAL, WET } from './content-spatial.ts';
import { inHill, type Core, type World } from './content-world.ts';
import { clip, lineName, type CoreLines, type RoadRec, type RoadsResult } from './roads.ts';
import { AddressBook, type AddressParts } from './addresses.ts';
import type { NamePool } from './names.ts';

export type BuildingUse = 'residential' | 'commercial' | 'industrial' | 'public';
export type BlockKind = 'oldtown' | 'residential' | 'commercial' | 'industrial' | 'public' | 'park';
export interface BuildingRec { id: string; x: number; y: number; grid: number; use: BuildingUse; floors: number; core: number; area: number; name?: string }
export interface BuildResult {
  buildings: GeoJSON.Feature[]; recs: BuildingRec[]; landuse: GeoJSON.Feature[]; lanes: RoadRec[];
  gates: { x: number; y: number; grid: number; name: string }[]; urbanCount: number;
}

/** Rural houses at scale 1, and the floor for all buildings (the rural fill tops up to it). */
const RURAL_MIN = 55_000;
const TOTAL_MIN = 112_000;
const SETBACK = 20; // from the street centre line: half street + front yard (see the occupancy note in content-spatial)

interface Rect { a: number; b: number; hu: number; hv: number; floors: number; use: BuildingUse; units?: number }

export function generateBuildings(w: World, roads: RoadsResult, book: AddressBook, pool: NamePool, rng: Rng, scale: number): BuildResult {
  const out: BuildResult = { buildings: [], recs: [], landuse: [], lanes: [], gates: [], urbanCount: 0 };
  const keepRng = rng.fork('keep');
  const cells: number[] = [];
  let landuseSeq = 0;
  const landuse = (kind: string, cx: number, cy: number, hu: number, hv: number, ux: number, uy: number): void => {
    // landuse is drawn above water in the basemap: keep it off any wet cell
    for (const i of w.raster.rectCells(cx, cy, hu + 5, hv + 5, ux, uy, cells)) if (w.raster.flags[i] & WET || !(w.raster.flags[i] & CITY)) return;
    out.landuse.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [rectRing(w, cx, cy, hu, hv, ux, uy)] },
      properties: { id: `lu-b${String(++landuseSeq).padStart(6, '0')}`, kind, synthetic: true } });
  };
  const emit = (cx: number, cy: number, r: Rect, ux: number, uy: number, grid: number, core: number): BuildingRec => {
    const id = `bld-${String(out.recs.length + 1).padStart(6, '0')}`;
    const height = Math.round((r.floors * 3 + rng.range(0.3, 2.5) + (r.use === 'commercial' ? 1.5 : 0)) * 10) / 10;
    out.buildings.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [rectRing(w, cx, cy, r.hu, r.hv, ux, uy)] },
      properties: { id, floors: r.floors, height, use: r.use, synthetic: true } });
    const rec: BuildingRec = { id, x: cx, y: cy, grid, use: r.use, floors: r.floors, core, area: 4 * r.hu * r.hv };
    out.recs.push(rec);
    return rec;
  };
  /** Dry, inside the city and a grid, clear of roads and other groups (own group's cells allowed). */
  const place = (cx: number, cy: number, r: Rect, ux: number, uy: number, owner: number): number => {
    const ex = Math.abs(ux) * r.hu + Math.abs(uy) * r.hv, ey = Math.abs(uy) * r.hu + Math.abs(ux) * r.hv;
    if (w.raster.anyInBox(cx - ex, cy - ey, cx + ex, cy + ey, WET)) return -1;
    if (!(w.raster.at(cx, cy) & CITY)) return -1;
    if (owner !== OWN_RURAL) for (const i of w.raster.rectCells(cx, cy, r.hu + 7.1, r.hv + 7.1, ux, uy, cells)) {
      const o = w.raster.owner[i];
      if (o !== OWN_FREE && o !== owner) return -1;
    }
    return w.gridAt(cx, cy);
  };

  // --- urban cores ---------------------------------------------------------------------------------
  for (const core of w.cores) {
    const lines = roads.lines.get(core.owner)!;
    const c = Math.cos(core.angle), s = Math.sin(core.angle);
    const ux = c, uy = s;
    const n = Math.ceil(core.r / Math.min(core.sx, core.sy));
    for (let i = -n; i < n; i++) for (let j = -n; j < n; j++) {
      const bu = (i + 0.5) * core.sx, bv = (j + 0.5) * core.sy;
      const d = Math.hypot(bu, bv);
      if (d > core.r - 0.6 * Math.max(core.sx, core.sy)) continue;
      const X = core.cx + bu * c - bv * s, Y = core.cy + bu * s + bv * c;
      const hbu = core.sx / 2 - 8, hbv = core.sy / 2 - 8;
      if (inHill(w, X, Y)) { landuse('forest', X, Y, hbu, hbv, ux, uy); continue; }
      if (!(w.raster.at(X, Y) & CITY)) continue;
      const kind = blockKind(w, core, X, Y, d, rng);
      landuse(kind === 'oldtown' ? 'residential' : kind, X, Y, hbu, hbv, ux, uy);
      // claim the block for this core so village clusters keep out
      for (const k of w.raster.rectCells(X, Y, core.sx / 2 - 6, core.sy / 2 - 6, ux, uy, cells)) if (w.raster.owner[k] === OWN_FREE) w.raster.owner[k] = core.owner;
      if (kind === 'park') continue;
      if (scale < 1 && keepRng.next() >= scale) continue;
      const hu = core.sx / 2 - SETBACK, hv = core.sy / 2 - SETBACK;
      const rects = layout(kind, core, hu, hv, rng);
      const at = (r: Rect): [number, number] => [X + r.a * c - r.b * s, Y + r.a * s + r.b * c];
      const addrOf = (r: Rect, alley: string | null): AddressParts | null => doorAddress(core, lines, i, j, r, alley, book);
      if (kind === 'residential') {
        const compound = pool.compound();
        let gateParts: AddressParts | null = null, k = 0;
        const gate = at({ a: 0, b: -hv + 2, hu: 0, hv: 0, floors: 0, use: 'residential' });
        for (const r of rects) {
          const [x, y] = at(r);
          const grid = place(x, y, r, ux, uy, core.owner);
          if (grid < 0) continue;
          if (!gateParts) {
            gateParts = doorAddress(core, lines, i, j, { ...r, a: 0, b: -core.sy / 2 + SETBACK }, null, book);
            if (!gateParts) break;
            const gg = w.gridAt(gate[0], gate[1]);
            const [gx, gy] = gg >= 0 ? gate : [x, y];
            book.add(gx, gy, gg >= 0 ? gg : grid, gateParts, null);
            out.gates.push({ x: gx, y: gy, grid: gg >= 0 ? gg : grid, name: compound });
          }
          const rec = emit(x, y, r, ux, uy, grid, core.owner);
          rec.name = compound;
          const bp: AddressParts = { road: gateParts.road, door: gateParts.door, compound, building: ++k };
          book.add(x, y, grid, bp, rec.id);
          for (let u = 1; u <= (r.units ?? 1); u++) for (let f = 1; f <= r.floors; f++) for (let q = 1; q <= 2; q++) {
            book.add(x, y, grid, { ...bp, unit: u, floor: f, room: f * 100 + q }, rec.id);
          }
        }
      } else {
        const alley = kind === 'oldtown' ? pool.lane() : null;
        let alleyUsed = false;
        for (const r of rects) {
          const [x, y] = at(r);
          const grid = place(x, y, r, ux, uy, core.owner);
          if (grid < 0) continue;
          const parts = addrOf(r, alley);
          if (!parts) continue;
          if (parts.road === alley) alleyUsed = true;
          const rec = emit(x, y, r, ux, uy, grid, core.owner);
          book.add(x, y, grid, parts, rec.id);
        }
        if (alley && alleyUsed) {
          const [ax, ay] = at({ a: -hu - 10, b: 0, hu: 0, hv: 0, floors: 0, use: 'residential' });
          const [bx, by] = at({ a: hu + 10, b: 0, hu: 0, hv: 0, floors: 0, use: 'residential' });
          for (const p of clip(w, [ax, ay, bx, by], alley, [])) out.lanes.push({ name: alley, cls: 'lane', pts: p });
        }
      }
    }
  }
  out.urbanCount = out.recs.length;

  // --- natural villages ------------------------------------------------------------------------------
  const target = Math.max(1, Math.round(Math.max(RURAL_MIN * scale, TOTAL_MIN * scale - out.urbanCount)));
  const vs = w.villages.filter((v) => v.area > 0);
  const weights = vs.map((v) => v.area * (v.kind === '村' ? 1 : v.kind === '社区' ? 0.25 : 0.5));
  const rr = rng.fork('rural');
  let rural = 0;
  for (let attempt = 0; rural < target && attempt < 40_000 + target; attempt++) {
    const v = rr.weighted(vs, weights);
    const X = rr.range(v.poly.minX, v.poly.maxX), Y = rr.range(v.poly.minY, v.poly.maxY);
    if (w.gridAt(X, Y) < 0 || w.villageByCode.get(w.grids[w.gridAt(X, Y)].villageCode) !== v) continue;
    if ((w.raster.at(X, Y) & (CITY | WET)) !== CITY || inHill(w, X, Y)) continue;
    const nHouses = Math.min(target - rural + 2, rr.int(8, 36));
    const rows = nHouses > 22 ? 2 : 1;
    const perRow = Math.ceil(nHouses / (2 * rows));
    const pitch = rr.range(14, 18);
    const len = perRow * pitch;
    const ang = rr.range(0, Math.PI);
    const ux = Math.cos(ang), uy = Math.sin(ang);
    const hu = len / 2 + 8, hv = rows * 18 + 6;
    let free = true;
    for (const k of w.raster.rectCells(X, Y, hu + 15, hv + 15, ux, uy, cells)) if (w.raster.owner[k] !== OWN_FREE) { free = false; break; }
    if (!free) continue;
    for (const k of w.raster.rectCells(X, Y, hu, hv, ux, uy, cells)) w.raster.owner[k] = OWN_RURAL;
    const hamlet = pool.hamlet();
    let placed = 0;
    for (const side of [-1, 1]) for (let row = 0; row < rows; row++) for (let k = 0; k < perRow; k++) {
      const r: Rect = { a: -len / 2 + pitch * (k + 0.5) + rr.range(-1, 1), b: 0, hu: rr.range(4.5, 6.5), hv: rr.range(4, 5.5),
        floors: rr.weighted([1, 2, 3], [0.06, 0.6, 0.34]), use: 'residential' };
      r.b = side * (7 + row * 18 + r.hv + rr.range(0, 2));
      const x = X + r.a * ux - r.b * uy, y = Y + r.a * uy + r.b * ux;
      const grid = place(x, y, r, ux, uy, OWN_RURAL);
      if (grid < 0) continue;
      const rec = emit(x, y, r, ux, uy, grid, 0);
      const door = book.number(hamlet, 2 * (k + row * perRow) + (side < 0 ? 1 : 2));
      book.add(x, y, grid, { road: hamlet, door, rural: true }, rec.id);
      placed++;
    }
    rural += placed;
    if (placed === 0) continue;
    landuse('residential', X, Y, hu, hv, ux, uy);
    for (const p of clip(w, [X - (len / 2) * ux, Y - (len / 2) * uy, X + (len / 2) * ux, Y + (len / 2) * uy], hamlet, [])) {
      out.lanes.push({ name: hamlet, cls: 'lane', pts: p });
    }
  }
  return out;
}

function rectRing(w: World, cx: number, cy: number, hu: number, hv: number, ux: number, uy: number): [number, number][] {
  const pts: [number, number][] = [[-hu, -hv], [hu, -hv], [hu, hv], [-hu, hv], [-hu, -hv]];
  return pts.map(([a, b]) => w.lonLat(cx + a * ux - b * uy, cy + a * uy + b * ux));
}

function blockKind(w: World, core: Core, x: number, y: number, d: number, rng: Rng): BlockKind {
  const t = w.townIndex.find(x, y);
  const zone = core.kind === 'zone' || (t >= 0 && w.towns[t].kind === '功能区');
  const kinds: BlockKind[] = ['oldtown', 'residential', 'commercial', 'industrial', 'public', 'park'];
  if (zone) return rng.weighted(kinds, [0, 10, 8, 72, 5, 5]);
  if (core.kind === 'city') {
    if (d < 1200) return rng.weighted(kinds, [80, 0, 10, 0, 5, 5]);
    const f = d / core.r;
    return rng.weighted(kinds, [0, 36, f < 0.6 ? 16 : 9, f > 0.7 ? 18 : 2, 14, 12]);
  }
  if (d < 0.3 * core.r) return rng.weighted(kinds, [65, 0, 22, 0, 10, 3]);
  return rng.weighted(kinds, [0, 30, 9, 34, 14, 11]);
}

/** Building rectangles (block-local: a along the block's u axis, b along v) for one block kind. */
function layout(kind: BlockKind, core: Core, hu: number, hv: number, rng: Rng): Rect[] {
  const out: Rect[] = [];
  const city = core.kind === 'city';
  if (kind === 'oldtown') {
    // tight rows of 1–3 storey houses, with a lane through the middle of the block
    for (let b = -hv; b < hv - 7;) {
      const d = rng.range(8, 11);
      if (b < 4 && b + d > -4) { b = 4; continue; }
      for (let a = -hu; a < hu - 6;) {
        const wdt = rng.range(7, 11);
        if (a + wdt > hu) break;
        const edge = Math.min(a + hu, hu - a - wdt, b + hv, hv - b - d) < 12;
        out.push({ a: a + wdt / 2, b: b + d / 2, hu: wdt / 2, hv: d / 2, floors: rng.weighted([1, 2, 3], [0.15, 0.55, 0.3]),
          use: edge && rng.chance(0.5) ? 'commercial' : 'residential' });
        a += wdt + rng.range(2.5, 4);
      }
      b += d + 3.5;
    }
  } else if (kind === 'residential') {
    const floors = city ? rng.weighted([6, 11, 18, 26], [0.45, 0.3, 0.2, 0.05]) : rng.weighted([5, 6, 11], [0.4, 0.45, 0.15]);
    const units = floors > 6 ? 2 : rng.int(2, 3);
    // row spacing ≈ 0.9 × building height (sunlight spacing), at least 14 m
    const len = units * 15, depth = 12, gap = Math.max(14, floors * 2.7);
    const cols = Math.max(1, Math.floor((2 * hu + 12) / (len + 12)));
    const rows = Math.max(1, Math.floor((2 * hv + gap) / (depth + gap)));
    const spanU = cols * len + (cols - 1) * 12, spanV = rows * depth + (rows - 1) * gap;
    for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) {
      const a = -spanU / 2 + q * (len + 12) + len / 2, b = -spanV / 2 + r * (depth + gap) + depth / 2;
      if (Math.abs(a) + len / 2 > hu || Math.abs(b) + depth / 2 > hv) continue;
      out.push({ a, b, hu: len / 2, hv: depth / 2, floors, use: 'residential', units });
    }
  } else if (kind === 'commercial' || kind === 'industrial') {
    const parts = rng.int(1, 3), part = (2 * hu) / parts;
    for (let q = 0; q < parts; q++) {
      const margin = kind === 'industrial' ? rng.range(8, 16) : rng.range(3, 8);
      const pu = part / 2 - margin, pv = hv * rng.range(0.5, 0.95);
      if (pu < 6 || pv < 6) continue;
      const floors = kind === 'industrial' ? rng.weighted([1, 2, 3, 4], [0.45, 0.3, 0.15, 0.1])
        : city ? rng.weighted([3, 5, 8, 15, 24], [0.25, 0.25, 0.2, 0.2, 0.1]) : rng.weighted([2, 3, 5, 8], [0.3, 0.35, 0.25, 0.1]);
      out.push({ a: -hu + part * (q + 0.5), b: -hv + pv + rng.range(0, hv - pv), hu: pu, hv: pv, floors, use: kind });
    }
  } else if (kind === 'public') {
    // a school / hospital / office campus: two or three slabs and a hall
    const n = rng.int(2, 3);
    for (let q = 0; q < n; q++) {
      const b = -hv + 10 + q * ((2 * hv - 20) / Math.max(1, n - 1 || 1));
      if (Math.abs(b) + 7 > hv) continue;
      out.push({ a: -hu / 3, b, hu: Math.min(25, hu / 2), hv: 7, floors: rng.int(3, 6), use: 'public' });
    }
    if (hu > 40) out.push({ a: hu * 0.6, b: 0, hu: Math.min(15, hu * 0.3), hv: Math.min(12, hv / 2), floors: rng.int(1, 3), use: 'public' });
  }
  return out;
}

/** The door address of a building: on the nearest street line of its block (or the block's alley). */
function doorAddress(core: Core, lines: CoreLines, i: number, j: number, r: Rect, alley: string | null, book: AddressBook): AddressParts | null {
  const { sx, sy } = core;
  const opts: { d: number; road: string; t: number; even: boolean }[] = [];
  const vAt = (k: number, side: boolean, d: number): void => {
    const l = lines.v.get(k);
    if (!l) return;
    const t = (j + 0.5) * sy + r.b; // position along the vertical line
    const split = l.name !== l.nameNeg;
    opts.push({ d, road: lineName(l, t), t: split ? Math.abs(t) : t + core.r, even: side });
  };
  const hAt = (k: number, side: boolean, d: number): void => {
    const l = lines.h.get(k);
    if (!l) return;
    const t = (i + 0.5) * sx + r.a;
    opts.push({ d, road: lineName(l, t), t: l.name !== l.nameNeg ? Math.abs(t) : t + core.r, even: side });
  };
  vAt(i, true, r.a + sx / 2 - r.hu);
  vAt(i + 1, false, sx / 2 - r.a - r.hu);
  hAt(j, true, r.b + sy / 2 - r.hv);
  hAt(j + 1, false, sy / 2 - r.b - r.hv);
  if (alley) opts.push({ d: Math.abs(r.b) - r.hv - SETBACK + 12, road: alley, t: r.a + sx / 2, even: r.b > 0 });
  if (opts.length === 0) return null;
  opts.sort((p, q) => p.d - q.d);
  const o = opts[0];
  const want = 2 * Math.floor(Math.max(0, o.t) / 12) + (o.even ? 2 : 1);
  return { road: o.road, door: book.number(o.road, want) };
}
