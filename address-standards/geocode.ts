// Geocoder over standard addresses: free text → ranked standard addresses (score 0–1, reason, Chinese
// detail), point → nearest address. Pure TypeScript, no I/O (the Node loader is tile-server/address-api.ts).
//
// Matching follows reference §7: resolve the admin level (town/village, optional), then the street/compound
// name (exact, else fuzzy by shared bigrams + edit distance), then 门牌 → 幢 → 单元 → 室 as numbers. Names on
// both sides go through the same normaliser (normalize.ts), so 栋/号楼/幢, 三幢/3幢 and full-width digits
// meet in one form. Partial matches (to the road, compound or building) score lower, never zero.
//
// Memory: one record is a row of typed arrays (string-table ids, 1e-7° integer coordinates, the 34-digit
// code as BCD); `full` is rebuilt from prefix + elements and only stored when it is not (so ~25 bytes a row).
import type { Gazetteer } from './gazetteer.ts';
import { normalizeAddress } from './normalize.ts';
import { chineseToNumber } from './numerals.ts';
import { parseAddress } from './parse.ts';

export interface AddressRecord {
  code: string; full: string; lon: number; lat: number; grid_code: string; town_code: string; village_code: string;
  road?: string | null; houseno?: string | null; compound?: string | null; building?: string | null;
  unit?: string | null; floor?: number | null; room?: string | null; level: string;
  /** The house (buildings.fgb id) the address is on, for 一标多实 links. */
  building_id?: string | null;
}

export type MatchReason = 'exact' | 'fuzzy' | 'building' | 'compound' | 'road' | 'intersection' | 'near';

export interface GeocodeMatch {
  record: AddressRecord;
  score: number;
  reason: MatchReason;
  /** Why, in Chinese, e.g. 「名称近似：海虞北陆 ≈ 海虞北路」. */
  detail: string;
  /** The located point: the record's, or the crossing of two roads / the landmark for those reasons. */
  lon: number;
  lat: number;
}

/** A named place users search "near" (facilities, POIs); `address` is its standard address if registered. */
export interface Landmark { name: string; lon: number; lat: number; address?: string | null; kind?: string }

export interface AddressIndexOptions {
  /** Town (镇/街道) and village (村/社区) names by code, to read and check the admin part of a query. */
  towns?: { code: string; name: string }[];
  villages?: { code: string; name: string }[];
  landmarks?: Landmark[];
  /** Road centre lines (roads.fgb), for crossings of roads and for roads without house numbers. */
  roads?: { name: string; coords: number[][] }[];
}

const LEVELS = ['door', 'building', 'room'];
const E7 = 1e7;
const R_EARTH = 6_371_008.8;
const RAD = Math.PI / 180;
const NONE = 0; // string-table id 0 is "absent" in every table

/** Equirectangular distance in metres: exact enough below a few km, and cheap in the hot loop. */
export function distanceM(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const x = (lon2 - lon1) * RAD * Math.cos(((lat1 + lat2) / 2) * RAD);
  const y = (lat2 - lat1) * RAD;
  return Math.sqrt(x * x + y * y) * R_EARTH;
}

/** Levenshtein distance (two rows). Names are short (≤ 20 chars), so no banding is needed. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

class StringTable {
  readonly values: string[] = [''];
  private readonly ids = new Map<string, number>();
  id(s: string | null | undefined): number {
    if (s === null || s === undefined || s === '') return NONE;
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(s);
      this.ids.set(s, id);
    }
    return id;
  }
  get(id: number): string | null { return id === NONE ? null : this.values[id]; }
  bytes(): number { let n = 0; for (const v of this.values) n += 2 * v.length + 16; return n; }
}

/** Smallest unsigned array for table ids below `max`. */
function ids(n: number, max: number): Uint8Array | Uint16Array | Uint32Array {
  return max < 256 ? new Uint8Array(n) : max < 65536 ? new Uint16Array(n) : new Uint32Array(n);
}

/** Leading integer of '48号', '3幢', '2单元', '502室' (−1 when there is none). */
function leadingInt(s: string | null): number {
  if (!s) return -1;
  const m = /\d+/.exec(normalizeSafe(s));
  return m ? Math.min(Number(m[0]), 2 ** 31 - 1) : -1;
}

function normalizeSafe(s: string): string {
  try {
    return normalizeAddress(s).text;
  } catch {
    return s; // the normaliser must never take the geocoder down; an unnormalised query still matches exactly
  }
}

/** Points bucketed on a regular lon/lat grid (CSR arrays): nearest and within-radius queries. */
export class PointGrid {
  private readonly x0: number; private readonly y0: number;
  private readonly cols: number; private readonly rows: number;
  private readonly start: Uint32Array; private readonly items: Uint32Array;
  /** Smallest metric size of a cell, for the ring search stop rule. */
  private readonly cellM: number;

  constructor(private readonly lon: (i: number) => number, private readonly lat: (i: number) => number,
    members: ArrayLike<number>, private readonly cell = 0.004) {
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (let k = 0; k < members.length; k++) {
      const i = members[k];
      minX = Math.min(minX, lon(i)); maxX = Math.max(maxX, lon(i));
      minY = Math.min(minY, lat(i)); maxY = Math.max(maxY, lat(i));
    }
    if (!members.length) { minX = minY = maxX = maxY = 0; }
    this.x0 = minX; this.y0 = minY;
    this.cols = Math.floor((maxX - minX) / cell) + 1;
    this.rows = Math.floor((maxY - minY) / cell) + 1;
    const counts = new Uint32Array(this.cols * this.rows + 1);
    const cellOf = new Uint32Array(members.length);
    for (let k = 0; k < members.length; k++) {
      const c = this.cellIndex(lon(members[k]), lat(members[k]));
      cellOf[k] = c;
      counts[c + 1]++;
    }
    for (let c = 1; c < counts.length; c++) counts[c] += counts[c - 1];
    this.start = counts.slice();
    const fill = counts.slice();
    this.items = new Uint32Array(members.length);
    for (let k = 0; k < members.length; k++) this.items[fill[cellOf[k]]++] = members[k];
    const latMax = Math.max(Math.abs(minY), Math.abs(maxY));
    this.cellM = cell * RAD * R_EARTH * Math.cos(latMax * RAD);
  }

  private cellIndex(x: number, y: number): number {
    const cx = Math.min(this.cols - 1, Math.max(0, Math.floor((x - this.x0) / this.cell)));
    const cy = Math.min(this.rows - 1, Math.max(0, Math.floor((y - this.y0) / this.cell)));
    return cy * this.cols + cx;
  }

