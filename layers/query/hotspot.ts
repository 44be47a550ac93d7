// Hot-spot analysis over points: kernel density on a lon/lat-aligned grid (so it drapes exactly on the map)
// with distances in Gauss–Krüger metres (EPSG:4549), and DBSCAN clusters (Ester et al., KDD 1996) in the
// same metres. Both are deterministic for a given input order.
import { transformCoords } from '../crs.ts';

export interface DensityGrid {
  west: number; south: number; east: number; north: number;
  cols: number; rows: number;
  /** Nominal cell size in metres (cells are cellM × cellM at the grid's centre latitude). */
  cellM: number;
  /** Row-major, row 0 = north: kernel density in points per km², so Σ values × (cellM/1000)² ≈ N. */
  values: Float32Array;
  max: number;
}

const M_PER_DEG_LAT = 110_950; // at 31.6°N (WGS84 meridian arc); only sizes the cells, distances use GK

/** Quartic (biweight) kernel density, K(d) = 3/(πh²)·(1 − d²/h²)² for d < h. */
export function kernelDensity(coords: Float64Array, opts: { cellM: number; bandwidthM: number; bbox?: [number, number, number, number] }): DensityGrid {
  const { cellM, bandwidthM: h } = opts;
  if (!(cellM > 0) || !(h > 0)) throw new RangeError('cellM and bandwidthM must be positive metres');
  const n = coords.length / 2;
  let bbox = opts.bbox;
  if (!bbox) {
    bbox = [Infinity, Infinity, -Infinity, -Infinity];
    for (let i = 0; i < n; i++) {
      bbox[0] = Math.min(bbox[0], coords[2 * i]); bbox[1] = Math.min(bbox[1], coords[2 * i + 1]);
      bbox[2] = Math.max(bbox[2], coords[2 * i]); bbox[3] = Math.max(bbox[3], coords[2 * i + 1]);
    }
    if (n === 0) bbox = [120.5, 31.45, 121.05, 31.9];
    const padLat = h / M_PER_DEG_LAT, padLon = padLat / Math.cos(((bbox[1] + bbox[3]) / 2) * Math.PI / 180);
    bbox = [bbox[0] - padLon, bbox[1] - padLat, bbox[2] + padLon, bbox[3] + padLat];
  }
  const midLat = (bbox[1] + bbox[3]) / 2;
  const dLat = cellM / M_PER_DEG_LAT, dLon = dLat / Math.cos(midLat * Math.PI / 180);
  const cols = Math.max(1, Math.ceil((bbox[2] - bbox[0]) / dLon));
  const rows = Math.max(1, Math.ceil((bbox[3] - bbox[1]) / dLat));
  const west = bbox[0], north = bbox[3], east = west + cols * dLon, south = north - rows * dLat;
  // Cell centres in GK, row 0 = north.
  const centres = new Float64Array(2 * cols * rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    const k = r * cols + c;
    centres[2 * k] = west + (c + 0.5) * dLon; centres[2 * k + 1] = north - (r + 0.5) * dLat;
  }
  transformCoords('EPSG:4326', 'EPSG:4549', centres, centres);
  const gk = transformCoords('EPSG:4326', 'EPSG:4549', coords);
  const values = new Float32Array(cols * rows);
  const norm = 3 / (Math.PI * h * h) * 1e6; // per km²
  const reachC = Math.ceil(h / cellM * 1.05) + 1, reachR = reachC;
  const h2 = h * h;
  const acc = new Float64Array(cols * rows);
  for (let i = 0; i < n; i++) {
    const c0 = Math.floor((coords[2 * i] - west) / dLon), r0 = Math.floor((north - coords[2 * i + 1]) / dLat);
    const px = gk[2 * i], py = gk[2 * i + 1];
    for (let r = Math.max(0, r0 - reachR); r <= Math.min(rows - 1, r0 + reachR); r++) {
      for (let c = Math.max(0, c0 - reachC); c <= Math.min(cols - 1, c0 + reachC); c++) {
        const k = r * cols + c;
        const dx = centres[2 * k] - px, dy = centres[2 * k + 1] - py;
        const d2 = dx * dx + dy * dy;
        if (d2 < h2) { const u = 1 - d2 / h2; acc[k] += u * u; }
      }
    }
  }
  let max = 0;
  for (let k = 0; k < acc.length; k++) { values[k] = acc[k] * norm; if (values[k] > max) max = values[k]; }
  return { west, south, east, north, cols, rows, cellM, values, max };
}

export interface Cluster {
  id: number; count: number; center: [number, number]; bbox: [number, number, number, number];
  /** Indices into the input points, ascending. */
  members: number[];
}

/** DBSCAN: core points have ≥ minPts neighbours (themselves included) within epsM; clusters largest first. */
export function clusters(coords: Float64Array, opts: { epsM: number; minPts: number }): Cluster[] {
  const { epsM: eps, minPts } = opts;
  if (!(eps > 0) || !(minPts >= 1)) throw new RangeError('epsM must be > 0 and minPts ≥ 1');
  const n = coords.length / 2;
  const gk = transformCoords('EPSG:4326', 'EPSG:4549', coords);
  // Hash points into eps-sized cells; neighbours are in the 3×3 block around a point's cell.
  const cell = new Map<string, number[]>();
  const key = (cx: number, cy: number) => `${cx},${cy}`;
  for (let i = 0; i < n; i++) {
    const k = key(Math.floor(gk[2 * i] / eps), Math.floor(gk[2 * i + 1] / eps));
    let l = cell.get(k);
    if (!l) cell.set(k, (l = []));
    l.push(i);
  }
  const eps2 = eps * eps;
  const neighbours = (i: number): number[] => {
    const x = gk[2 * i], y = gk[2 * i + 1];
    const cx = Math.floor(x / eps), cy = Math.floor(y / eps);
    const out: number[] = [];
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const l = cell.get(key(cx + dx, cy + dy));
      if (l) for (const j of l) { const ex = gk[2 * j] - x, ey = gk[2 * j + 1] - y; if (ex * ex + ey * ey <= eps2) out.push(j); }
    }
    return out;
  };
  const label = new Int32Array(n).fill(-1); // -1 unvisited, -2 noise, ≥ 0 cluster
  const groups: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (label[i] !== -1) continue;
    const nb = neighbours(i);
    if (nb.length < minPts) { label[i] = -2; continue; }
    const id = groups.length;
    const members: number[] = [];
    groups.push(members);
    label[i] = id; members.push(i);
    const queue = nb;
    for (let q = 0; q < queue.length; q++) {
      const j = queue[q];
      if (label[j] === -2) { label[j] = id; members.push(j); continue; } // border point
      if (label[j] !== -1) continue;
      label[j] = id; members.push(j);
      const nb2 = neighbours(j);
      if (nb2.length >= minPts) for (const m of nb2) if (label[m] < 0) queue.push(m);
    }
  }
  const out = groups.map((members) => {
    members.sort((a, b) => a - b);
    let sx = 0, sy = 0;
    const bbox: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const m of members) {
      const x = coords[2 * m], y = coords[2 * m + 1];
      sx += x; sy += y;
      bbox[0] = Math.min(bbox[0], x); bbox[1] = Math.min(bbox[1], y); bbox[2] = Math.max(bbox[2], x); bbox[3] = Math.max(bbox[3], y);
    }
    return { id: 0, count: members.length, center: [sx / members.length, sy / members.length] as [number, number], bbox, members };
  });
  out.sort((a, b) => b.count - a.count || a.members[0] - b.members[0]);
  out.forEach((c, i) => (c.id = i));
  return out;
}
