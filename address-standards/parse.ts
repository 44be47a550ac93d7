// Rule + gazetteer address parser: free text → CCKS-labelled elements with spans into the ORIGINAL text.
// Steps (reference §7): normalise; then scan left to right, at each position trying (1) numbered elements
// (18号, 3幢, 2单元, 5层, 502室, 3组, 50米, 2期), (2) assist/intersection words, (3) the national division
// gazetteer (longest match, consistent with the levels already seen), (4) a named element: the shortest run of
// text ending in a type suffix (路/村/镇/开发区/小区 …); a run without a suffix is labelled from what follows it
// (a name before 18号 is a road, before 3幢 a compound).
import type { AddressElement, ElementLabel } from './model.ts';
import type { AdminLevel, GazEntry, Gazetteer } from './gazetteer.ts';
import { normalizeAddress, toOriginalSpan } from './normalize.ts';

export interface ParseResult { text: string; elements: AddressElement[] }

interface Span { label: ElementLabel; start: number; end: number; entry?: GazEntry }

const LEVEL_RANK: Record<AdminLevel, number> = { prov: 0, city: 1, district: 2, town: 3, community: 4 };
const MUNICIPALITIES = new Set(['11', '12', '31', '50']);

// Numbered elements on normalised text (Chinese numerals are already digits; 栋/号楼/# → 幢, 房 → 室, F → 层).
const NUM = '[0-9]+';
const NUMBERED: [RegExp, ElementLabel][] = [
  [/^[0-9]+(?:米|公里)/, 'distance'],
  [/^[0-9]+号(?:[东西南北中]?路|大街|大道|街)/, 'road'],
  [/^[0-9A-Z]+(?:-[0-9]+)?单元/, 'cellno'],
  [/^[0-9]+(?:-[0-9]+)?(?:号|弄)(?:之[0-9]+|附[0-9]+)?/, 'roadno'],
  [/^(?:[0-9]+|[A-Z][0-9]*|[0-9]+[A-Z])(?:-[0-9]+)?(?:幢|座)/, 'houseno'],
  // A楼, B楼: a lettered building (a digit + 楼 is a floor).
  [/^[A-Z]楼/, 'houseno'],
  // Floors: 5层, 2楼 (a room number may follow: 2楼201), basements 负1层/地下1层/B1层, and F3 (lift-panel style).
  [/^(?:负|地下|-|B)?[0-9]+(?:层|楼)/, 'floorno'],
  [/^[0-9A-Z]+(?:-[0-9]+)?(?:室|户)/, 'roomno'],
  [/^F[0-9]{1,2}(?![0-9A-Z])/, 'floorno'],
  [/^[0-9]+(?:组|队)/, 'village_group'],
  [/^(?:[0-9]+|[A-Z])期/, 'subpoi'],
  [/^[A-Z]座/, 'subpoi'],
];

const ASSIST = /^(?:附近|旁边|对面|斜对面|正对面|隔壁|门口|周边|东侧|西侧|南侧|北侧|东面|西面|南面|北面|东边|西边|南边|北边|往东|往西|往南|往北|楼下|后面|前面|旁)/;
const INTERSECTION = /^(?:十字路口|交叉口|交叉路口|交汇处|交界处|路口)/;
const CONNECTOR = /^[与和跟及同]/;

