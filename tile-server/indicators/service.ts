// The indicator engine: the definitions (built-in + the planners', kept in memory in step with the store), the
// computation (gather facts → every definition at every level it names → one snapshot in the time series), its
// schedule, previews of a formula that save nothing, and reads of a snapshot or a series.
import { BUILTIN_IDS, BUILTIN_INDICATORS } from '../../layers/indicators/builtins.ts';
import { parseFormula } from '../../layers/indicators/formula.ts';
import {
  CODE_LENGTH, MAX_CUSTOM, roundTo, statusOf,
  type DefinitionInput, type IndicatorDef, type IndicatorLevel, type IndicatorStatus, type IndicatorValue,
} from '../../layers/indicators/model.ts';
import { computeAll, evaluateAt, layersNamed, longestWindow } from './measures.ts';
import type { Gatherer } from './gather.ts';
import type { Facts } from './measures.ts';
import { thinning, type IndicatorStore, type SeriesRow } from './store.ts';

export const DEFAULT_INTERVAL_MS = 15 * 60_000;
/** Decimals of preview values (the definition's own are not known yet). */
const PREVIEW_DECIMALS = 4;
/** Facts gathered for a preview serve the next previews for this long. */
const PREVIEW_REUSE_MS = 10_000;

export class IndicatorServiceError extends Error {
  constructor(readonly status: 404 | 409 | 422, readonly code: string, message: string) {
    super(message);
    this.name = 'IndicatorServiceError';
  }
}

export interface IndicatorServiceDeps {
  store: IndicatorStore;
  gatherer: Gatherer;
  clock: () => number;
  log: (msg: string) => void;
  /** 0 = no schedule (tests call compute()). Default 15 min. */
  intervalMs?: number;
  /** Compute once right after opening; default: when a schedule runs. */
  computeAtStart?: boolean;
}

/** Who reads: a grid manager sees the city, and the towns, villages and grids on the way down to their own grids. */
export interface Reader { role: string; grids?: readonly string[] }

export function readerMaySee(reader: Reader, level: IndicatorLevel, code: string): boolean {
  if (reader.role !== 'grid_manager') return true;
  if (level === 'city') return true;
  return (reader.grids ?? []).some((g) => g.length === CODE_LENGTH.grid && g.startsWith(code));
}

export class IndicatorService {
  private custom: IndicatorDef[] = [];
  private running: Promise<{ at: number; values: number }> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The facts of the last preview: a planner typing a formula previews it again and again within seconds. */
  private previewFacts: { at: number; windowMs: number; layers: string[]; facts: Promise<Facts> } | null = null;

  private constructor(private readonly d: IndicatorServiceDeps) {}

  static async open(d: IndicatorServiceDeps): Promise<IndicatorService> {
    const s = new IndicatorService(d);
    s.custom = (await d.store.definitions()).filter((x) => !BUILTIN_IDS.has(x.id));
    const every = d.intervalMs ?? DEFAULT_INTERVAL_MS;
    if (every > 0) {
      s.timer = setInterval(() => { s.compute().catch((e: Error) => d.log(`指标计算失败 indicator computation failed: ${e.message}`)); }, every);
      s.timer.unref();
    }
    if (d.computeAtStart ?? every > 0) {
      s.compute().then(
        (r) => d.log(`指标已计算 indicators computed: ${r.values} values`),
        (e: Error) => d.log(`指标计算失败 indicator computation failed: ${e.message}`),
      );
    }
    return s;
  }

  definitions(): IndicatorDef[] {
    return [...BUILTIN_INDICATORS, ...this.custom];
  }

  definition(id: string): IndicatorDef | undefined {
    return this.definitions().find((x) => x.id === id);
  }

  async create(input: DefinitionInput, by: string): Promise<IndicatorDef> {
    if (this.definition(input.id)) throw new IndicatorServiceError(409, 'indicator_exists', `已有 id 为 ${input.id} 的指标；请换一个 id，或用 PUT 修改它。An indicator ${input.id} exists; choose another id or PUT to change it.`);
    if (this.custom.length >= MAX_CUSTOM) throw new IndicatorServiceError(409, 'too_many_indicators', `自定义指标已达上限 ${MAX_CUSTOM} 个；请先删除不用的。At most ${MAX_CUSTOM} custom indicators: delete unused ones first.`);
    const now = this.d.clock();
    const def: IndicatorDef = { ...input, builtin: false, createdBy: by, createdAt: now };
    await this.d.store.putDefinition(def, now);
    this.custom = [...this.custom, def];
    return def;
  }

  async update(id: string, input: DefinitionInput): Promise<IndicatorDef> {
    const cur = this.writable(id);
    const def: IndicatorDef = { ...input, id, builtin: false, createdBy: cur.createdBy, createdAt: cur.createdAt };
    await this.d.store.putDefinition(def, this.d.clock());
    this.custom = this.custom.map((x) => (x.id === id ? def : x));
    return def;
  }

  async remove(id: string): Promise<void> {
    this.writable(id);
    await this.d.store.deleteDefinition(id);
    this.custom = this.custom.filter((x) => x.id !== id);
  }

