// Point → polygon of a partition layer (towns, villages, grids) under the boundary rule: polygons are
// closed, and a point on a shared edge or vertex belongs to the unit with the smallest code (JS `<`, =
// PostgreSQL ORDER BY code COLLATE "C"). Fast path: a uniform cell grid over the layer's extent. Every
// cell that any polygon edge's box touches is "mixed"; any other cell lies wholly in one face of the
// partition (no boundary passes through it), so its answer is computed once, from its centre. A point in a
// mixed cell goes to the exact path (R-tree candidates, robust point-in-polygon, smallest code).
// Cell indices come from floor((x − west) / w), monotone in x, so a point on an edge always lands in a
// cell that edge's box marked: boundary points never take the fast path.
import type { FgbFile } from '../formats/flatgeobuf.ts';
import { fromGeoJSON, locate, OUTSIDE, prepare, type Prepared } from './geometry.ts';
import { PackedRTree } from './rtree.ts';

const MIXED = -2;
/** Degrees (~0.1 mm) added around each cell when testing which cells an edge crosses. */
const EPS = 1e-9;

export class AdminLookup {
  readonly count: number;
  private readonly polys: Prepared[];
  private readonly codes: string[];
  private readonly props: Record<string, unknown>[];
  private readonly tree: PackedRTree;
  private readonly west: number; private readonly south: number;
  private readonly cw: number; private readonly ch: number;
  private readonly cols: number; private readonly rows: number;
  /** Polygon index per cell, -1 outside all, MIXED for the exact path. */
  private readonly cells: Int32Array;
  private readonly cand: number[] = [];

  private constructor(file: FgbFile, codeField: string, cellsLong: number) {
    this.count = file.count;
    this.polys = []; this.codes = []; this.props = [];
    for (const f of file.features()) {
      this.polys.push(prepare(fromGeoJSON(f.geometry), true));
      const p = f.properties ?? {};
      this.props.push(p);
      this.codes.push(String(p[codeField] ?? p.id ?? ''));
    }
    this.tree = new PackedRTree(this.count);
    for (const p of this.polys) this.tree.add(...p.g.bbox);
    this.tree.finish();
    const [w, s, e, n] = [this.tree.minX, this.tree.minY, this.tree.maxX, this.tree.maxY];
    const long = Math.max(e - w, n - s) || 1;
    this.cols = Math.max(1, Math.ceil(cellsLong * (e - w) / long));
    this.rows = Math.max(1, Math.ceil(cellsLong * (n - s) / long));
    this.west = w; this.south = s;
    this.cw = (e - w) / this.cols || 1; this.ch = (n - s) / this.rows || 1;
    this.cells = new Int32Array(this.cols * this.rows);
    this.fillCells();
  }

  /** `codeField` names the property used by the boundary rule; `cells` is the cell count on the long side. */
  static build(file: FgbFile, opts: { codeField?: string; cells?: number } = {}): AdminLookup {
    return new AdminLookup(file, opts.codeField ?? 'code', opts.cells ?? 1024);
  }

  private col(x: number): number { return Math.floor((x - this.west) / this.cw); }
  private row(y: number): number { return Math.floor((y - this.south) / this.ch); }

  private fillCells(): void {
    const { cols, rows, cells } = this;
    // Mark cells touched by any edge's box (clamped: points outside the extent never use the grid).
    for (const p of this.polys) {
      const xy = p.g.xy;
      for (const a of p.seg) {
        const c0 = Math.max(0, this.col(Math.min(xy[2 * a], xy[2 * a + 2]))), c1 = Math.min(cols - 1, this.col(Math.max(xy[2 * a], xy[2 * a + 2])));
        const r0 = Math.max(0, this.row(Math.min(xy[2 * a + 1], xy[2 * a + 3]))), r1 = Math.min(rows - 1, this.row(Math.max(xy[2 * a + 1], xy[2 * a + 3])));
        const ax = xy[2 * a], ay = xy[2 * a + 1], dx = xy[2 * a + 2] - ax, dy = xy[2 * a + 3] - ay;
        for (let r = r0; r <= r1; r++) {
          for (let c = c0; c <= c1; c++) {
            // Only cells the segment passes through (box widened by EPS, far above the rounding of the cell
            // index): all four corners strictly on one side of the segment's line ⇒ it misses the cell.
            if (c1 > c0 && r1 > r0) {
              const x0 = this.west + c * this.cw - EPS, x1 = this.west + (c + 1) * this.cw + EPS;
              const y0 = this.south + r * this.ch - EPS, y1 = this.south + (r + 1) * this.ch + EPS;
              const s00 = dx * (y0 - ay) - dy * (x0 - ax), s10 = dx * (y0 - ay) - dy * (x1 - ax);
              const s01 = dx * (y1 - ay) - dy * (x0 - ax), s11 = dx * (y1 - ay) - dy * (x1 - ax);
              if ((s00 > 0 && s10 > 0 && s01 > 0 && s11 > 0) || (s00 < 0 && s10 < 0 && s01 < 0 && s11 < 0)) continue;
            }
            cells[r * cols + c] = MIXED;
          }
        }
      }
    }
    // Runs of unmarked cells in a row share one face: one exact lookup per run.
    for (let r = 0; r < rows; r++) {
      let runValue = 0, inRun = false;
      for (let c = 0; c < cols; c++) {
        const k = r * cols + c;
        if (cells[k] === MIXED) { inRun = false; continue; }
        if (!inRun) {
          runValue = this.exact(this.west + (c + 0.5) * this.cw, this.south + (r + 0.5) * this.ch);
          inRun = true;
        }
        cells[k] = runValue;
      }
    }
  }

  /** The exact path: candidates by box, closed point-in-polygon, smallest code wins. */
  exact(x: number, y: number): number {
    const cand = this.tree.search(x, y, x, y, this.cand);
    let best = -1;
    for (const i of cand) {
      if (best >= 0 && !(this.codes[i] < this.codes[best])) continue;
      if (locate(this.polys[i], x, y) !== OUTSIDE) best = i;
    }
    cand.length = 0;
    return best;
  }

  /** File index of the polygon at the point, or -1. */
  indexAt(lon: number, lat: number): number {
    const c = this.col(lon), r = this.row(lat);
    if (c >= 0 && c < this.cols && r >= 0 && r < this.rows) {
      const v = this.cells[r * this.cols + c];
      if (v !== MIXED) return v;
    } else if (!(lon >= this.tree.minX && lon <= this.tree.maxX && lat >= this.tree.minY && lat <= this.tree.maxY)) {
      return -1;
    }
    return this.exact(lon, lat);
  }

  /** Code of the polygon at the point, or null. */
  codeAt(lon: number, lat: number): string | null {
    const i = this.indexAt(lon, lat);
    return i < 0 ? null : this.codes[i];
  }

  code(i: number): string { return this.codes[i]; }

  /** Properties (as stored in the file) of polygon i. */
  properties(i: number): Record<string, unknown> { return this.props[i]; }

  /** Share of cells on the fast path (for the benchmark's notes). */
  fastShare(): number {
    let k = 0;
    for (const v of this.cells) if (v !== MIXED) k++;
    return k / this.cells.length;
  }
}