  /** Nearest member within `maxM` metres (ties: the smaller `rank`), or −1. */
  nearest(x: number, y: number, maxM: number, rank?: (i: number) => number): { i: number; d: number } {
    let best = -1, bestD = Infinity, bestRank = Infinity;
    const cx = Math.floor((x - this.x0) / this.cell), cy = Math.floor((y - this.y0) / this.cell);
    const maxRing = Math.ceil(maxM / this.cellM) + 1;
    for (let r = 0; r <= maxRing; r++) {
      // Everything in rings > r lies at least r whole cells away.
      if (best >= 0 && bestD <= (r - 1) * this.cellM) break;
      for (let gy = cy - r; gy <= cy + r; gy++) {
        if (gy < 0 || gy >= this.rows) continue;
        const edge = gy === cy - r || gy === cy + r;
        for (let gx = cx - r; gx <= cx + r; gx += edge ? 1 : 2 * r || 1) {
          if (gx < 0 || gx >= this.cols) continue;
          const c = gy * this.cols + gx;
          for (let k = this.start[c]; k < this.start[c + 1]; k++) {
            const i = this.items[k];
            const d = distanceM(x, y, this.lon(i), this.lat(i));
            const rk = rank ? rank(i) : 0;
            if (d < bestD - 1e-9 || (Math.abs(d - bestD) <= 1e-9 && rk < bestRank)) { best = i; bestD = d; bestRank = rk; }
          }
        }
      }
    }
    return best >= 0 && bestD <= maxM ? { i: best, d: bestD } : { i: -1, d: Infinity };
  }

  /** Members within `radiusM` of the point, nearest first. */
  within(x: number, y: number, radiusM: number): { i: number; d: number }[] {
    const dLat = radiusM / (RAD * R_EARTH);
    const dLon = dLat / Math.max(0.01, Math.cos(y * RAD));
    const x1 = Math.floor((x - dLon - this.x0) / this.cell), x2 = Math.floor((x + dLon - this.x0) / this.cell);
    const y1 = Math.floor((y - dLat - this.y0) / this.cell), y2 = Math.floor((y + dLat - this.y0) / this.cell);
    const out: { i: number; d: number }[] = [];
    for (let gy = Math.max(0, y1); gy <= Math.min(this.rows - 1, y2); gy++) {
      for (let gx = Math.max(0, x1); gx <= Math.min(this.cols - 1, x2); gx++) {
        const c = gy * this.cols + gx;
        for (let k = this.start[c]; k < this.start[c + 1]; k++) {
          const i = this.items[k];
          const d = distanceM(x, y, this.lon(i), this.lat(i));
          if (d <= radiusM) out.push({ i, d });
        }
      }
    }
    return out.sort((a, b) => a.d - b.d);
  }

  bytes(): number { return this.start.byteLength + this.items.byteLength; }
}

interface NameEntry { text: string; kind: 0 | 1 | 2 | 3 /* road with addresses, compound, landmark, road geometry only */; id: number }
interface NameHit { entry: number; start: number; end: number; sim: number; dist: number; matched: string }
interface Wanted { door: number; bldg: number; unit: number; room: number }

// Digits, or a Chinese numeral the normaliser left alone (it protects proper names such as 九里, so a
// numeral right after a compound name can stay Chinese: 华府二号楼, 山庄九幢).
const NUM = '\\d{1,6}|[零〇一二两三四五六七八九十百千]{1,8}';
const BLDG_RE = new RegExp(`(${NUM})\\s*(?:幢|栋|号楼|座|#楼|#)`);
const UNIT_RE = new RegExp(`(${NUM})\\s*(?:单元|门)`);
const ROOM_RE = new RegExp(`(${NUM})\\s*(?:室|房|户)`);
/** Value of digits or a Chinese numeral (positional 一零零一 or composed 十二), −1 if neither. */
function toInt(s: string): number {
  return /^\d+$/.test(s) ? Number(s) : chineseToNumber(s) ?? -1;
}
const DOOR_AFTER_RE = new RegExp(`^\\s*(${NUM})\\s*(?:号|#)(?!楼)`);
const DOOR_ANY_RE = new RegExp(`(${NUM})\\s*号(?!楼)`);

const INTERSECTION_RE = /(与|和|跟|同|、|\/)(.{1,20}?)(交叉口|交叉路口|交汇处|交界处|十字路口|丁字路口|路口|交口)/;
const NEAR_RE = /(附近|旁边|旁|对面|周边|边上|隔壁|门口|东侧|西侧|南侧|北侧)/;

/** Built once from the records; answers search/reverse/get. Construct through `buildAddressIndex`. */
export class AddressIndex {
  readonly size: number;
  /** Milliseconds spent in `buildAddressIndex`. */
  buildMs = 0;
  private readonly lonE7: Int32Array; private readonly latE7: Int32Array;
  private readonly codeBcd: Uint8Array | null; private readonly codeWidth: number; private readonly codeStrings: string[] | null;
  private readonly codeHash: Uint32Array; private readonly codeMask: number;
  private readonly level: Uint8Array;
  private readonly tRoad = new StringTable(); private readonly tComp = new StringTable();
  private readonly tHno = new StringTable(); private readonly tBldg = new StringTable();
  private readonly tUnit = new StringTable(); private readonly tRoom = new StringTable();
  private readonly tTown = new StringTable(); private readonly tVill = new StringTable();
  private readonly tGrid = new StringTable(); private readonly tPrefix = new StringTable();
  private readonly tBid = new StringTable();
  private readonly road: ArrayLike<number> & { [i: number]: number }; private readonly comp: typeof this.road;
  private readonly hno: typeof this.road; private readonly bldg: typeof this.road; private readonly unit: typeof this.road;
  private readonly room: typeof this.road; private readonly town: typeof this.road; private readonly vill: typeof this.road;
  private readonly grid: typeof this.road; private readonly prefix: typeof this.road; private readonly bid: typeof this.road;
  private readonly floor: Int16Array;
  private readonly fullExceptions = new Map<number, string>();
  /** Numeric value of each table entry (the table ids are the record columns). */
  private hnoNum!: Int32Array; private bldgNum!: Int32Array; private unitNum!: Int32Array; private roomNum!: Int32Array;
  /** Records sorted by road then door/bldg/unit/room, with CSR offsets per road id; the same per compound. */
  private byRoad!: Uint32Array; private roadStart!: Uint32Array;
  private byComp!: Uint32Array; private compStart!: Uint32Array;
  private names: NameEntry[] = [];
  private byPrefix = new Map<string, number[]>();
  private bigrams = new Map<string, number[]>();
  private nameCount!: Uint16Array;
  private landmarks: (Landmark & { record: number })[] = [];
  /** Road centre lines by name (as written and normalised): flat [lon, lat, lon, lat, …] per line. */
  private roadGeom = new Map<string, Float64Array[]>();
  private towns: { code: string; names: string[] }[] = [];
  private villages: { code: string; names: string[] }[] = [];
  private grid2d!: PointGrid;
  private roadPoints = new Map<number, Uint32Array>();
  private byBid?: { order: Uint32Array; start: Uint32Array };

