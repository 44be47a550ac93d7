// Small planar geometry helpers for the data build. The city spans ~50 km, so a local equirectangular
// projection (metres around a reference point) is accurate to well under 0.5 % for areas and distances,
// and far cheaper than geodesic formulas in the hot loops.

export type XY = [number, number];
export type Ring = XY[];

export interface LocalProjection {
  lon0: number;
  lat0: number;
  /** lon/lat (degrees) → x/y (metres, east/north). */
  fwd(lon: number, lat: number): XY;
  /** x/y (metres) → lon/lat (degrees). */
  inv(x: number, y: number): XY;
}

const M_PER_DEG_LAT = 110_574; // WGS84 meridian degree near 31.6°N
const M_PER_DEG_LON_EQ = 111_320;

export function localProjection(lon0: number, lat0: number): LocalProjection {
  const kx = M_PER_DEG_LON_EQ * Math.cos((lat0 * Math.PI) / 180);
  const ky = M_PER_DEG_LAT;
  return {
    lon0,
    lat0,
    fwd: (lon, lat) => [(lon - lon0) * kx, (lat - lat0) * ky],
    inv: (x, y) => [lon0 + x / kx, lat0 + y / ky],
  };
}

/** Signed shoelace area (positive = counter-clockwise). The ring may or may not repeat its first point. */
export function ringSignedArea(ring: readonly XY[]): number {
  let s = 0;
  const n = ring.length;
  for (let i = 0, j = n - 1; i < n; j = i++) s += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  return s / 2;
}

/** Even-odd point in ring test. */
export function pointInRing(x: number, y: number, ring: readonly XY[]): boolean {
  let inside = false;
  const n = ring.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Point in a polygon given as rings (first outer, then holes), even-odd over all rings. */
export function pointInPolygonRings(x: number, y: number, rings: readonly (readonly XY[])[]): boolean {
  let inside = false;
  for (const r of rings) if (pointInRing(x, y, r)) inside = !inside;
  return inside;
}

/** Area in m² of a GeoJSON polygon or multipolygon (lon/lat), through a local projection. */
export function geoArea(g: GeoJSON.Polygon | GeoJSON.MultiPolygon, proj: LocalProjection): number {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  let a = 0;
  for (const p of polys) {
    p.forEach((ring, k) => {
      const s = Math.abs(ringSignedArea(ring.map(([lon, lat]) => proj.fwd(lon, lat))));
      a += k === 0 ? s : -s;
    });
  }
  return a;
}

/** Chaikin corner cutting: smooths a polyline while keeping its end points. */
export function chaikin(line: readonly XY[], iterations = 2): XY[] {
  let pts: XY[] = line.map((p) => [p[0], p[1]]);
  for (let it = 0; it < iterations; it++) {
    const out: XY[] = [pts[0]];
    for (let i = 0; i < pts.length - 1; i++) {
      const [x0, y0] = pts[i], [x1, y1] = pts[i + 1];
      out.push([0.75 * x0 + 0.25 * x1, 0.75 * y0 + 0.25 * y1], [0.25 * x0 + 0.75 * x1, 0.25 * y0 + 0.75 * y1]);
    }
    out.push(pts[pts.length - 1]);
    pts = out;
  }
  return pts;
}

/** Resample a polyline at roughly `step` spacing (keeps both ends). */
export function densify(line: readonly XY[], step: number): XY[] {
  const out: XY[] = [[line[0][0], line[0][1]]];
  for (let i = 0; i < line.length - 1; i++) {
    const [x0, y0] = line[i], [x1, y1] = line[i + 1];
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / step));
    for (let k = 1; k <= n; k++) out.push([x0 + ((x1 - x0) * k) / n, y0 + ((y1 - y0) * k) / n]);
  }
  return out;
}

/**
 * A ribbon polygon of the given width around a smooth polyline (planar metres): offsets each vertex
 * along the averaged normal. Adequate for the gentle curves of generated rivers; sharp bends would
 * need a real buffer. Returns a closed counter-clockwise ring.
 */
export function ribbon(line: readonly XY[], width: number | ((i: number) => number)): Ring {
  const n = line.length;
  const left: XY[] = [], right: XY[] = [];
  for (let i = 0; i < n; i++) {
    const a = line[Math.max(0, i - 1)], b = line[Math.min(n - 1, i + 1)];
    let dx = b[0] - a[0], dy = b[1] - a[1];
    const len = Math.hypot(dx, dy) || 1;
    dx /= len; dy /= len;
    const w = (typeof width === 'number' ? width : width(i)) / 2;
    left.push([line[i][0] - dy * w, line[i][1] + dx * w]);
    right.push([line[i][0] + dy * w, line[i][1] - dx * w]);
  }
  const ring: Ring = [...right, ...left.reverse()];
  ring.push([ring[0][0], ring[0][1]]);
  return ringSignedArea(ring) < 0 ? ring.reverse() : ring;
}

/** A closed ellipse-like ring with a wobbly edge: centre (m), semi-axes (m), rotation (rad), wobble 0..1. */
export function blob(cx: number, cy: number, a: number, b: number, rot: number, wobble: (t: number) => number, n = 96): Ring {
  const ring: Ring = [];
  const c = Math.cos(rot), s = Math.sin(rot);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    const k = 1 + wobble(t);
    const x = a * k * Math.cos(t), y = b * k * Math.sin(t);
    ring.push([cx + x * c - y * s, cy + x * s + y * c]);
  }
  ring.push([ring[0][0], ring[0][1]]);
  return ring;
}

