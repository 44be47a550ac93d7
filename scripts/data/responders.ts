// Department facilities (派出所, 消防站, 卫生院, 泵站, 公厕 …) and the people who respond: one grid manager per
// grid (the grid's own manager id, name and phone) and patrol units based at their department's facilities.
import type { Rng } from './rng.ts';
import { CITY, PointIndex, WET, interiorPoint } from './content-spatial.ts';
import type { World } from './content-world.ts';
import type { BuildResult } from './buildings.ts';
import type { AddressBook } from './addresses.ts';
import { alongRoads, shuffle } from './devices.ts';
import type { RoadsResult } from './roads.ts';
import { CITY_NAME } from './addresses.ts';

export interface FacilityRec { x: number; y: number; grid: number; name: string; kind: string; department: string }

const HOSPITALS = ['常熟市第一人民医院', '常熟市第二人民医院', '常熟市中医院', '常熟市第五人民医院', '常熟市妇幼保健院'];

export function generateFacilities(w: World, roads: RoadsResult, bld: BuildResult, book: AddressBook, rng: Rng, scale: number): { features: GeoJSON.Feature[]; recs: FacilityRec[] } {
  const recs: FacilityRec[] = [];
  const names = new Map<string, number>();
  const dry = (x: number, y: number): boolean => (w.raster.at(x, y) & (CITY | WET)) === CITY;
  const add = (x: number, y: number, name: string, kind: string, department: string): boolean => {
    if (!dry(x, y)) return false;
    const grid = w.gridAt(x, y);
    if (grid < 0) return false;
    const k = (names.get(name) ?? 0) + 1;
    names.set(name, k);
    recs.push({ x, y, grid, name: k > 1 ? `${name}${k}号` : name, kind, department });
    return true;
  };
  // buildings by village, public ones first, for siting
  const byVillage = new Map<string, number[]>();
  bld.recs.forEach((b, i) => {
    const v = w.grids[b.grid].villageCode;
    let l = byVillage.get(v);
    if (!l) byVillage.set(v, (l = []));
    l.push(i);
  });
  const nearestBuilding = (x: number, y: number, pred: (i: number) => boolean): number => {
    let best = -1, bd = Infinity;
    bld.recs.forEach((b, i) => { if (pred(i)) { const d = (b.x - x) ** 2 + (b.y - y) ** 2; if (d < bd) { bd = d; best = i; } } });
    return best;
  };
  const jitter = (): number => rng.range(-25, 25);

  // per town: always one of each (patrols need their stations)
  for (const t of w.towns) {
    const site = (use: string, dx: number, dy: number): [number, number] => {
      const i = nearestBuilding(t.cx + dx, t.cy + dy, (k) => bld.recs[k].use === use || bld.recs[k].use === 'public');
      return i >= 0 && Math.hypot(bld.recs[i].x - t.cx, bld.recs[i].y - t.cy) < 4000 ? [bld.recs[i].x, bld.recs[i].y] : [t.cx + dx / 10, t.cy + dy / 10];
    };
    const street = t.kind === '街道';
    const list: [string, string, string, string, number, number][] = [
      [`${t.short}派出所`, '派出所', 'police', 'public', 0, 0],
      [`${t.short}消防救援站`, '消防站', 'fire', 'public', 400, 300],
      [street ? `${t.name}社区卫生服务中心` : `${t.name}卫生院`, street ? '社区卫生服务中心' : '卫生院', 'health', 'public', -300, 200],
      [`${t.short}应急物资储备库`, '应急物资仓库', 'emergency', 'industrial', 600, -500],
      [`${t.short}城管中队`, '城管中队', 'urban', 'public', -200, -300],
      [`${t.short}110kV变电站`, '变电站', 'power', 'industrial', -700, 600],
      [`${t.short}市场监管分局`, '市场监管所', 'market', 'public', 200, -200],
      [`${t.short}中心小学`, '小学', 'education', 'public', 500, 500],
      [`${t.short}中学`, '中学', 'education', 'public', -500, 500],
    ];
    for (const [name, kind, dept, use, dx, dy] of list) {
      const [x, y] = site(use, dx, dy);
      if (!add(x, y, name, kind, dept)) {
        const [ix, iy] = interiorPoint(t.poly);
        add(ix, iy, name, kind, dept);
      }
    }
  }
  const main = w.cores[0];
  if (main) HOSPITALS.forEach((name, k) => {
    const a = (k / HOSPITALS.length) * 2 * Math.PI;
    const i = nearestBuilding(main.cx + 1500 * Math.cos(a), main.cy + 1500 * Math.sin(a), (q) => bld.recs[q].use === 'public');
    if (i >= 0) add(bld.recs[i].x, bld.recs[i].y, name, '医院', 'health');
  });

  // per village (scaled: a sample of villages at scale < 1)
  const vs = shuffle([...w.villages], rng.fork('villages')).slice(0, Math.max(1, Math.ceil(w.villages.length * Math.min(1, scale))));
  vs.sort((p, q) => (p.code < q.code ? -1 : 1));
  for (const v of vs) {
    const list = byVillage.get(v.code) ?? [];
    const spot = (): [number, number] => {
      if (list.length) { const b = bld.recs[list[Math.floor(rng.next() * list.length)]]; return [b.x, b.y]; }
      const [x, y] = interiorPoint(v.poly);
      return [x + jitter(), y + jitter()];
    };
    const community = v.kind === '社区';
    for (const [name, kind, dept] of [
      [`${v.short}警务室`, '警务室', 'police'],
      [`${v.short}微型消防站`, '微型消防站', 'fire'],
      [community ? `${v.short}卫生服务站` : `${v.short}卫生室`, community ? '社区卫生服务站' : '村卫生室', 'health'],
      [`${v.short}应急避难场所`, '应急避难场所', 'emergency'],
    ] as const) {
      for (let tries = 0; tries < 5; tries++) if (add(...spot(), name, kind, dept)) break;
    }
  }

  // spread kinds
  const allRoads = [...roads.roads, ...bld.lanes];
  const villageOf = (x: number, y: number): string => {
    const g = w.gridAt(x, y);
    return g >= 0 ? (w.villageByCode.get(w.grids[g].villageCode)?.short ?? '') : '';
  };
  const spread: [number, string, string, () => { x: number; y: number; name: string }[]][] = [
    [1700, '公共厕所', 'urban', () => alongRoads(allRoads, 250, 14, (r) => r.cls !== 'arterial').map((s) => ({ ...s, name: `${s.name.replace(/K\d+\+\d+$/, '')}公共厕所` }))],
    [450, '垃圾中转站', 'urban', () => bld.recs.filter((_, i) => i % 5 === 0).map((b) => ({ x: b.x + 20, y: b.y + 20, name: '' }))],
    [400, '排涝泵站', 'water', () => [...roads.bridges.map((b) => ({ x: b.x + 30, y: b.y + 30, name: '' })), ...shoreSpots(w, 8)]],
    [350, '开闭所', 'power', () => alongRoads(allRoads, 500, 16, () => true).map((s) => ({ ...s, name: '' }))],
    [350, '燃气调压站', 'gas', () => alongRoads(allRoads, 500, -16, (r) => r.cls !== 'lane').map((s) => ({ ...s, name: '' }))],
    [150, '环境监测站', 'ecology', () => bld.recs.filter((b, i) => b.core === 0 && i % 3 === 0).map((b) => ({ x: b.x + 25, y: b.y - 25, name: '' }))],
    [450, '幼儿园', 'education', () => bld.recs.filter((b) => b.use === 'public' || b.name).map((b) => ({ x: b.x, y: b.y, name: b.name ?? '' }))],
    [100, '农贸市场', 'market', () => bld.recs.filter((b) => b.use === 'commercial').map((b) => ({ x: b.x, y: b.y, name: '' }))],
  ];
  const DEPT_SUFFIX: Record<string, string> = { 排涝泵站: '排涝站', 开闭所: '10kV开闭所', 燃气调压站: '燃气调压站', 环境监测站: '空气自动监测站', 幼儿园: '幼儿园', 农贸市场: '农贸市场', 垃圾中转站: '垃圾中转站', 公共厕所: '' };
  for (const [n1, kind, dept, pool] of spread) {
    const want = Math.max(1, Math.round(n1 * scale));
    let made = 0;
    for (const s of shuffle(pool(), rng)) {
      if (made >= want) break;
      const name = kind === '公共厕所' ? s.name : `${s.name || villageOf(s.x, s.y)}${DEPT_SUFFIX[kind]}`;
      if (add(s.x, s.y, name, kind, dept)) made++;
    }
  }

  // address: the nearest door address within 1.5 km, else the village's written area
  const idx = new PointIndex(w.raster.x0, w.raster.y0, w.raster.x0 + w.raster.w * w.raster.cell, w.raster.y0 + w.raster.h * w.raster.cell, 500);
  for (const d of book.doors) idx.add(d.x, d.y);
  idx.finish();
  const features = recs.map((f, i): GeoJSON.Feature => {
    const near = idx.nearest(f.x, f.y, 1500);
    const g = w.grids[f.grid];
    const address = near >= 0 ? String(book.features[book.doors[near].i].properties!.full)
      : `${CITY_NAME}${w.townByCode.get(g.townCode)?.name ?? ''}${w.villageByCode.get(g.villageCode)?.short ?? ''}`;
    return {
      type: 'Feature', geometry: { type: 'Point', coordinates: w.lonLat(f.x, f.y) },
      properties: { id: `fac-${String(i + 1).padStart(5, '0')}`, name: f.name, kind: f.kind, department: f.department, address, grid_code: g.code, synthetic: true },
    };
  });
  return { features, recs };
}