  constructor(records: ArrayLike<AddressRecord>, private readonly gaz: Gazetteer, opts: AddressIndexOptions = {}) {
    const t0 = performance.now();
    const n = (this.size = records.length);
    this.lonE7 = new Int32Array(n);
    this.latE7 = new Int32Array(n);
    this.level = new Uint8Array(n);
    this.floor = new Int16Array(n);
    const cols = { road: new Uint32Array(n), comp: new Uint32Array(n), hno: new Uint32Array(n), bldg: new Uint32Array(n),
      unit: new Uint32Array(n), room: new Uint32Array(n), town: new Uint32Array(n), vill: new Uint32Array(n),
      grid: new Uint32Array(n), prefix: new Uint32Array(n), bid: new Uint32Array(n) };
    // Codes: BCD when every code is digits of one width (the demo's 34), else plain strings.
    const w = n ? records[0].code.length : 0;
    let digits = w > 0 && w <= 64;
    for (let i = 0; i < n && digits; i++) digits = records[i].code.length === w && /^\d+$/.test(records[i].code);
    this.codeWidth = w;
    this.codeBcd = digits ? new Uint8Array(n * Math.ceil(w / 2)) : null;
    this.codeStrings = digits ? null : new Array<string>(n);
    const bw = Math.ceil(w / 2);
    for (let i = 0; i < n; i++) {
      const r = records[i];
      this.lonE7[i] = Math.round(r.lon * E7);
      this.latE7[i] = Math.round(r.lat * E7);
      this.level[i] = Math.max(0, LEVELS.indexOf(r.level));
      this.floor[i] = r.floor ?? -32768;
      cols.road[i] = this.tRoad.id(r.road); cols.comp[i] = this.tComp.id(r.compound);
      cols.hno[i] = this.tHno.id(r.houseno); cols.bldg[i] = this.tBldg.id(r.building);
      cols.unit[i] = this.tUnit.id(r.unit); cols.room[i] = this.tRoom.id(r.room);
      cols.town[i] = this.tTown.id(r.town_code); cols.vill[i] = this.tVill.id(r.village_code);
      cols.grid[i] = this.tGrid.id(r.grid_code); cols.bid[i] = this.tBid.id(r.building_id);
      const rest = (r.road ?? '') + (r.houseno ?? '') + (r.compound ?? '') + (r.building ?? '') + (r.unit ?? '') + (r.room ?? '');
      if (r.full.endsWith(rest)) cols.prefix[i] = this.tPrefix.id(r.full.slice(0, r.full.length - rest.length) || '\u0000');
      else this.fullExceptions.set(i, r.full);
      if (this.codeBcd) {
        const c = r.code;
        for (let k = 0; k < w; k++) {
          const d = c.charCodeAt(k) - 48;
          this.codeBcd[i * bw + (k >> 1)] |= k & 1 ? d : d << 4;
        }
      } else this.codeStrings![i] = r.code;
    }
    const shrink = (a: Uint32Array, t: StringTable) => { const o = ids(n, t.values.length); o.set(a); return o; };
    this.road = shrink(cols.road, this.tRoad); this.comp = shrink(cols.comp, this.tComp);
    this.hno = shrink(cols.hno, this.tHno); this.bldg = shrink(cols.bldg, this.tBldg);
    this.unit = shrink(cols.unit, this.tUnit); this.room = shrink(cols.room, this.tRoom);
    this.town = shrink(cols.town, this.tTown); this.vill = shrink(cols.vill, this.tVill);
    this.grid = shrink(cols.grid, this.tGrid); this.prefix = shrink(cols.prefix, this.tPrefix);
    this.bid = shrink(cols.bid, this.tBid);
    // Open-addressing hash of codes (FNV-1a), power-of-two table ≥ 2n; slot holds index + 1.
    let cap = 1;
    while (cap < n * 2) cap <<= 1;
    this.codeHash = new Uint32Array(Math.max(cap, 2));
    this.codeMask = this.codeHash.length - 1;
    for (let i = 0; i < n; i++) {
      let h = fnv(records[i].code) & this.codeMask;
      while (this.codeHash[h] !== 0) h = (h + 1) & this.codeMask;
      this.codeHash[h] = i + 1;
    }
    this.buildNumbers();
    this.buildOrders();
    this.buildNames(records, opts);
    this.buildAdmin(opts);
    // Reverse geocoding answers with doors and buildings; rooms share their building's point.
    const coarse: number[] = [];
    for (let i = 0; i < n; i++) if (this.level[i] !== 2) coarse.push(i);
    const members = coarse.length ? coarse : Array.from({ length: n }, (_, i) => i);
    this.grid2d = new PointGrid((i) => this.lonE7[i] / E7, (i) => this.latE7[i] / E7, members);
    this.buildMs = performance.now() - t0;
  }

  private buildNumbers(): void {
    const nums = (t: StringTable) => Int32Array.from(t.values, (v, i) => (i === NONE ? -1 : leadingInt(v)));
    this.hnoNum = nums(this.tHno); this.bldgNum = nums(this.tBldg); this.unitNum = nums(this.tUnit); this.roomNum = nums(this.tRoom);
  }

  private buildOrders(): void {
    const n = this.size;
    const cmp = (a: number, b: number) => this.hnoNum[this.hno[a]] - this.hnoNum[this.hno[b]]
      || this.bldgNum[this.bldg[a]] - this.bldgNum[this.bldg[b]] || this.unitNum[this.unit[a]] - this.unitNum[this.unit[b]]
      || this.roomNum[this.room[a]] - this.roomNum[this.room[b]] || this.level[a] - this.level[b] || a - b;
    const csr = (col: ArrayLike<number>, tableSize: number) => {
      const start = new Uint32Array(tableSize + 1);
      for (let i = 0; i < n; i++) start[col[i] + 1]++;
      for (let k = 1; k <= tableSize; k++) start[k] += start[k - 1];
      const fill = start.slice();
      const order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[fill[col[i]]++] = i;
      for (let k = 1; k < tableSize; k++) order.subarray(start[k], start[k + 1]).sort(cmp);
      return { order, start };
    };
    const r = csr(this.road, this.tRoad.values.length);
    this.byRoad = r.order; this.roadStart = r.start;
    const c = csr(this.comp, this.tComp.values.length);
    this.byComp = c.order; this.compStart = c.start;
  }

