// Address normaliser (reference §6): width folding, traditional → simplified (address characters only),
// noise removal, local misspellings, Chinese numerals → digits in numbered slots, unit synonyms, repeated
// admin prefixes. Every output character keeps the range of original characters it came from, so that
// parser spans can be reported in the ORIGINAL text.
import { chineseToDigits } from './numerals.ts';

export interface NormalizedAddress {
  text: string;
  /** Index in the normalised text → index of its first source character in the original; length text.length + 1 (last entry = original length). */
  toOriginal: Int32Array;
  /** Index in the normalised text → end (exclusive) of its source characters in the original. */
  toOriginalEnd: Int32Array;
}

// Traditional → simplified for characters common in addresses (place-name, road and building vocabulary).
// A full OpenCC table is ~100 kB; these cover the address words we see in practice (路/號/樓/區/縣/鎮/街…).
const T2S_PAIRS =
  '號号樓楼區区縣县鎮镇鄉乡廣广東东單单門门層层幢幢棟栋園园賓宾館馆廈厦場场國国際际號号莊庄灣湾橋桥' +
  '蘇苏熟熟門门雲云嶺岭內内陽阳陰阴華华鳳凤龍龙壽寿興兴環环運运長长塘塘農农貿贸業业學学醫医院院療疗' +
  '廠厂蘭兰濱滨澤泽灘滩滬沪寧宁漢汉灣湾臺台巖岩豐丰葉叶義义勝胜淩凌滄沧鄭郑濟济瀋沈遼辽黃黄開开發发' +
  '組组隊队區区郵邮電电話话會会夾夹處处們们號号鐵铁網网樂乐嶼屿緣缘綠绿紅红藍蓝線线縣县設设計计劃划' +
  '橫横倉仓莊庄衛卫戶户廟庙鄰邻廳厅鎖锁場场億亿萬万與与幾几鄉乡楊杨陳陈劉刘張张趙赵錢钱孫孙吳吴鄧邓';
const T2S = new Map<string, string>();
for (let i = 0; i + 1 < T2S_PAIRS.length; i += 2) if (T2S_PAIRS[i] !== T2S_PAIRS[i + 1]) T2S.set(T2S_PAIRS[i], T2S_PAIRS[i + 1]);

/** Punctuation and symbols that carry no address meaning; '-' and '#' are kept (12-3-1001, 3#). */
const NOISE = new Set([...' \t\r\n,.;:!?"\'`()[]{}<>《》「」『』〈〉“”‘’、。，；：！？（）【】…·•|\\/^*@$%&+=~_', '\u3000']);

/**
 * Local misspellings (our own table, from the names' homophones and common typing slips — not mined from
 * any labelled set). Only applied where the context makes the place clear: before 街道/镇/市, or when the
 * text already says 常熟, so that 秦川 in Shaanxi or 余山 elsewhere stay untouched.
 */
const MISSPELLINGS: [RegExp, string][] = [
  [/(?:常热|长熟|尝熟|常孰|常塾|长热)(?=市|$|[^\u4e00-\u9fff]|虞山|琴川|海虞)/g, '常熟'],
  [/(?:于山|余山|宇山|愚山|渔山|鱼山|榆山)(?=街道|镇)/g, '虞山'],
  [/(?:琴穿|勤川|芹川|秦川|琴传|琴州)(?=街道)/g, '琴川'],
];
const MISSPELLINGS_CHANGSHU: [RegExp, string][] = [
  [/(?:于山|余山|宇山|愚山|渔山|鱼山)(?=北路|南路|路|公园)/g, '虞山'],
  [/(?:琴穿|勤川|芹川|琴传)(?=路|桥|街)/g, '琴川'],
];

/** Slots after which a Chinese numeral is a number (reference §6.5). 路/街 are not slots: 五一路 stays. */
const CN_SLOT = /[〇零一幺二两三四五六七八九十百千]+(?=号|幢|栋|座|单元|层|楼|室|房|户|组|队|期|弄|门|排)/g;
/** A numeral glued to a preceding word (三村, 统一号) is part of a name unless the word is a slot or a level. */
const NAME_CHARS_BEFORE_NUMERAL = /[\u4e00-\u9fff]$/;
const OK_BEFORE_NUMERAL = /(?:号|幢|栋|单元|层|楼|室|弄|第|村|社区|小区|花园|苑|园|院|路|街|巷|道|镇|乡|里|区|湾|新村|家园|公寓|大厦|期|[0-9A-Za-z-])$/;

/** Words after which 二楼/三层 is a floor and 二栋 a building: compound, building and shop generics, and 负/地下 (basements). */
const FLOOR_BEFORE = /(?:[场厦心城店馆厅院所行司部站园苑庭府邸楼室]|负|地下)$/;

interface Buf { c: string[]; s: number[]; e: number[] }

/** Replaces every match of `re` in `b` by `fn(match)`; equal-length replacements keep per-character offsets. */
function rewrite(b: Buf, re: RegExp, fn: (m: RegExpExecArray, text: string) => string | null): Buf {
  const text = b.c.join('');
  const out: Buf = { c: [], s: [], e: [] };
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].length === 0) { re.lastIndex++; continue; }
    const rep = fn(m, text);
    if (rep === null) continue;
    for (let i = last; i < m.index; i++) { out.c.push(b.c[i]); out.s.push(b.s[i]); out.e.push(b.e[i]); }
    const a = m.index, z = m.index + m[0].length;
    if (rep.length === z - a) {
      for (let i = 0; i < rep.length; i++) { out.c.push(rep[i]); out.s.push(b.s[a + i]); out.e.push(b.e[a + i]); }
    } else {
      for (const ch of rep) { out.c.push(ch); out.s.push(b.s[a]); out.e.push(b.e[z - 1]); }
    }
    last = z;
  }
  for (let i = last; i < b.c.length; i++) { out.c.push(b.c[i]); out.s.push(b.s[i]); out.e.push(b.e[i]); }
  return out;
}

