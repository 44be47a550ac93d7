// 一标多实: one standard address (the key) → the entities registered there, and back (reference §1 notes:
// link tables (addressId, entityType, entityId)). Here the links are computed, not stored:
//   households / people — synthetic, generated from the address code with a hash-seeded RNG, so the same
//     address always shows the same fictional residents and nothing personal is kept anywhere;
//   house        — the building (buildings.fgb) through the record's building_id;
//   organisations — facilities registered at the same address or within LINK_RADIUS_M;
//   features     — department features (sensors) within LINK_RADIUS_M;
//   cameras      — cameras whose view cone (heading ± fov/2, range_m) covers the address point.
// Personal fields are masked by default (张*明, 3205************12, 138****5678). Unmasking by role comes
// with the access-control issue; until then callers must not pass `unmasked: true` for public requests.
import { distanceM, PointGrid, type AddressIndex, type AddressRecord } from './geocode.ts';

export const LINK_RADIUS_M = 30;

export interface PointEntity {
  id: string; name: string; kind?: string | null; lon: number; lat: number;
  address?: string | null; department?: string | null; status?: string | null;
}
export interface CameraEntity extends PointEntity { heading: number; fov: number; range_m: number }
export interface HouseInfo { id: string; floors?: number | null; height?: number | null; use?: string | null }

export interface LinkSources {
  facilities?: PointEntity[];
  sensors?: PointEntity[];
  cameras?: CameraEntity[];
  /** buildings.fgb attributes by id (a lookup, so the caller decides how to hold 100k+ houses). */
  house?: (id: string) => HouseInfo | undefined;
}

export interface Person {
  id: string; name: string; gender: '男' | '女'; birthYear: number; relation: string; idNumber: string; phone: string;
}
export interface Household { id: string; members: Person[] }
export type LinkedPoint<T extends PointEntity = PointEntity> = T & { distanceM: number; via: 'address' | 'nearby' | 'view' };

export interface AddressLinks {
  code: string;
  households: Household[];
  house: HouseInfo | null;
  organisations: LinkedPoint[];
  features: LinkedPoint[];
  cameras: LinkedPoint<CameraEntity>[];
  /** True when personal fields are masked (the default). */
  masked: boolean;
  synthetic: true;
}

export type EntityType = 'camera' | 'facility' | 'sensor' | 'building' | 'household' | 'person';
export const ENTITY_TYPES: readonly EntityType[] = ['camera', 'facility', 'sensor', 'building', 'household', 'person'];

// ------------------------------------------------------------------------------------------ masking

/** 张三 → 张*, 张小明 → 张*明, 欧阳小明 → 欧**明. */
export function maskName(name: string): string {
  const c = [...name];
  if (c.length <= 1) return '*';
  if (c.length === 2) return c[0] + '*';
  return c[0] + '*'.repeat(c.length - 2) + c[c.length - 1];
}
/** 18-digit resident ID → first 4 and last 2 kept: 3205************12. */
export function maskIdNumber(id: string): string {
  return id.length <= 6 ? '*'.repeat(id.length) : id.slice(0, 4) + '*'.repeat(id.length - 6) + id.slice(-2);
}
/** 13812345678 → 138****5678. */
export function maskPhone(phone: string): string {
  return phone.length < 7 ? '*'.repeat(phone.length) : phone.slice(0, 3) + '*'.repeat(phone.length - 7) + phone.slice(-4);
}

// ------------------------------------------------------------------------------------------ synthetic people