// Named-element suffixes, longest first within each label; checked longest-suffix-first across labels so that
// 新村 (a compound) beats 村 (a village) and 开发区 beats 区.
const SUFFIXES: [string, ElementLabel][] = ([
  ...['经济技术开发区', '高新技术产业开发区', '工业集中区', '开发区', '工业园区', '产业园区', '科技园区', '工业园', '工业区', '高新区', '产业园', '科技园', '物流园', '创业园', '软件园', '保税区', '度假区', '经济区', '园区'].map((s) => [s, 'devzone'] as [string, ElementLabel]),
  ...['社区居委会', '居民委员会', '村民委员会', '村委会', '居委会', '社区', '嘎查', '村'].map((s) => [s, 'community'] as [string, ElementLabel]),
  ...['街道办事处', '街道', '镇', '乡'].map((s) => [s, 'town'] as [string, ElementLabel]),
  ...['大道', '大街', '公路', '胡同', '路', '街', '巷', '弄', '线'].map((s) => [s, 'road'] as [string, ElementLabel]),
  ...['小镇', '小区', '花园', '新村', '家园', '公寓', '山庄', '大厦', '广场', '中心', '公司', '学校', '医院', '大学', '学院', '中学', '小学', '幼儿园', '酒店', '宾馆', '市场', '超市', '商场', '银行', '大楼', '委员会', '政府', '派出所', '公园', '车站', '名邸', '华府', '雅居', '雅苑', '佳园', '新城', '苑', '园', '府', '城', '庭', '邸', '院', '馆', '厂', '店', '站', '所', '局', '部', '处'].map((s) => [s, 'poi'] as [string, ElementLabel]),
] as [string, ElementLabel][]).sort((a, b) => b[0].length - a[0].length);
/** Characters needed before a suffix (a bare 镇 or 园 is not a name). */
const MIN_NAME: Partial<Record<ElementLabel, number>> = { town: 2, community: 1, road: 1, devzone: 1, poi: 1 };
/** After a division short form, these mean the short form is part of a longer name (中山路, 长春街, 杭州湾). */
const SHORT_FORM_BLOCK = /^(?:[东西南北中]?(?:路|街|大道|巷|弄)|湾|桥|花园|小区|大厦|广场|公司|新村|商|饭|酒|宾|银|医|学|中学|小学|大学|村|号|[0-9]|苑|园|庭|府|邸|院|家园|公寓|中心|山庄|名邸)/;
const FULL_FORM_BLOCK = /^(?:[东西南北中]?(?:路|街|大道|巷))/;
/** Area words ending in 区 that are not counties (小区, 校区, 景区, 工业区 …). */
const NOT_COUNTY_AREA = /(?:[小社园新景校厂街营矿林商业发税假住活能片东西南北中一二三四五六七八九十A-Z]区|[老主新旧]城区)$/;
const NOT_COUNTY_AREA_2 = /(?:[小社园景校厂街营矿林商业片]区)$/;
const SUBPOI_WORD = /^(?:[东西南北中][区门苑]|[一二三四五六七八九十]区|[A-Z]区)$/;

export function parseAddress(text: string, gaz: Gazetteer): ParseResult {
  // Repeated prefixes (浙江省浙江省) stay: each copy is an element of the text as written.
  const norm = normalizeAddress(text, { keepRepeats: true });
  const N = norm.text;
  const spans = scan(N, gaz);
  const elements: AddressElement[] = [];
  for (const s of spans) {
    const [a, b] = toOriginalSpan(norm, s.start, s.end);
    if (b > a) elements.push({ label: s.label, start: a, end: b, text: text.slice(a, b) });
  }
  return { text, elements };
}

function scan(N: string, gaz: Gazetteer): Span[] {
  const out: Span[] = [];
  let deepest: GazEntry | undefined;
  let sawNonAdmin = false;
  let p = 0;
  const n = N.length;
  const push = (s: Span) => { out.push(s); p = s.end; if (s.entry) deepest = s.entry; else sawNonAdmin = true; };
  while (p < n) {
    const rest = N.slice(p);
    const prev = out[out.length - 1];
    if (rest[0] === '-' || (CONNECTOR.test(rest) && prev?.label === 'road')) { p++; continue; }
    const cmp = matchCompoundNumber(rest, prev);
    if (cmp) { const at = p; for (const [label, a, b] of cmp) push({ label, start: at + a, end: at + b }); continue; }
    const num = matchNumbered(rest, prev);
    if (num) { push({ label: num.label, start: p, end: p + num.len }); continue; }
    const as = ASSIST.exec(rest);
    if (as && (prev !== undefined)) { push({ label: 'assist', start: p, end: p + as[0].length }); continue; }
    const ix = INTERSECTION.exec(rest);
    if (ix && prev) { push({ label: 'intersection', start: p, end: p + ix[0].length }); continue; }
    const g = matchGazetteer(N, p, gaz, deepest, sawNonAdmin);
    if (g) { push(g); continue; }
    const seg = matchNamed(N, p, gaz, out, deepest, sawNonAdmin);
    for (const s of seg) push(s);
    if (!seg.length) p++;
  }
  return fixUp(out, N);
}

