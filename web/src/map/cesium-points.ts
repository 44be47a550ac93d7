// Point layers (cameras, sensors, facilities, responders) on the globe: one PointPrimitiveCollection
// per layer (a single draw call however many points; STYLE.md: no Entity per feature), coloured by the
// catalog's categories, set on the ground from the DEM. A picked point's `id` says which layer and index.
import { Cartesian3, Color, DistanceDisplayCondition, NearFarScalar, PointPrimitiveCollection, type PointPrimitive, type Scene } from 'cesium';
import { getLayer } from '../../../layers/catalog.ts';
import type { Dem } from './cesium-dem.ts';
import type { PickedFeature } from './engine.ts';
import type { PointLayerData } from './point-data.ts';

export interface PointPick { kind: 'point'; layerId: string; index: number }
/** Points without a category colour (facilities are coloured by department, which has no palette yet). */
const DEFAULT_POINT: [number, number, number, number] = [60, 60, 60, 255];
const SELECTED = Color.fromBytes(255, 255, 0, 255);

export class PointLayer3D {
  readonly collection: PointPrimitiveCollection;
  private readonly points: PointPrimitive[] = [];
  private readonly colours: Color[] = [];
  private readonly size: number;
  private selected = -1;

  private hovered = -1;

  /** maxDistanceM: farther than this the layer is below its catalog minzoom (2D hides it there too). */
  constructor(scene: Scene, readonly data: PointLayerData, dem: Dem, maxDistanceM = Number.POSITIVE_INFINITY) {
    const visibleFrom = new DistanceDisplayCondition(0, maxDistanceM);
    const def = getLayer(data.layerId);
    const style = def?.style ?? {};
    this.size = 2 * (style.radius ?? 3);
    this.collection = scene.primitives.add(new PointPrimitiveCollection()) as PointPrimitiveCollection;
    const cats = style.by ? data.column(style.by) : undefined;
    for (let i = 0; i < data.count; i++) {
      const lon = data.positions[2 * i], lat = data.positions[2 * i + 1];
      const rgba = (cats && style.categories?.[String(cats[i])]) || style.fill || DEFAULT_POINT;
      const colour = Color.fromBytes(rgba[0], rgba[1], rgba[2], rgba[3]);
      this.colours.push(colour);
      this.points.push(this.collection.add({
        position: Cartesian3.fromDegrees(lon, lat, dem.heightAt(lon, lat) + 2),
        color: colour,
        pixelSize: this.size,
        outlineColor: Color.WHITE,
        outlineWidth: 1,
        // Never half-hidden by the terrain they stand on (the DEM is coarser than the globe's mesh).
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
        scaleByDistance: new NearFarScalar(1_000, 1.2, 40_000, 0.5),
        distanceDisplayCondition: visibleFrom,
        id: { kind: 'point', layerId: data.layerId, index: i } satisfies PointPick,
      }));
    }
  }

  setStyle(visible: boolean, opacity: number): void {
    this.collection.show = visible && opacity > 0;
    this.points.forEach((p, i) => { p.color = this.colours[i].withAlpha(this.colours[i].alpha * opacity); });
  }

  /** Hover: the point under the pointer grows a little (unless it is the selected one); -1 clears. */
  hover(index: number): void {
    const prev = this.points[this.hovered];
    if (prev && this.hovered !== this.selected) prev.pixelSize = this.size;
    this.hovered = index;
    const p = this.points[index];
    if (p && index !== this.selected) p.pixelSize = this.size * 1.4;
  }

  /** Selection: the selected point grows and gets a yellow ring; -1 clears. */
  select(index: number): void {
    if (this.selected >= 0 && this.points[this.selected]) {
      const p = this.points[this.selected];
      p.pixelSize = this.size; p.outlineColor = Color.WHITE; p.outlineWidth = 1;
    }
    this.selected = index;
    const p = this.points[index];
    if (p) { p.pixelSize = this.size * 1.8; p.outlineColor = SELECTED; p.outlineWidth = 3; }
  }

  feature(index: number): PickedFeature {
    const props = this.data.properties(index);
    const [lon, lat] = this.data.position(index);
    return {
      layerId: this.data.layerId,
      id: String(props.id ?? index),
      properties: props,
      lonLat: [lon, lat],
      geometry: { type: 'Point', coordinates: [lon, lat] },
    };
  }

  private byId: Map<string, number> | null = null;

  indexOf(id: string): number {
    if (!this.byId) this.byId = new Map(this.data.column('id').map((v, i) => [String(v ?? i), i]));
    return this.byId.get(id) ?? -1;
  }

  destroy(scene: Scene): void {
    scene.primitives.remove(this.collection);
  }
}