  private buildNames(records: ArrayLike<AddressRecord>, opts: AddressIndexOptions): void {
    const add = (text: string, kind: 0 | 1 | 2 | 3, id: number) => {
      const norm = normalizeSafe(text);
      for (const t of new Set([norm, text])) {
        if (t.length < 2) continue;
        const e = this.names.length;
        this.names.push({ text: t, kind, id });
        const key = t.slice(0, 2);
        (this.byPrefix.get(key) ?? this.byPrefix.set(key, []).get(key)!).push(e);
        if (t !== norm) continue; // fuzzy matching runs on the normalised form only
        const grams = new Set<string>();
        for (let k = 0; k + 1 < t.length; k++) grams.add(t.slice(k, k + 2));
        for (const g of grams) (this.bigrams.get(g) ?? this.bigrams.set(g, []).get(g)!).push(e);
      }
    };
    this.tRoad.values.forEach((v, id) => id !== NONE && add(v, 0, id));
    const geomNames: string[] = [];
    for (const r of opts.roads ?? []) {
      if (!r.name || !Array.isArray(r.coords) || r.coords.length < 2) continue;
      const line = Float64Array.from(r.coords.flatMap((c) => [Number(c[0]), Number(c[1])]));
      if (line.some((v) => !Number.isFinite(v))) continue;
      for (const key of new Set([r.name, normalizeSafe(r.name)])) {
        const list = this.roadGeom.get(key);
        if (list) list.push(line);
        else { this.roadGeom.set(key, [line]); if (key === r.name) geomNames.push(r.name); }
      }
    }
    // Roads that have a centre line but no registered house numbers are still names a query can use.
    for (const name of geomNames) if (this.tRoad.values.indexOf(name) < 0) add(name, 3, 0);
    this.tComp.values.forEach((v, id) => id !== NONE && add(v, 1, id));
    // Landmarks: their registered address when it is a record, else the nearest record (set after the grid).
    const wanted = new Map<string, number>();
    for (const l of opts.landmarks ?? []) if (l.address) wanted.set(l.address, -1);
    if (wanted.size) for (let i = 0; i < records.length; i++) if (wanted.has(records[i].full)) wanted.set(records[i].full, i);
    for (const l of opts.landmarks ?? []) {
      if (!l.name || !Number.isFinite(l.lon) || !Number.isFinite(l.lat)) continue;
      this.landmarks.push({ ...l, record: l.address ? wanted.get(l.address) ?? -1 : -1 });
      add(l.name, 2, this.landmarks.length - 1);
    }
    this.nameCount = new Uint16Array(this.names.length);
  }

  private buildAdmin(opts: AddressIndexOptions): void {
    const strip = (s: string) => s.replace(/(村民委员会|居民委员会|村委会|居委会|委员会)$/, (m) => (m.startsWith('村') ? '村' : ''));
    this.towns = (opts.towns ?? []).map((t) => ({ code: t.code, names: [...new Set([t.name, normalizeSafe(t.name)])] }));
    this.villages = (opts.villages ?? []).map((v) => {
      const short = strip(v.name);
      return { code: v.code, names: [...new Set([v.name, short, normalizeSafe(short)].filter((s) => s.length >= 2))] };
    });
  }

  // ------------------------------------------------------------------------------------------ records

  private code(i: number): string {
    if (this.codeStrings) return this.codeStrings[i];
    const bw = Math.ceil(this.codeWidth / 2);
    let s = '';
    for (let k = 0; k < this.codeWidth; k++) {
      const b = this.codeBcd![i * bw + (k >> 1)];
      s += String.fromCharCode(48 + (k & 1 ? b & 15 : b >> 4));
    }
    return s;
  }

  /** The record at index `i` (0 ≤ i < size), as a fresh object. */
  record(i: number): AddressRecord {
    const ex = this.fullExceptions.get(i);
    const road = this.tRoad.get(this.road[i]), houseno = this.tHno.get(this.hno[i]), compound = this.tComp.get(this.comp[i]);
    const building = this.tBldg.get(this.bldg[i]), unit = this.tUnit.get(this.unit[i]), room = this.tRoom.get(this.room[i]);
    const prefix = (this.tPrefix.get(this.prefix[i]) ?? '').replace('\u0000', '');
    return {
      code: this.code(i),
      full: ex ?? prefix + (road ?? '') + (houseno ?? '') + (compound ?? '') + (building ?? '') + (unit ?? '') + (room ?? ''),
      lon: this.lonE7[i] / E7, lat: this.latE7[i] / E7,
      grid_code: this.tGrid.get(this.grid[i]) ?? '', town_code: this.tTown.get(this.town[i]) ?? '',
      village_code: this.tVill.get(this.vill[i]) ?? '',
      road, houseno, compound, building, unit, floor: this.floor[i] === -32768 ? null : this.floor[i], room,
      level: LEVELS[this.level[i]], building_id: this.tBid.get(this.bid[i]),
    };
  }

  /** Index of the record with this code, or −1. */
  indexOf(code: string): number {
    if (typeof code !== 'string' || !code || code.length > 128) return -1;
    let h = fnv(code) & this.codeMask;
    for (;;) {
      const slot = this.codeHash[h];
      if (slot === 0) return -1;
      if (this.code(slot - 1) === code) return slot - 1;
      h = (h + 1) & this.codeMask;
    }
  }

  get(code: string): AddressRecord | undefined {
    const i = this.indexOf(code);
    return i < 0 ? undefined : this.record(i);
  }

  lon(i: number): number { return this.lonE7[i] / E7; }
  lat(i: number): number { return this.latE7[i] / E7; }

  /** Door and building records within `radiusM` of a point, nearest first. */
  within(lon: number, lat: number, radiusM: number): { i: number; d: number }[] {
    return this.grid2d.within(lon, lat, radiusM);
  }

  /** Indices of the records on the house `buildingId` (buildings.fgb id). */
  recordsOnBuilding(buildingId: string): number[] {
    if (!this.byBid) {
      const size = this.tBid.values.length;
      const start = new Uint32Array(size + 1);
      for (let i = 0; i < this.size; i++) start[this.bid[i] + 1]++;
      for (let k = 1; k <= size; k++) start[k] += start[k - 1];
      const fill = start.slice();
      const order = new Uint32Array(this.size);
      for (let i = 0; i < this.size; i++) order[fill[this.bid[i]]++] = i;
      this.byBid = { order, start };
    }
    const id = this.tBid.values.indexOf(buildingId);
    if (id <= 0) return [];
    return Array.from(this.byBid.order.subarray(this.byBid.start[id], this.byBid.start[id + 1]));
  }