/**
 * Building-unit-room written as one compound number (reference §6.7): 12-3-1001 → houseno 12, cellno 3,
 * roomno 1001; after a building, 12幢3-1001 → cellno 3, roomno 1001. Only the unambiguous shapes: three
 * parts (or two after a building) with a room of 3–4 digits, not followed by 号 (12-3号 is a door number).
 */
const COMPOUND3 = /^([0-9]{1,3})-([0-9]{1,2})-([0-9]{3,4}室?)(?![0-9号弄-])/;
const COMPOUND2 = /^([0-9]{1,2})-([0-9]{3,4}室?)(?![0-9号弄幢单层楼-])/;
function matchCompoundNumber(rest: string, prev: Span | undefined): [ElementLabel, number, number][] | null {
  const m3 = COMPOUND3.exec(rest);
  if (m3) {
    const a = m3[1].length, b = a + 1 + m3[2].length;
    return [['houseno', 0, a], ['cellno', a + 1, b], ['roomno', b + 1, m3[0].length]];
  }
  if (prev?.label === 'houseno') {
    const m2 = COMPOUND2.exec(rest);
    if (m2) return [['cellno', 0, m2[1].length], ['roomno', m2[1].length + 1, m2[0].length]];
  }
  return null;
}

function matchNumbered(rest: string, prev: Span | undefined): { label: ElementLabel; len: number } | null {
  for (const [re, label] of NUMBERED) {
    const m = re.exec(rest);
    if (!m) continue;
    // 100弄5号: the lane belongs to the road and the number after it is the door (reference §6.8).
    if (label === 'roadno' && m[0].endsWith('弄') && /^[0-9]+号/.test(rest.slice(m[0].length))) return { label: 'road', len: m[0].length };
    return { label, len: m[0].length };
  }
  // A bare number after a building, unit or floor is the room (3幢2单元502).
  const bare = /^[0-9]+(?:-[0-9]+)?(?![0-9A-Z])/.exec(rest);
  if (bare && prev && (prev.label === 'cellno' || prev.label === 'floorno' || prev.label === 'houseno') && bare[0].length >= 2) {
    return { label: 'roomno', len: bare[0].length };
  }
  return null;
}

function levelOk(e: GazEntry, deepest: GazEntry | undefined, sawNonAdmin = false): boolean {
  if (!deepest || (sawNonAdmin && !e.short)) return true;
  return LEVEL_RANK[e.level] > LEVEL_RANK[deepest.level] || (e.level === 'city' && deepest.level === 'prov');
}

function within(e: GazEntry, ctx: GazEntry | undefined): boolean {
  if (!ctx) return false;
  // Compare at city level: district and town codes change more often than city codes (江干区 → 上城区 …).
  const k = e.level === 'community' ? 6 : Math.min(ctx.code.length, 4);
  return e.code.slice(0, k) === ctx.code.slice(0, k);
}

