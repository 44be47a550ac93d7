// Mapbox Vector Tile 2.1 encoder (https://github.com/mapbox/vector-tile-spec/tree/master/2.1) straight
// from geojson-vt's raw tiles (flat integer arrays in tile space), with no per-vertex objects — vt-pbf
// builds a Point object per vertex and writes version 1 layers. Polygon rings must arrive wound for MVT
// (exterior positive area in tile space, y down); `rewindForMvt` in build-tiles does that on input.

import { PbfWriter as Pbf } from 'pbf';
import type { RawFeature, RawTile } from 'geojson-vt';

export interface MvtLayerInput { name: string; tile: RawTile; extent: number }

const MOVE_TO = 1, LINE_TO = 2, CLOSE_PATH = 7;
const cmd = (id: number, count: number) => (id & 7) | (count << 3);
const zz = (n: number) => (n << 1) ^ (n >> 31);

type Value = string | number | boolean;

interface LayerCtx { layer: MvtLayerInput; keys: Map<string, number>; values: Map<string, number>; valueList: Value[] }

/** Geometry command stream for one feature; empty when nothing drawable is left after quantization. */
function geometry(f: RawFeature): number[] {
  const out: number[] = [];
  let cx = 0, cy = 0;
  if (f.type === 4) return [cmd(MOVE_TO, 1), zz(f.x), zz(f.y)];
  if (f.type === 1) {
    const g = f.geometry;
    const n = g.length / 2;
    if (!n) return out;
    out.push(cmd(MOVE_TO, n));
    for (let i = 0; i < g.length; i += 2) { out.push(zz(g[i] - cx), zz(g[i + 1] - cy)); cx = g[i]; cy = g[i + 1]; }
    return out;
  }
  const polygon = f.type === 3;
  for (const ring of f.geometry) {
    // Drop repeated points (quantization makes many), and a polygon's closing point (ClosePath implies it).
    const pts: number[] = [];
    for (let i = 0; i < ring.length; i += 2) {
      const x = ring[i], y = ring[i + 1];
      const m = pts.length;
      if (m && pts[m - 2] === x && pts[m - 1] === y) continue;
      pts.push(x, y);
    }
    if (polygon && pts.length >= 4 && pts[0] === pts[pts.length - 2] && pts[1] === pts[pts.length - 1]) pts.length -= 2;
    const n = pts.length / 2;
    if (n < (polygon ? 3 : 2)) continue;
    out.push(cmd(MOVE_TO, 1), zz(pts[0] - cx), zz(pts[1] - cy));
    cx = pts[0]; cy = pts[1];
    out.push(cmd(LINE_TO, n - 1));
    for (let i = 2; i < pts.length; i += 2) { out.push(zz(pts[i] - cx), zz(pts[i + 1] - cy)); cx = pts[i]; cy = pts[i + 1]; }
    if (polygon) out.push(cmd(CLOSE_PATH, 1));
  }
  return out;
}

function writeValue(v: Value, pbf: Pbf): void {
  if (typeof v === 'string') pbf.writeStringField(1, v);
  else if (typeof v === 'boolean') pbf.writeBooleanField(7, v);
  else if (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) {
    if (v >= 0) pbf.writeVarintField(5, v);
    else pbf.writeSVarintField(6, v);
  } else pbf.writeDoubleField(3, v);
}

function writeLayer(ctx: LayerCtx, pbf: Pbf): void {
  const { layer } = ctx;
  pbf.writeVarintField(15, 2);
  pbf.writeStringField(1, layer.name);
  for (const f of layer.tile.features) {
    const geom = geometry(f);
    if (!geom.length) continue;
    const tags: number[] = [];
    for (const [k, v] of Object.entries(f.tags ?? {})) {
      if (v === null || v === undefined || (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')) continue;
      let ki = ctx.keys.get(k);
      if (ki === undefined) { ki = ctx.keys.size; ctx.keys.set(k, ki); }
      const vk = `${typeof v}:${v}`;
      let vi = ctx.values.get(vk);
      if (vi === undefined) { vi = ctx.valueList.length; ctx.values.set(vk, vi); ctx.valueList.push(v); }
      tags.push(ki, vi);
    }
    pbf.writeMessage(2, (_: null, p: Pbf) => {
      if (tags.length) p.writePackedVarint(2, tags);
      p.writeVarintField(3, f.type === 4 ? 1 : f.type);
      p.writePackedVarint(4, geom);
    }, null);
  }
  for (const k of ctx.keys.keys()) pbf.writeStringField(3, k);
  for (const v of ctx.valueList) pbf.writeMessage(4, writeValue, v);
  pbf.writeVarintField(5, layer.extent);
}

/** One MVT tile from several layers (uncompressed protobuf bytes). */
export function encodeMvt(layers: MvtLayerInput[]): Uint8Array {
  const pbf = new Pbf();
  for (const layer of layers) {
    pbf.writeMessage(3, writeLayer, { layer, keys: new Map(), values: new Map(), valueList: [] } satisfies LayerCtx);
  }
  return pbf.finish();
}
