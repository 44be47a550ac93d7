// The packed Hilbert R-tree of FlatGeobuf (https://flatgeobuf.org, "Spatial index"; the same tree as
// flatbush). Each node is 40 bytes: minX, minY, maxX, maxY (float64) and offset (uint64), little-endian.
// Nodes are stored root first, level by level down to the leaves; a leaf's offset is the byte offset of
// its feature from the start of the features section, an inner node's offset is the node index of its
// first child. Level layout comes from flatgeobuf's own `generateLevelBounds`, so ours matches theirs.

import { generateLevelBounds, NODE_ITEM_BYTE_LEN } from 'flatgeobuf/lib/mjs/packedrtree.js';

export { NODE_ITEM_BYTE_LEN };
export const DEFAULT_NODE_SIZE = 16;
const HILBERT_MAX = (1 << 16) - 1;

/** Byte size of the tree for `count` items; 0 items ⇒ no tree (flatgeobuf's calcTreeSize loops on 0). */
export function treeByteSize(count: number, nodeSize: number): number {
  if (count === 0) return 0;
  const bounds = generateLevelBounds(count, nodeSize);
  return bounds[0][1] * NODE_ITEM_BYTE_LEN;
}

/**
 * Hilbert index of the centre of box i within `extent`, on a 2^16 grid — the function of flatbush /
 * FlatGeobuf's packedrtree.cpp ("Fast Hilbert curve algorithm" by http://threadlocalmutex.com/, public domain).
 */
export function hilbert(x: number, y: number): number {
  let a = x ^ y;
  let b = 0xffff ^ a;
  let c = 0xffff ^ (x | y);
  let d = x & (y ^ 0xffff);
  let A = a | (b >>> 1);
  let B = (a >>> 1) ^ a;
  let C = (c >>> 1) ^ (b & (d >>> 1)) ^ c;
  let D = (a & (c >>> 1)) ^ (d >>> 1) ^ d;
  a = A; b = B; c = C; d = D;
  A = (a & (a >>> 2)) ^ (b & (b >>> 2));
  B = (a & (b >>> 2)) ^ (b & ((a ^ b) >>> 2));
  C ^= (a & (c >>> 2)) ^ (b & (d >>> 2));
  D ^= (b & (c >>> 2)) ^ ((a ^ b) & (d >>> 2));
  a = A; b = B; c = C; d = D;
  A = (a & (a >>> 4)) ^ (b & (b >>> 4));
  B = (a & (b >>> 4)) ^ (b & ((a ^ b) >>> 4));
  C ^= (a & (c >>> 4)) ^ (b & (d >>> 4));
  D ^= (b & (c >>> 4)) ^ ((a ^ b) & (d >>> 4));
  a = A; b = B; c = C; d = D;
  C ^= (a & (c >>> 8)) ^ (b & (d >>> 8));
  D ^= (b & (c >>> 8)) ^ ((a ^ b) & (d >>> 8));
  a = C ^ (C >>> 1);
  b = D ^ (D >>> 1);
  let i0 = x ^ y;
  let i1 = b | (0xffff ^ (i0 | a));
  i0 = (i0 | (i0 << 8)) & 0x00ff00ff;
  i0 = (i0 | (i0 << 4)) & 0x0f0f0f0f;
  i0 = (i0 | (i0 << 2)) & 0x33333333;
  i0 = (i0 | (i0 << 1)) & 0x55555555;
  i1 = (i1 | (i1 << 8)) & 0x00ff00ff;
  i1 = (i1 | (i1 << 4)) & 0x0f0f0f0f;
  i1 = (i1 | (i1 << 2)) & 0x33333333;
  i1 = (i1 | (i1 << 1)) & 0x55555555;
  return ((i1 << 1) | i0) >>> 0;
}

/** Item order along the Hilbert curve of box centres. `boxes` is [minX, minY, maxX, maxY] × n. */
export function hilbertOrder(boxes: Float64Array, extent: [number, number, number, number]): Uint32Array {
  const n = boxes.length / 4;
  const [minX, minY, maxX, maxY] = extent;
  const w = maxX - minX || 1;
  const h = maxY - minY || 1;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const cx = (boxes[4 * i] + boxes[4 * i + 2]) / 2;
    const cy = (boxes[4 * i + 1] + boxes[4 * i + 3]) / 2;
    const hx = Math.floor((HILBERT_MAX * (cx - minX)) / w);
    const hy = Math.floor((HILBERT_MAX * (cy - minY)) / h);
    keys[i] = hilbert(hx, hy);
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Ties broken by input index so the order (and so the file) is deterministic.
  order.sort((a, b) => keys[a] - keys[b] || a - b);
  return order;
}