function matchGazetteer(N: string, p: number, gaz: Gazetteer, deepest: GazEntry | undefined, sawNonAdmin: boolean): Span | null {
  const maxL = Math.min(gaz.maxKeyLength, N.length - p);
  for (let L = maxL; L >= 2; L--) {
    const key = N.slice(p, p + L);
    const cands = gaz.lookup(key);
    if (!cands.length) continue;
    const after = N.slice(p + L);
    let best: GazEntry | undefined;
    let bestScore = -1;
    for (const e of cands) {
      if (e.short && (sawNonAdmin || SHORT_FORM_BLOCK.test(after))) continue;
      // After a road or compound only a written-out province, city or county starts a new address part.
      if (sawNonAdmin && (e.level === 'town' || e.level === 'community')) continue;
      // 东区, 城区, 郊区 are real county names but, after a compound or road, the part of a compound (花园东区).
      if (sawNonAdmin && e.name.length <= 2) continue;
      if (!e.short && FULL_FORM_BLOCK.test(after)) continue;
      // 上海上海市: the municipality written again is the city.
      const again = e.level === 'prov' && MUNICIPALITIES.has(e.code) && deepest?.level === 'prov' && deepest.code === e.code;
      // 杭州市西湖区浙江省杭州市西湖区…: the hierarchy written again from the top (a repeated prefix, reference
      // §6.3) restarts at a province or city that is followed by one of its own children.
      if (!again && !levelOk(e, deepest, sawNonAdmin) && !(!sawNonAdmin && (e.level === 'prov' || e.level === 'city') && childFollows(N, p + L, e, gaz))) continue;
      const inCtx = within(e, deepest);
      // A town short form (下沙 for 下沙街道) is only trusted inside a known county or city.
      if (e.short && e.level === 'town' && !inCtx) continue;
      // Village names (五新村) are short and repeat across the country: only inside their county.
      if (e.level === 'community' && !(deepest && deepest.code.length >= 6 && e.code.startsWith(deepest.code.slice(0, 6)))) continue;
      const score = (inCtx ? 4 : 0) + (e.short ? 0 : 2) + (3 - LEVEL_RANK[e.level]) * 0.1;
      if (score > bestScore) { bestScore = score; best = e; }
    }
    if (!best) continue;
    // 绍兴县: a prefecture's short name + 县 is the county of the same name (dissolved ones are not in the list).
    if (best.short && best.level === 'city' && after[0] === '县' && !sawNonAdmin) return { label: 'district', start: p, end: p + L + 1, entry: { ...best, level: 'district' } };
    // A short form followed by its generic suffix is an older or variant full name (虞山镇 for 虞山街道, 余杭县).
    if (best.short) {
      const gen = best.level === 'town' ? /^(?:街道办事处|街道|镇|乡)/ : best.level === 'district' ? /^(?:区|县|市)/ : best.level === 'city' ? /^(?:市|地区)/ : /^(?:省|市)/;
      const m = gen.exec(after);
      if (m) L += m[0].length;
    }
    let label: ElementLabel = best.level === 'community' ? 'community' : best.level;
    if (best.level === 'prov' && MUNICIPALITIES.has(best.code) && deepest?.level === 'prov' && deepest.code === best.code) {
      return { label: 'city', start: p, end: p + L, entry: { ...best, level: 'city' } };
    }
    // 上海市徐汇区: a municipality written once is labelled city (CCKS convention); written twice, prov then city.
    if (best.level === 'prov' && MUNICIPALITIES.has(best.code)) {
      const again = gaz.lookup(after.slice(0, L + 1)).concat(gaz.lookup(after.slice(0, L)), gaz.lookup(after.slice(0, L - 1)));
      label = again.some((x) => x.code === best!.code) ? 'prov' : 'city';
    }
    if (label === 'town' && /(?:开发区|园区|工业园|高新区|工业区|产业园|科技园|度假区|管委会|管理委员会)$/.test(best.name) && !best.short) label = 'devzone';
    return { label, start: p, end: p + L, entry: label === 'city' && best.level === 'prov' ? { ...best, level: 'city' } : best };
  }
  return null;
}

/** True when a division inside `e` (by code) is written at q, directly or after e's own generic suffix. */
function childFollows(N: string, q: number, e: GazEntry, gaz: Gazetteer): boolean {
  const suf = /^(?:省|市)/.exec(N.slice(q));
  if (suf) q += suf[0].length;
  for (let L = Math.min(gaz.maxKeyLength, N.length - q); L >= 2; L--) {
    if (gaz.lookup(N.slice(q, q + L)).some((c) => c.code.length > e.code.length && c.code.startsWith(e.code))) return true;
  }
  return false;
}

/** Where the named run starting at p must stop at the latest: the next numbered element or assist/intersection word. */
function runLimit(N: string, p: number): number {
  for (let j = p + 1; j < N.length; j++) {
    const r = N.slice(j);
    if (/^(?:[0-9-]|负[0-9]|地下[0-9])/.test(r) || (/^[A-Z](?:座|幢|楼|单元|区|期|[0-9])/.test(r) && !/[A-Z]/.test(N[j - 1]))) return j;
    if (INTERSECTION.test(r)) return j;
    if (CONNECTOR.test(r) && /^.[^0-9]{1,8}?(?:路|街|大道)(?:交叉口|路口|交汇处|十字路口)/.test(r)) return j;
    const a = ASSIST.exec(r);
    if (a && (j + a[0].length === N.length || /^[0-9的]/.test(N.slice(j + a[0].length)))) return j;
  }
  return N.length;
}