  /** Bytes held by the index (typed arrays exactly, string tables estimated at 2 bytes a char + 16). */
  memoryBytes(): number {
    let b = this.lonE7.byteLength + this.latE7.byteLength + this.level.byteLength + this.floor.byteLength
      + (this.codeBcd?.byteLength ?? 0) + this.codeHash.byteLength + this.byRoad.byteLength + this.roadStart.byteLength
      + this.byComp.byteLength + this.compStart.byteLength + this.grid2d.bytes();
    for (const a of [this.road, this.comp, this.hno, this.bldg, this.unit, this.room, this.town, this.vill, this.grid, this.prefix, this.bid]) {
      b += (a as Uint8Array).byteLength;
    }
    for (const t of [this.tRoad, this.tComp, this.tHno, this.tBldg, this.tUnit, this.tRoom, this.tTown, this.tVill, this.tGrid, this.tPrefix, this.tBid]) b += t.bytes();
    for (const s of this.codeStrings ?? []) b += 2 * s.length + 16;
    for (const s of this.fullExceptions.values()) b += 2 * s.length + 32;
    b += this.names.length * 48 + this.bigrams.size * 40;
    for (const lines of this.roadGeom.values()) for (const l of lines) b += l.byteLength;
    return b;
  }

  // ------------------------------------------------------------------------------------------ reverse

  /** Nearest door/building address within `maxDistanceM` (default 1000 m), or null. */
  reverse(lon: number, lat: number, maxDistanceM = 1000): { record: AddressRecord; distanceM: number } | null {
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    const r = this.grid2d.nearest(lon, lat, maxDistanceM, (i) => this.level[i]);
    return r.i < 0 ? null : { record: this.record(r.i), distanceM: Math.round(r.d * 10) / 10 };
  }

  // ------------------------------------------------------------------------------------------ search

  /** Ranked matches for a free-text address (best first, at most `limit`, default 10, max 50). */
  search(text: string, limit = 10): GeocodeMatch[] {
    limit = Math.max(1, Math.min(50, Math.floor(Number.isFinite(limit) ? limit : 10)));
    if (typeof text !== 'string') return [];
    const raw = text.slice(0, 256);
    const q = normalizeSafe(raw);
    if (!q.trim()) return [];
    const out: GeocodeMatch[] = [];
    const town = this.findAdmin(q, this.towns);
    const vill = this.findAdmin(q, this.villages);
    let hits = this.exactHits(q);
    const fuzzy = hits.length ? [] : this.fuzzyHits(q);
    hits = mergeHits(hits, fuzzy);
    let intersection = INTERSECTION_RE.test(q);
    if (!intersection && /[口交]/.test(q)) {
      // The parser knows more ways to write a crossing than the regex; only asked when a hint is present
      // because it costs more than the rest of the search.
      try {
        intersection = parseAddress(raw, this.gaz).elements.some((e) => e.label === 'intersection');
      } catch { /* parser failure only loses the intersection hint */ }
    }
    const roads = hits.filter((h) => this.names[h.entry].kind === 0 || this.names[h.entry].kind === 3);
    if (intersection && roads.length >= 2) {
      const m = this.intersect(roads[0], roads[1]);
      if (m) out.push(m);
    }
    const near = NEAR_RE.test(q);
    for (const h of hits) {
      const e = this.names[h.entry];
      if (e.kind === 2) out.push(this.landmarkMatch(h, near));
      else if (e.kind === 3) { if (!intersection || roads.length < 2) this.geometryRoad(h, out); }
      else if (!intersection || roads.length < 2) this.matchName(q, h, hits, town, vill, out);
    }
    if (!hits.length && (town >= 0 || vill >= 0)) this.adminOnly(town, vill, out);
    out.sort((a, b) => b.score - a.score);
    const seen = new Set<string>();
    const res: GeocodeMatch[] = [];
    for (const m of out) {
      const key = m.record.code + m.reason;
      if (seen.has(m.record.code) || seen.has(key)) continue;
      seen.add(m.record.code);
      res.push({ ...m, score: Math.round(Math.max(0, Math.min(1, m.score)) * 1000) / 1000 });
      if (res.length >= limit) break;
    }
    return res;
  }

  private findAdmin(q: string, list: { code: string; names: string[] }[]): number {
    let best = -1, bestLen = 0;
    for (let k = 0; k < list.length; k++) {
      for (const nm of list[k].names) if (nm.length > bestLen && q.includes(nm)) { best = k; bestLen = nm.length; }
    }
    return best;
  }

  /** Every dictionary name found verbatim; overlapping hits resolved longest first. */
  private exactHits(q: string): NameHit[] {
    const all: NameHit[] = [];
    for (let i = 0; i + 1 < q.length; i++) {
      const list = this.byPrefix.get(q.slice(i, i + 2));
      if (!list) continue;
      for (const e of list) {
        const t = this.names[e].text;
        if (q.startsWith(t, i)) all.push({ entry: e, start: i, end: i + t.length, sim: 1, dist: 0, matched: t });
      }
    }
    all.sort((a, b) => (b.end - b.start) - (a.end - a.start) || a.start - b.start || this.names[a.entry].kind - this.names[b.entry].kind);
    const taken: NameHit[] = [];
    for (const h of all) {
      if (taken.some((t) => h.start < t.end && t.start < h.end && !(t.start === h.start && t.end === h.end))) continue;
      taken.push(h);
    }
    return taken.sort((a, b) => a.start - b.start);
  }

  /** Names sharing most of their bigrams with the query, aligned by edit distance on a sliding window. */
  private fuzzyHits(q: string): NameHit[] {
    const touched: number[] = [];
    const grams = new Set<string>();
    for (let k = 0; k + 1 < q.length; k++) grams.add(q.slice(k, k + 2));
    for (const g of grams) {
      const list = this.bigrams.get(g);
      if (!list || list.length > 5000) continue; // bigrams like 家湾 say nothing
      for (const e of list) if (this.nameCount[e]++ === 0) touched.push(e);
    }
    const cands: { e: number; c: number }[] = [];
    for (const e of touched) {
      const c = this.nameCount[e];
      this.nameCount[e] = 0;
      const need = Math.max(2, Math.ceil(0.5 * (this.names[e].text.length - 1)));
      if (c >= need) cands.push({ e, c: c / (this.names[e].text.length - 1) });
    }
    cands.sort((a, b) => b.c - a.c);
    const out: NameHit[] = [];
    for (const { e } of cands.slice(0, 40)) {
      const t = this.names[e].text;
      let best: NameHit | null = null;
      for (let len = Math.max(2, t.length - 1); len <= t.length + 1; len++) {
        for (let s = 0; s + len <= q.length; s++) {
          const d = editDistance(t, q.slice(s, s + len));
          // Equal distance: prefer the window as long as the name (a dropped character is less likely than a typo).
          if (!best || d < best.dist || (d === best.dist && Math.abs(len - t.length) < Math.abs(best.end - best.start - t.length))) {
            best = { entry: e, start: s, end: s + len, dist: d, sim: 1 - d / t.length, matched: q.slice(s, s + len) };
          }
        }
      }
      if (best && best.dist <= Math.max(1, Math.floor(t.length / 3)) && best.sim >= 0.6) out.push(best);
    }
    out.sort((a, b) => b.sim - a.sim || (b.end - b.start) - (a.end - a.start));
    return out.slice(0, 6);
  }