  private writable(id: string): IndicatorDef {
    if (BUILTIN_IDS.has(id)) throw new IndicatorServiceError(409, 'builtin_indicator', `${id} 是内置指标，不能修改或删除；可新增一个自定义指标。${id} is built in and cannot be changed or deleted; add a custom one instead.`);
    const cur = this.custom.find((x) => x.id === id);
    if (!cur) throw new IndicatorServiceError(404, 'unknown_indicator', `没有指标 ${id}；见 GET /api/indicators/definitions。No indicator ${id}; see GET /api/indicators/definitions.`);
    return cur;
  }

  /** Computes every definition now and stores the snapshot; concurrent calls share one run. */
  compute(): Promise<{ at: number; values: number }> {
    if (this.closed) return Promise.reject(new Error('指标服务已关闭 indicator service closed'));
    this.running ??= this.run().finally(() => { this.running = null; });
    return this.running;
  }

  private async run(): Promise<{ at: number; values: number }> {
    const at = this.d.clock();
    const t0 = performance.now();
    const defs = this.definitions();
    const texts = defs.map((x) => x.formula);
    const facts = await this.d.gatherer.gather(at, longestWindow(texts), layersNamed(texts));
    const values = computeAll(defs, facts);
    const rows = new Map<string, SeriesRow & { codes: string[]; values: (number | null)[] }>();
    const byId = new Map(defs.map((x) => [x.id, x]));
    for (const v of values) {
      const k = `${v.indicator}\u0000${v.level}`;
      let r = rows.get(k);
      if (!r) {
        const def = byId.get(v.indicator)!;
        r = { at, indicator: v.indicator, level: v.level, better: def.better, green: def.thresholds.green, red: def.thresholds.red, codes: [], values: [] };
        rows.set(k, r);
      }
      r.codes.push(v.code);
      r.values.push(v.value);
    }
    await this.d.store.saveSnapshot(at, Math.round(performance.now() - t0), [...rows.values()]);
    const old = thinning(await this.d.store.snapshotTimes(at - 2 * 86_400_000), at);
    if (old.length) await this.d.store.deleteSnapshots(old);
    return { at, values: values.length };
  }

  /** A formula's values at one level now, nothing saved. Throws FormulaError for a bad formula. */
  async preview(formula: string, level: IndicatorLevel, reader: Reader): Promise<{ code: string; name: string; value: number | null }[]> {
    const f = parseFormula(formula);
    const now = this.d.clock(), windowMs = longestWindow([formula]), layers = layersNamed([formula]);
    const c = this.previewFacts;
    let facts: Promise<Facts>;
    if (c && now >= c.at && now - c.at < PREVIEW_REUSE_MS && c.windowMs >= windowMs && layers.every((l) => c.layers.includes(l))) facts = c.facts;
    else {
      // Read a little more than asked (30 days, the layers asked before), so the next keystrokes reuse it.
      const all = [...new Set([...(c?.layers ?? []), ...layers])];
      facts = this.d.gatherer.gather(now, Math.max(windowMs, 30 * 86_400_000), all);
      this.previewFacts = { at: now, windowMs: Math.max(windowMs, 30 * 86_400_000), layers: all, facts };
      facts.catch(() => { if (this.previewFacts?.facts === facts) this.previewFacts = null; });
    }
    return evaluateAt(f, level, await facts)
      .filter(({ area }) => readerMaySee(reader, level, area.code))
      .map(({ area, value }) => ({ code: area.code, name: area.name, value: roundTo(value, PREVIEW_DECIMALS) }));
  }

  /** The latest snapshot ≤ at: the values of `level` (of one indicator, or all), as the reader may see them. */
  async snapshot(level: IndicatorLevel, at: number, reader: Reader, indicator?: string): Promise<{ at: number; values: IndicatorValue[] } | null> {
    const snap = await this.d.store.latestSnapshot(at);
    if (snap === null) return null;
    const names = await this.names();
    const values: IndicatorValue[] = [];
    for (const r of await this.d.store.snapshotRows(snap, level, indicator)) {
      r.codes.forEach((code, i) => {
        if (!readerMaySee(reader, level, code)) return;
        const value = r.values[i];
        values.push({ indicator: r.indicator, level, code, name: names.get(code) ?? code, value, status: statusOf({ better: r.better, thresholds: { green: r.green, red: r.red } }, value) });
      });
    }
    return { at: snap, values };
  }

  /** One area's values over time (oldest first). */
  async series(indicator: string, level: IndicatorLevel, code: string, from: number, to: number, limit: number): Promise<{ at: number; value: number | null; status: IndicatorStatus }[]> {
    const out: { at: number; value: number | null; status: IndicatorStatus }[] = [];
    for (const r of await this.d.store.seriesRows(indicator, level, from, to, limit)) {
      const i = r.codes.indexOf(code);
      if (i < 0) continue;
      const value = r.values[i];
      out.push({ at: r.at, value, status: statusOf({ better: r.better, thresholds: { green: r.green, red: r.red } }, value) });
    }
    return out;
  }

  async areaKnown(level: IndicatorLevel, code: string): Promise<boolean> {
    return (await this.d.gatherer.areas()).areas.some((a) => a.level === level && a.code === code);
  }

  private async names(): Promise<Map<string, string>> {
    return new Map((await this.d.gatherer.areas()).areas.map((a) => [a.code, a.name]));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => {});
    await this.d.store.close();
  }
}