function foldChars(text: string): Buf {
  const b: Buf = { c: [], s: [], e: [] };
  for (let i = 0; i < text.length; i++) {
    let ch = text[i];
    const code = ch.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdfff) continue; // emoji and other astral symbols: noise in an address
    if (code === 0x200b || code === 0x200c || code === 0x200d || code === 0xfeff) continue;
    if (code >= 0xff01 && code <= 0xff5e) ch = String.fromCharCode(code - 0xfee0);
    if (ch === '—' || ch === '－' || ch === '–' || ch === '~' || ch === '～') ch = '-';
    if (ch === '＃') ch = '#';
    if (NOISE.has(ch)) continue;
    ch = T2S.get(ch) ?? ch;
    if (ch >= 'a' && ch <= 'z') ch = ch.toUpperCase();
    b.c.push(ch); b.s.push(i); b.e.push(i + 1);
  }
  return b;
}

export interface NormalizeOptions {
  /** Keep a repeated admin prefix (浙江省浙江省): the parser labels both copies, as written. Default false. */
  keepRepeats?: boolean;
}

export function normalizeAddress(text: string, opts: NormalizeOptions = {}): NormalizedAddress {
  let b = foldChars(text);
  // Phone numbers and postcodes are noise in an address line (reference §6.2). Masked data writes every digit as 0.
  b = rewrite(b, /(?<![0-9])(?:1[3-9][0-9]{9}|0[0-9]{2,3}-[0-9]{7,8})(?![0-9])/g, () => '');
  b = rewrite(b, /(?:电话|手机|联系电话|tel|TEL)[0-9-]*$/g, () => '');
  // 虞山/琴川 homophones are only fixed at the start of the text or when it is about 常熟/苏州 (秦川街道 exists elsewhere).
  const local = /常熟|常热|长熟|常孰|苏州/.test(b.c.join(''));
  for (const [re, rep] of MISSPELLINGS) b = rewrite(b, re, (m) => (rep === '常熟' || local || m.index === 0 ? rep : null));
  if (/常熟/.test(b.c.join(''))) for (const [re, rep] of MISSPELLINGS_CHANGSHU) b = rewrite(b, re, () => rep);
  b = rewrite(b, CN_SLOT, (m, t) => {
    const before = t.slice(Math.max(0, m.index - 4), m.index);
    const slot = t.slice(m.index + m[0].length, m.index + m[0].length + 1);
    // 期, 单元 and 组/队 are never part of a name (阳光山庄三期, 庞家宅四组); other slots need a non-name character before them.
    // 层/楼 after a compound or shop word (商场二楼, 大厦负一层) or at the end of the text is a floor too.
    const afterSlot = t.slice(m.index + m[0].length + 1, m.index + m[0].length + 2);
    const floor = (slot === '层' || slot === '楼') && (FLOOR_BEFORE.test(before) || afterSlot === '' || /^[0-9A-Z-]/.test(afterSlot));
    // 幢/栋/座 after a compound or building word (公司厂区二栋, 商城三座) number a building too.
    const building = (slot === '幢' || slot === '栋' || slot === '座') && FLOOR_BEFORE.test(before);
    if (!'期单组队'.includes(slot) && !floor && !building && NAME_CHARS_BEFORE_NUMERAL.test(before) && !OK_BEFORE_NUMERAL.test(before)) return null;
    // 一楼/二楼 directly after a word like 大 in 大二楼 stay; lone 十/百/千 (百层) are not numbers.
    if (/^[十百千]$/.test(m[0]) && m[0] !== '十') return null;
    return chineseToDigits(m[0]);
  });
  // A trailing room number written in Chinese without 室 (3幢2单元五〇二).
  b = rewrite(b, /(?<=单元|幢)[〇零一二三四五六七八九]{3,4}$/g, (m) => chineseToDigits(m[0]));
  // Unit synonyms (reference §6.6), only after a number or a letter.
  b = rewrite(b, /(?<=[0-9A-Z])(?:号楼|#楼|栋|#(?![0-9]))/g, () => '幢');
  b = rewrite(b, /(?<=幢[0-9]+)门(?![口面店市诊卫岗])/g, () => '单元');
  b = rewrite(b, /(?<=[0-9])(?:号房|房)(?![间屋产子东西])/g, () => '室');
  b = rewrite(b, /(?<=[0-9])F(?![0-9A-Z])/g, () => '层');
  // Repeated admin prefix (浙江省浙江省, 上海上海市): keep the first.
  if (!opts.keepRepeats) {
    b = rewrite(b, /([\u4e00-\u9fff]{2,6}(?:省|市|区|县))\1/g, (m) => m[1] + '\u0000'.repeat(m[1].length));
    b = rewrite(b, /\u0000+/g, () => '');
  }
  const n = b.c.length;
  const toOriginal = new Int32Array(n + 1);
  const toOriginalEnd = new Int32Array(n);
  for (let i = 0; i < n; i++) { toOriginal[i] = b.s[i]; toOriginalEnd[i] = b.e[i]; }
  toOriginal[n] = text.length;
  return { text: b.c.join(''), toOriginal, toOriginalEnd };
}

/** A span [start, end) of the normalised text as a span of the original text. */
export function toOriginalSpan(n: NormalizedAddress, start: number, end: number): [number, number] {
  if (end <= start) return [n.toOriginal[start], n.toOriginal[start]];
  return [n.toOriginal[start], n.toOriginalEnd[end - 1]];
}
