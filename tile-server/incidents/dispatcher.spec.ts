import { describe, expect, it } from 'vitest';
import { createTransformer } from '../../layers/crs.ts';
import { buildRoadGraph } from '../../layers/routing/road-graph.ts';
import { createDispatcher, LIVE_MAX_AGE_MS, type ResponderRec } from './dispatcher.ts';

// a 4 km street grid (500 m spacing) around the city centre, in EPSG:4549 metres
const toGk = createTransformer('EPSG:4326', 'EPSG:4549'), toWgs = createTransformer('EPSG:4549', 'EPSG:4326');
const [cx, cy] = toGk(120.752, 31.654);
const lines = [];
for (let k = -4; k <= 4; k++) {
  lines.push({ xy: [cx + k * 500, cy - 2000, cx + k * 500, cy + 2000], cls: 'local' as const });
  lines.push({ xy: [cx - 2000, cy + k * 500, cx + 2000, cy + k * 500], cls: 'local' as const });
}
const graph = buildRoadGraph(lines);
const at = (dx: number, dy: number): [number, number] => toWgs(cx + dx, cy + dy);
const R = (id: string, kind: string, department: string | null, gridCode: string | null, skills: string[], dx: number, dy: number): ResponderRec => {
  const [lon, lat] = at(dx, dy);
  return { id, name: id, kind, department, gridCode, skills, lon, lat };
};
const people = [
  R('gm-own', 'grid_manager', 'city', 'G1', ['安全巡查'], 1500, 1500),
  R('gm-other', 'grid_manager', 'city', 'G2', ['安全巡查'], 10, 10),
  R('urban-near', 'patrol', 'urban', 'G9', ['井盖处置'], 500, 0),
  R('urban-far', 'patrol', 'urban', 'G9', ['井盖处置'], 1500, -1500),
  R('police-near', 'patrol', 'police', 'G9', ['治安巡逻'], 0, 500),
];
const d = createDispatcher(graph, people);
const [lon, lat] = at(0, 0);
const inc = { lon, lat, category: '0101', gridCode: 'G1', level: 'grid' as const, severity: 3 as const, department: 'urban' };
const now = 1_800_000_000_000;
const base = { workload: new Map<string, number>(), positions: new Map(), now };

describe('dispatcher.rank', () => {
  it('puts the grid manager of the incident grid first for a grid-level case, with Chinese reasons', () => {
    const c = d.rank(inc, base);
    expect(c[0].responderId).toBe('gm-own');
    expect(c[0].ownGridManager).toBe(true);
    expect(c[0].reasons[0]).toContain('本网格网格员');
    expect(c.map((x) => x.score)).toEqual([...c.map((x) => x.score)].sort((a, b) => b - a));
  });
  it('for a town-level case ranks by travel, skills and department: the near urban patrol before others', () => {
    const c = d.rank({ ...inc, level: 'town' }, base);
    expect(c[0].responderId).toBe('urban-near');
    expect(c[0].departmentMatch && c[0].skillMatch).toBe(true);
    // on the grid: 500 m at 25 km/h = 72 s, plus the tiny off-road legs
    expect(c[0].travelSeconds).toBeGreaterThanOrEqual(72);
    expect(c[0].travelSeconds).toBeLessThan(80);
    expect(c.find((x) => x.responderId === 'police-near')!.reasons.join()).toContain('非责任部门');
  });
  it('workload pushes a busy responder down', () => {
    const c = d.rank({ ...inc, level: 'town' }, { ...base, workload: new Map([['urban-near', 5]]) });
    expect(c[0].responderId).toBe('urban-far');
    expect(c.find((x) => x.responderId === 'urban-near')!.reasons).toContain('在办案件 5 件');
  });
  it('uses a recent live position, and the home one when the live fix is stale', () => {
    const [plon, plat] = at(1500, -1450);
    const positions = new Map([['urban-near', { lon: plon, lat: plat, at: now - 60_000 }]]);
    const live = d.rank({ ...inc, level: 'town' }, { ...base, positions }).find((x) => x.responderId === 'urban-near')!;
    expect(live.positionSource).toBe('live');
    expect(live.travelSeconds!).toBeGreaterThan(400);
    positions.set('urban-near', { lon: plon, lat: plat, at: now - LIVE_MAX_AGE_MS - 1 });
    const stale = d.rank({ ...inc, level: 'town' }, { ...base, positions }).find((x) => x.responderId === 'urban-near')!;
    expect(stale.positionSource).toBe('home');
    expect(stale.travelSeconds!).toBeLessThan(80);
  });
  it('respects limit', () => {
    expect(d.rank(inc, { ...base, limit: 2 })).toHaveLength(2);
  });
});

describe('dispatcher.route', () => {
  it('returns time, distance and a lon/lat path from start to end along the grid', () => {
    const r = d.route(at(0, 0), at(1000, 500))!;
    expect(r.metres).toBeGreaterThanOrEqual(1500);
    expect(r.metres).toBeLessThan(1510);
    expect(r.path[0][0]).toBeCloseTo(at(0, 0)[0], 6);
    expect(r.path[r.path.length - 1][1]).toBeCloseTo(at(1000, 500)[1], 6);
  });
});
