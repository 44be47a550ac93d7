// Reads the facts the measures count (measures.ts) from the running services: the incident store (through the
// service), the telemetry engine's device states and alarms, the patrol check-ins, the layers (effective data,
// with edits) and the built area polygons. Sources that are unavailable give null facts: their measures are null
// (status 'none'), the rest is still computed.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { area as geodesicArea, booleanPointInPolygon } from '@turf/turf';
import { openFlatGeobuf, geometryBbox, type FgbFile } from '../../layers/formats/flatgeobuf.ts';
import { STAGE_LIMITS, stageLimitMs, type Stage } from '../../layers/incidents/state-machine.ts';
import type { IndicatorLevel } from '../../layers/indicators/model.ts';
import type { IncidentService } from '../incidents/service.ts';
import type { TelemetryService } from '../telemetry/service.ts';
import type { PatrolStore } from '../patrol.ts';
import type { Area, CheckInFact, Facts, IncidentFact } from './measures.ts';

/**
 * Resident population: the public figures in geodata/source (changshu_towns_facts.json, see its SOURCES.md: the city's latest
 * resident_population, and each town's `population` where a page states it — 7 of 17 towns). Villages and grids
 * have no population source (the addresses' linked residents are synthetic per address, not a census), so their
 * population is null. ONEMAP_TOWN_FACTS overrides the file.
 */
export const DEFAULT_FACTS_FILE = resolve(import.meta.dirname, '..', '..', 'geodata', 'source', 'changshu_towns_facts.json');

export async function loadPopulation(file = process.env.ONEMAP_TOWN_FACTS || DEFAULT_FACTS_FILE): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let doc: { city?: { code?: string; resident_population?: { value?: number; year?: number }[] }; units?: { code?: string; population?: number | null }[] };
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return out;
  }
  const rp = doc.city?.resident_population ?? [];
  const latest = [...rp].filter((r) => typeof r.value === 'number').sort((a, b) => (b.year ?? 0) - (a.year ?? 0))[0];
  if (doc.city?.code && latest?.value) out.set(String(doc.city.code), latest.value);
  for (const u of doc.units ?? []) if (u.code && typeof u.population === 'number' && u.population > 0) out.set(String(u.code), u.population);
  return out;
}

export interface GridShape { code: string; bbox: [number, number, number, number]; geometry: GeoJSON.Geometry }

/** City, towns, villages and grids from the built files, with their areas (km², geodesic); grids keep their shapes. */
export async function loadAreas(dataDir: string, population: Map<string, number>): Promise<{ areas: Area[]; grids: GridShape[] }> {
  const areas: Area[] = [];
  const grids: GridShape[] = [];
  const files: [string, IndicatorLevel][] = [['city', 'city'], ['towns', 'town'], ['villages', 'village'], ['grids', 'grid']];
  for (const [file, level] of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dataDir, `${file}.fgb`));
    } catch {
      continue;
    }
    const fgb = openFlatGeobuf(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const level_: IndicatorLevel = level;
    for (let i = 0; i < fgb.count; i++) {
      const f = fgb.feature(i);
      const p = f.properties ?? {};
      if (p.code === undefined || p.code === null) continue;
      const code = String(p.code);
      const km2 = f.geometry ? Math.round(geodesicArea({ type: 'Feature', properties: {}, geometry: f.geometry } as GeoJSON.Feature) / 1e4) / 100 : null;
      areas.push({ level: level_, code, name: typeof p.name === 'string' ? p.name : code, areaKm2: km2, population: level === 'city' || level === 'town' ? population.get(code) ?? null : null });
      if (level === 'grid' && f.geometry) grids.push({ code, bbox: geometryBbox(f.geometry) as [number, number, number, number], geometry: f.geometry });
    }
  }
  areas.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  return { areas, grids };
}

/** Point → grid code by bbox buckets (0.02°) then point-in-polygon. */
export class GridLocator {
  private readonly cells = new Map<string, GridShape[]>();
  private static readonly STEP = 0.02;
  constructor(grids: readonly GridShape[]) {
    const s = GridLocator.STEP;
    for (const g of grids) {
      for (let x = Math.floor(g.bbox[0] / s); x <= Math.floor(g.bbox[2] / s); x++) {
        for (let y = Math.floor(g.bbox[1] / s); y <= Math.floor(g.bbox[3] / s); y++) {
          const k = `${x}:${y}`;
          const list = this.cells.get(k);
          if (list) list.push(g); else this.cells.set(k, [g]);
        }
      }
    }
  }
  gridAt(lon: number, lat: number): string | null {
    const s = GridLocator.STEP;
    for (const g of this.cells.get(`${Math.floor(lon / s)}:${Math.floor(lat / s)}`) ?? []) {
      if (lon < g.bbox[0] || lon > g.bbox[2] || lat < g.bbox[1] || lat > g.bbox[3]) continue;
      if (booleanPointInPolygon([lon, lat], g.geometry as GeoJSON.Polygon | GeoJSON.MultiPolygon)) return g.code;
    }
    return null;
  }
}

const STAGES = Object.keys(STAGE_LIMITS) as Stage[];
/** On time = closed within the sum of its stage limits (立案 + 派遣 + 接单 + 处置 + 核查), layers/incidents/state-machine.ts. */
export const totalLimitMs = (category: string, severity: number) => STAGES.reduce((s, st) => s + stageLimitMs(st, category, severity), 0);

const MAX_ROWS = 500_000;

