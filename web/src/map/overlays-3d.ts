// Analysis overlays (overlays.ts) on the Cesium globe: a density grid as a draped imagery layer (it
// follows the terrain like the basemap), markers as point primitives with labels, shapes as
// ground-following polylines with ground-primitive fills. Primitives are batched per overlay, never
// Entities (STYLE.md), and rebuilt only for overlays whose object changed.
import {
  Cartesian2, Cartesian3, Color, ColorGeometryInstanceAttribute, GeometryInstance, GroundPrimitive, HorizontalOrigin,
  ImageryLayer, LabelCollection, LabelStyle, PerInstanceColorAppearance, PointPrimitiveCollection, PolygonGeometry,
  PolygonHierarchy, PolylineCollection, Rectangle, SingleTileImageryProvider, VerticalOrigin, type Scene,
} from 'cesium';
import { CJK_FONT_STACK } from './catalog-style.ts';
import type { LonLat } from './engine.ts';
import { AREA_LABEL_OFFSET_PX, geometryParts, type AreaOverlay, type GridOverlay, type MapOverlay, type Rgba } from './overlays.ts';

export interface Ground {
  /** Exaggerated terrain height (m) at a point. */
  heightAt(lon: number, lat: number): number;
  /** A line draped on the terrain, densified, `lift` metres above it. */
  positions(coords: LonLat[], lift?: number): Cartesian3[];
}

interface Drawn { overlay: MapOverlay; remove(): void }

const colour = (c: Rgba) => Color.fromBytes(c[0], c[1], c[2], c[3]);

function gridDataUrl(o: GridOverlay): string {
  const canvas = document.createElement('canvas');
  canvas.width = o.width;
  canvas.height = o.height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(o.rgba), o.width, o.height), 0, 0);
  return canvas.toDataURL('image/png'); // a data: URL: no request leaves the page
}

export class Overlays3D {
  private drawn = new Map<string, Drawn>();

  constructor(private readonly scene: Scene, private readonly ground: Ground) {}

  set(overlays: readonly MapOverlay[]): void {
    const wanted = new Map(overlays.map((o) => [o.id, o]));
    for (const [id, d] of this.drawn) {
      if (wanted.get(id) !== d.overlay) { d.remove(); this.drawn.delete(id); }
    }
    for (const o of overlays) if (!this.drawn.has(o.id)) this.drawn.set(o.id, { overlay: o, remove: this.draw(o) });
    this.scene.requestRender();
  }

  clear(): void { this.set([]); }

  private draw(o: MapOverlay): () => void {
    const { scene, ground } = this;
    if (o.kind === 'grid') {
      const [w, s, e, n] = o.bounds;
      const layer = new ImageryLayer(new SingleTileImageryProvider({
        url: gridDataUrl(o), rectangle: Rectangle.fromDegrees(w, s, e, n), tileWidth: o.width, tileHeight: o.height,
      }));
      scene.globe.imageryLayers.add(layer);
      return () => { scene.globe.imageryLayers.remove(layer, true); };
    }
    if (o.kind === 'areas') return this.drawAreas(o);
    const points = scene.primitives.add(new PointPrimitiveCollection()) as PointPrimitiveCollection;
    const labels = scene.primitives.add(new LabelCollection()) as LabelCollection;
    const lines = scene.primitives.add(new PolylineCollection()) as PolylineCollection;
    const fills: GroundPrimitive[] = [];
    const at = (p: LonLat, lift: number) => Cartesian3.fromDegrees(p[0], p[1], ground.heightAt(p[0], p[1]) + lift);
    if (o.kind === 'markers') {
      for (const m of o.markers) {
        points.add({
          position: at(m.lonLat, 6), pixelSize: 2 * m.radiusPx, color: colour(m.fill),
          outlineColor: colour(m.line ?? [255, 255, 255, 255]), outlineWidth: 1.5, disableDepthTestDistance: Number.POSITIVE_INFINITY,
        });
        if (m.label) {
          labels.add({
            text: m.label, position: at(m.lonLat, 6), font: `700 12px ${CJK_FONT_STACK}`, fillColor: Color.WHITE,
            outlineColor: Color.fromBytes(80, 0, 40), outlineWidth: 2, style: LabelStyle.FILL_AND_OUTLINE,
            horizontalOrigin: HorizontalOrigin.CENTER, verticalOrigin: VerticalOrigin.CENTER,
            disableDepthTestDistance: Number.POSITIVE_INFINITY, pixelOffset: new Cartesian2(0, 0),
          });
        }
      }
    } else {
      const line = colour(o.line);
      for (const g of o.geometries) {
        const parts = geometryParts(g);
        for (const p of parts.points) {
          points.add({
            position: at(p, 4), pixelSize: 2 * (o.pointRadiusPx ?? 5), color: colour(o.fill), outlineColor: line,
            outlineWidth: Math.min(3, o.lineWidthPx), disableDepthTestDistance: Number.POSITIVE_INFINITY,
          });
        }
        for (const l of parts.lines) lines.add({ positions: ground.positions(l, 4), width: o.lineWidthPx }).material.uniforms.color = line;
        for (const poly of parts.polygons) {
          for (const ring of poly) lines.add({ positions: ground.positions(ring, 4), width: o.lineWidthPx }).material.uniforms.color = line;
          if (o.fill[3] > 0 && poly[0]?.length >= 4) {
            const ring = (r: LonLat[]) => Cartesian3.fromDegreesArray(r.slice(0, -1).flat());
            fills.push(scene.primitives.add(new GroundPrimitive({
              geometryInstances: new GeometryInstance({
                geometry: new PolygonGeometry({ polygonHierarchy: new PolygonHierarchy(ring(poly[0]), poly.slice(1).map((h) => new PolygonHierarchy(ring(h)))) }),
                attributes: { color: ColorGeometryInstanceAttribute.fromColor(colour(o.fill)) },
              }),
              appearance: new PerInstanceColorAppearance({ flat: true, translucent: true }),
              asynchronous: true,
            })) as GroundPrimitive);
          }
        }
      }
    }
    return () => {
      for (const p of [points, labels, lines, ...fills]) scene.primitives.remove(p);
    };
  }

