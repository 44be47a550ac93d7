// The indicators' formula language: small and safe on purpose — arithmetic over named measures, no variables, no
// functions of the user's choosing, nothing evaluated as code — so a planner's formula cannot reach anything the
// measures do not expose. Grammar (recursive descent, positions are 0-based character offsets into the text):
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := '-' unary | primary
//   primary := number | measure | measure '(' [arg (',' arg)*] ')' | '(' expr ')'
//   arg     := name '=' (string | number)            strings in double quotes, no escapes
// Null (nothing to measure) propagates through every operation; x / 0 → null (a rate of nothing is no rate).
import { LAYERS } from '../catalog.ts';
import { governanceOf } from '../governance/grades.ts';
import { DEVICE_KINDS } from '../telemetry/model.ts';

export const MAX_FORMULA = 500;
const MAX_DEPTH = 20;
const MAX_CALLS = 16;
const MAX_SINCE_MS = 366 * 86_400_000;

/** A formula error at `position` (0-based offset); the message says what was expected. */
export class FormulaError extends Error {
  constructor(readonly code: string, message: string, readonly position: number) {
    super(message);
    this.name = 'FormulaError';
  }
}

type ArgSpec =
  | { type: 'since'; default: string }
  | { type: 'enum'; values: readonly string[]; default?: string }
  | { type: 'category' }
  | { type: 'layer' };

export interface MeasureSpec { title: string; help: string; args: Record<string, ArgSpec> }

/** Layers a formula may count: public and internal grades only — a count per grid of a sensitive layer is its data. */
export const COUNTABLE_LAYERS: readonly string[] = LAYERS.filter((l) => {
  const g = governanceOf(l.id).grade;
  return g === 'public' || g === 'internal';
}).map((l) => l.id);

export const MEASURES: Readonly<Record<string, MeasureSpec>> = {
  incidents: {
    title: '事件数', help: '时间窗内上报的事件（不含已合并的重复件）；status=all|open|closed；category=类别代码或大类前两位',
    args: { since: { type: 'since', default: '30d' }, status: { type: 'enum', values: ['all', 'open', 'closed'], default: 'all' }, category: { type: 'category' } },
  },
  closed: { title: '结案数', help: '时间窗内结案的事件', args: { since: { type: 'since', default: '30d' } } },
  closed_on_time: {
    title: '按期结案数', help: '时间窗内结案、且从上报到结案未超过各阶段时限之和（立案+派遣+接单+处置+核查）的事件',
    args: { since: { type: 'since', default: '30d' } },
  },
  dispatch_minutes: { title: '平均派遣用时（分钟）', help: '时间窗内首次派遣的事件，从上报到首次派遣的平均分钟数', args: { since: { type: 'since', default: '30d' } } },
  devices: { title: '设备数', help: '物联设备数；kind=设备类型', args: { kind: { type: 'enum', values: DEVICE_KINDS } } },
  devices_online: { title: '在线设备数', help: '正在上报（在线、告警或亚健康）的设备数；kind=设备类型', args: { kind: { type: 'enum', values: DEVICE_KINDS } } },
  alarms: {
    title: '告警数', help: '时间窗内产生的告警；kind=设备类型；rule=value（测值告警：阈值、速率、电子围栏，默认）|health（离线、亚健康）|all',
    args: { kind: { type: 'enum', values: DEVICE_KINDS }, since: { type: 'since', default: '24h' }, rule: { type: 'enum', values: ['value', 'health', 'all'], default: 'value' } },
  },
  features: { title: '要素数', help: '图层要素数（按网格、镇街代码归属）；layer=图层 id（公开、内部级）', args: { layer: { type: 'layer' } } },
  population: { title: '常住人口', help: '常住人口：全市与有公开数据的镇（街道），来自 changshu_towns_facts.json；其余为空', args: {} },
  area_km2: { title: '面积（平方公里）', help: '区域面积（椭球面积）', args: {} },
  grids: { title: '网格数', help: '区域内网格数', args: {} },
  grids_patrolled: { title: '已巡查网格数', help: '时间窗内有网格员签到点落在其中的网格数', args: { since: { type: 'since', default: '7d' } } },
};

/** A measure with every argument resolved (defaults filled, `since` in ms); `key` identifies equal calls. */
export interface MeasureCall { name: string; args: Record<string, string>; sinceMs?: number; key: string }

export type Node =
  | { type: 'num'; value: number }
  | { type: 'measure'; call: MeasureCall; pos: number }
  | { type: 'neg'; arg: Node }
  | { type: 'bin'; op: '+' | '-' | '*' | '/'; left: Node; right: Node };

export interface Formula { text: string; ast: Node; calls: MeasureCall[] }

