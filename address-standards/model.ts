// The standard-address element model (reference §1; CCKS 2021 label set for parsing).
import { validateCodes, type CodeIssue } from './codes.ts';

/** Parser labels: exactly the CCKS 2021 中文地址要素解析 label set (minus its catch-all `detail`/`O`). */
export type ElementLabel =
  | 'prov' | 'city' | 'district' | 'devzone' | 'town' | 'community' | 'village_group'
  | 'road' | 'roadno' | 'poi' | 'subpoi' | 'houseno' | 'cellno' | 'floorno' | 'roomno'
  | 'assist' | 'distance' | 'intersection';

export const ELEMENT_LABELS: readonly ElementLabel[] = [
  'prov', 'city', 'district', 'devzone', 'town', 'community', 'village_group', 'road', 'roadno', 'poi',
  'subpoi', 'houseno', 'cellno', 'floorno', 'roomno', 'assist', 'distance', 'intersection',
];

/** Labels that make up a standard address (the held-back check scores these separately). */
export const STANDARD_LABELS: readonly ElementLabel[] = [
  'prov', 'city', 'district', 'town', 'community', 'road', 'roadno', 'houseno', 'cellno', 'floorno',
];

export interface AddressElement {
  label: ElementLabel;
  /** Offsets into the ORIGINAL input text; `end` is exclusive. */
  start: number;
  end: number;
  text: string;
}

/** One standard address, element texts as written (e.g. houseno '3幢', roomno '502室'). */
export interface StandardAddress {
  prov?: string; city?: string; district?: string; town?: string; community?: string; village_group?: string;
  road?: string; roadno?: string; poi?: string; houseno?: string; cellno?: string; floorno?: string; roomno?: string;
  codes?: { county?: string; town?: string; village?: string };
}

/** Written order (reference §1, high to low). Floor is written only when given (the demo omits it: 601室 implies it). */
const ORDER = [
  'prov', 'city', 'district', 'town', 'community', 'village_group', 'road', 'roadno', 'poi', 'houseno', 'cellno',
  'floorno', 'roomno',
] as const;

export function formatStandardAddress(a: StandardAddress): string {
  let s = '';
  for (const k of ORDER) if (a[k]) s += a[k];
  return s;
}

/**
 * Elements → StandardAddress. A compound written with its phase (御景小区 + 二期) is one `poi`: the
 * demo stores it as one compound. Only the first element of each label is kept (a second road in
 * "A路与B路交叉口" is not part of a standard address).
 */
export function toStandardAddress(elements: readonly AddressElement[]): StandardAddress {
  const a: StandardAddress = {};
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i];
    if (e.label === 'subpoi') {
      const prev = elements[i - 1];
      if (prev && prev.label === 'poi' && prev.end === e.start && a.poi === prev.text) a.poi += e.text;
      continue;
    }
    // A 功能区 (开发区, 科技园) stands at town level in GB/T 10114 (codes 4xx): it is the town when none is written.
    if (e.label === 'devzone') { if (a.town === undefined && !elements.some((x) => x.label === 'town')) a.town = e.text; continue; }
    if (!(ORDER as readonly string[]).includes(e.label)) continue;
    const prev = elements[i - 1];
    // A second village right after the first is a natural village (自然村), at road level in GA/T 2000.32
    // (code 44): 蒋巷镇村邵家圩9号 → community 蒋巷镇村, road 邵家圩, door 9号.
    if (e.label === 'community' && prev?.label === 'community' && a.community !== undefined && a.road === undefined) { a.road = e.text; continue; }
    // The parser labels a number right under a village houseno (CCKS); in the standard address it is the door
    // number (张家村12号, 庞家湾二组17号), unless it names a building (3号楼 → houseno).
    if (e.label === 'houseno' && /号$/.test(e.text) && a.roadno === undefined && (prev?.label === 'community' || prev?.label === 'village_group')) { a.roadno = e.text; continue; }
    // A compound number (12-3-1001) gives bare parts: write them with their standard suffixes.
    if (e.label === 'houseno' && /^[0-9]+$/.test(e.text)) { if (a.houseno === undefined) a.houseno = e.text + '幢'; continue; }
    if (e.label === 'cellno' && /^[0-9]+$/.test(e.text)) { if (a.cellno === undefined) a.cellno = e.text + '单元'; continue; }
    const k = e.label as (typeof ORDER)[number];
    if (a[k] === undefined) a[k] = e.text;
  }
  return a;
}

