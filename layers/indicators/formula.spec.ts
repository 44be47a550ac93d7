import { describe, expect, it } from 'vitest';
import { evaluate, FormulaError, parseFormula, type MeasureCall } from './formula.ts';
import { parseDefinition, statusOf, DefinitionError } from './model.ts';
import { BUILTIN_INDICATORS } from './builtins.ts';

const errorOf = (text: string): FormulaError => {
  try {
    parseFormula(text);
  } catch (e) {
    if (e instanceof FormulaError) return e;
    throw e;
  }
  throw new Error(`"${text}" parsed`);
};

const run = (text: string, values: Record<string, number | null> = {}) =>
  evaluate(parseFormula(text).ast, (c: MeasureCall) => (c.key in values ? values[c.key] : 0));

describe('formula', () => {
  it('follows precedence, associativity, unary minus and brackets', () => {
    expect(run('1 + 2 * 3')).toBe(7);
    expect(run('(1 + 2) * 3')).toBe(9);
    expect(run('10 - 4 - 3')).toBe(3);
    expect(run('12 / 3 / 2')).toBe(2);
    expect(run('-2 * -3')).toBe(6);
    expect(run('- (1 + 1)')).toBe(-2);
    expect(run('1.5e2 + .5')).toBe(150.5);
  });

  it('resolves measures with defaults and named arguments into canonical keys', () => {
    const f = parseFormula('incidents(since="7d", status="open") / population * 10000');
    expect(f.calls.map((c) => c.key)).toEqual(['incidents(since=7d,status=open)', 'population()']);
    expect(f.calls[0].sinceMs).toBe(7 * 86_400_000);
    expect(parseFormula('closed').calls[0]).toMatchObject({ key: 'closed(since=30d)', sinceMs: 30 * 86_400_000 });
    expect(parseFormula('alarms(kind="water_level")').calls[0]).toMatchObject({ key: 'alarms(kind=water_level,rule=value,since=24h)', sinceMs: 86_400_000 });
    expect(run('incidents(since="7d") / grids', { 'incidents(since=7d,status=all)': 30, 'grids()': 4 })).toBe(7.5);
  });

  it('gives null for division by zero and propagates null', () => {
    expect(run('closed / grids', { 'closed(since=30d)': 5, 'grids()': 0 })).toBeNull();
    expect(run('population * 2 + 1', { 'population()': null })).toBeNull();
    expect(run('-population', { 'population()': null })).toBeNull();
    expect(run('0 / 5')).toBe(0);
  });

  it('reports errors with their position', () => {
    expect(errorOf('incidents(since="30d") / ')).toMatchObject({ code: 'syntax', position: 25 });
    expect(errorOf('1 + foo')).toMatchObject({ code: 'unknown_measure', position: 4 });
    expect(errorOf('incidents(days="3")')).toMatchObject({ code: 'unknown_argument', position: 10 });
    expect(errorOf('incidents(since="3w")')).toMatchObject({ code: 'bad_argument', position: 16 });
    expect(errorOf('incidents(since="400d")')).toMatchObject({ code: 'bad_argument' });
    expect(errorOf('incidents(status="pending")')).toMatchObject({ code: 'bad_argument', position: 17 });
    expect(errorOf('features')).toMatchObject({ code: 'missing_argument', position: 0 });
    expect(errorOf('features(layer="hazards")')).toMatchObject({ code: 'bad_argument' });
    expect(errorOf('features(layer="responders")')).toMatchObject({ code: 'bad_argument' });
    expect(errorOf('(1 + 2')).toMatchObject({ code: 'syntax', position: 6 });
    expect(errorOf('1 2')).toMatchObject({ code: 'syntax', position: 2 });
    expect(errorOf('incidents（since="30d"）')).toMatchObject({ code: 'bad_character', position: 9 });
    expect(errorOf('incidents(since="30d)')).toMatchObject({ code: 'unterminated_string', position: 16 });
    expect(errorOf('incidents(since="1d", since="2d")')).toMatchObject({ code: 'duplicate_argument', position: 22 });
    expect(errorOf('')).toMatchObject({ code: 'empty_formula' });
    expect(errorOf('1+'.repeat(300) + '1')).toMatchObject({ code: 'formula_too_long' });
    expect(errorOf('('.repeat(30) + '1' + ')'.repeat(30))).toMatchObject({ code: 'too_deep' });
    expect(errorOf(Array(17).fill('grids').join(' + '))).toMatchObject({ code: 'too_many_measures' });
    // Nothing outside the grammar is evaluated: no property access, no calls of arbitrary names.
    expect(errorOf('constructor(x=1)')).toMatchObject({ code: 'unknown_measure', position: 0 });
    expect(errorOf('toString')).toMatchObject({ code: 'unknown_measure', position: 0 });
    expect(errorOf('incidents(constructor="x")')).toMatchObject({ code: 'unknown_argument', position: 10 });
    expect(errorOf('grids.length')).toMatchObject({ code: 'bad_character' });
  });

  it('parses every built-in formula', () => {
    for (const d of BUILTIN_INDICATORS) expect(() => parseFormula(d.formula), d.id).not.toThrow();
  });
});

describe('definitions', () => {
  const ok = { id: 'cameras_per_km2', name: '视频密度', meaning: '每平方公里的视频监控数', formula: 'features(layer="cameras") / area_km2', unit: '个/km²', levels: ['grid', 'town'], better: 'higher', thresholds: { green: 5, red: 1 }, decimals: 2 };

  it('accepts a valid definition and orders its levels', () => {
    expect(parseDefinition(ok)).toEqual({ ...ok, levels: ['town', 'grid'] });
  });

  it('names the field that is wrong, with the formula position', () => {
    const fail = (over: Record<string, unknown>, fixed?: string) => {
      try { parseDefinition({ ...ok, ...over }, fixed); } catch (e) { if (e instanceof DefinitionError) return e; throw e; }
      throw new Error('accepted');
    };
    expect(fail({ id: 'Bad-Id' })).toMatchObject({ field: 'id' });
    expect(fail({ formula: 'features(layer="cameras") /' })).toMatchObject({ field: 'formula', position: 27 });
    expect(fail({ levels: ['town', 'town'] })).toMatchObject({ field: 'levels' });
    expect(fail({ levels: [] })).toMatchObject({ field: 'levels' });
    expect(fail({ better: 'up' })).toMatchObject({ field: 'better' });
    expect(fail({ thresholds: { green: 1, red: 5 } })).toMatchObject({ field: 'thresholds' });
    expect(fail({ decimals: 5 })).toMatchObject({ field: 'decimals' });
    expect(fail({ name: '' })).toMatchObject({ field: 'name' });
    expect(fail({ colour: 'red' })).toMatchObject({ code: 'unknown_field' });
    expect(fail({}, 'other_id')).toMatchObject({ code: 'id_mismatch' });
  });

  it('judges status by direction and thresholds', () => {
    const lower = { better: 'lower' as const, thresholds: { green: 5, red: 15 } };
    expect([0, 5, 5.01, 14.99, 15, 30].map((v) => statusOf(lower, v))).toEqual(['green', 'green', 'amber', 'amber', 'red', 'red']);
    const higher = { better: 'higher' as const, thresholds: { green: 90, red: 70 } };
    expect([100, 90, 89.9, 70.1, 70, 0].map((v) => statusOf(higher, v))).toEqual(['green', 'green', 'amber', 'amber', 'red', 'red']);
    expect(statusOf(higher, null)).toBe('none');
  });
});