function suffixAt(N: string, p: number, j: number): [string, ElementLabel] | null {
  for (const [suf, label] of SUFFIXES) {
    if (j - p < suf.length + (MIN_NAME[label] ?? 1)) continue;
    if (N.endsWith(suf, j)) {
      // 街 in 街道 is the town suffix, not a road.
      if (label === 'road' && suf === '街' && N[j] === '道') continue;
      return [suf, label];
    }
  }
  return null;
}

function matchNamed(N: string, p: number, gaz: Gazetteer, out: Span[], deepest: GazEntry | undefined, sawNonAdmin: boolean): Span[] {
  const limit = runLimit(N, p);
  const prev0 = out[out.length - 1];
  const before = out[out.length - 1];
  // 区/县 by suffix: a county no longer in the current list (江干区, 绍兴县) right after its city.
  if (before && (before.label === 'city' || before.label === 'prov') && !sawNonAdmin) {
    // 鄞县, 沛县: a one-character name only with 县 (a one-character X区 is usually 东区/新区 …).
    const m = /^(?:[\u4e00-\u9fff]{2,3}?(?:区|县)|[\u4e00-\u9fff]县)/.exec(N.slice(p, limit));
    // 江东区, 河西区: a direction ends many county names; only a longer 花园东区 is a part of a compound.
    if (m && !/(?:开发区|园区|新区|小区|社区)$/.test(m[0]) && !(m[0].length === 3 ? NOT_COUNTY_AREA_2 : /[东西南北中一二三四五六七八九]区$/).test(m[0])) return [{ label: 'district', start: p, end: p + m[0].length }];
  }
  // The same at the very start of the text (江干区文三路…): a two-character name + 区/县, not a generic area word.
  if (!before && p === 0) {
    const m = /^[\u4e00-\u9fff]{2}(?:区|县)/.exec(N.slice(p, limit));
    if (m && limit > m[0].length + 1 && !NOT_COUNTY_AREA.test(m[0])) return [{ label: 'district', start: p, end: p + m[0].length }];
  }
  for (let j = p + 1; j <= limit; j++) {
    // A division name starting inside the run ends it (交叉口 … 嘉兴市 …) unless it is a short form.
    if (j < limit && j > p + 1) {
      const g = matchGazetteer(N, j, gaz, deepest, true);
      if (g && !g.entry?.short && (g.label === 'prov' || g.label === 'city' || g.label === 'district')) return [...labelRun(N, p, j, out), ...[]];
    }
    const hit = suffixAt(N, p, j);
    if (!hit) continue;
    let [, label] = hit;
    let end = j;
    // 新巷村, 路北社区: the first suffix is part of a name that ends in a longer or different suffix right after it.
    for (let k = Math.min(limit, j + 3); k > j; k--) {
      const h2 = suffixAt(N, p, k);
      if (h2 && h2[0].length >= k - j && h2[1] !== 'poi') { label = h2[1]; j = k; end = k; break; }
    }
    if (label === 'poi') {
      // A road, village or town suffix later in the same run wins over a compound word inside it
      // (花园路, 宋埠公园南路 → split below).
      for (let k = j + 1; k <= limit; k++) {
        const h2 = suffixAt(N, p, k);
        if (h2 && h2[1] !== 'poi') { label = h2[1]; j = k; end = k; break; }
      }
    }
    // Extend over a repeated or longer suffix of the same kind (三村村, 工业园区, 花园 after 苑).
    for (let k = Math.min(limit, j + 4); k > j; k--) {
      const h2 = suffixAt(N, p, k);
      // …but not over a part of the compound (超市城西店: 城 and 店 are suffixes, 城西店 is a branch).
      if (h2 && (h2[1] === label || (label === 'poi' && h2[1] === 'poi')) && !(label === 'poi' && SUBPOI_PART.test(N.slice(j, limit)))) { end = k; break; }
    }
    if (label === 'poi') {
      // No road/village/town suffix follows in this run (checked above), so the compound name runs on to the
      // next numbered element (翠苑花园, 华庭湾), unless a division name starts inside it.
      let k = end;
      for (; k < limit; k++) {
        const g = matchGazetteer(N, k, gaz, deepest, true);
        if (g && !g.entry?.short && (g.label === 'prov' || g.label === 'city' || g.label === 'district')) break;
      }
      // …unless what follows the compound word names a part of it (人民医院门诊楼, 超市城西店).
      if (k > end && SUBPOI_PART.test(N.slice(end, k)) && !(prev0 && (prev0.label === 'poi') && prev0.end === p)) {
        return [{ label: 'poi', start: p, end }, { label: 'subpoi', start: end, end: k }];
      }
      end = k;
    }
    // 区/县 by suffix: a county no longer in the current list (江干区, 绍兴县) right after its city.
    if (label === 'poi' || label === 'road') {
      const prev = out[out.length - 1];
      if (prev && (prev.label === 'city' || prev.label === 'prov') && !sawNonAdmin) {
        const m = /^[\u4e00-\u9fff]{2,3}?(?:区|县|市)/.exec(N.slice(p, limit));
        if (m && !/(?:开发区|园区|新区|[东西南北中一二三四五六七八九]区)$/.test(m[0])) return [{ label: 'district', start: p, end: p + m[0].length }];
      }
    }
    if (label === 'poi') {
      const prev = out[out.length - 1];
      if (prev && (prev.label === 'poi' || prev.label === 'subpoi') && prev.end === p && SUBPOI_WORD.test(N.slice(p, end))) label = 'subpoi';
    }
    // Changshu rural addresses name the group after its natural village: 新巷村邹家巷三组4号.
    const grp = /^[0-9]+(?:组|队)/.exec(N.slice(end));
    if (grp && (label === 'road' || label === 'poi') && before?.label === 'community') return [{ label: 'village_group', start: p, end: end + grp[0].length }];
    // 下城区长庆街道 with no county matched yet: a county name + 区/县/市 heads the town name.
    if (label === 'town' && !sawNonAdmin && !out.some((x) => x.label === 'district')) {
      const m = /^([\u4e00-\u9fff]{2}[区县市])[\u4e00-\u9fff]{2,}$/.exec(N.slice(p, end));
      if (m && !NOT_COUNTY_AREA.test(m[1]) && !/[城新]市$/.test(m[1])) return [{ label: 'district', start: p, end: p + 3 }, { label: 'town', start: p + 3, end }];
    }
    if (label === 'poi') return splitSubpoi({ label, start: p, end }, N);
    return splitRoad({ label, start: p, end }, N);
  }
  return labelRun(N, p, limit, out);
}

