// Hazardous-chemical sites (危险化学品企业, issue 10): a sensitive layer owned by 应急管理局. Sites sit inside
// land-use polygons — most in industrial land, the traders (加油站, 经营部) in commercial land — and take their
// grid_code and town_code from the grid they lie in. Built from the finished boundary and land-use features only
// (WGS84 GeoJSON), so the layer can be regenerated from an existing build's files without rebuilding the rest.
import { pointInPolygonRings, type XY } from './geom.ts';
import { fictionalName, fictionalPhone } from './boundaries.ts';
import { INCIDENT_HISTORY_END } from './incidents.ts';
import type { Rng } from './rng.ts';

export const HAZARDS_AT_1 = 400;

export type HazardKind = '生产' | '储存' | '使用' | '经营';
const KINDS: HazardKind[] = ['生产', '储存', '使用', '经营'];
const KIND_WEIGHTS = [0.3, 0.2, 0.35, 0.15];

/**
 * Hazard classes after GB 6944-2012 (危险货物分类和品名编号), with a simplified major-hazard threshold in tonnes
 * after GB 18218-2018 (危险化学品重大危险源辨识, 表 2 的类别临界量): a site storing at least this much is 重大危险源.
 */
const CLASSES: Record<string, number> = {
  易燃液体: 1000, 易燃气体: 10, 压缩气体: 50, 有毒物质: 50, 腐蚀品: 200, 氧化性物质: 200, 易燃固体: 200,
};
const MAX_TONNES: Record<string, number> = {
  易燃液体: 3000, 易燃气体: 25, 压缩气体: 120, 有毒物质: 120, 腐蚀品: 600, 氧化性物质: 500, 易燃固体: 400,
};
const CLASS_BY_KIND: Record<HazardKind, string[]> = {
  生产: ['易燃液体', '有毒物质', '腐蚀品', '氧化性物质', '易燃固体'],
  储存: ['易燃液体', '压缩气体', '易燃气体', '腐蚀品'],
  使用: ['腐蚀品', '易燃液体', '压缩气体', '有毒物质'],
  经营: ['易燃液体', '压缩气体', '易燃气体'],
};
const WORDS = '华达恒信金桥联创海虹新奥宏远永盛中瑞东昌天润鑫源德辉长江虞泰常润富达科隆瑞丰锦程万通华峰兴业'.match(/../g)!;
const SUFFIX: Record<HazardKind, string[]> = {
  生产: ['化工有限公司', '新材料有限公司', '精细化工有限公司', '涂料有限公司'],
  储存: ['仓储有限公司', '石化储运有限公司', '气体储运有限公司'],
  使用: ['电镀有限公司', '印染有限公司', '金属制品有限公司', '电子材料有限公司', '纺织助剂有限公司'],
  经营: ['加油站', '危险化学品经营部', '燃气供应站', '化工贸易有限公司'],
};

type PolyFeature = GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon>;
interface Indexed { f: PolyFeature; box: [number, number, number, number]; polys: XY[][][] }

function index(f: GeoJSON.Feature): Indexed | null {
  const g = f.geometry;
  if (!g || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) return null;
  const polys = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates) as XY[][][];
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const p of polys) for (const [x, y] of p[0]) {
    if (x < box[0]) box[0] = x; if (y < box[1]) box[1] = y;
    if (x > box[2]) box[2] = x; if (y > box[3]) box[3] = y;
  }
  return { f: f as PolyFeature, box, polys };
}
const inside = (x: number, y: number, p: Indexed): boolean =>
  x >= p.box[0] && x <= p.box[2] && y >= p.box[1] && y <= p.box[3] && p.polys.some((rings) => pointInPolygonRings(x, y, rings));

export interface HazardInputs { grids: GeoJSON.Feature[]; landuse: GeoJSON.Feature[] }

export function generateHazards(input: HazardInputs, rng: Rng, scale: number): GeoJSON.Feature[] {
  const grids = input.grids.map(index).filter((g): g is Indexed => g !== null);
  const industrial: Indexed[] = [], commercial: Indexed[] = [];
  for (const f of input.landuse) {
    const k = f.properties?.kind;
    if (k !== 'industrial' && k !== 'commercial') continue;
    const ix = index(f);
    if (ix) (k === 'industrial' ? industrial : commercial).push(ix);
  }
  // File order is the FlatGeobuf writer's Hilbert order, not generation order: sort by id so the sites are the
  // same whether generated in the build or from an existing build's files.
  const byId = (p: Indexed, q: Indexed): number => (String(p.f.properties?.id) < String(q.f.properties?.id) ? -1 : 1);
  grids.sort(byId); industrial.sort(byId); commercial.sort(byId);
  if (!grids.length || !industrial.length) throw new Error('generateHazards: no grids or no industrial land use to site hazardous-chemical sites in');
  const gridAt = (x: number, y: number): Indexed | undefined => grids.find((g) => inside(x, y, g));
  const names = new Set<string>();
  const want = Math.max(5, Math.round(HAZARDS_AT_1 * scale));
  const out: GeoJSON.Feature[] = [];
  for (let guard = 0; out.length < want && guard < want * 50; guard++) {
    const kind = rng.weighted(KINDS, KIND_WEIGHTS);
    // traders sit among shops; everyone else (and a trader when the city has no commercial land) in industry
    const pool = kind === '经营' && commercial.length && rng.chance(0.7) ? commercial : industrial;
    const lu = rng.pick(pool);
    let at: XY | null = null;
    for (let t = 0; t < 30 && !at; t++) {
      const x = rng.range(lu.box[0], lu.box[2]), y = rng.range(lu.box[1], lu.box[3]);
      if (inside(x, y, lu)) at = [Math.round(x * 1e7) / 1e7, Math.round(y * 1e7) / 1e7];
    }
    if (!at) continue;
    const grid = gridAt(at[0], at[1]);
    if (!grid) continue;
    const gp = grid.f.properties!;
    const hazardClass = rng.pick(CLASS_BY_KIND[kind]);
    // tonnes on hand: log-uniform from 0.5 t up to a class-typical maximum (gases in cylinders and tanks, liquids
    // in tank farms), traders smaller; about one site in six reaches its class threshold (重大危险源)
    const top = Math.min(MAX_TONNES[hazardClass], kind === '经营' ? 200 : Infinity);
    const storage = Math.round(Math.exp(rng.range(Math.log(0.5), Math.log(top))) * 10) / 10;
    let name = '';
    for (let k = 0; k < 40 && (!name || names.has(name)); k++) name = `常熟${rng.pick(WORDS)}${rng.pick(WORDS)}${rng.pick(SUFFIX[kind])}`;
    if (names.has(name)) name = `${name}（${out.length + 1}）`;
    names.add(name);
    // last inspection within the year before the demo's "now" (no clock in the build)
    const inspected = new Date(INCIDENT_HISTORY_END - Math.floor(rng.range(1, 365)) * 86_400_000 - rng.int(0, 9) * 3_600_000);
    out.push({
      type: 'Feature', geometry: { type: 'Point', coordinates: at },
      properties: {
        id: `haz-${String(out.length + 1).padStart(4, '0')}`, name, kind, hazard_class: hazardClass, storage_t: storage,
        major_hazard: storage >= CLASSES[hazardClass], grid_code: String(gp.code), town_code: String(gp.town_code),
        contact_name: fictionalName(rng), contact_phone: fictionalPhone(rng),
        inspected_at: inspected.toISOString().replace(/\.\d{3}Z$/, 'Z'), synthetic: true,
      },
    });
  }
  return out;
}