interface Token { kind: 'num' | 'ident' | 'str' | 'punct' | 'end'; text: string; pos: number }

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    const rest = text.slice(i);
    const num = /^(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?/.exec(rest);
    if (num) { out.push({ kind: 'num', text: num[0], pos: i }); i += num[0].length; continue; }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (id) { out.push({ kind: 'ident', text: id[0], pos: i }); i += id[0].length; continue; }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new FormulaError('unterminated_string', `位置 ${i}：字符串缺少结尾的双引号。Position ${i}: the string has no closing double quote.`, i);
      out.push({ kind: 'str', text: text.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    if ('+-*/(),='.includes(c)) { out.push({ kind: 'punct', text: c, pos: i }); i++; continue; }
    const hint = '（）＂“”，'.includes(c) ? '请使用半角（英文）括号、引号与逗号。Use ASCII brackets, quotes and commas.' : '可用：数字、度量名、+ - * / ( ) , = 与双引号字符串。Allowed: numbers, measure names, + - * / ( ) , = and double-quoted strings.';
    throw new FormulaError('bad_character', `位置 ${i}：不认识的字符「${c}」；${hint}`, i);
  }
  out.push({ kind: 'end', text: '', pos: text.length });
  return out;
}

const durationMs = (s: string): number | null => {
  const m = /^(\d{1,4})([dhm])$/.exec(s);
  if (!m) return null;
  const n = Number(m[1]) * (m[2] === 'd' ? 86_400_000 : m[2] === 'h' ? 3_600_000 : 60_000);
  return n > 0 && n <= MAX_SINCE_MS ? n : null;
};

/** Parses a formula; throws FormulaError with the position of the first error. */
export function parseFormula(text: string): Formula {
  if (typeof text !== 'string' || text.trim() === '') throw new FormulaError('empty_formula', '公式为空；例如 incidents(since="30d") / population * 10000。The formula is empty.', 0);
  if (text.length > MAX_FORMULA) throw new FormulaError('formula_too_long', `公式超过 ${MAX_FORMULA} 个字符。The formula is longer than ${MAX_FORMULA} characters.`, MAX_FORMULA);
  const tokens = tokenize(text);
  let k = 0;
  const calls: MeasureCall[] = [];
  const peek = () => tokens[k];
  const expectedAt = (t: Token, what: string, en: string) => new FormulaError('syntax', `位置 ${t.pos}：应为${what}，却是${t.kind === 'end' ? '公式结尾' : `「${t.text}」`}。Position ${t.pos}: expected ${en}, found ${t.kind === 'end' ? 'the end' : `"${t.text}"`}.`, t.pos);

  const expr = (depth: number): Node => {
    if (depth > MAX_DEPTH) throw new FormulaError('too_deep', `位置 ${peek().pos}：括号嵌套过深（最多 ${MAX_DEPTH} 层）。Nesting deeper than ${MAX_DEPTH}.`, peek().pos);
    let left = term(depth);
    while (peek().kind === 'punct' && (peek().text === '+' || peek().text === '-')) {
      const op = tokens[k++].text as '+' | '-';
      left = { type: 'bin', op, left, right: term(depth) };
    }
    return left;
  };
  const term = (depth: number): Node => {
    let left = unary(depth);
    while (peek().kind === 'punct' && (peek().text === '*' || peek().text === '/')) {
      const op = tokens[k++].text as '*' | '/';
      left = { type: 'bin', op, left, right: unary(depth) };
    }
    return left;
  };
  const unary = (depth: number): Node => {
    if (peek().kind === 'punct' && peek().text === '-') { k++; return { type: 'neg', arg: unary(depth + 1) }; }
    return primary(depth);
  };
  const primary = (depth: number): Node => {
    const t = peek();
    if (t.kind === 'num') {
      k++;
      const value = Number(t.text);
      if (!Number.isFinite(value)) throw new FormulaError('bad_number', `位置 ${t.pos}：数值 ${t.text} 超出范围。Number out of range.`, t.pos);
      return { type: 'num', value };
    }
    if (t.kind === 'punct' && t.text === '(') {
      k++;
      const inner = expr(depth + 1);
      if (!(peek().kind === 'punct' && peek().text === ')')) throw expectedAt(peek(), '「)」', '")"');
      k++;
      return inner;
    }
    if (t.kind === 'ident') return measure(t);
    throw expectedAt(t, '数值、度量名或「(」', 'a number, a measure name or "("');
  };
  const measure = (t: Token): Node => {
    k++;
    // Own properties only: MEASURES['constructor'] would otherwise be Object's.
    const spec = Object.hasOwn(MEASURES, t.text) ? MEASURES[t.text] : undefined;
    if (!spec) {
      throw new FormulaError('unknown_measure', `位置 ${t.pos}：没有度量「${t.text}」；可用：${Object.keys(MEASURES).join(', ')}。Position ${t.pos}: unknown measure "${t.text}"; available: ${Object.keys(MEASURES).join(', ')}.`, t.pos);
    }
    const given = new Map<string, { value: string; pos: number }>();
    if (peek().kind === 'punct' && peek().text === '(') {
      k++;
      if (!(peek().kind === 'punct' && peek().text === ')')) {
        for (;;) {
          const name = peek();
          if (name.kind !== 'ident') throw expectedAt(name, '参数名（如 since）', 'an argument name (e.g. since)');
          k++;
          if (!Object.hasOwn(spec.args, name.text)) {
            const allowed = Object.keys(spec.args);
            throw new FormulaError('unknown_argument', `位置 ${name.pos}：${t.text} 没有参数「${name.text}」；${allowed.length ? `可用：${allowed.join(', ')}` : '它不带参数'}。Position ${name.pos}: ${t.text} has no argument "${name.text}"${allowed.length ? `; allowed: ${allowed.join(', ')}` : ''}.`, name.pos);
          }
          if (given.has(name.text)) throw new FormulaError('duplicate_argument', `位置 ${name.pos}：参数「${name.text}」重复。Position ${name.pos}: argument "${name.text}" given twice.`, name.pos);
          if (!(peek().kind === 'punct' && peek().text === '=')) throw expectedAt(peek(), '「=」', '"="');
          k++;
          const v = peek();
          if (v.kind !== 'str' && v.kind !== 'num') throw expectedAt(v, '双引号字符串或数值', 'a double-quoted string or a number');
          k++;
          given.set(name.text, { value: v.text, pos: v.pos });
          if (peek().kind === 'punct' && peek().text === ',') { k++; continue; }
          break;
        }
      }
      if (!(peek().kind === 'punct' && peek().text === ')')) throw expectedAt(peek(), '「,」或「)」', '"," or ")"');
      k++;
    }
    const args: Record<string, string> = {};
    let sinceMs: number | undefined;
    for (const [name, a] of Object.entries(spec.args)) {
      const g = given.get(name);
      const pos = g?.pos ?? t.pos;
      const value = g?.value ?? ('default' in a ? a.default : undefined);
      if (value === undefined) {
        if (a.type === 'layer') throw new FormulaError('missing_argument', `位置 ${t.pos}：${t.text} 须给出 layer，如 features(layer="cameras")。Position ${t.pos}: ${t.text} needs layer, e.g. features(layer="cameras").`, t.pos);
        continue;
      }
      const badArg = (zh: string, en: string) => new FormulaError('bad_argument', `位置 ${pos}：${name}=${JSON.stringify(value)} ${zh} Position ${pos}: ${name}=${JSON.stringify(value)} ${en}`, pos);
      if (a.type === 'since') {
        const ms = durationMs(value);
        if (ms === null) throw badArg('须为时长，如 "30d"、"24h"、"90m"（最长 366 天）。', 'must be a duration such as "30d", "24h", "90m" (at most 366 days).');
        sinceMs = ms;
      } else if (a.type === 'enum' && !a.values.includes(value)) {
        throw badArg(`须为以下之一：${a.values.join(', ')}。`, `must be one of ${a.values.join(', ')}.`);
      } else if (a.type === 'category' && !/^\d{2}(\d{2})?$/.test(value)) {
        throw badArg('须为事件类别代码（4 位，如 "1102"）或大类（前 2 位，如 "14"）。', 'must be an incident category code (4 digits) or its class (2 digits).');
      } else if (a.type === 'layer' && !COUNTABLE_LAYERS.includes(value)) {
        throw badArg(`不是可计数的图层；可用：${COUNTABLE_LAYERS.join(', ')}（敏感、核心级图层不能用于指标）。`, `is not a countable layer; allowed: ${COUNTABLE_LAYERS.join(', ')} (sensitive and core layers cannot be used).`);
      }
      args[name] = value;
    }
    if (calls.length >= MAX_CALLS) throw new FormulaError('too_many_measures', `位置 ${t.pos}：公式最多用 ${MAX_CALLS} 个度量。At most ${MAX_CALLS} measures per formula.`, t.pos);
    const key = `${t.text}(${Object.keys(args).sort().map((n) => `${n}=${args[n]}`).join(',')})`;
    const call: MeasureCall = { name: t.text, args, key, ...(sinceMs !== undefined ? { sinceMs } : {}) };
    calls.push(call);
    return { type: 'measure', call, pos: t.pos };
  };

  const ast = expr(0);
  if (peek().kind !== 'end') throw expectedAt(peek(), '运算符（+ - * /）或公式结尾', 'an operator (+ - * /) or the end');
  return { text, ast, calls };
}

/** Evaluates with `value(call)` giving each measure for one area; null propagates, division by zero → null. */
export function evaluate(node: Node, value: (call: MeasureCall) => number | null): number | null {
  switch (node.type) {
    case 'num': return node.value;
    case 'measure': return value(node.call);
    case 'neg': {
      const v = evaluate(node.arg, value);
      return v === null ? null : -v;
    }
    case 'bin': {
      const a = evaluate(node.left, value);
      const b = evaluate(node.right, value);
      if (a === null || b === null) return null;
      let r: number;
      switch (node.op) {
        case '+': r = a + b; break;
        case '-': r = a - b; break;
        case '*': r = a * b; break;
        case '/': if (b === 0) return null; r = a / b; break;
      }
      return Number.isFinite(r) ? r : null;
    }
  }
}
