// Chinese name pools for the generated city: street, compound and natural-village names in the
// Jiangnan style (枫林路, 锦绣苑, 朱家宅). Real road names come from the project's source file
// (/work/shared/data/changshu/changshu-roads.txt, mirrored below so the build needs no shared folder).
import type { Rng } from './rng.ts';

/** Real Changshu road names (changshu-roads.txt, entries without a doubt note or with a minor one). */
export const REAL_ROADS: readonly string[] = [
  '海虞北路', '海虞南路', '虞山北路', '枫林路', '青墩塘路', '虞东路', '富阳路', '淼虹路', '珠江路', '长江路',
  '香山北路', '黄河路', '东南大道', '新世纪大道', '西南公路', '通港路', '通江路', '外环北路', '南三环路', '昭文路',
  '泰山路', '武夷山路', '黄浦江路', '金都路', '湖山路', '环城南路', '报慈北路', '北门大街', '方塔东街', '寺路街',
  '江夏北路', '珠江东路', '商城中路', '久隆路', '兴业路', '华强路', '华星路', '国泰路', '富康路', '岳南路',
  '广园路', '恩潭路', '招商东路', '新港路', '新颜路', '池巷路', '泗泾路', '泰光路', '海宁路', '淼东路',
  '珍南路', '理文路', '益通路', '福特路', '红豆路', '羿家西路', '花园浜路', '荡墩路', '荷花路', '莫干路',
  '虹桥路', '谢寺路', '通联路', '金麟路', '银环路', '镇南路', '阜湖支路', '马泾路', '鱼泾路', '碧溪中路',
  '碧溪东路', '碧溪河西路', '东张中心大道', '兴华港区大道',
];

const STREET_A = '枫桂梅兰竹松柳荷桃杏樱槐榆杉柏菊琴书文华兴福安康宁和泰明德新春秋虹云星月锦秀青翠金银玉宝长永富盛丰瑞'.split('');
const STREET_B = '林园苑溪湾塘桥浜泾港山湖城庄里坊亭阳光华兴安平乐丰'.split('');
const STREET_SUFFIX = ['路', '路', '路', '路', '街', '巷', '弄'];

const COMPOUND_A = ['枫林', '虞景', '琴川', '湖畔', '锦绣', '翠苑', '阳光', '书院', '星港', '滨江', '尚湖', '昆承', '梅园', '兰亭',
  '香榭', '御景', '东方', '世纪', '绿地', '丽都', '碧水', '明珠', '海天', '和园', '福地', '金色', '新城', '紫荆', '怡景', '常福',
  '虞城', '方塔', '琴湖', '学府', '江南', '水韵', '繁华', '景秀', '春晖', '嘉和', '美林', '泰和', '鼎盛', '华庭', '清水', '映山'];
const COMPOUND_B = ['苑', '花园', '新村', '小区', '家园', '公寓', '雅居', '名邸', '华府', '佳园', '雅苑', '新城', '山庄', '湾'];

const SURNAMES = '朱王张李陈周吴徐沈钱顾陆金蒋俞邵宋唐汤庞浦殷归季邹翁缪瞿蔡'.split('');
const HAMLET = ['宅', '浜', '桥', '巷', '埭', '湾', '角', '塘', '泾', '港', '里', '圩'];
const NUMERALS = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];

/**
 * 0–999 in Chinese numerals (11 → 十一, 105 → 一百零五). Disambiguating suffixes must not be digits:
 * '蔡家港十组' + '11' + '18号' read as 蔡家港十组1118号, which no parser can split back.
 */
export function zhNumber(n: number): string {
  const d = '零一二三四五六七八九';
  if (!Number.isInteger(n) || n < 0 || n > 999) throw new Error(`zhNumber: ${n} is outside 0–999`);
  if (n < 10) return d[n];
  if (n < 20) return '十' + (n % 10 ? d[n % 10] : '');
  if (n < 100) return d[Math.floor(n / 10)] + '十' + (n % 10 ? d[n % 10] : '');
  const r = n % 100;
  return d[Math.floor(n / 100)] + '百' + (r === 0 ? '' : r < 10 ? '零' + d[r] : r < 20 ? '一' + zhNumber(r) : zhNumber(r));
}

/** Draws names that are unique across the whole city (each pool remembers what it gave out). */
export class NamePool {
  private used = new Set<string>(REAL_ROADS);
  constructor(private readonly rng: Rng) {}
  private unique(make: () => string, fallback: (base: string, k: number) => string): string {
    for (let i = 0; i < 40; i++) {
      const n = make();
      if (!this.used.has(n)) { this.used.add(n); return n; }
    }
    const base = make();
    for (let k = 2; ; k++) {
      const n = fallback(base, k);
      if (!this.used.has(n)) { this.used.add(n); return n; }
    }
  }
  /** Generated street name like 桂溪路, 春坊巷. */
  street(): string {
    const sfx = this.rng.pick(STREET_SUFFIX);
    return this.unique(() => this.rng.pick(STREET_A) + this.rng.pick(STREET_B) + sfx,
      (b, k) => b.slice(0, -1) + ['东', '西', '南', '北', '中'][k % 5] + b.slice(-1) + (k > 5 ? zhNumber(Math.floor(k / 5)) : ''));
  }
  /** Alley name like 春坊巷 (old-town blocks). */
  lane(): string {
    const sfx = this.rng.chance(0.6) ? '巷' : '弄';
    return this.unique(() => this.rng.pick(STREET_A) + this.rng.pick(STREET_B) + sfx,
      (b, k) => b.slice(0, -1) + ['东', '西', '南', '北', '中'][k % 5] + b.slice(-1) + (k > 5 ? zhNumber(Math.floor(k / 5)) : ''));
  }
  /** Compound name like 锦绣花园; repeats get 二期, 三期 ... */
  compound(): string {
    return this.unique(() => this.rng.pick(COMPOUND_A) + this.rng.pick(COMPOUND_B), (b, k) => `${b}${zhNumber(k)}期`);
  }
  /** Natural-village (自然村) name like 朱家宅. */
  hamlet(): string {
    return this.unique(() => this.rng.pick(SURNAMES) + '家' + this.rng.pick(HAMLET), (b, k) => b + zhNumber(k) + '组');
  }
  /** Reserves a name so generated ones never collide with it. */
  reserve(name: string): void { this.used.add(name); }
}

/** 虞山街道 → 虞山, 梅李镇 → 梅李, 常熟经济技术开发区 → 经开区 style short names used in facility names. */
export function townShort(name: string): string {
  if (name.includes('经济技术开发区')) return '经开区';
  if (name.includes('高新技术产业开发区')) return '高新区';
  if (name.includes('大学科技园')) return '科技园';
  return name.replace(/(街道|镇|乡)$/, '');
}

/** 花园浜社区居委会 → 花园浜社区, 毛桥村委会 → 毛桥村, 南湖农场生活区 stays. */
export function villageShort(name: string): string {
  return name.replace(/社区居委会$/, '社区').replace(/居委会$/, '社区').replace(/村民委员会$/, '村').replace(/村委会$/, '村');
}

export const NUM_CN = NUMERALS;
