// Analysis overlays (overlays.ts) as deck.gl layers. Layers are cached per overlay object: the stores
// hand over a new object only when the content changed, so a pan re-uses every buffer and texture.
import type { Layer } from '@deck.gl/core';
import { BitmapLayer, GeoJsonLayer, ScatterplotLayer, TextLayer } from '@deck.gl/layers';
import { CJK_FONT_STACK } from './catalog-style.ts';
import { AREA_LABEL_OFFSET_PX, type Area, type AreaOverlay, type GridOverlay, type MapOverlay, type Marker } from './overlays.ts';

const canvases = new WeakMap<GridOverlay, HTMLCanvasElement>();

/** A grid overlay's pixels on a canvas (what BitmapLayer takes as an image without a network round trip). */
function canvasOf(o: GridOverlay): HTMLCanvasElement {
  let c = canvases.get(o);
  if (!c) {
    c = document.createElement('canvas');
    c.width = o.width;
    c.height = o.height;
    c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(o.rgba), o.width, o.height), 0, 0);
    canvases.set(o, c);
  }
  return c;
}

const features = new WeakMap<object, GeoJSON.Feature[]>();
function featuresOf(o: { geometries: GeoJSON.Geometry[] }): GeoJSON.Feature[] {
  let f = features.get(o);
  if (!f) {
    f = o.geometries.map((geometry) => ({ type: 'Feature', geometry, properties: {} }));
    features.set(o, f);
  }
  return f;
}

const areaFeatures = new WeakMap<AreaOverlay, GeoJSON.Feature<GeoJSON.Geometry, { fill: Area['fill'] }>[]>();
function areaFeaturesOf(o: AreaOverlay): GeoJSON.Feature<GeoJSON.Geometry, { fill: Area['fill'] }>[] {
  let f = areaFeatures.get(o);
  if (!f) {
    f = o.areas.map((a) => ({ type: 'Feature', id: a.id, geometry: a.geometry, properties: { fill: a.fill } }));
    areaFeatures.set(o, f);
  }
  return f;
}

/** A choropleth: every area in one GeoJsonLayer (colour per feature), its labels in one TextLayer. */
function areaLayers(o: AreaOverlay): Layer[] {
  const out: Layer[] = [new GeoJsonLayer<{ fill: Area['fill'] }>({
    id: `overlay-${o.id}`, data: areaFeaturesOf(o), stroked: true, filled: true,
    getFillColor: (f) => f.properties.fill, getLineColor: o.line, lineWidthUnits: 'pixels', getLineWidth: o.lineWidthPx,
  })];
  const labelled = o.areas.filter((a) => a.label && a.labelAt);
  if (labelled.length) {
    out.push(new TextLayer<Area>({
      id: `overlay-${o.id}-labels`, data: labelled, getPosition: (a) => a.labelAt!, getText: (a) => a.label!,
      getSize: 13, sizeUnits: 'pixels', getColor: [20, 20, 20, 255], fontWeight: 700, characterSet: 'auto', getPixelOffset: [0, AREA_LABEL_OFFSET_PX],
      fontFamily: CJK_FONT_STACK, fontSettings: { sdf: true }, outlineWidth: 3, outlineColor: [255, 255, 255, 230],
    }));
  }
  return out;
}

/** Grids and areas go under the point layers (they are backgrounds); markers and shapes above them. */
export function overlayLayers2d(overlays: readonly MapOverlay[], where: 'below' | 'above'): Layer[] {
  const out: Layer[] = [];
  for (const o of overlays) {
    // An empty overlay (no live devices in view yet, an analysis with no result) adds no layer: each
    // layer costs a draw pass per frame.
    if ((o.kind === 'markers' && !o.markers.length) || (o.kind === 'geometries' && !o.geometries.length) || (o.kind === 'areas' && !o.areas.length)) continue;
    if (o.kind === 'areas') {
      if (where === 'below') out.push(...areaLayers(o));
    } else if (o.kind === 'grid') {
      if (where !== 'below') continue;
      const [w, s, e, n] = o.bounds;
      out.push(new BitmapLayer({ id: `overlay-${o.id}`, image: canvasOf(o), bounds: [w, s, e, n], textureParameters: { minFilter: 'linear', magFilter: 'linear' } }));
    } else if (where === 'above' && o.kind === 'geometries') {
      out.push(new GeoJsonLayer({
        id: `overlay-${o.id}`, data: featuresOf(o), stroked: true, filled: true,
        getFillColor: o.fill, getLineColor: o.line, lineWidthUnits: 'pixels', getLineWidth: o.lineWidthPx,
        pointType: 'circle', pointRadiusUnits: 'pixels', getPointRadius: o.pointRadiusPx ?? 5,
      }));
    } else if (where === 'above' && o.kind === 'markers') {
      out.push(new ScatterplotLayer<Marker>({
        id: `overlay-${o.id}`, data: o.markers, getPosition: (m) => m.lonLat, radiusUnits: 'pixels', getRadius: (m) => m.radiusPx,
        getFillColor: (m) => m.fill, stroked: true, getLineColor: (m) => m.line ?? [255, 255, 255, 255], lineWidthUnits: 'pixels', getLineWidth: 1.5,
      }));
      const labelled = o.markers.filter((m) => m.label);
      if (labelled.length) {
        out.push(new TextLayer<Marker>({
          id: `overlay-${o.id}-labels`, data: labelled, getPosition: (m) => m.lonLat, getText: (m) => m.label!,
          getSize: 12, sizeUnits: 'pixels', getColor: [255, 255, 255, 255], fontWeight: 700, characterSet: 'auto',
          fontFamily: CJK_FONT_STACK, fontSettings: { sdf: true }, outlineWidth: 2, outlineColor: [80, 0, 40, 255],
        }));
      }
    }
  }
  return out;
}