  /** Numbers the query asks for after position `from`: 门牌 right after a road, then 幢/单元/室 anywhere after. */
  private wanted(q: string, hit: NameHit, hits: NameHit[]): Wanted {
    const w: Wanted = { door: -1, bldg: -1, unit: -1, room: -1 };
    const isRoad = this.names[hit.entry].kind === 0;
    let from = hit.end;
    if (isRoad) {
      const m = DOOR_AFTER_RE.exec(q.slice(hit.end));
      if (m) { w.door = toInt(m[1]); from = hit.end + m[0].length; }
    }
    // Elements after a later name (the compound after "路18号") belong to it too.
    for (const h of hits) if (h.start >= from && h !== hit && h.end > from) from = h.end;
    let tail = q.slice(from);
    if (!isRoad && w.door < 0) {
      const m = DOOR_ANY_RE.exec(q.slice(0, hit.start));
      if (m) w.door = toInt(m[1]);
    }
    const triple = /^\s*(\d{1,3})-(\d{1,2})-(\d{3,5})(?!\d)/.exec(tail);
    if (triple) {
      w.bldg = Number(triple[1]); w.unit = Number(triple[2]); w.room = Number(triple[3]);
      return w;
    }
    const b = BLDG_RE.exec(tail);
    if (b) { w.bldg = toInt(b[1]); tail = tail.slice(b.index + b[0].length); }
    const u = UNIT_RE.exec(tail);
    if (u) { w.unit = toInt(u[1]); tail = tail.slice(u.index + u[0].length); }
    const r = ROOM_RE.exec(tail) ?? (u ? /^\s*-?\s*(\d{3,5})(?!\d)/.exec(tail) : null);
    if (r) w.room = toInt(r[1]);
    return w;
  }

  private matchName(q: string, hit: NameHit, hits: NameHit[], town: number, vill: number, out: GeocodeMatch[]): void {
    const e = this.names[hit.entry];
    const w = this.wanted(q, hit, hits);
    const road = e.kind === 0;
    const order = road ? this.byRoad : this.byComp;
    const start = road ? this.roadStart : this.compStart;
    let lo = start[e.id], hi = start[e.id + 1];
    if (road && w.door >= 0) {
      // Sorted by door inside the road: narrow to the asked door by binary search.
      const door = (k: number) => this.hnoNum[this.hno[order[k]]];
      let a = lo, b = hi;
      while (a < b) { const m = (a + b) >> 1; if (door(m) < w.door) a = m + 1; else b = m; }
      let c = a;
      while (c < hi && door(c) === w.door) c++;
      if (c === a) { this.nearestDoor(e, hit, w, lo, hi, town, vill, out); return; }
      lo = a; hi = c;
    }
    const asked = (w.door >= 0 ? 1 : 0) + (w.bldg >= 0 ? 1 : 0) + (w.unit >= 0 ? 1 : 0) + (w.room >= 0 ? 1 : 0);
    const townCode = town >= 0 ? this.towns[town].code : null;
    // The other named level of the query: a compound named beside a road must be that compound, and a
    // road named beside a compound should be its road.
    const other = hits.find((h) => h !== hit && this.names[h.entry].kind === (road ? 1 : 0));
    const otherId = other ? this.names[other.entry].id : NONE;
    const villCode = vill >= 0 ? this.villages[vill].code : null;
    const local: { i: number; score: number; reason: MatchReason; detail: string }[] = [];
    const cap = Math.min(hi, lo + 20000);
    for (let k = lo; k < cap; k++) {
      const i = order[k];
      const got = [this.hnoNum[this.hno[i]], this.bldgNum[this.bldg[i]], this.unitNum[this.unit[i]], this.roomNum[this.room[i]]];
      const want = [road ? w.door : -1, w.bldg, w.unit, w.room];
      if (!road && w.door >= 0 && got[0] >= 0 && got[0] !== w.door) continue;
      if (road && otherId !== NONE && this.comp[i] !== NONE && this.comp[i] !== otherId) continue;
      let missed = 0, extra = 0, deepest = -1, bad = false;
      for (let l = 0; l < 4; l++) {
        if (want[l] >= 0 && got[l] >= 0) { if (want[l] !== got[l]) { bad = true; break; } deepest = l; }
        else if (want[l] >= 0) missed++;
        else if (got[l] >= 0 && l > 0) extra++;
      }
      if (bad) continue;
      let score: number; let reason: MatchReason; let detail: string;
      const nameNote = hit.dist > 0 ? `名称近似：「${hit.matched}」≈「${e.text}」（编辑距离 ${hit.dist}）` : '';
      if (asked === 0) {
        score = 0.55 - 0.02 * extra; reason = road ? 'road' : 'compound';
        detail = `部分匹配到${road ? '街路巷' : '小区'}「${e.text}」：查询未给出门牌或楼幢`;
      } else if (missed === 0) {
        score = 1 - 0.03 * extra; reason = hit.dist > 0 ? 'fuzzy' : 'exact';
        const what = `${e.text}${askedText(w, road)}`;
        detail = hit.dist > 0 ? `${nameNote}；其余一致：${what}` : `完全匹配：${what}`;
      } else {
        score = (deepest >= 1 ? 0.75 : deepest === 0 ? 0.62 : 0.5) - 0.02 * extra - 0.04 * missed;
        reason = deepest >= 1 ? 'building' : road ? 'road' : 'compound';
        const level = deepest >= 1 ? '楼幢' : deepest === 0 ? '门牌' : road ? '街路巷' : '小区';
        detail = `部分匹配到${level}：${missingText(w, got)}不存在或未登记`;
      }
      score *= hit.dist > 0 ? 0.55 + 0.4 * hit.sim : 1;
      if (hit.dist > 0 && reason !== 'fuzzy') detail = `${nameNote}；${detail}`;
      if (!road && otherId !== NONE && this.road[i] !== otherId) { score *= 0.85; detail += '；街路巷与查询不一致'; }
      if (townCode && this.tTown.get(this.town[i]) !== townCode) { score *= 0.6; detail += '；镇街与查询不一致'; }
      if (villCode && this.tVill.get(this.vill[i]) !== villCode) { score *= 0.8; detail += '；村（社区）与查询不一致'; }
      local.push({ i, score, reason, detail });
    }
    // Materialise only the best few of this name.
    local.sort((a, b) => b.score - a.score);
    for (const { i, score, reason, detail } of local.slice(0, 12)) {
      out.push({ record: this.record(i), score, reason, detail, lon: this.lon(i), lat: this.lat(i) });
    }
  }