export interface ValidationIssue extends CodeIssue {}

const NEEDS: [keyof StandardAddress, (a: StandardAddress) => boolean, string, string, string][] = [
  ['roomno', (a) => !!a.houseno, 'room_without_building', '户室必须属于某一楼幢（缺少幢/栋/号楼）', 'a room needs a building (houseno)'],
  ['cellno', (a) => !!a.houseno, 'unit_without_building', '单元必须属于某一楼幢（缺少幢/栋/号楼）', 'a unit needs a building (houseno)'],
  ['floorno', (a) => !!a.houseno || !!a.poi || !!a.roadno, 'floor_without_building', '楼层必须属于某一建筑（缺少楼幢、小区或门牌）', 'a floor needs a building, compound or house number'],
  ['roadno', (a) => !!a.road || !!a.community || !!a.village_group, 'roadno_without_road', '门牌号必须属于某一街路巷或村（缺少路/街/巷/村）', 'a house number needs a road or a village'],
  ['houseno', (a) => !!a.road || !!a.poi || !!a.community, 'building_without_place', '楼幢必须属于某一街路巷、小区或村（社区）', 'a building needs a road, compound or community'],
  ['village_group', (a) => !!a.community, 'group_without_village', '村民小组必须属于某一村（社区）', 'a village group needs its village'],
  ['community', (a) => !!a.town || !!a.codes?.town, 'community_without_town', '村（社区）必须属于某一乡镇（街道）', 'a community needs its town'],
];

/**
 * Checks one standard address: the hierarchy (a room sits in a building …) and its codes (a village code
 * must sit inside its town …). Returns every issue found, empty when valid. Messages: Chinese, then English.
 */
export function validateStandardAddress(a: StandardAddress): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const [field, ok, code, zh, en] of NEEDS) {
    if (a[field] && !ok(a)) out.push({ code, message: `${zh} / ${en}`, field });
  }
  const num: [keyof StandardAddress, RegExp, string][] = [
    ['roadno', /^(\d+|[一二三四五六七八九十百〇零]+)(号|弄)(之\d+|附\d+)?$/, '门牌号'],
    ['houseno', /^([0-9A-Za-z]+|[一二三四五六七八九十百〇零]+)(幢|栋|号楼|座|#)$/, '楼幢号'],
    ['cellno', /^([0-9A-Za-z]+|[一二三四五六七八九十〇零]+)(单元|门)$/, '单元号'],
    ['floorno', /^-?(\d+|[一二三四五六七八九十〇零]+)(层|楼|F)$/, '楼层'],
    ['roomno', /^([0-9A-Za-z-]+|[一二三四五六七八九十百千〇零]+)(室|房|户)?$/, '户室号'],
  ];
  for (const [field, re, zh] of num) {
    const v = a[field];
    if (typeof v === 'string' && !re.test(v)) {
      out.push({ code: `bad_${field}`, message: `${zh}“${v}”格式不对，应为数字加后缀（如 ${example(field)}） / ${field} "${v}" is not a number with its suffix`, field });
    }
  }
  if (a.codes) out.push(...validateCodes(a.codes));
  return out;
}

function example(field: keyof StandardAddress): string {
  return ({ roadno: '18号', houseno: '3幢', cellno: '2单元', floorno: '5层', roomno: '502室' } as Record<string, string>)[field] ?? '';
}
