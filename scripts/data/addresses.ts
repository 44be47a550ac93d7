// Standard addresses (标准地址) after address-standards-reference.md §1 and §5: 门牌 (road + house number),
// 楼幢 (compound + building), 户室 (unit + floor + room), each tied to its town, village and grid.
//
// Code structure (34 digits, derived from the reference's §5 recommendation; digits are for display and
// sorting only, matching must use the element fields):
//   admin12  12  NBS village code of the grid the point lies in (320581001001)
//   level     1  1 = 门牌 door, 2 = 楼幢 building, 3 = 户室 room
//   road      4  sequence of the road / natural village within that village (first seen = 0001)
//   door      5  house number × 10 (last digit reserved for 之一/附 suffixes, always 0 here)
//   bldg      3  幢 number (000 for a door)
//   unit      2  单元 number (00 unless a room)
//   floor     3  floor (000 unless a room)
//   room      4  room number (0000 unless a room)
// Written form (reference §1 order): 常熟市 + 镇街 + [村 for rural natural villages] + 街路巷/自然村 + 门牌号
//   + [小区] + [N幢] + [N单元] + [N室], e.g. 常熟市琴川街道枫林路88号枫林苑5幢1单元301室.
import type { World } from './content-world.ts';

export type AddressLevel = 'door' | 'building' | 'room';
export const CITY_NAME = '常熟市';

export interface AddressParts {
  road: string; door: number; compound?: string; building?: number; unit?: number; floor?: number; room?: number;
  /** Rural natural village (自然村): the village name is written before it. */
  rural?: boolean;
}

export function writeFull(town: string, village: string | null, p: AddressParts): string {
  let s = CITY_NAME + town + (p.rural && village ? village : '') + p.road + `${p.door}号`;
  if (p.compound) s += p.compound;
  if (p.building !== undefined) s += `${p.building}幢`;
  if (p.unit !== undefined) s += `${p.unit}单元`;
  if (p.room !== undefined) s += `${p.room}室`;
  return s;
}

const pad = (n: number, w: number): string => String(Math.max(0, Math.floor(n))).padStart(w, '0').slice(-w);

export class AddressBook {
  readonly features: GeoJSON.Feature<GeoJSON.Point>[] = [];
  /** Door addresses only (for the facility look-up): local x, y and feature index. */
  readonly doors: { x: number; y: number; i: number }[] = [];
  private roadSeq = new Map<string, Map<string, number>>();
  private used = new Map<string, Set<number>>();
  constructor(private readonly w: World) {}

  /** A free house number on `road` with the given parity, starting at `want` (odd = one side, even = other). */
  number(road: string, want: number): number {
    let set = this.used.get(road);
    if (!set) this.used.set(road, (set = new Set()));
    let n = Math.max(1, want);
    while (set.has(n)) n += 2;
    set.add(n);
    return n;
  }

  add(x: number, y: number, grid: number, parts: AddressParts, buildingId: string | null): GeoJSON.Feature<GeoJSON.Point> {
    const g = this.w.grids[grid];
    const town = this.w.townByCode.get(g.townCode);
    const village = this.w.villageByCode.get(g.villageCode);
    const level: AddressLevel = parts.room !== undefined ? 'room' : parts.building !== undefined ? 'building' : 'door';
    let seqs = this.roadSeq.get(g.villageCode);
    if (!seqs) this.roadSeq.set(g.villageCode, (seqs = new Map()));
    let seq = seqs.get(parts.road);
    if (seq === undefined) seqs.set(parts.road, (seq = seqs.size + 1));
    const code = pad(Number(g.villageCode), 12) + (level === 'door' ? '1' : level === 'building' ? '2' : '3') + pad(seq, 4)
      + pad(parts.door * 10, 5) + pad(parts.building ?? 0, 3) + pad(parts.unit ?? 0, 2) + pad(parts.floor ?? 0, 3) + pad(parts.room ?? 0, 4);
    const f: GeoJSON.Feature<GeoJSON.Point> = {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: this.w.lonLat(x, y) },
      properties: {
        id: `addr-${pad(this.features.length + 1, 7)}`,
        code,
        full: writeFull(town?.name ?? '', village?.short ?? null, parts),
        level,
        town_code: g.townCode,
        village_code: g.villageCode,
        grid_code: g.code,
        road: parts.road,
        houseno: `${parts.door}号`,
        compound: parts.compound ?? null,
        building: parts.building !== undefined ? `${parts.building}幢` : null,
        unit: parts.unit !== undefined ? `${parts.unit}单元` : null,
        floor: parts.floor ?? null,
        room: parts.room !== undefined ? `${parts.room}室` : null,
        building_id: buildingId,
        synthetic: true,
      },
    };
    if (level === 'door') this.doors.push({ x, y, i: this.features.length });
    this.features.push(f);
    return f;
  }
}
