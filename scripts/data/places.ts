// Label points: the city, each town and village (real names, points inside the generated polygons), and
// the natural features 虞山, 尚湖, 昆承湖 and 长江. rank: 1 city, 2 town and natural feature, 3 village.
import { shortVillageName } from './boundaries.ts';

export interface PlaceInput {
  city: { name: string; at: [number, number] };
  towns: GeoJSON.Feature[];
  villages: GeoJSON.Feature[];
  /** Label point per town/village code. */
  labels: Map<string, [number, number]>;
  natural: { id: string; name: string; kind: 'mountain' | 'lake' | 'river'; at: [number, number] }[];
}

export function buildPlaces(p: PlaceInput): GeoJSON.Feature<GeoJSON.Point>[] {
  const out: GeoJSON.Feature<GeoJSON.Point>[] = [];
  const add = (id: string, name: string, kind: string, rank: number, at: [number, number]): void => {
    out.push({ type: 'Feature', id, properties: { id, name, kind, rank }, geometry: { type: 'Point', coordinates: [at[0], at[1]] } });
  };
  add('place-city-320581', p.city.name, 'city', 1, p.city.at);
  for (const t of p.towns) {
    const code = String(t.properties!.code);
    const at = p.labels.get(code);
    if (!at) throw new Error(`buildPlaces: no label point for town ${code}`);
    add(`place-town-${code}`, String(t.properties!.name), 'town', 2, at);
  }
  for (const v of p.villages) {
    const code = String(v.properties!.code);
    const at = p.labels.get(code);
    if (!at) throw new Error(`buildPlaces: no label point for village ${code}`);
    add(`place-village-${code}`, shortVillageName(String(v.properties!.name)), 'village', 3, at);
  }
  for (const n of p.natural) add(`place-${n.id}`, n.name, n.kind, 2, n.at);
  return out;
}
