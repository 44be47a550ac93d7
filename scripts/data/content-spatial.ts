// Spatial helpers for the content generator: a bit-flag raster over the city (water, lakes, city,
// occupancy), polygon rasterisation, and bucket indexes for point-in-polygon and nearest-point queries.
// Everything works in local metres (see geom.ts localProjection) over typed arrays, so the 100k-building
// city needs no O(n²) step.

export const WET = 1; // any water (buildings keep out); conservative: every cell touching water is set
export const BLOCKED = 2; // lakes and the Yangtze: roads keep out (canals are bridged instead)
export const CITY = 4; // cell centre inside the city outline

/** Owner of a cell (Uint16): who has built there. */
export const OWN_FREE = 0;
export const OWN_ROAD = 1;
export const OWN_RURAL = 65000;

/** A polygon in local metres: rings as interleaved x,y arrays (first outer, then holes; multipolygons flattened). */
export interface LocalPoly {
  rings: Float64Array[];
  minX: number; minY: number; maxX: number; maxY: number;
}

export function toLocalPoly(g: GeoJSON.Geometry, fwd: (lon: number, lat: number) => [number, number]): LocalPoly {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  if (polys.length === 0) throw new Error(`content: expected a Polygon or MultiPolygon, got ${g.type} - check the boundary input`);
  const rings: Float64Array[] = [];
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const p of polys) for (const r of p) {
    const a = new Float64Array(r.length * 2);
    r.forEach(([lon, lat], i) => {
      const [x, y] = fwd(lon, lat);
      a[2 * i] = x; a[2 * i + 1] = y;
      if (x < minX) minX = x; if (x > maxX) maxX = x; if (y < minY) minY = y; if (y > maxY) maxY = y;
    });
    rings.push(a);
  }
  return { rings, minX, minY, maxX, maxY };
}

