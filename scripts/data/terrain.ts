// A regular elevation grid from the ASTER GDEM v3 samples (every 20th pixel, ~600 m lattice in lon/lat).
// Bilinear interpolation between lattice nodes; a lattice node with no sample (the Yangtze, the lakes,
// outside the city) counts as 0 m, so heights fall to 0 towards water and sample values are reproduced
// exactly at the sample points.

export interface DemSample { lon: number; lat: number; elev: number }

export interface DemMeta {
  version: 1;
  west: number; south: number; east: number; north: number;
  width: number; height: number;
  unit: 'm';
  source: 'ASTER GDEM v3, NASA/METI';
  format: 'float32 little-endian, row-major from north-west';
}

export interface Dem { meta: DemMeta; heights: Float32Array }

/** The lattice step of the samples: the most common positive gap between sorted distinct coordinates. */
function latticeStep(values: number[]): number {
  const u = [...new Set(values)].sort((a, b) => a - b);
  const counts = new Map<number, number>();
  for (let i = 1; i < u.length; i++) {
    const d = Math.round((u[i] - u[i - 1]) * 1e4) / 1e4;
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best = 0, bc = -1;
  for (const [d, c] of [...counts].sort((a, b) => a[0] - b[0])) if (c > bc) { bc = c; best = d; }
  if (!(best > 0)) throw new Error('buildDem: cannot find the sample lattice step - need at least two distinct coordinates');
  // Coordinates are rounded to 1e-4°, so average the span over the number of steps it holds.
  const span = u[u.length - 1] - u[0];
  return span / Math.round(span / best);
}

/**
 * Heights on a grid of `cellDeg` degrees covering bbox [west, south, east, north] (expanded to whole
 * cells), pixel centres at west + (i + 0.5)·cellDeg, north − (j + 0.5)·cellDeg.
 */
export function buildDem(samples: readonly DemSample[], bbox: [number, number, number, number], cellDeg: number): Dem {
  if (samples.length < 4) throw new Error(`buildDem: ${samples.length} samples - need a lattice of at least 2 × 2`);
  const sx = latticeStep(samples.map((s) => s.lon));
  const sy = latticeStep(samples.map((s) => s.lat));
  let lon0 = Infinity, lat0 = Infinity;
  for (const s of samples) { if (s.lon < lon0) lon0 = s.lon; if (s.lat < lat0) lat0 = s.lat; }
  const ni = Math.round((Math.max(...samples.map((s) => s.lon)) - lon0) / sx) + 1;
  const nj = Math.round((Math.max(...samples.map((s) => s.lat)) - lat0) / sy) + 1;
  const lat = new Float32Array(ni * nj); // 0 where there is no sample
  for (const s of samples) {
    const i = Math.round((s.lon - lon0) / sx), j = Math.round((s.lat - lat0) / sy);
    lat[j * ni + i] = s.elev;
  }
  const at = (i: number, j: number): number => (i < 0 || j < 0 || i >= ni || j >= nj ? 0 : lat[j * ni + i]);
  const west = Math.floor(bbox[0] / cellDeg) * cellDeg, south = Math.floor(bbox[1] / cellDeg) * cellDeg;
  const width = Math.ceil((bbox[2] - west) / cellDeg), height = Math.ceil((bbox[3] - south) / cellDeg);
  const north = south + height * cellDeg, east = west + width * cellDeg;
  const heights = new Float32Array(width * height);
  for (let r = 0; r < height; r++) {
    const y = (north - (r + 0.5) * cellDeg - lat0) / sy;
    const j = Math.floor(y), fy = y - j;
    for (let c = 0; c < width; c++) {
      const x = (west + (c + 0.5) * cellDeg - lon0) / sx;
      const i = Math.floor(x), fx = x - i;
      const v = (at(i, j) * (1 - fx) + at(i + 1, j) * fx) * (1 - fy) + (at(i, j + 1) * (1 - fx) + at(i + 1, j + 1) * fx) * fy;
      heights[r * width + c] = Math.round(v * 10) / 10;
    }
  }
  const r9 = (v: number): number => Math.round(v * 1e9) / 1e9;
  return {
    meta: {
      version: 1, west: r9(west), south: r9(south), east: r9(east), north: r9(north), width, height, unit: 'm',
      source: 'ASTER GDEM v3, NASA/METI', format: 'float32 little-endian, row-major from north-west',
    },
    heights,
  };
}

/** Height at a lon/lat by bilinear interpolation of the grid (pixel centres); 0 outside. */
export function demHeightAt(dem: Dem, lon: number, lat: number): number {
  const { west, north, east, south, width, height } = dem.meta;
  const cw = (east - west) / width, ch = (north - south) / height;
  const x = (lon - west) / cw - 0.5, y = (north - lat) / ch - 0.5;
  const i = Math.floor(x), j = Math.floor(y), fx = x - i, fy = y - j;
  const at = (c: number, r: number): number => (c < 0 || r < 0 || c >= width || r >= height ? 0 : dem.heights[r * width + c]);
  return (at(i, j) * (1 - fx) + at(i + 1, j) * fx) * (1 - fy) + (at(i, j + 1) * (1 - fx) + at(i + 1, j + 1) * fx) * fy;
}

/** The bytes of dem.f32: float32 little-endian whatever the host's byte order. */
export function demBytes(dem: Dem): Uint8Array {
  const out = new Uint8Array(dem.heights.length * 4);
  const dv = new DataView(out.buffer);
  dem.heights.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return out;
}

/**
 * Whether the ASTER lattice node nearest to a point has a sample. The samples leave out the Yangtze and
 * the lakes, so this is a coarse (~600 m) land mask.
 */
export function sampleCoverage(samples: readonly DemSample[]): (lon: number, lat: number) => boolean {
  const sx = latticeStep(samples.map((s) => s.lon));
  const sy = latticeStep(samples.map((s) => s.lat));
  let lon0 = Infinity, lat0 = Infinity;
  for (const s of samples) { if (s.lon < lon0) lon0 = s.lon; if (s.lat < lat0) lat0 = s.lat; }
  const have = new Set<number>();
  for (const s of samples) have.add(Math.round((s.lon - lon0) / sx) * 100_003 + Math.round((s.lat - lat0) / sy));
  return (lon, lat) => have.has(Math.round((lon - lon0) / sx) * 100_003 + Math.round((lat - lat0) / sy));
}