  /** The asked door is not on the road: offer the nearest door number on the same side (same parity). */
  private nearestDoor(e: NameEntry, hit: NameHit, w: Wanted, lo: number, hi: number, town: number, vill: number, out: GeocodeMatch[]): void {
    let best = -1, bestKey = Infinity;
    for (let k = lo; k < hi; k++) {
      const i = this.byRoad[k];
      if (this.level[i] !== 0) continue;
      const d = this.hnoNum[this.hno[i]];
      const key = Math.abs(d - w.door) + ((d - w.door) % 2 !== 0 ? 10_000 : 0);
      if (key < bestKey) { bestKey = key; best = i; }
    }
    if (best < 0 && lo < hi) best = this.byRoad[lo];
    if (best < 0) return;
    let score = 0.45 * (hit.dist > 0 ? 0.55 + 0.4 * hit.sim : 1);
    if (town >= 0 && this.tTown.get(this.town[best]) !== this.towns[town].code) score *= 0.6;
    if (vill >= 0 && this.tVill.get(this.vill[best]) !== this.villages[vill].code) score *= 0.8;
    const r = this.record(best);
    out.push({ record: r, score, reason: 'road', lon: r.lon, lat: r.lat,
      detail: `部分匹配到街路巷「${e.text}」：未找到 ${w.door}号，最近门牌为 ${r.houseno ?? ''}` });
  }

  /** Up to 256 door points of a road, for the crossing search (strided when the road has more). */
  private pointsOf(roadId: number): Uint32Array {
    let p = this.roadPoints.get(roadId);
    if (p) return p;
    const all: number[] = [];
    for (let k = this.roadStart[roadId]; k < this.roadStart[roadId + 1]; k++) {
      const i = this.byRoad[k];
      if (this.level[i] !== 2) all.push(i);
    }
    const step = Math.max(1, Math.ceil(all.length / 256));
    p = Uint32Array.from(all.filter((_, k) => k % step === 0));
    if (this.roadPoints.size > 2000) this.roadPoints.clear();
    this.roadPoints.set(roadId, p);
    return p;
  }

  /** "A路与B路交叉口": the midpoint of the closest pair of the two roads' addresses. */
  private intersect(a: NameHit, b: NameHit): GeocodeMatch | null {
    const ea = this.names[a.entry], eb = this.names[b.entry];
    if (ea.text === eb.text) return null;
    const fuzz = (a.dist > 0 ? 0.55 + 0.4 * a.sim : 1) * (b.dist > 0 ? 0.55 + 0.4 * b.sim : 1);
    const ga = this.roadGeom.get(ea.text), gb = this.roadGeom.get(eb.text);
    if (ga && gb) {
      const c = closestApproach(ga, gb);
      const near = this.grid2d.nearest(c.lon, c.lat, 5000, (i) => this.level[i]);
      if (near.i >= 0) {
        const rec = this.record(near.i);
        const score = (c.d <= 30 ? 0.9 : Math.max(0.3, 0.9 * 30 / c.d)) * fuzz;
        const how = c.d <= 1 ? '两路中心线交点' : `两路中心线最近处（相距 ${Math.round(c.d)} 米）`;
        return { record: rec, score, reason: 'intersection', lon: c.lon, lat: c.lat,
          detail: `${ea.text}与${eb.text}交叉口：取${how}，最近标准地址为 ${rec.full}（${Math.round(near.d)} 米）` };
      }
    }
    if (ea.kind !== 0 || eb.kind !== 0) return null;
    const pa = this.pointsOf(ea.id), pb = this.pointsOf(eb.id);
    let best = Infinity, bi = -1, bj = -1;
    for (const i of pa) for (const j of pb) {
      const d = distanceM(this.lon(i), this.lat(i), this.lon(j), this.lat(j));
      if (d < best) { best = d; bi = i; bj = j; }
    }
    if (bi < 0) return null;
    let lon = (this.lon(bi) + this.lon(bj)) / 2, lat = (this.lat(bi) + this.lat(bj)) / 2;
    // Doors are tens of metres apart, so the closest pair only brackets the crossing: fit a line through
    // each road's doors near it and intersect the two (kept when it lands within 150 m of the pair).
    const la = this.localLine(pa, lon, lat), lb = this.localLine(pb, lon, lat);
    if (la && lb) {
      const det = la.dx * lb.dy - la.dy * lb.dx;
      if (Math.abs(det) > 0.2) { // not near-parallel (sin of the angle between the roads)
        const t = ((lb.x - la.x) * lb.dy - (lb.y - la.y) * lb.dx) / det;
        const x = la.x + t * la.dx, y = la.y + t * la.dy;
        if (Math.hypot(x, y) <= 150) {
          lat += y / (RAD * R_EARTH);
          lon += x / (RAD * R_EARTH * Math.cos(lat * RAD));
        }
      }
    }
    const near = this.grid2d.nearest(lon, lat, 5000, (i) => this.level[i]);
    const rec = this.record(near.i >= 0 ? near.i : bi);
    const score = (best <= 150 ? 0.85 : Math.max(0.3, 0.85 * 150 / best)) * fuzz;
    return { record: rec, score, reason: 'intersection', lon, lat,
      detail: `${ea.text}与${eb.text}交叉口：取两路门牌最近处（相距 ${Math.round(best)} 米）的中点，最近标准地址为 ${rec.full}` };
  }

  /** A road known only by its centre line: the address nearest the middle of its longest line. */
  private geometryRoad(h: NameHit, out: GeocodeMatch[]): void {
    const e = this.names[h.entry];
    const lines = this.roadGeom.get(e.text);
    if (!lines) return;
    const line = lines.reduce((a, b) => (b.length > a.length ? b : a));
    const k = Math.floor(line.length / 4) * 2;
    const near = this.grid2d.nearest(line[k], line[k + 1], 2000, (i) => this.level[i]);
    if (near.i < 0) return;
    const r = this.record(near.i);
    out.push({ record: r, score: 0.4 * (h.dist > 0 ? 0.55 + 0.4 * h.sim : 1), reason: 'road', lon: line[k], lat: line[k + 1],
      detail: `道路「${e.text}」没有登记门牌：定位到道路中段，最近标准地址为 ${r.full}（${Math.round(near.d)} 米）` });
  }