/** A run without a type suffix, labelled from what follows it. */
function labelRun(N: string, p: number, end: number, out: Span[]): Span[] {
  if (end <= p) return [];
  const next = N.slice(end);
  const prev = out[out.length - 1];
  // 区/县/镇 by suffix right after a division (江干区 not in today's list).
  if (prev && (prev.label === 'city' || prev.label === 'prov')) {
    const m = /^[\u4e00-\u9fff]{2,3}(?:区|县)/.exec(N.slice(p, end));
    if (m && !/(?:开发区|园区|新区)$/.test(m[0])) return [{ label: 'district', start: p, end: p + m[0].length }];
  }
  // A name without a road suffix right after a 镇/乡, before a number, is a village (CCKS community; the
  // number under it is a house number). In a 街道 (urban) such a name is more often a road written without 路.
  if (/^[0-9]+(?:-[0-9]+)?号/.test(next) && prev?.label === 'town' && prev.end === p && /[镇乡]$/.test(N.slice(prev.start, prev.end))) return [{ label: 'community', start: p, end }];
  if (/^[0-9]+(?:-[0-9]+)?(?:号|弄)/.test(next)) return [{ label: 'road', start: p, end }];
  // Changshu rural addresses name the group after its natural village: 吕舍村庞家湾二组17号.
  if (/^[0-9]+(?:组|队)/.test(next) && prev?.label === 'community') {
    const g = /^[0-9]+(?:组|队)/.exec(next)!;
    return [{ label: 'village_group', start: p, end: end + g[0].length }];
  }
  if (prev && (prev.label === 'poi' || prev.label === 'subpoi') && prev.end === p && SUBPOI_WORD.test(N.slice(p, end))) return [{ label: 'subpoi', start: p, end }];
  if (end - p === 1 && !/^[0-9A-Z]/.test(next) && /^[的之内里上下]$/.test(N[p])) return [];
  return [{ label: 'poi', start: p, end }];
}