/**
 * Writes the tree for leaves already in their final (file) order. `boxes` and `offsets` are per leaf.
 * Returns the tree bytes (treeByteSize(n, nodeSize) long).
 */
export function buildPackedRTree(boxes: Float64Array, offsets: Float64Array, nodeSize: number): Uint8Array {
  const n = offsets.length;
  if (n === 0) return new Uint8Array(0);
  const levels = generateLevelBounds(n, nodeSize);
  const numNodes = levels[0][1];
  const nb = new Float64Array(numNodes * 4);
  const no = new Float64Array(numNodes);
  const leafStart = levels[0][0];
  nb.set(boxes, leafStart * 4);
  no.set(offsets, leafStart);
  // Each parent covers up to nodeSize consecutive children of the level below.
  for (let l = 0; l < levels.length - 1; l++) {
    const [start, end] = levels[l];
    let parent = levels[l + 1][0];
    for (let i = start; i < end; i += nodeSize, parent++) {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      const stop = Math.min(i + nodeSize, end);
      for (let j = i; j < stop; j++) {
        if (nb[4 * j] < x0) x0 = nb[4 * j];
        if (nb[4 * j + 1] < y0) y0 = nb[4 * j + 1];
        if (nb[4 * j + 2] > x1) x1 = nb[4 * j + 2];
        if (nb[4 * j + 3] > y1) y1 = nb[4 * j + 3];
      }
      nb[4 * parent] = x0; nb[4 * parent + 1] = y0; nb[4 * parent + 2] = x1; nb[4 * parent + 3] = y1;
      no[parent] = i;
    }
  }
  const out = new Uint8Array(numNodes * NODE_ITEM_BYTE_LEN);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < numNodes; i++) {
    const p = i * NODE_ITEM_BYTE_LEN;
    dv.setFloat64(p, nb[4 * i], true);
    dv.setFloat64(p + 8, nb[4 * i + 1], true);
    dv.setFloat64(p + 16, nb[4 * i + 2], true);
    dv.setFloat64(p + 24, nb[4 * i + 3], true);
    dv.setBigUint64(p + 32, BigInt(no[i]), true);
  }
  return out;
}

/** A parsed tree, kept as typed arrays so searches do no allocation per node. */
export interface PackedRTree {
  count: number;
  nodeSize: number;
  /** Per node: minX, minY, maxX, maxY. */
  boxes: Float64Array;
  /** Per node: child node index (inner) or feature byte offset (leaf). */
  offsets: Float64Array;
  leafStart: number;
  levels: number[][];
}

export function readPackedRTree(bytes: Uint8Array, count: number, nodeSize: number): PackedRTree {
  const levels = generateLevelBounds(count, nodeSize);
  const numNodes = levels[0][1];
  if (bytes.byteLength < numNodes * NODE_ITEM_BYTE_LEN) {
    throw new Error(`FlatGeobuf index truncated: need ${numNodes * NODE_ITEM_BYTE_LEN} bytes, have ${bytes.byteLength}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxes = new Float64Array(numNodes * 4);
  const offsets = new Float64Array(numNodes);
  for (let i = 0; i < numNodes; i++) {
    const p = i * NODE_ITEM_BYTE_LEN;
    boxes[4 * i] = dv.getFloat64(p, true);
    boxes[4 * i + 1] = dv.getFloat64(p + 8, true);
    boxes[4 * i + 2] = dv.getFloat64(p + 16, true);
    boxes[4 * i + 3] = dv.getFloat64(p + 24, true);
    offsets[i] = Number(dv.getBigUint64(p + 32, true));
  }
  return { count, nodeSize, boxes, offsets, leafStart: levels[0][0], levels };
}

/** Leaf positions (0-based, in leaf order = file order) whose box intersects bbox, ascending. */
export function searchPackedRTree(t: PackedRTree, bbox: [number, number, number, number]): number[] {
  const [qx0, qy0, qx1, qy1] = bbox;
  const out: number[] = [];
  // Stack of [first node index, level]; a node's children run to nodeSize or the level's end.
  const stack: number[] = [0, t.levels.length - 1];
  while (stack.length) {
    const level = stack.pop()!;
    const start = stack.pop()!;
    const end = Math.min(start + t.nodeSize, t.levels[level][1]);
    for (let i = start; i < end; i++) {
      if (qx1 < t.boxes[4 * i] || qy1 < t.boxes[4 * i + 1] || qx0 > t.boxes[4 * i + 2] || qy0 > t.boxes[4 * i + 3]) continue;
      if (level === 0) out.push(i - t.leafStart);
      else stack.push(t.offsets[i], level - 1);
    }
  }
  return out.sort((a, b) => a - b);
}
