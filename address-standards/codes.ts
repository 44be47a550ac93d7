// Division codes (reference §2): GB/T 2260 county (6 digits), GB/T 10114 town (9), NBS village (12), and
// the demo's 34-digit standard-address code (scripts/data/addresses.ts).

export interface CodeIssue { code: string; message: string; field?: string }

export type TownType = '街道' | '镇' | '乡' | '政企合一/功能区';
export type VillageType = '居委会(社区)' | '村委会' | '类似居委会' | '类似村委会';

/** Town type from the 7th digit (GB/T 10114-2003: 0 街道, 1 镇, 2–3 乡, 4–5 政企合一 such as 开发区). */
export function townType(town9: string): TownType | null {
  if (!/^\d{9}$/.test(town9)) return null;
  const d = Number(town9[6]);
  return d === 0 ? '街道' : d === 1 ? '镇' : d <= 3 ? '乡' : d <= 5 ? '政企合一/功能区' : null;
}

/** Village type from digits 10–12 (NBS: 001–199 居委会, 200–399 村委会, 400–499/500–599 similar units). */
export function villageType(village12: string): VillageType | null {
  if (!/^\d{12}$/.test(village12)) return null;
  const n = Number(village12.slice(9));
  if (n >= 1 && n <= 199) return '居委会(社区)';
  if (n >= 200 && n <= 399) return '村委会';
  if (n >= 400 && n <= 499) return '类似居委会';
  if (n >= 500 && n <= 599) return '类似村委会';
  return null;
}

/** Province (2), prefecture (4) and county (6) prefixes of any division code. */
export function codeParents(code: string): { prov: string; city: string; county: string | null; town: string | null } {
  return { prov: code.slice(0, 2), city: code.slice(0, 4), county: code.length >= 6 ? code.slice(0, 6) : null, town: code.length >= 9 ? code.slice(0, 9) : null };
}

const ISSUE = (code: string, field: string, zh: string, en: string): CodeIssue => ({ code, field, message: `${zh} / ${en}` });

/** Format and nesting of the codes of one address: county ⊃ town ⊃ village. */
export function validateCodes(c: { county?: string; town?: string; village?: string }): CodeIssue[] {
  const out: CodeIssue[] = [];
  if (c.county !== undefined && !/^\d{6}$/.test(c.county)) out.push(ISSUE('bad_county_code', 'codes.county', `县级代码“${c.county}”应为 6 位数字（GB/T 2260）`, `county code must be 6 digits (GB/T 2260)`));
  if (c.town !== undefined) {
    if (!/^\d{9}$/.test(c.town)) out.push(ISSUE('bad_town_code', 'codes.town', `乡级代码“${c.town}”应为 9 位数字（GB/T 10114）`, 'town code must be 9 digits (GB/T 10114)'));
    else if (!townType(c.town)) out.push(ISSUE('bad_town_code', 'codes.town', `乡级代码“${c.town}”第 7 位应为 0–5`, 'town code digit 7 must be 0–5'));
    else if (c.town.slice(6) === '000') out.push(ISSUE('bad_town_code', 'codes.town', `乡级代码“${c.town}”的顺序码不能为 000`, 'town sequence must not be 000'));
  }
  if (c.village !== undefined) {
    if (!/^\d{12}$/.test(c.village)) out.push(ISSUE('bad_village_code', 'codes.village', `村级代码“${c.village}”应为 12 位数字（统计用区划代码）`, 'village code must be 12 digits (NBS)'));
    else if (!villageType(c.village)) out.push(ISSUE('bad_village_code', 'codes.village', `村级代码“${c.village}”末 3 位应在 001–599`, 'village code digits 10–12 must be 001–599'));
  }
  if (c.county && c.town && /^\d{6}$/.test(c.county) && /^\d{9}$/.test(c.town) && !c.town.startsWith(c.county)) {
    out.push(ISSUE('town_not_in_county', 'codes.town', `乡镇（街道）${c.town} 不在县级区划 ${c.county} 内`, `town ${c.town} is not inside county ${c.county}`));
  }
  if (c.town && c.village && /^\d{9}$/.test(c.town) && /^\d{12}$/.test(c.village) && !c.village.startsWith(c.town)) {
    out.push(ISSUE('village_not_in_town', 'codes.village', `村（社区）${c.village} 不在乡镇（街道）${c.town} 内`, `village ${c.village} is not inside town ${c.town}`));
  }
  if (c.county && c.village && !c.town && /^\d{6}$/.test(c.county) && /^\d{12}$/.test(c.village) && !c.village.startsWith(c.county)) {
    out.push(ISSUE('village_not_in_county', 'codes.village', `村（社区）${c.village} 不在县级区划 ${c.county} 内`, `village ${c.village} is not inside county ${c.county}`));
  }
  return out;
}

export type StandardLevel = 'door' | 'building' | 'room';

/** The demo's 34-digit standard-address code, split into its fields (layout: scripts/data/addresses.ts). */
export interface StandardAddressCode {
  village: string; level: StandardLevel; roadSeq: number; door: number; doorSuffix: number;
  building: number; unit: number; floor: number; room: number;
}

const LEVELS: StandardLevel[] = ['door', 'building', 'room'];

/** Decodes a 34-digit code; throws with the reason when it is malformed. */
export function decodeStandardAddressCode(code: string): StandardAddressCode {
  if (!/^\d{34}$/.test(code)) throw new Error(`标准地址编码应为 34 位数字，收到 ${code.length} 位 / standard-address code must be 34 digits: "${code}"`);
  const lv = Number(code[12]);
  if (lv < 1 || lv > 3) throw new Error(`标准地址编码第 13 位（层级）应为 1–3，收到 ${lv} / level digit must be 1 (door), 2 (building) or 3 (room)`);
  const n = (a: number, b: number) => Number(code.slice(a, b));
  return {
    village: code.slice(0, 12), level: LEVELS[lv - 1], roadSeq: n(13, 17), door: Math.floor(n(17, 22) / 10), doorSuffix: n(21, 22),
    building: n(22, 25), unit: n(25, 27), floor: n(27, 30), room: n(30, 34),
  };
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

export function encodeStandardAddressCode(c: StandardAddressCode): string {
  return c.village + String(LEVELS.indexOf(c.level) + 1) + pad(c.roadSeq, 4) + pad(c.door * 10 + c.doorSuffix, 5) + pad(c.building, 3)
    + pad(c.unit, 2) + pad(c.floor, 3) + pad(c.room, 4);
}

/** Structural checks of a 34-digit code: valid village code, and level-consistent zero fields. */
export function validateStandardAddressCode(code: string): CodeIssue[] {
  let c: StandardAddressCode;
  try { c = decodeStandardAddressCode(code); } catch (e) { return [{ code: 'bad_address_code', message: (e as Error).message, field: 'code' }]; }
  const out = validateCodes({ village: c.village });
  if (c.level === 'door' && (c.building || c.unit || c.room)) out.push(ISSUE('door_code_has_building', 'code', '门牌级编码的幢/单元/室段应为 0', 'a door-level code must have zero building/unit/room fields'));
  if (c.level !== 'door' && !c.building) out.push(ISSUE('room_without_building', 'code', '楼幢/户室级编码缺少幢号', 'a building- or room-level code needs a building number'));
  if (c.level === 'room' && !c.room) out.push(ISSUE('room_code_without_room', 'code', '户室级编码缺少室号', 'a room-level code needs a room number'));
  return out;
}