/** A named part of a compound or an institution (GA/T 2000.32 小区 → 建筑物 / CCKS subpoi): 门诊部, 综合楼, 城西店. */
const SUBPOI_PART = /^[\u4e00-\u9fffA-Z0-9]{1,5}(?:[门住营售][诊院业楼]部|楼|分店|店)$/;

/** A part of a compound written after its name: 东区, 三区, B区 (sub-areas), 北门 (a gate) — CCKS subpoi. */
const SUBPOI_TAIL = /(?:[东西南北中一二三四五六七八九十A-Z][区]|[东西南北][门])$/;

/** 阳光花园东区 → poi 阳光花园 + subpoi 东区. */
function splitSubpoi(s: Span, N: string): Span[] {
  const t = N.slice(s.start, s.end);
  const m = SUBPOI_TAIL.exec(t);
  if (!m || t.length - m[0].length < 2) return [s];
  const cut = s.end - m[0].length;
  return [{ label: 'poi', start: s.start, end: cut }, { label: 'subpoi', start: cut, end: s.end }];
}

/** 宋埠公园南路 → poi 宋埠公园 + road 南路: a road whose name holds a compound word followed by a short road name. */
function splitRoad(s: Span, N: string): Span[] {
  if (s.label !== 'road') return [s];
  const t = N.slice(s.start, s.end);
  const m = /^(.{2,}?(?:公园|广场|小区|花园|大厦|中心|公司|市场|新村))([东西南北中]?(?:路|街|大道))$/.exec(t);
  if (m && m[2].length >= 2) return [{ label: 'poi', start: s.start, end: s.start + m[1].length }, { label: 'road', start: s.start + m[1].length, end: s.end }];
  return [s];
}

/** A development-zone generic with no name of its own (钱清镇工业区): the zone is named after the town before it. */
const BARE_DEVZONE = /^(?:经济技术开发区|经济开发区|高新技术产业开发区|开发区|工业园区|工业集中区|工业园|工业区|产业园区|产业园|科技园|物流园区|物流园|创业园)$/;

function fixUp(spans: Span[], N: string): Span[] {
  for (let i = 0; i + 1 < spans.length; i++) {
    const t = spans[i], z = spans[i + 1];
    if (t.label === 'town' && z.start === t.end && (z.label === 'devzone' || z.label === 'poi') && BARE_DEVZONE.test(N.slice(z.start, z.end))) {
      spans.splice(i, 2, { label: 'devzone', start: t.start, end: z.end, entry: t.entry });
    }
  }
  // A roadno with no road before it (义乌 00号 …) stays a roadno; a bare 号 number after a compound is the building (CCKS houseno).
  for (let i = 1; i < spans.length; i++) {
    const s = spans[i], prev = spans[i - 1];
    if (s.label === 'roadno' && (prev.label === 'poi' || prev.label === 'subpoi') && /号$/.test(N.slice(s.start, s.end)) && !spans.slice(0, i).some((x) => x.label === 'road')) s.label = 'houseno';
    // A number right under a village (张家村12号) numbers a house, not a door on a road (CCKS houseno). After a
    // village group (庞家湾二组17号) it stays roadno: the demo records store the group as the road of the door.
    if (s.label === 'roadno' && prev.label === 'community' && /号$/.test(N.slice(s.start, s.end))) s.label = 'houseno';
  }
  return spans;
}
