// The simulated city's devices, read from the built layers (geodata/build/*.fgb): every sensor and camera,
// the patrol units (responders kind=patrol), the place names for events, and the road graph the patrols drive.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openFlatGeobuf, type FgbFile } from '../../layers/formats/flatgeobuf.ts';
import { roadLinesFromFgb } from '../../layers/routing/from-fgb.ts';
import { buildRoadGraph, type RoadGraph } from '../../layers/routing/road-graph.ts';
import { GRAPH_OPTIONS } from '../../tile-server/incidents/dispatcher.ts';
import { SENSOR_KINDS, type DeviceKind } from '../../layers/telemetry/model.ts';
import type { NamedPlace } from './events.ts';

export interface SimDevice { id: string; kind: DeviceKind; lon: number; lat: number; status: string | null }

export interface SimWorld {
  /** Sensors then cameras (file order). */
  devices: SimDevice[];
  patrols: SimDevice[];
  gazetteer: NamedPlace[];
  graph: RoadGraph;
}

function open(dataDir: string, name: string): FgbFile {
  const path = join(dataDir, name);
  let bytes: Uint8Array;
  try { bytes = new Uint8Array(readFileSync(path)); } catch (e) {
    throw new Error(`Cannot read ${path} (${(e as Error).message}); build the demo data first (npm run data) or pass --data <dir>.`);
  }
  return openFlatGeobuf(bytes);
}

function points(f: FgbFile, name: string): Float64Array {
  const xy = f.pointXY();
  if (!xy) throw new Error(`${name}: every feature must be a Point; rebuild the data (npm run data).`);
  return xy;
}

const sensorKinds = new Set<string>(SENSOR_KINDS);

export function loadWorld(dataDir: string): SimWorld {
  const devices: SimDevice[] = [];
  const sensors = open(dataDir, 'sensors.fgb');
  {
    const xy = points(sensors, 'sensors.fgb'), id = sensors.column('id'), kind = sensors.column('kind'), st = sensors.column('status');
    for (let i = 0; i < sensors.count; i++) {
      if (!sensorKinds.has(String(kind[i]))) continue; // a kind the telemetry model does not know is not simulated
      devices.push({ id: String(id[i]), kind: kind[i] as DeviceKind, lon: xy[2 * i], lat: xy[2 * i + 1], status: (st[i] as string | undefined) ?? null });
    }
  }
  const cameras = open(dataDir, 'cameras.fgb');
  {
    const xy = points(cameras, 'cameras.fgb'), id = cameras.column('id'), st = cameras.column('status');
    for (let i = 0; i < cameras.count; i++) devices.push({ id: String(id[i]), kind: 'camera', lon: xy[2 * i], lat: xy[2 * i + 1], status: (st[i] as string | undefined) ?? null });
  }
  const patrols: SimDevice[] = [];
  const resp = open(dataDir, 'responders.fgb');
  {
    const xy = points(resp, 'responders.fgb'), id = resp.column('id'), kind = resp.column('kind');
    for (let i = 0; i < resp.count; i++) if (kind[i] === 'patrol') patrols.push({ id: String(id[i]), kind: 'patrol', lon: xy[2 * i], lat: xy[2 * i + 1], status: null });
  }
  const gazetteer: NamedPlace[] = [];
  for (const [file, source] of [['places.fgb', 'places'], ['villages.fgb', 'villages'], ['facilities.fgb', 'facilities']] as const) {
    const f = open(dataDir, file);
    const names = f.column('name');
    for (let i = 0; i < f.count; i++) {
      const g = f.rawGeometry(i);
      if (!g || !g.xy.length || typeof names[i] !== 'string') continue;
      // polygons (villages): the mean of the outer ring's vertices — near enough the middle for a ~km event radius
      const n = g.type === 'Point' ? 1 : (g.ends[0] ?? g.xy.length >> 1);
      let x = 0, y = 0;
      for (let k = 0; k < n; k++) { x += g.xy[2 * k]; y += g.xy[2 * k + 1]; }
      gazetteer.push({ name: names[i] as string, source, lon: x / n, lat: y / n });
    }
  }
  // the dispatcher's settings: patrols drive the graph dispatch ranks on
  const graph = buildRoadGraph(roadLinesFromFgb(open(dataDir, 'roads.fgb')), GRAPH_OPTIONS);
  return { devices, patrols, gazetteer, graph };
}
