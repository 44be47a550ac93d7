// The demo city's generated content inside the real boundaries: roads, land use, buildings, standard
// addresses, cameras, sensors, department facilities and responders (contracts.md item 6). Deterministic:
// every theme draws from its own fork of the caller's RNG, loops run in input order, nothing reads the
// clock. Scale multiplies the counts of buildings, addresses, devices, facilities and patrols (each ≥ 1);
// roads, land use and one grid manager per grid do not scale.
import type { Rng } from './rng.ts';
import { buildWorld } from './content-world.ts';
import { generateRoads, type RoadRec } from './roads.ts';
import { generateBuildings } from './buildings.ts';
import { generateRuralLanduse } from './landuse.ts';
import { AddressBook } from './addresses.ts';
import { generateCameras, generateSensors } from './devices.ts';
import { generateFacilities, generateResponders } from './responders.ts';
import { NamePool } from './names.ts';

export interface Boundaries {
  city: GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon>; towns: GeoJSON.Feature[];
  villages: GeoJSON.Feature[]; grids: GeoJSON.Feature[]; water: GeoJSON.Feature[];
}
export interface Content {
  roads: GeoJSON.Feature[]; landuse: GeoJSON.Feature[]; buildings: GeoJSON.Feature[];
  addresses: GeoJSON.Feature[]; cameras: GeoJSON.Feature[]; sensors: GeoJSON.Feature[]; facilities: GeoJSON.Feature[]; responders: GeoJSON.Feature[];
}

export function generateContent(b: Boundaries, opts: { rng: Rng; scale: number; onProgress?: (msg: string) => void }): Content {
  const { rng, scale } = opts;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`generateContent: scale must be a positive number, got ${scale} - use 1 for the full city or e.g. 0.05 for a quick one`);
  if (!b.grids.length || !b.villages.length || !b.towns.length) {
    throw new Error(`generateContent: boundaries need towns, villages and grids (got ${b.towns.length}, ${b.villages.length}, ${b.grids.length}) - build the boundaries first`);
  }
  const say = opts.onProgress ?? (() => {});
  const world = buildWorld(b, rng.fork('world'));
  say(`content: raster ${world.raster.w}×${world.raster.h}, ${world.cores.length} urban cores`);
  const pool = new NamePool(rng.fork('names'));
  const roads = generateRoads(world, rng.fork('roads'), pool);
  say(`content: ${roads.roads.length} road pieces, ${roads.crossings.length} crossings, ${roads.bridges.length} bridges`);
  const book = new AddressBook(world);
  const bld = generateBuildings(world, roads, book, pool, rng.fork('buildings'), scale);
  say(`content: ${bld.recs.length} buildings (${bld.urbanCount} urban), ${book.features.length} addresses`);
  const rural = generateRuralLanduse(world, rng.fork('landuse'));
  const cameras = generateCameras(world, roads, bld, rng.fork('cameras'), scale);
  const sensors = generateSensors(world, roads, bld, rng.fork('sensors'), scale);
  say(`content: ${cameras.length} cameras, ${sensors.length} sensors`);
  const fac = generateFacilities(world, roads, bld, book, rng.fork('facilities'), scale);
  const responders = generateResponders(world, bld, fac.recs, rng.fork('responders'), scale);
  say(`content: ${fac.features.length} facilities, ${responders.length} responders`);

  const roadFeatures = [...roads.roads, ...bld.lanes].map((r: RoadRec, i): GeoJSON.Feature => {
    const coords: [number, number][] = [];
    for (let k = 0; k + 1 < r.pts.length; k += 2) coords.push(world.lonLat(r.pts[k], r.pts[k + 1]));
    return { type: 'Feature', geometry: { type: 'LineString', coordinates: coords }, properties: { id: `road-${String(i + 1).padStart(6, '0')}`, name: r.name, class: r.cls, synthetic: true } };
  });
  return {
    roads: roadFeatures,
    landuse: [...bld.landuse, ...rural],
    buildings: bld.buildings,
    addresses: book.features,
    cameras, sensors,
    facilities: fac.features,
    responders,
  };
}