/** mulberry32 seeded by FNV-1a of the key: deterministic per address, no state shared between calls. */
function rngFor(key: string): () => number {
  let h = 0x811c9dc5;
  for (let k = 0; k < key.length; k++) h = Math.imul(h ^ key.charCodeAt(k), 0x01000193);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈钱顾陆';
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯晨欣怡佳琪子涵雨轩梓博';
/** GB 11643-1999 check digit of the first 17 digits. */
export function idCheckDigit(first17: string): string {
  const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let s = 0;
  for (let k = 0; k < 17; k++) s += Number(first17[k]) * W[k];
  return '10X98765432'[s % 11];
}

/**
 * The fictional residents of an address. Rooms are homes (≈85 % occupied); doors of residential houses
 * (rural homes) hold one household when `residential`; buildings and other doors have none of their own.
 */
export function syntheticHouseholds(code: string, level: string, residential: boolean, unmasked = false): Household[] {
  const rnd = rngFor(code);
  const occupied = level === 'room' ? rnd() < 0.85 : level === 'door' && residential ? rnd() < 0.9 : false;
  if (!occupied) return [];
  const pick = (s: string) => s[Math.floor(rnd() * s.length)];
  const size = 1 + Math.floor(rnd() * rnd() * 5);
  const surname = pick(SURNAMES);
  const headYear = 1945 + Math.floor(rnd() * 55);
  const members: Person[] = [];
  const relations = ['户主', '配偶', '子女', '子女', '父母', '其他'];
  for (let k = 0; k < size; k++) {
    const relation = relations[Math.min(k, relations.length - 1)];
    const gender: '男' | '女' = rnd() < 0.5 ? '男' : '女';
    const year = relation === '子女' ? headYear + 22 + Math.floor(rnd() * 12) : relation === '父母' ? headYear - 25 - Math.floor(rnd() * 8)
      : headYear + Math.floor(rnd() * 6) - 3;
    const family = relation === '配偶' ? pick(SURNAMES) : relation === '其他' ? pick(SURNAMES) : surname;
    const name = family + pick(GIVEN) + (rnd() < 0.7 ? pick(GIVEN) : '');
    const mm = String(1 + Math.floor(rnd() * 12)).padStart(2, '0');
    const dd = String(1 + Math.floor(rnd() * 28)).padStart(2, '0');
    let seq = Math.floor(rnd() * 500) * 2 + (gender === '男' ? 1 : 0); // 17th digit: odd = male (GB 11643)
    seq %= 1000;
    const first17 = code.slice(0, 6).padEnd(6, '0') + Math.min(2025, year) + mm + dd + String(seq).padStart(3, '0');
    const idNumber = first17 + idCheckDigit(first17);
    // 100-prefixed numbers are unassigned in China's numbering plan: fictional by construction.
    const phone = '100' + String(Math.floor(rnd() * 1e8)).padStart(8, '0');
    members.push({
      id: `person-${code}-${k + 1}`, gender, birthYear: Math.min(2025, year), relation,
      name: unmasked ? name : maskName(name), idNumber: unmasked ? idNumber : maskIdNumber(idNumber),
      phone: unmasked ? phone : maskPhone(phone),
    });
  }
  return [{ id: `household-${code}-1`, members }];
}

// ------------------------------------------------------------------------------------------ cameras

/** Bearing from (lon1, lat1) to (lon2, lat2), degrees clockwise from north. */
export function bearingDeg(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const x = (lon2 - lon1) * Math.cos(((lat1 + lat2) / 2) * Math.PI / 180);
  const y = lat2 - lat1;
  return (Math.atan2(x, y) * 180 / Math.PI + 360) % 360;
}

/** True when the point lies in the camera's view cone: distance ≤ range_m and |bearing − heading| ≤ fov/2. */
export function coversPoint(cam: Pick<CameraEntity, 'lon' | 'lat' | 'heading' | 'fov' | 'range_m'>, lon: number, lat: number): boolean {
  const d = distanceM(cam.lon, cam.lat, lon, lat);
  if (!(d <= cam.range_m)) return false;
  if (d < 1) return true; // under the camera: the cone's apex
  const diff = Math.abs(((bearingDeg(cam.lon, cam.lat, lon, lat) - cam.heading) % 360 + 540) % 360 - 180);
  return diff <= cam.fov / 2;
}

// ------------------------------------------------------------------------------------------ the index

export class LinkIndex {
  private readonly fac: PointEntity[]; private readonly sen: PointEntity[]; private readonly cam: CameraEntity[];
  private readonly facGrid: PointGrid; private readonly senGrid: PointGrid; private readonly camGrid: PointGrid;
  private readonly maxRange: number;
  private readonly facByAddress = new Map<string, number[]>();
  private readonly byId = new Map<string, { type: 'camera' | 'facility' | 'sensor'; i: number }>();

  constructor(private readonly index: AddressIndex, private readonly src: LinkSources) {
    this.fac = src.facilities ?? []; this.sen = src.sensors ?? []; this.cam = src.cameras ?? [];
    const grid = (arr: PointEntity[]) => new PointGrid((i) => arr[i].lon, (i) => arr[i].lat, Array.from(arr, (_, i) => i), 0.002);
    this.facGrid = grid(this.fac); this.senGrid = grid(this.sen); this.camGrid = grid(this.cam);
    this.maxRange = this.cam.reduce((m, c) => Math.max(m, Number.isFinite(c.range_m) ? c.range_m : 0), 0);
    this.fac.forEach((f, i) => {
      if (f.address) (this.facByAddress.get(f.address) ?? this.facByAddress.set(f.address, []).get(f.address)!).push(i);
      this.byId.set(f.id, { type: 'facility', i });
    });
    this.sen.forEach((s, i) => this.byId.set(s.id, { type: 'sensor', i }));
    this.cam.forEach((c, i) => this.byId.set(c.id, { type: 'camera', i }));
  }

  /** Everything linked to the address with this code, or null for an unknown code. */
  forAddress(code: string, opts: { unmasked?: boolean } = {}): AddressLinks | null {
    const rec = this.index.get(code);
    return rec ? this.linksOf(rec, opts) : null;
  }

  linksOf(rec: AddressRecord, opts: { unmasked?: boolean } = {}): AddressLinks {
    const house = rec.building_id ? this.src.house?.(rec.building_id) ?? { id: rec.building_id } : null;
    const residential = !house?.use || house.use === 'residential';
    const organisations: LinkedPoint[] = [];
    const seen = new Set<number>();
    for (const i of this.facByAddress.get(rec.full) ?? []) {
      seen.add(i);
      organisations.push({ ...this.fac[i], distanceM: round1(distanceM(rec.lon, rec.lat, this.fac[i].lon, this.fac[i].lat)), via: 'address' });
    }
    for (const { i, d } of this.facGrid.within(rec.lon, rec.lat, LINK_RADIUS_M)) {
      if (!seen.has(i)) organisations.push({ ...this.fac[i], distanceM: round1(d), via: 'nearby' });
    }
    const features = this.senGrid.within(rec.lon, rec.lat, LINK_RADIUS_M)
      .map(({ i, d }) => ({ ...this.sen[i], distanceM: round1(d), via: 'nearby' as const }));
    const cameras = this.camGrid.within(rec.lon, rec.lat, this.maxRange)
      .filter(({ i }) => coversPoint(this.cam[i], rec.lon, rec.lat))
      .map(({ i, d }) => ({ ...this.cam[i], distanceM: round1(d), via: 'view' as const }));
    return {
      code: rec.code, house, organisations, features, cameras,
      households: syntheticHouseholds(rec.code, rec.level, residential && !organisations.some((o) => o.via === 'address'), !!opts.unmasked),
      masked: !opts.unmasked, synthetic: true,
    };
  }

  /**
   * The addresses linked to an entity (at most `limit`): a camera → the door/building addresses in its
   * cone; a facility → its registered address and those within LINK_RADIUS_M; a sensor → within
   * LINK_RADIUS_M; a building → every address on it; a household/person → the address its id names.
   * Null when the entity is unknown.
   */
  addressesFor(type: EntityType, id: string, limit = 200): AddressRecord[] | null {
    if (type === 'building') {
      const idx = this.index.recordsOnBuilding(id);
      return idx.length ? idx.slice(0, limit).map((i) => this.index.record(i)) : null;
    }
    if (type === 'household' || type === 'person') {
      const m = /^(?:household|person)-(.+)-\d+$/.exec(id);
      const rec = m ? this.index.get(m[1]) : undefined;
      if (!rec) return null;
      const hh = syntheticHouseholds(rec.code, rec.level, true);
      const exists = type === 'household' ? hh.some((h) => h.id === id) : hh.some((h) => h.members.some((p) => p.id === id));
      return exists ? [rec] : null;
    }
    const e = this.byId.get(id);
    if (!e || e.type !== type) return null;
    if (type === 'camera') {
      const c = this.cam[e.i];
      return this.index.within(c.lon, c.lat, c.range_m)
        .filter(({ i }) => coversPoint(c, this.index.lon(i), this.index.lat(i)))
        .slice(0, limit).map(({ i }) => this.index.record(i));
    }
    const p = type === 'facility' ? this.fac[e.i] : this.sen[e.i];
    const near = this.index.within(p.lon, p.lat, Math.max(LINK_RADIUS_M, 300)).map(({ i }) => this.index.record(i));
    const out = near.filter((r) => (p.address && r.full === p.address));
    for (const r of near) if (distanceM(p.lon, p.lat, r.lon, r.lat) <= LINK_RADIUS_M && !out.includes(r)) out.push(r);
    return out.slice(0, limit);
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function buildLinkIndex(index: AddressIndex, src: LinkSources): LinkIndex {
  return new LinkIndex(index, src);
}
