// A static packed Hilbert R-tree over boxes in typed arrays, after flatbush (github.com/mourner/flatbush,
// ISC): items sorted by the Hilbert value of their centres, parents packed level by level, so the whole
// index is two typed arrays. Chosen over a k-d tree because every layer (points, lines, polygons) and the
// query shapes' segments share one structure; for points the boxes are degenerate and search is as fast.
// kNN is the best-first search of flatbush's `neighbors`, extended with an optional exact item distance
// (lines and polygons are farther than their boxes), and it returns every item tied with the k-th.
import { hilbert } from '../formats/hilbert-rtree.ts';

export class PackedRTree {
  readonly numItems: number;
  readonly nodeSize: number;
  /** minX, minY, maxX, maxY per node; leaves first (in Hilbert order), then each upper level. */
  private readonly boxes: Float64Array;
  /** Leaves: item index; inner nodes: position (node index × 4) of the first child in `boxes`. */
  private readonly indices: Uint32Array;
  private readonly levelBounds: number[];
  private pos = 0;
  minX = Infinity; minY = Infinity; maxX = -Infinity; maxY = -Infinity;
  private done = false;

  constructor(numItems: number, nodeSize = 16) {
    if (!(numItems >= 0 && Number.isInteger(numItems))) throw new Error(`PackedRTree: numItems must be an integer ≥ 0, got ${numItems}`);
    this.numItems = numItems;
    this.nodeSize = Math.min(Math.max(nodeSize, 2), 65535);
    let n = numItems;
    let numNodes = n;
    this.levelBounds = [n * 4];
    if (n > 0) {
      do {
        n = Math.ceil(n / this.nodeSize);
        numNodes += n;
        this.levelBounds.push(numNodes * 4);
      } while (n !== 1);
    }
    this.boxes = new Float64Array(numNodes * 4);
    this.indices = new Uint32Array(numNodes);
  }