  /** A choropleth: every area one instance of a single GroundPrimitive (draped on the terrain, one draw
   *  call), outlines in one polyline collection, labels in one label collection. */
  private drawAreas(o: AreaOverlay): () => void {
    const { scene, ground } = this;
    const lines = scene.primitives.add(new PolylineCollection()) as PolylineCollection;
    const labels = scene.primitives.add(new LabelCollection()) as LabelCollection;
    const ring = (r: LonLat[]) => Cartesian3.fromDegreesArray(r.slice(0, -1).flat());
    const instances: GeometryInstance[] = [];
    const line = colour(o.line);
    for (const a of o.areas) {
      const polys = a.geometry.type === 'Polygon' ? [a.geometry.coordinates] : a.geometry.coordinates;
      for (const poly of polys as LonLat[][][]) {
        if (!(poly[0]?.length >= 4)) continue;
        instances.push(new GeometryInstance({
          geometry: new PolygonGeometry({ polygonHierarchy: new PolygonHierarchy(ring(poly[0]), poly.slice(1).map((h) => new PolygonHierarchy(ring(h)))) }),
          attributes: { color: ColorGeometryInstanceAttribute.fromColor(colour(a.fill)) },
        }));
        if (o.lineWidthPx > 0) lines.add({ positions: ground.positions(poly[0], 4), width: o.lineWidthPx }).material.uniforms.color = line;
      }
      if (a.label && a.labelAt) {
        const [lon, lat] = a.labelAt;
        labels.add({
          text: a.label, position: Cartesian3.fromDegrees(lon, lat, ground.heightAt(lon, lat) + 20), font: `700 13px ${CJK_FONT_STACK}`,
          fillColor: Color.fromBytes(20, 20, 20), outlineColor: Color.WHITE, outlineWidth: 3, style: LabelStyle.FILL_AND_OUTLINE,
          horizontalOrigin: HorizontalOrigin.CENTER, verticalOrigin: VerticalOrigin.CENTER, disableDepthTestDistance: Number.POSITIVE_INFINITY,
          pixelOffset: new Cartesian2(0, AREA_LABEL_OFFSET_PX),
        });
      }
    }
    const fill = instances.length ? scene.primitives.add(new GroundPrimitive({
      geometryInstances: instances, appearance: new PerInstanceColorAppearance({ flat: true, translucent: true }), asynchronous: true,
    })) as GroundPrimitive : null;
    return () => {
      for (const p of [lines, labels, fill]) if (p) scene.primitives.remove(p);
    };
  }
}
