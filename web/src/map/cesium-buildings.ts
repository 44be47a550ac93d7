// Buildings extruded by their height, from the basemap's `buildings` MVT layer at z14: one Primitive per
// tile batching every footprint as a GeometryInstance (one draw call per tile), loaded for the 3 × 3
// tiles around the view centre when the camera is low enough to see them.
import {
  Color, ColorGeometryInstanceAttribute, GeometryInstance, PerInstanceColorAppearance, PolygonGeometry, PolygonHierarchy,
  Primitive, Cartesian3, type Scene,
} from 'cesium';
import { getLayer } from '../../../layers/catalog.ts';
import { BUILDING_OUTLINE_MIN_ZOOM } from './catalog-style.ts';
import type { Dem } from './cesium-dem.ts';
import type { PickedFeature } from './engine.ts';
import type { TileSource } from './cesium-vector-tiles.ts';

export const BUILDING_LEVEL = 14;
/**
 * Buildings stand up from this zoom of the view (the 2D map outlines them from the same zoom; Mapbox's
 * 3D buildings start there too). Below it a building is a few pixels across and its walls hardly
 * show, while tens of thousands of extruded footprints cost a third of every frame on software WebGL;
 * their footprints are still in the draped basemap.
 */
export const BUILDINGS_MIN_ZOOM = BUILDING_OUTLINE_MIN_ZOOM;
const DEFAULT_FLOOR_M = 3;

export interface BuildingPick { kind: 'building'; feature: PickedFeature }

interface TileEntry { primitive: Primitive | null; ids: string[] }

export class Buildings3D {
  private readonly tiles = new Map<string, TileEntry>();
  private colour: Color;
  private visible = true;
  private opacity = 1;
  private selected: string | null = null;
  private generation = 0;

  constructor(private readonly scene: Scene, private readonly source: TileSource, private readonly dem: Dem,
    private readonly exaggeration: number, private readonly onError: (e: Error) => void) {
    const f = getLayer('buildings')?.style.fill ?? [215, 205, 195, 255];
    this.colour = Color.fromBytes(f[0], f[1], f[2], f[3]);
  }

  /** Loads the 3 × 3 z14 tiles around (lon, lat), drops the rest; `show` false drops everything. */
  update(lon: number, lat: number, show: boolean): void {
    const want = new Set<string>();
    if (show && this.visible) {
      const n = 2 ** BUILDING_LEVEL;
      const cx = Math.floor(((lon + 180) / 360) * n);
      const r = (lat * Math.PI) / 180;
      const cy = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
      for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) want.add(`${cx + dx}/${cy + dy}`);
    }
    for (const [key, entry] of this.tiles) {
      if (want.has(key)) continue;
      if (entry.primitive) this.scene.primitives.remove(entry.primitive);
      this.tiles.delete(key);
    }
    for (const key of want) if (!this.tiles.has(key)) this.load(key);
  }

  private load(key: string): void {
    const entry: TileEntry = { primitive: null, ids: [] };
    this.tiles.set(key, entry);
    const [x, y] = key.split('/').map(Number);
    const gen = this.generation;
    this.source.get(BUILDING_LEVEL, x, y).then((tile) => {
      if (this.tiles.get(key) !== entry || gen !== this.generation) return; // dropped meanwhile
      const layer = tile?.layers.buildings;
      if (!layer) return;
      const instances: GeometryInstance[] = [];
      for (let i = 0; i < layer.length; i++) {
        const f = layer.feature(i);
        const gj = f.toGeoJSON(x, y, BUILDING_LEVEL);
        const polys = gj.geometry.type === 'Polygon' ? [gj.geometry.coordinates]
          : gj.geometry.type === 'MultiPolygon' ? gj.geometry.coordinates : [];
        const props = f.properties as Record<string, unknown>;
        const h = Number(props.height) || (Number(props.floors) || 1) * DEFAULT_FLOOR_M;
        const id = String(props.id ?? `${key}/${i}`);
        polys.forEach((rings, pi) => {
          const outer = rings[0];
          if (!outer || outer.length < 4) return;
          const [lon0, lat0] = outer[0];
          const base = this.dem.heightAt(lon0, lat0) * this.exaggeration;
          const feature: PickedFeature = { layerId: 'buildings', id, properties: props, lonLat: [lon0, lat0], geometry: gj.geometry };
          instances.push(new GeometryInstance({
            id: { kind: 'building', feature } satisfies BuildingPick,
            geometry: new PolygonGeometry({
              polygonHierarchy: new PolygonHierarchy(
                Cartesian3.fromDegreesArray(outer.slice(0, -1).flat()),
                rings.slice(1).map((hole) => new PolygonHierarchy(Cartesian3.fromDegreesArray(hole.slice(0, -1).flat()))),
              ),
              height: base - 1,
              extrudedHeight: base + h,
              vertexFormat: PerInstanceColorAppearance.VERTEX_FORMAT,
            }),
            attributes: { color: ColorGeometryInstanceAttribute.fromColor(this.colourFor(id)) },
          }));
          if (pi === 0) entry.ids.push(id);
        });
      }
      if (!instances.length) return;
      entry.primitive = this.scene.primitives.add(new Primitive({
        geometryInstances: instances,
        appearance: new PerInstanceColorAppearance({ translucent: this.opacity < 1, closed: true }),
        show: this.visible,
        releaseGeometryInstances: false,
      })) as Primitive;
    }).catch((e: unknown) => this.onError(e instanceof Error ? e : new Error(String(e))));
  }

  private colourFor(id: string): Color {
    const c = id === this.selected ? Color.fromBytes(255, 210, 0, 255) : this.colour;
    return c.withAlpha(this.opacity);
  }

  private recolour(): void {
    for (const entry of this.tiles.values()) {
      const p = entry.primitive;
      if (!p?.ready) continue;
      for (const inst of (p.geometryInstances as GeometryInstance[] | undefined) ?? []) {
        const attrs = p.getGeometryInstanceAttributes(inst.id);
        if (attrs) attrs.color = ColorGeometryInstanceAttribute.toValue(this.colourFor((inst.id as BuildingPick).feature.id));
      }
    }
  }

  setStyle(visible: boolean, opacity: number): void {
    const rebuild = (opacity < 1) !== (this.opacity < 1);
    this.visible = visible;
    this.opacity = opacity;
    if (rebuild) this.clear(); // the appearance's translucency is fixed at creation
    for (const entry of this.tiles.values()) if (entry.primitive) entry.primitive.show = visible;
    this.recolour();
  }

  select(id: string | null): void {
    this.selected = id;
    this.recolour();
  }

  get count(): number { return [...this.tiles.values()].filter((t) => t.primitive).length; }

  clear(): void {
    this.generation++;
    for (const entry of this.tiles.values()) if (entry.primitive) this.scene.primitives.remove(entry.primitive);
    this.tiles.clear();
  }
}
