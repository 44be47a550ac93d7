// Well-Known Binary (OGC 06-103r4 §8.2; PostGIS EWKB adds an SRID flag 0x20000000) for the PostGIS store:
// the loader writes EWKB hex into COPY text, the store reads ST_AsBinary. Binary both ways, so coordinates
// survive bit for bit (ST_AsGeoJSON rounds to at most 15 significant digits), and GeoJSON is never parsed in SQL.

const T = { Point: 1, LineString: 2, Polygon: 3, MultiPoint: 4, MultiLineString: 5, MultiPolygon: 6 } as const;
const SRID_FLAG = 0x20000000;

class Writer {
  buf = new ArrayBuffer(1024);
  dv = new DataView(this.buf);
  n = 0;
  need(k: number): void {
    if (this.n + k <= this.buf.byteLength) return;
    const b = new ArrayBuffer(Math.max(this.buf.byteLength * 2, this.n + k));
    new Uint8Array(b).set(new Uint8Array(this.buf, 0, this.n));
    this.buf = b;
    this.dv = new DataView(b);
  }
  head(type: number, srid?: number): void {
    this.need(9);
    this.dv.setUint8(this.n, 1); // little endian
    this.dv.setUint32(this.n + 1, srid === undefined ? type : type | SRID_FLAG, true);
    this.n += 5;
    if (srid !== undefined) { this.dv.setUint32(this.n, srid, true); this.n += 4; }
  }
  u32(v: number): void { this.need(4); this.dv.setUint32(this.n, v, true); this.n += 4; }
  pts(ps: GeoJSON.Position[]): void {
    this.u32(ps.length);
    this.need(16 * ps.length);
    for (const p of ps) { this.dv.setFloat64(this.n, p[0], true); this.dv.setFloat64(this.n + 8, p[1], true); this.n += 16; }
  }
  pt(p: GeoJSON.Position): void {
    this.need(16);
    this.dv.setFloat64(this.n, p[0], true); this.dv.setFloat64(this.n + 8, p[1], true); this.n += 16;
  }
}

function write(w: Writer, g: GeoJSON.Geometry, srid?: number): void {
  switch (g.type) {
    case 'Point': w.head(T.Point, srid); w.pt(g.coordinates); break;
    case 'LineString': w.head(T.LineString, srid); w.pts(g.coordinates); break;
    case 'Polygon': w.head(T.Polygon, srid); w.u32(g.coordinates.length); for (const r of g.coordinates) w.pts(r); break;
    case 'MultiPoint': w.head(T.MultiPoint, srid); w.u32(g.coordinates.length); for (const p of g.coordinates) { w.head(T.Point); w.pt(p); } break;
    case 'MultiLineString': w.head(T.MultiLineString, srid); w.u32(g.coordinates.length); for (const l of g.coordinates) { w.head(T.LineString); w.pts(l); } break;
    case 'MultiPolygon':
      w.head(T.MultiPolygon, srid); w.u32(g.coordinates.length);
      for (const poly of g.coordinates) { w.head(T.Polygon); w.u32(poly.length); for (const r of poly) w.pts(r); }
      break;
    default: throw new Error(`geometry type ${g.type} cannot be written as WKB; use Point, LineString, Polygon or their Multi forms`);
  }
}

/** EWKB (little endian, with SRID when given) of a 2D GeoJSON geometry. */
export function encodeWkb(g: GeoJSON.Geometry, srid?: number): Uint8Array {
  const w = new Writer();
  write(w, g, srid);
  return new Uint8Array(w.buf, 0, w.n);
}

/** EWKB as hex: what PostgreSQL's geometry input function accepts in COPY text. */
export function encodeWkbHex(g: GeoJSON.Geometry, srid?: number): string {
  return Buffer.from(encodeWkb(g, srid)).toString('hex');
}

/** Parses (E)WKB, either byte order, 2D (Z/M ordinates are dropped). */
export function decodeWkb(bytes: Uint8Array): GeoJSON.Geometry {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  const read = (): GeoJSON.Geometry => {
    if (o + 5 > bytes.length) throw new Error(`WKB truncated at byte ${o} of ${bytes.length}`);
    const le = dv.getUint8(o) === 1;
    let type = dv.getUint32(o + 1, le);
    o += 5;
    if (type & SRID_FLAG) o += 4;
    const iso = Math.floor((type & 0x0fffffff) / 1000); // ISO 13249: +1000 Z, +2000 M, +3000 ZM
    const hasZ = (type & 0x80000000) !== 0 || iso === 1 || iso === 3;
    const hasM = (type & 0x40000000) !== 0 || iso === 2 || iso === 3;
    type = (type & 0x0fffffff) % 1000;
    const dims = 2 + (hasZ ? 1 : 0) + (hasM ? 1 : 0);
    const u32 = (): number => { const v = dv.getUint32(o, le); o += 4; return v; };
    const pt = (): GeoJSON.Position => { const p = [dv.getFloat64(o, le), dv.getFloat64(o + 8, le)]; o += 8 * dims; return p; };
    const pts = (): GeoJSON.Position[] => { const n = u32(); const a: GeoJSON.Position[] = new Array(n); for (let i = 0; i < n; i++) a[i] = pt(); return a; };
    const rings = (): GeoJSON.Position[][] => { const n = u32(); const a: GeoJSON.Position[][] = new Array(n); for (let i = 0; i < n; i++) a[i] = pts(); return a; };
    switch (type) {
      case T.Point: return { type: 'Point', coordinates: pt() };
      case T.LineString: return { type: 'LineString', coordinates: pts() };
      case T.Polygon: return { type: 'Polygon', coordinates: rings() };
      case T.MultiPoint: case T.MultiLineString: case T.MultiPolygon: {
        const n = u32();
        const parts: GeoJSON.Geometry[] = [];
        for (let i = 0; i < n; i++) parts.push(read());
        if (type === T.MultiPoint) return { type: 'MultiPoint', coordinates: parts.map((p) => (p as GeoJSON.Point).coordinates) };
        if (type === T.MultiLineString) return { type: 'MultiLineString', coordinates: parts.map((p) => (p as GeoJSON.LineString).coordinates) };
        return { type: 'MultiPolygon', coordinates: parts.map((p) => (p as GeoJSON.Polygon).coordinates) };
      }
      default: throw new Error(`WKB geometry type ${type} is not supported here (only Point, LineString, Polygon and their Multi forms)`);
    }
  };
  return read();
}