/**
 * Union of cells that share exact vertex ids (a Voronoi/Delaunay partition) by cancelling interior
 * edges: an edge a→b that also appears as b→a lies between two cells of the group. What remains is the
 * group's boundary, chained into rings. Cells must be counter-clockwise. Rings come back as vertex-id
 * lists, counter-clockwise outers and clockwise holes (touching rings may come back joined at the
 * shared vertex, which still fills the right area).
 */
export function unionCellRings(cells: readonly (readonly number[])[]): number[][] {
  const next = new Map<number, number[]>(); // from → list of to
  const edges = new Set<string>();
  for (const cell of cells) {
    for (let i = 0; i < cell.length; i++) {
      const a = cell[i], b = cell[(i + 1) % cell.length];
      if (a === b) continue;
      const rev = `${b},${a}`;
      if (edges.has(rev)) edges.delete(rev);
      else edges.add(`${a},${b}`);
    }
  }
  // Sort for a stable ring start and order regardless of Set history.
  const list = [...edges].map((e) => e.split(',').map(Number) as [number, number]);
  list.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  for (const [a, b] of list) {
    const l = next.get(a);
    if (l) l.push(b);
    else next.set(a, [b]);
  }
  const rings: number[][] = [];
  for (const [start] of list) {
    let outs = next.get(start);
    if (!outs || outs.length === 0) continue;
    const ring = [start];
    let cur = start;
    for (;;) {
      outs = next.get(cur)!;
      const to = outs.shift()!;
      if (to === start) break;
      ring.push(to);
      cur = to;
      if (!next.get(cur)?.length) throw new Error(`unionCellRings: open boundary at vertex ${cur} - cells are not a clean partition`);
    }
    rings.push(ring);
  }
  return rings;
}

/** Group closed rings (planar, closed or not) into polygons: each hole goes to the smallest outer containing it. */
export function assembleRings(rings: Ring[]): Ring[][] {
  const outers: { ring: Ring; area: number; holes: Ring[] }[] = [];
  const holes: Ring[] = [];
  for (const r of rings) {
    const a = ringSignedArea(r);
    if (a > 0) outers.push({ ring: r, area: a, holes: [] });
    else if (a < 0) holes.push(r);
  }
  outers.sort((p, q) => q.area - p.area);
  for (const h of holes) {
    let best: (typeof outers)[number] | undefined;
    const [hx, hy] = h[0];
    // Test with a point just inside the hole edge's midpoint would be safer; the first vertex is on the
    // hole's boundary, which is strictly inside its outer except where they touch (then skip to others).
    const mx = (h[0][0] + h[1][0]) / 2, my = (h[0][1] + h[1][1]) / 2;
    for (const o of outers) if (pointInRing(mx, my, o.ring) || pointInRing(hx, hy, o.ring)) { if (!best || o.area < best.area) best = o; }
    (best ?? outers[0])?.holes.push(h);
  }
  return outers.map((o) => [o.ring, ...o.holes]);
}

export function closeRing(r: Ring): Ring {
  const f = r[0], l = r[r.length - 1];
  return f[0] === l[0] && f[1] === l[1] ? r : [...r, [f[0], f[1]]];
}

/** Round coordinates to 1e-7° (~1 cm): smaller files, and identical inputs stay identical. */
export function roundCoord(v: number): number {
  return Math.round(v * 1e7) / 1e7;
}

export function roundGeometry<G extends GeoJSON.Geometry>(g: G): G {
  const r = (c: unknown): unknown => (typeof c === 'number' ? roundCoord(c) : (c as unknown[]).map(r));
  if (g.type === 'GeometryCollection') return { ...g, geometries: g.geometries.map(roundGeometry) };
  return { ...g, coordinates: r((g as GeoJSON.Point).coordinates) } as G;
}

export function bboxOf(features: readonly GeoJSON.Feature[]): [number, number, number, number] | null {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  const visit = (c: unknown): void => {
    if (typeof (c as number[])[0] === 'number') {
      const [x, y] = c as number[];
      if (x < w) w = x; if (x > e) e = x; if (y < s) s = y; if (y > n) n = y;
    } else for (const k of c as unknown[]) visit(k);
  };
  for (const f of features) if (f.geometry && f.geometry.type !== 'GeometryCollection') visit(f.geometry.coordinates);
  return w === Infinity ? null : [w, s, e, n];
}

/** Smooth 2-D value noise in [-1, 1] with the given wavelength (m), from a seeded lattice. */
export function valueNoise(next: () => number, wavelength: number, size = 64): (x: number, y: number) => number {
  const tab = new Float64Array(size * size);
  for (let i = 0; i < tab.length; i++) tab[i] = next() * 2 - 1;
  const at = (i: number, j: number): number => tab[(((i % size) + size) % size) * size + (((j % size) + size) % size)];
  return (x, y) => {
    const u = x / wavelength, v = y / wavelength;
    const i = Math.floor(u), j = Math.floor(v);
    const fu = u - i, fv = v - j;
    const su = fu * fu * (3 - 2 * fu), sv = fv * fv * (3 - 2 * fv);
    const a = at(i, j) + (at(i + 1, j) - at(i, j)) * su;
    const b = at(i, j + 1) + (at(i + 1, j + 1) - at(i, j + 1)) * su;
    return a + (b - a) * sv;
  };
}