export interface GatherDeps {
  dataDir: string;
  incidents?: Promise<IncidentService>;
  telemetry?: Promise<TelemetryService>;
  patrols?: Promise<PatrolStore>;
  /** The effective data of a layer (built + edits). */
  layerFile?: (layer: string) => Promise<FgbFile>;
  /** Town facts file (population); default DEFAULT_FACTS_FILE or ONEMAP_TOWN_FACTS. */
  factsFile?: string;
  log?: (msg: string) => void;
}

export class Gatherer {
  private base: Promise<{ areas: Area[]; locator: GridLocator }> | null = null;
  /** First dispatch per incident id (a first dispatch never changes; re-read only while none was found and the version moved). */
  private dispatch = new Map<string, { version: number; at: number | null }>();

  constructor(private readonly d: GatherDeps) {}

  areas(): Promise<{ areas: Area[]; locator: GridLocator }> {
    this.base ??= loadPopulation(this.d.factsFile).then((pop) => loadAreas(this.d.dataDir, pop)).then(({ areas, grids }) => ({ areas, locator: new GridLocator(grids) }));
    this.base.catch(() => { this.base = null; });
    return this.base;
  }

  /** Facts for the measures at `now`, reading back `windowMs` (the longest `since` of the formulas) and the named layers. */
  async gather(now: number, windowMs: number, layers: readonly string[]): Promise<Facts> {
    const { areas, locator } = await this.areas();
    const from = now - windowMs;
    const [incidents, telemetry, checkins, features] = await Promise.all([
      this.incidents(now, from).catch((e: Error) => { this.d.log?.(`指标：事件数据不可用 indicators: incidents unavailable: ${e.message}`); return null; }),
      this.telemetry(from).catch(() => null),
      this.checkins(now, from, locator).catch((e: Error) => { this.d.log?.(`指标：巡查数据不可用 indicators: patrols unavailable: ${e.message}`); return null; }),
      this.features(layers),
    ]);
    return { now, areas, incidents, devices: telemetry?.devices ?? null, alarms: telemetry?.alarms ?? null, checkins, features };
  }

  private async incidents(now: number, from: number): Promise<IncidentFact[] | null> {
    if (!this.d.incidents) return null;
    const service = await this.d.incidents;
    // updatedAt ≥ from covers every incident created, closed or first dispatched since `from`.
    const items = (await service.list({ since: from, limit: MAX_ROWS })).items;
    const next = new Map<string, { version: number; at: number | null }>();
    const out: IncidentFact[] = [];
    for (const i of items) {
      let seen = this.dispatch.get(i.id);
      if (!seen || (seen.at === null && seen.version !== i.version)) {
        let at: number | null = null;
        if (i.status !== 'reported' && i.status !== 'rejected' && i.status !== 'merged') {
          const got = await service.get(i.id);
          at = got?.transitions.find((t) => t.action === 'dispatch' || (t.action === 'reassign' && t.from === 'registered'))?.at ?? null;
        }
        seen = { version: i.version, at };
      }
      next.set(i.id, seen);
      out.push({
        code: i.gridCode ?? i.villageCode ?? i.townCode, status: i.status, category: i.category, createdAt: i.createdAt,
        closedAt: i.closedAt, limitMs: totalLimitMs(i.category, i.severity), firstDispatchAt: seen.at !== null && seen.at <= now ? seen.at : null,
      });
    }
    this.dispatch = next;
    return out;
  }

  private async telemetry(from: number): Promise<{ devices: Facts['devices']; alarms: Facts['alarms'] } | null> {
    if (!this.d.telemetry) return null;
    const e = (await this.d.telemetry).engine;
    const devices = e.devices().map((d) => ({ code: d.gridCode ?? d.townCode, kind: d.kind, reporting: d.status === 'online' || d.status === 'alarm' || d.status === 'subhealth' }));
    const typeOf = new Map(e.rules().map((r) => [r.id, r.type]));
    const alarms = e.alarms({ since: from, limit: MAX_ROWS }).map((a) => {
      const d = e.device(a.deviceId);
      const type = typeOf.get(a.ruleId) ?? (/\.(silence|subhealth)$/.test(a.ruleId) ? 'silence' : 'threshold');
      return { code: d ? d.gridCode ?? d.townCode : null, kind: a.kind, startedAt: a.startedAt, health: type === 'silence' || type === 'subhealth' };
    });
    return { devices, alarms };
  }

  private async checkins(now: number, from: number, locator: GridLocator): Promise<CheckInFact[] | null> {
    if (!this.d.patrols) return null;
    const store = await this.d.patrols;
    return (await store.between(from, now + 1, MAX_ROWS)).map((c) => ({ gridCode: locator.gridAt(c.lon, c.lat), at: c.at }));
  }

  private async features(layers: readonly string[]): Promise<Map<string, (string | null)[]>> {
    const out = new Map<string, (string | null)[]>();
    if (!this.d.layerFile) return out;
    for (const id of layers) {
      try {
        const f = await this.d.layerFile(id);
        const own = id === 'towns' || id === 'villages' || id === 'grids' || id === 'city';
        const col = (name: string) => { try { return f.column(name); } catch { return null; } };
        const a = own ? col('code') : col('grid_code'), b = own ? null : col('town_code');
        const codes: (string | null)[] = [];
        for (let i = 0; i < f.count; i++) {
          const v = a?.[i] ?? b?.[i] ?? null;
          codes.push(v === null || v === undefined || v === '' ? null : String(v));
        }
        out.set(id, codes);
      } catch (e) {
        this.d.log?.(`指标：图层 ${id} 不可读 indicators: layer ${id} unreadable: ${(e as Error).message}`);
      }
    }
    return out;
  }
}