/** Even-odd over all rings (holes and multipolygon parts alike). */
export function pointInLocalPoly(x: number, y: number, p: LocalPoly): boolean {
  if (x < p.minX || x > p.maxX || y < p.minY || y > p.maxY) return false;
  let inside = false;
  for (const r of p.rings) {
    const n = r.length / 2;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = r[2 * i], yi = r[2 * i + 1], xj = r[2 * j], yj = r[2 * j + 1];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

export function polyArea(p: LocalPoly): number {
  let a = 0;
  p.rings.forEach((r, k) => {
    let s = 0;
    const n = r.length / 2;
    for (let i = 0, j = n - 1; i < n; j = i++) s += (r[2 * j] - r[2 * i]) * (r[2 * j + 1] + r[2 * i + 1]);
    a += k === 0 ? Math.abs(s / 2) : -Math.abs(s / 2);
  });
  return a;
}

/** A point inside the polygon: the middle of the widest scanline run near its vertical middle. */
export function interiorPoint(p: LocalPoly): [number, number] {
  let best: [number, number] | null = null, bestW = -1;
  for (const f of [0.5, 0.35, 0.65, 0.2, 0.8]) {
    const y = p.minY + (p.maxY - p.minY) * f + 1e-7;
    const xs: number[] = [];
    for (const r of p.rings) {
      const n = r.length / 2;
      for (let i = 0, j = n - 1; i < n; j = i++) {
        const yi = r[2 * i + 1], yj = r[2 * j + 1];
        if (yi > y !== yj > y) xs.push(r[2 * i] + ((r[2 * j] - r[2 * i]) * (y - yi)) / (yj - yi));
      }
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      if (xs[k + 1] - xs[k] > bestW) { bestW = xs[k + 1] - xs[k]; best = [(xs[k] + xs[k + 1]) / 2, y]; }
    }
    if (bestW > 0) break;
  }
  if (!best) throw new Error('content: degenerate polygon without interior - check the boundary input');
  return best;
}

export class Raster {
  readonly w: number; readonly h: number;
  readonly flags: Uint8Array;
  readonly owner: Uint16Array;
  constructor(readonly x0: number, readonly y0: number, x1: number, y1: number, readonly cell: number) {
    this.w = Math.max(1, Math.ceil((x1 - x0) / cell));
    this.h = Math.max(1, Math.ceil((y1 - y0) / cell));
    this.flags = new Uint8Array(this.w * this.h);
    this.owner = new Uint16Array(this.w * this.h);
  }
  col(x: number): number { return Math.floor((x - this.x0) / this.cell); }
  row(y: number): number { return Math.floor((y - this.y0) / this.cell); }
  /** Cell index of a point, or -1 outside the raster. */
  idx(x: number, y: number): number {
    const c = this.col(x), r = this.row(y);
    return c < 0 || r < 0 || c >= this.w || r >= this.h ? -1 : r * this.w + c;
  }
  /** Flags at a point; outside the raster counts as wet, blocked, not city. */
  at(x: number, y: number): number {
    const i = this.idx(x, y);
    return i < 0 ? WET | BLOCKED : this.flags[i];
  }
  /** True if any cell overlapping the box has one of `bits` (outside the raster counts as set). */
  anyInBox(minX: number, minY: number, maxX: number, maxY: number, bits: number): boolean {
    const c0 = this.col(minX), c1 = this.col(maxX), r0 = this.row(minY), r1 = this.row(maxY);
    if (c0 < 0 || r0 < 0 || c1 >= this.w || r1 >= this.h) return true;
    for (let r = r0; r <= r1; r++) for (let c = c0, i = r * this.w + c0; c <= c1; c++, i++) if (this.flags[i] & bits) return true;
    return false;
  }
  /** True if every cell centre in the box is inside the city. */
  allCityInBox(minX: number, minY: number, maxX: number, maxY: number): boolean {
    const c0 = this.col(minX), c1 = this.col(maxX), r0 = this.row(minY), r1 = this.row(maxY);
    if (c0 < 0 || r0 < 0 || c1 >= this.w || r1 >= this.h) return false;
    for (let r = r0; r <= r1; r++) for (let c = c0, i = r * this.w + c0; c <= c1; c++, i++) if (!(this.flags[i] & CITY)) return false;
    return true;
  }

  /** Sets `bit` on every cell whose centre is inside the polygon (even-odd over its rings). */
  fillPoly(p: LocalPoly, bit: number): void {
    const r0 = Math.max(0, Math.floor((p.minY - this.y0) / this.cell - 0.5));
    const r1 = Math.min(this.h - 1, Math.ceil((p.maxY - this.y0) / this.cell - 0.5));
    if (r1 < r0) return;
    const rows: number[][] = Array.from({ length: r1 - r0 + 1 }, () => []);
    for (const ring of p.rings) {
      const n = ring.length / 2;
      for (let i = 0, j = n - 1; i < n; j = i++) {
        const xa = ring[2 * j], ya = ring[2 * j + 1], xb = ring[2 * i], yb = ring[2 * i + 1];
        if (ya === yb) continue;
        const lo = Math.min(ya, yb), hi = Math.max(ya, yb);
        const ra = Math.max(r0, Math.ceil((lo - this.y0) / this.cell - 0.5));
        const rb = Math.min(r1, Math.ceil((hi - this.y0) / this.cell - 0.5) - 1);
        for (let r = ra; r <= rb; r++) {
          const yc = this.y0 + (r + 0.5) * this.cell;
          rows[r - r0].push(xa + ((xb - xa) * (yc - ya)) / (yb - ya));
        }
      }
    }
    for (let k = 0; k < rows.length; k++) {
      const xs = rows[k].sort((a, b) => a - b);
      const base = (r0 + k) * this.w;
      for (let q = 0; q + 1 < xs.length; q += 2) {
        const c0 = Math.max(0, Math.ceil((xs[q] - this.x0) / this.cell - 0.5));
        const c1 = Math.min(this.w - 1, Math.ceil((xs[q + 1] - this.x0) / this.cell - 0.5) - 1);
        for (let c = c0; c <= c1; c++) this.flags[base + c] |= bit;
      }
    }
  }

  /** Sets `bit` on cells along the polygon's edges and their 8 neighbours, so fill + edges cover every touched cell. */
  markEdges(p: LocalPoly, bit: number): void {
    const step = this.cell / 3;
    for (const ring of p.rings) {
      const n = ring.length / 2;
      for (let i = 0; i + 1 < n; i++) this.markSegment(ring[2 * i], ring[2 * i + 1], ring[2 * i + 2], ring[2 * i + 3], step, 1, bit);
      if (n > 1) this.markSegment(ring[2 * n - 2], ring[2 * n - 1], ring[0], ring[1], step, 1, bit);
    }
  }

  private markSegment(xa: number, ya: number, xb: number, yb: number, step: number, d: number, bit: number): void {
    const k = Math.max(1, Math.ceil(Math.hypot(xb - xa, yb - ya) / step));
    for (let s = 0; s <= k; s++) {
      const c = this.col(xa + ((xb - xa) * s) / k), r = this.row(ya + ((yb - ya) * s) / k);
      for (let dr = -d; dr <= d; dr++) for (let dc = -d; dc <= d; dc++) {
        const cc = c + dc, rr = r + dr;
        if (cc >= 0 && rr >= 0 && cc < this.w && rr < this.h) this.flags[rr * this.w + cc] |= bit;
      }
    }
  }

  /** Claims cells whose centres fall within `halfWidth` of a polyline for `owner` (free cells only). */
  claimLine(pts: readonly number[], halfWidth: number, owner: number): void {
    for (let i = 0; i + 3 < pts.length; i += 2) {
      const xa = pts[i], ya = pts[i + 1], xb = pts[i + 2], yb = pts[i + 3];
      const len = Math.hypot(xb - xa, yb - ya);
      if (len === 0) continue;
      const k = Math.ceil(len / (this.cell / 2));
      const nx = -(yb - ya) / len, ny = (xb - xa) / len;
      const m = Math.ceil(halfWidth / (this.cell / 2));
      for (let s = 0; s <= k; s++) {
        const x = xa + ((xb - xa) * s) / k, y = ya + ((yb - ya) * s) / k;
        for (let o = -m; o <= m; o++) {
          const off = (o / Math.max(1, m)) * halfWidth;
          const idx = this.idx(x + nx * off, y + ny * off);
          if (idx >= 0 && this.owner[idx] === OWN_FREE) this.owner[idx] = owner;
        }
      }
    }
  }

  /** Cell indexes whose centres lie inside an oriented rectangle (centre, half sizes, unit axis u). */
  rectCells(cx: number, cy: number, hu: number, hv: number, ux: number, uy: number, out: number[]): number[] {
    out.length = 0;
    const ex = Math.abs(ux) * hu + Math.abs(uy) * hv, ey = Math.abs(uy) * hu + Math.abs(ux) * hv;
    const c0 = Math.max(0, Math.ceil((cx - ex - this.x0) / this.cell - 0.5)), c1 = Math.min(this.w - 1, Math.floor((cx + ex - this.x0) / this.cell - 0.5));
    const r0 = Math.max(0, Math.ceil((cy - ey - this.y0) / this.cell - 0.5)), r1 = Math.min(this.h - 1, Math.floor((cy + ey - this.y0) / this.cell - 0.5));
    for (let r = r0; r <= r1; r++) {
      const dy = this.y0 + (r + 0.5) * this.cell - cy;
      for (let c = c0; c <= c1; c++) {
        const dx = this.x0 + (c + 0.5) * this.cell - cx;
        const a = dx * ux + dy * uy, b = -dx * uy + dy * ux;
        if (a >= -hu && a <= hu && b >= -hv && b <= hv) out.push(r * this.w + c);
      }
    }
    return out;
  }
}

/** Bucket index over polygons: which polygon contains a point (first in input order wins). */
export class PolygonIndex {
  private readonly start: Int32Array;
  private readonly items: Int32Array;
  private readonly nx: number; private readonly ny: number;
  constructor(readonly polys: readonly LocalPoly[], private readonly x0: number, private readonly y0: number, x1: number, y1: number, private readonly bucket: number) {
    this.nx = Math.max(1, Math.ceil((x1 - x0) / bucket));
    this.ny = Math.max(1, Math.ceil((y1 - y0) / bucket));
    const counts = new Int32Array(this.nx * this.ny + 1);
    const each = (p: LocalPoly, f: (b: number) => void): void => {
      const c0 = Math.max(0, Math.floor((p.minX - x0) / bucket)), c1 = Math.min(this.nx - 1, Math.floor((p.maxX - x0) / bucket));
      const r0 = Math.max(0, Math.floor((p.minY - y0) / bucket)), r1 = Math.min(this.ny - 1, Math.floor((p.maxY - y0) / bucket));
      for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) f(r * this.nx + c);
    };
    for (const p of polys) each(p, (b) => counts[b + 1]++);
    for (let i = 1; i < counts.length; i++) counts[i] += counts[i - 1];
    this.start = counts.slice();
    this.items = new Int32Array(counts[counts.length - 1]);
    const fill = counts.slice();
    polys.forEach((p, k) => each(p, (b) => { this.items[fill[b]++] = k; }));
  }
  find(x: number, y: number): number {
    const c = Math.floor((x - this.x0) / this.bucket), r = Math.floor((y - this.y0) / this.bucket);
    if (c < 0 || r < 0 || c >= this.nx || r >= this.ny) return -1;
    const b = r * this.nx + c;
    for (let i = this.start[b]; i < this.start[b + 1]; i++) if (pointInLocalPoly(x, y, this.polys[this.items[i]])) return this.items[i];
    return -1;
  }
}

/** Bucket index over points for nearest-neighbour look-ups (points added before `finish`). */
export class PointIndex {
  private xs: number[] = []; private ys: number[] = [];
  private start: Int32Array | null = null; private items: Int32Array | null = null;
  private nx = 0; private ny = 0;
  constructor(private readonly x0: number, private readonly y0: number, x1: number, y1: number, private readonly bucket: number) {
    this.nx = Math.max(1, Math.ceil((x1 - x0) / bucket)); this.ny = Math.max(1, Math.ceil((y1 - y0) / bucket));
  }
  add(x: number, y: number): number { this.xs.push(x); this.ys.push(y); return this.xs.length - 1; }
  get size(): number { return this.xs.length; }
  finish(): void {
    const key = (i: number): number => {
      const c = Math.min(this.nx - 1, Math.max(0, Math.floor((this.xs[i] - this.x0) / this.bucket)));
      const r = Math.min(this.ny - 1, Math.max(0, Math.floor((this.ys[i] - this.y0) / this.bucket)));
      return r * this.nx + c;
    };
    const counts = new Int32Array(this.nx * this.ny + 1);
    for (let i = 0; i < this.xs.length; i++) counts[key(i) + 1]++;
    for (let i = 1; i < counts.length; i++) counts[i] += counts[i - 1];
    this.start = counts.slice();
    this.items = new Int32Array(this.xs.length);
    const fill = counts.slice();
    for (let i = 0; i < this.xs.length; i++) this.items[fill[key(i)]++] = i;
  }
  /** Index of the nearest point within maxDist, or -1. */
  nearest(x: number, y: number, maxDist: number): number {
    if (!this.start || !this.items) throw new Error('PointIndex not yet indexed - call finish() first');
    const c = Math.floor((x - this.x0) / this.bucket), r = Math.floor((y - this.y0) / this.bucket);
    const rings = Math.ceil(maxDist / this.bucket);
    let best = -1, bestD = maxDist * maxDist;
    for (let k = 0; k <= rings; k++) {
      for (let rr = r - k; rr <= r + k; rr++) for (let cc = c - k; cc <= c + k; cc++) {
        if (Math.max(Math.abs(rr - r), Math.abs(cc - c)) !== k || rr < 0 || cc < 0 || rr >= this.ny || cc >= this.nx) continue;
        const b = rr * this.nx + cc;
        for (let i = this.start[b]; i < this.start[b + 1]; i++) {
          const j = this.items[i], d = (this.xs[j] - x) ** 2 + (this.ys[j] - y) ** 2;
          if (d < bestD || (d === bestD && j < best)) { bestD = d; best = j; }
        }
      }
      if (best >= 0 && k * this.bucket > Math.sqrt(bestD) + this.bucket) break;
    }
    return best;
  }
}
