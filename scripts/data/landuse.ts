// Rural land use on a 100 m lattice: every dry cell inside the city that no urban block or village
// cluster took becomes farmland, forest (虞山 and scattered woods) or park near the cores. Same-kind
// cells merge into rectangles (row runs, then identical runs stacked), so the layer stays a few
// thousand polygons.
import type { Rng } from './rng.ts';
import { valueNoise } from './geom.ts';
import { CITY, OWN_FREE, OWN_ROAD, WET } from './content-spatial.ts';
import { inHill, type World } from './content-world.ts';

const CELL = 100;

export function generateRuralLanduse(w: World, rng: Rng): GeoJSON.Feature[] {
  const r = w.raster, f = CELL / r.cell;
  const nx = Math.floor(r.w / f), ny = Math.floor(r.h / f);
  const noise = valueNoise(() => rng.next(), 1800);
  const KINDS = ['', 'farmland', 'forest', 'park'] as const;
  const grid = new Uint8Array(nx * ny);
  for (let cy = 0; cy < ny; cy++) for (let cx = 0; cx < nx; cx++) {
    let ok = true;
    for (let y = cy * f; ok && y < (cy + 1) * f; y++) for (let x = cx * f, i = y * r.w + x; x < (cx + 1) * f; x++, i++) {
      const o = r.owner[i];
      if (!(r.flags[i] & CITY) || r.flags[i] & WET || (o !== OWN_FREE && o !== OWN_ROAD)) { ok = false; break; }
    }
    if (!ok) continue;
    const x = r.x0 + (cx + 0.5) * CELL, y = r.y0 + (cy + 0.5) * CELL;
    let kind = 1;
    if (inHill(w, x, y) || noise(x, y) > 0.62) kind = 2;
    else if (w.cores.some((c) => Math.hypot(x - c.cx, y - c.cy) < c.r) && noise(x + 9e4, y) > 0.45) kind = 3;
    grid[cy * nx + cx] = kind;
  }
  // row runs, then stack identical runs of consecutive rows
  interface Run { x0: number; x1: number; y0: number; y1: number; k: number }
  const done: Run[] = [];
  let open = new Map<string, Run>();
  for (let cy = 0; cy < ny; cy++) {
    const next = new Map<string, Run>();
    for (let cx = 0; cx < nx;) {
      const k = grid[cy * nx + cx];
      if (!k) { cx++; continue; }
      let e = cx;
      while (e + 1 < nx && grid[cy * nx + e + 1] === k) e++;
      const key = `${cx},${e},${k}`;
      const prev = open.get(key);
      if (prev) { prev.y1 = cy; open.delete(key); next.set(key, prev); } else next.set(key, { x0: cx, x1: e, y0: cy, y1: cy, k });
      cx = e + 1;
    }
    for (const run of open.values()) done.push(run);
    open = next;
  }
  for (const run of open.values()) done.push(run);
  done.sort((p, q) => p.y0 - q.y0 || p.x0 - q.x0);
  return done.map((run, i) => {
    const x0 = r.x0 + run.x0 * CELL, x1 = r.x0 + (run.x1 + 1) * CELL, y0 = r.y0 + run.y0 * CELL, y1 = r.y0 + (run.y1 + 1) * CELL;
    return {
      type: 'Feature',
      geometry: { type: 'Polygon', coordinates: [[w.lonLat(x0, y0), w.lonLat(x1, y0), w.lonLat(x1, y1), w.lonLat(x0, y1), w.lonLat(x0, y0)]] },
      properties: { id: `lu-r${String(i + 1).padStart(6, '0')}`, kind: KINDS[run.k], synthetic: true },
    };
  });
}