/** Dry city cells 20 m from water on a stride of `k` cells (pumping stations sit on the bank). */
function shoreSpots(w: World, k: number): { x: number; y: number; name: string }[] {
  const r = w.raster, out: { x: number; y: number; name: string }[] = [];
  for (let y = 2; y < r.h - 2; y += k) for (let x = 2; x < r.w - 2; x += k) {
    const i = y * r.w + x;
    if ((r.flags[i] & (CITY | WET)) !== CITY) continue;
    if (r.flags[i + 2] & WET || r.flags[i - 2] & WET || r.flags[i + 2 * r.w] & WET || r.flags[i - 2 * r.w] & WET) out.push({ x: r.x0 + (x + 0.5) * r.cell, y: r.y0 + (y + 0.5) * r.cell, name: '' });
  }
  return out;
}

const SKILLS: Record<string, string[]> = {
  grid_manager: ['信息采集', '矛盾调解', '安全巡查', '政策宣传', '环境巡查', '邻里互助', '应急处置', '防汛巡查'],
  police: ['治安巡逻', '交通疏导', '现场处置', '警情核查', '急救', '反诈宣传'],
  urban: ['市容巡查', '占道经营处置', '违建巡查', '井盖处置', '垃圾清运协调'],
  emergency: ['抢险救援', '防汛抗旱', '危化品处置', '急救', '物资调配'],
};