  /** Builds from boxes laid out minX, minY, maxX, maxY per item. */
  static from(boxes: Float64Array, nodeSize = 16): PackedRTree {
    const n = boxes.length / 4;
    const t = new PackedRTree(n, nodeSize);
    for (let i = 0; i < n; i++) t.add(boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]);
    t.finish();
    return t;
  }

  add(minX: number, minY: number, maxX: number, maxY: number): number {
    const i = this.pos >> 2;
    if (i >= this.numItems) throw new Error(`PackedRTree: added more than the ${this.numItems} items it was sized for`);
    this.indices[i] = i;
    this.boxes[this.pos++] = minX; this.boxes[this.pos++] = minY;
    this.boxes[this.pos++] = maxX; this.boxes[this.pos++] = maxY;
    if (minX < this.minX) this.minX = minX;
    if (minY < this.minY) this.minY = minY;
    if (maxX > this.maxX) this.maxX = maxX;
    if (maxY > this.maxY) this.maxY = maxY;
    return i;
  }

  finish(): void {
    if (this.pos >> 2 !== this.numItems) throw new Error(`PackedRTree: ${this.pos >> 2} items added, ${this.numItems} expected; add them all before finish()`);
    this.done = true;
    const n = this.numItems;
    if (n === 0) return;
    const boxes = this.boxes;
    if (n <= this.nodeSize) {
      boxes[this.pos++] = this.minX; boxes[this.pos++] = this.minY; boxes[this.pos++] = this.maxX; boxes[this.pos++] = this.maxY;
      return;
    }
    const w = this.maxX - this.minX || 1, h = this.maxY - this.minY || 1;
    const H = (1 << 16) - 1;
    const hv = new Uint32Array(n);
    for (let i = 0, p = 0; i < n; i++, p += 4) {
      const cx = Math.floor(H * ((boxes[p] + boxes[p + 2]) / 2 - this.minX) / w);
      const cy = Math.floor(H * ((boxes[p + 1] + boxes[p + 3]) / 2 - this.minY) / h);
      hv[i] = hilbert(cx, cy);
    }
    // Sort items by Hilbert value (an index sort; ties by item index keeps the build deterministic).
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => hv[a] - hv[b] || a - b);
    const sorted = boxes.slice(0, n * 4);
    for (let k = 0; k < n; k++) {
      const i = order[k];
      boxes[4 * k] = sorted[4 * i]; boxes[4 * k + 1] = sorted[4 * i + 1];
      boxes[4 * k + 2] = sorted[4 * i + 2]; boxes[4 * k + 3] = sorted[4 * i + 3];
      this.indices[k] = i;
    }
    for (let i = 0, p = 0; i < this.levelBounds.length - 1; i++) {
      const end = this.levelBounds[i];
      while (p < end) {
        const nodeIndex = p;
        let a = boxes[p], b = boxes[p + 1], c = boxes[p + 2], d = boxes[p + 3];
        for (let j = 1; j < this.nodeSize && p + 4 < end; j++) {
          p += 4;
          if (boxes[p] < a) a = boxes[p];
          if (boxes[p + 1] < b) b = boxes[p + 1];
          if (boxes[p + 2] > c) c = boxes[p + 2];
          if (boxes[p + 3] > d) d = boxes[p + 3];
        }
        p += 4;
        this.indices[this.pos >> 2] = nodeIndex;
        boxes[this.pos++] = a; boxes[this.pos++] = b; boxes[this.pos++] = c; boxes[this.pos++] = d;
      }
    }
  }

  private check(): void {
    if (!this.done) throw new Error('PackedRTree: data not yet indexed - call finish().');
  }

  /** Items whose box intersects the closed query box (unordered), appended to `out`. */
  search(minX: number, minY: number, maxX: number, maxY: number, out: number[] = []): number[] {
    this.check();
    if (this.numItems === 0) return out;
    const boxes = this.boxes, indices = this.indices, nodeSize = this.nodeSize;
    const stack: number[] = [];
    let nodeIndex: number | undefined = boxes.length - 4;
    while (nodeIndex !== undefined) {
      const end = Math.min(nodeIndex + nodeSize * 4, upperBound(nodeIndex, this.levelBounds));
      for (let p = nodeIndex; p < end; p += 4) {
        if (maxX < boxes[p] || maxY < boxes[p + 1] || minX > boxes[p + 2] || minY > boxes[p + 3]) continue;
        const index = indices[p >> 2];
        if (nodeIndex >= this.numItems * 4) stack.push(index);
        else out.push(index);
      }
      nodeIndex = stack.pop();
    }
    return out;
  }

  /** Box of item i (as added). */
  itemBox(i: number): [number, number, number, number] {
    // Items were reordered; find through the leaf level (used rarely: tests and debugging).
    for (let k = 0; k < this.numItems; k++) {
      if (this.indices[k] === i) return [this.boxes[4 * k], this.boxes[4 * k + 1], this.boxes[4 * k + 2], this.boxes[4 * k + 3]];
    }
    throw new RangeError(`item ${i} is not in the tree`);
  }

  /**
   * Up to k items nearest to (x, y), nearest first, as [item, distance] pairs, within maxDist. Distance is
   * to the item's box unless `itemDist(i)` gives the exact one (it must be ≥ the box distance). Items tied
   * with the k-th distance are all returned (the caller breaks ties, e.g. by id). `filter` skips items.
   */
  neighbors(
    x: number, y: number, k: number, maxDist = Infinity,
    itemDist?: (i: number) => number, filter?: (i: number) => boolean,
  ): { items: number[]; dists: number[] } {
    this.check();
    const items: number[] = [], dists: number[] = [];
    if (this.numItems === 0 || k <= 0) return { items, dists };
    const boxes = this.boxes, indices = this.indices, nodeSize = this.nodeSize;
    const q = new MinQueue();
    const maxSq = maxDist * maxDist;
    let nodeIndex: number = boxes.length - 4;
    // The k-th squared distance, kept squared: sqrt then square can round below it and drop tied items.
    let kthSq = Infinity;
    for (;;) {
      const end = Math.min(nodeIndex + nodeSize * 4, upperBound(nodeIndex, this.levelBounds));
      for (let p = nodeIndex; p < end; p += 4) {
        const dx = axisDist(x, boxes[p], boxes[p + 2]);
        const dy = axisDist(y, boxes[p + 1], boxes[p + 3]);
        const d2 = dx * dx + dy * dy;
        if (d2 > maxSq) continue;
        const index = indices[p >> 2];
        if (nodeIndex >= this.numItems * 4) q.push(index * 4, d2); // inner node: its child position
        else if (!filter || filter(index)) q.push(index * 4 + (itemDist ? 1 : 2), d2); // item, box or exact
      }
      let next = -1;
      while (q.length) {
        if (q.peekValue() > kthSq) { q.length = 0; break; }
        const v = q.peekValue();
        const id = q.pop();
        const kind = id & 3;
        if (kind === 0) { next = id >> 2; break; }
        const item = id >>> 2;
        if (kind === 1) {
          const d = itemDist!(item);
          if (d <= maxDist) q.push(item * 4 + 2, d * d);
          continue;
        }
        items.push(item);
        dists.push(Math.sqrt(v));
        if (items.length >= k) kthSq = v;
      }
      if (next < 0) break;
      nodeIndex = next;
    }
    return { items, dists };
  }
}

function axisDist(k: number, min: number, max: number): number {
  return k < min ? min - k : k <= max ? 0 : k - max;
}

function upperBound(value: number, arr: number[]): number {
  let i = 0, j = arr.length - 1;
  while (i < j) {
    const m = (i + j) >> 1;
    if (arr[m] > value) j = m; else i = m + 1;
  }
  return arr[i];
}

/** Binary min-heap of (id, value) pairs (flatqueue's layout). */
class MinQueue {
  private ids: number[] = [];
  private values: number[] = [];
  length = 0;
  push(id: number, value: number): void {
    let pos = this.length++;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const pv = this.values[parent];
      if (value >= pv) break;
      this.ids[pos] = this.ids[parent];
      this.values[pos] = pv;
      pos = parent;
    }
    this.ids[pos] = id;
    this.values[pos] = value;
  }
  pop(): number {
    const top = this.ids[0];
    const n = --this.length;
    if (n > 0) {
      const id = this.ids[n], value = this.values[n];
      let pos = 0;
      const half = n >> 1;
      while (pos < half) {
        let left = (pos << 1) + 1;
        const right = left + 1;
        if (right < n && this.values[right] < this.values[left]) left = right;
        if (this.values[left] >= value) break;
        this.ids[pos] = this.ids[left];
        this.values[pos] = this.values[left];
        pos = left;
      }
      this.ids[pos] = id;
      this.values[pos] = value;
    }
    return top;
  }
  peekValue(): number { return this.values[0]; }
}