  /** Principal line (metres, relative to lon0/lat0) through the ≤ 8 points of `pts` nearest the origin. */
  private localLine(pts: Uint32Array, lon0: number, lat0: number): { x: number; y: number; dx: number; dy: number } | null {
    const kx = RAD * R_EARTH * Math.cos(lat0 * RAD), ky = RAD * R_EARTH;
    const near = Array.from(pts, (i) => ({ x: (this.lon(i) - lon0) * kx, y: (this.lat(i) - lat0) * ky }))
      .sort((a, b) => Math.hypot(a.x, a.y) - Math.hypot(b.x, b.y)).slice(0, 8);
    if (near.length < 2) return null;
    let mx = 0, my = 0;
    for (const p of near) { mx += p.x; my += p.y; }
    mx /= near.length; my /= near.length;
    let sxx = 0, syy = 0, sxy = 0;
    for (const p of near) { sxx += (p.x - mx) ** 2; syy += (p.y - my) ** 2; sxy += (p.x - mx) * (p.y - my); }
    if (sxx + syy < 1) return null;
    const ang = 0.5 * Math.atan2(2 * sxy, sxx - syy);
    return { x: mx, y: my, dx: Math.cos(ang), dy: Math.sin(ang) };
  }

  private landmarkMatch(h: NameHit, near: boolean): GeocodeMatch {
    const l = this.landmarks[this.names[h.entry].id];
    let i = l.record;
    if (i < 0) i = this.grid2d.nearest(l.lon, l.lat, 5000, (k) => this.level[k]).i;
    const rec = i >= 0 ? this.record(i) : ({ code: '', full: l.address ?? l.name, lon: l.lon, lat: l.lat, grid_code: '', town_code: '', village_code: '', level: 'door' } as AddressRecord);
    const score = (near ? 0.8 : 0.72) * (h.dist > 0 ? 0.55 + 0.4 * h.sim : 1);
    const how = l.record >= 0 ? '登记地址' : '最近标准地址';
    return { record: rec, score, reason: 'near', lon: l.lon, lat: l.lat,
      detail: `${near ? '位于' : '地标'}「${l.name}」${near ? '附近' : ''}：${how} ${rec.full}${h.dist > 0 ? `（名称近似：「${h.matched}」）` : ''}` };
  }

  /** Only a town or village was recognised: offer its first door address, low score. */
  private adminOnly(town: number, vill: number, out: GeocodeMatch[]): void {
    const code = vill >= 0 ? this.villages[vill].code : this.towns[town].code;
    const col = vill >= 0 ? this.vill : this.town;
    const id = (vill >= 0 ? this.tVill : this.tTown).values.indexOf(code);
    if (id <= 0) return;
    for (let i = 0; i < this.size; i++) {
      if (col[i] === id && this.level[i] === 0) {
        const r = this.record(i);
        out.push({ record: r, score: 0.3, reason: 'road', lon: r.lon, lat: r.lat,
          detail: `只识别到${vill >= 0 ? '村（社区）' : '镇街'}，未识别街路巷或小区；请补充路名、门牌或小区名` });
        return;
      }
    }
  }
}

function askedText(w: Wanted, road: boolean): string {
  return (road && w.door >= 0 ? `${w.door}号` : '') + (w.bldg >= 0 ? `${w.bldg}幢` : '') + (w.unit >= 0 ? `${w.unit}单元` : '') + (w.room >= 0 ? `${w.room}室` : '');
}

/** Closest approach of two sets of polylines: their crossing (d = 0) or the nearest vertex–segment pair. */
function closestApproach(as: Float64Array[], bs: Float64Array[]): { lon: number; lat: number; d: number } {
  let best = { lon: 0, lat: 0, d: Infinity };
  const kx = Math.cos((as[0][1] ?? 0) * RAD); // local equirectangular scale; the roads are a few km long at most
  const consider = (px: number, py: number, ax: number, ay: number, bx: number, by: number) => {
    const dx = (bx - ax) * kx, dy = by - ay;
    const l2 = dx * dx + dy * dy;
    const t = l2 ? Math.max(0, Math.min(1, (((px - ax) * kx) * dx + (py - ay) * dy) / l2)) : 0;
    const qx = ax + t * (bx - ax), qy = ay + t * (by - ay);
    const d = distanceM(px, py, qx, qy);
    if (d < best.d) best = { lon: (px + qx) / 2, lat: (py + qy) / 2, d };
  };
  for (const a of as) for (const b of bs) {
    for (let i = 0; i + 3 < a.length; i += 2) {
      for (let j = 0; j + 3 < b.length; j += 2) {
        const [ax, ay, bx, by, cx, cy, dx, dy] = [a[i], a[i + 1], a[i + 2], a[i + 3], b[j], b[j + 1], b[j + 2], b[j + 3]];
        // Proper crossing of segments ab and cd (parametric solution).
        const r1 = bx - ax, r2 = by - ay, s1 = dx - cx, s2 = dy - cy;
        const den = r1 * s2 - r2 * s1;
        if (den !== 0) {
          const t = ((cx - ax) * s2 - (cy - ay) * s1) / den, u = ((cx - ax) * r2 - (cy - ay) * r1) / den;
          if (t >= 0 && t <= 1 && u >= 0 && u <= 1) return { lon: ax + t * r1, lat: ay + t * r2, d: 0 };
        }
        consider(ax, ay, cx, cy, dx, dy); consider(bx, by, cx, cy, dx, dy);
        consider(cx, cy, ax, ay, bx, by); consider(dx, dy, ax, ay, bx, by);
      }
    }
  }
  return best;
}

function missingText(w: Wanted, got: number[]): string {
  const parts: string[] = [];
  if (w.door >= 0 && got[0] < 0) parts.push(`${w.door}号`);
  if (w.bldg >= 0 && got[1] < 0) parts.push(`${w.bldg}幢`);
  if (w.unit >= 0 && got[2] < 0) parts.push(`${w.unit}单元`);
  if (w.room >= 0 && got[3] < 0) parts.push(`${w.room}室`);
  return parts.join('') || '更细的层级';
}

function mergeHits(exact: NameHit[], fuzzy: NameHit[]): NameHit[] {
  const out = [...exact];
  for (const f of fuzzy) if (!out.some((h) => h.entry === f.entry)) out.push(f);
  return out;
}

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), 0x01000193);
  return h >>> 0;
}

/** Builds the index once (see AddressIndex.buildMs / memoryBytes for the cost). */
export function buildAddressIndex(records: ArrayLike<AddressRecord>, gaz: Gazetteer, opts?: AddressIndexOptions): AddressIndex {
  return new AddressIndex(records, gaz, opts);
}