export function generateResponders(w: World, bld: BuildResult, fac: FacilityRec[], rng: Rng, scale: number): GeoJSON.Feature[] {
  const out: GeoJSON.Feature[] = [];
  const skills = (key: string): string => shuffle([...SKILLS[key]], rng).slice(0, rng.int(2, 4)).join(',');
  const byGrid = new Map<number, number[]>();
  bld.recs.forEach((b, i) => { let l = byGrid.get(b.grid); if (!l) byGrid.set(b.grid, (l = [])); l.push(i); });
  w.grids.forEach((g, k) => {
    const list = byGrid.get(k);
    let x: number, y: number;
    if (list?.length) { const b = bld.recs[list[Math.floor(rng.next() * list.length)]]; x = b.x; y = b.y; }
    else [x, y] = interiorPoint(g.poly);
    out.push({
      type: 'Feature', geometry: { type: 'Point', coordinates: w.lonLat(x, y) },
      properties: { id: g.managerId, name: g.managerName, kind: 'grid_manager', department: 'city', grid_code: g.code, phone: g.managerPhone, skills: skills('grid_manager'), synthetic: true },
    });
  });
  const homes: Record<string, FacilityRec[]> = {
    police: fac.filter((f) => f.kind === '派出所' || f.kind === '警务室'),
    urban: fac.filter((f) => f.kind === '城管中队'),
    emergency: fac.filter((f) => f.kind === '应急物资仓库' || f.kind === '应急避难场所'),
  };
  const n = Math.max(1, Math.round(300 * scale));
  const count = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const dept = rng.weighted(['police', 'urban', 'emergency'], [0.6, 0.25, 0.15]);
    const list = homes[dept].length ? homes[dept] : fac;
    if (!list.length) break;
    // stations before posts: the first facilities are the town-level ones
    const f = list[i < list.length && dept !== 'police' ? i % list.length : Math.floor(rng.next() * Math.min(list.length, dept === 'police' ? w.towns.length * 2 : list.length))];
    const k = (count.get(f.name) ?? 0) + 1;
    count.set(f.name, k);
    const digits = String(rng.int(0, 9_999_999)).padStart(7, '0');
    out.push({
      type: 'Feature', geometry: { type: 'Point', coordinates: w.lonLat(f.x, f.y) },
      properties: {
        id: `patrol-${String(i + 1).padStart(4, '0')}`, name: `${f.name.replace(/\d+号$/, '')}${dept === 'police' ? '巡逻' : dept === 'urban' ? '巡查' : '救援'}${k}组`,
        kind: 'patrol', department: dept, grid_code: w.grids[f.grid].code, phone: `0512-5${digits}`, skills: skills(dept), synthetic: true,
      },
    });
  }
  return out;
}
