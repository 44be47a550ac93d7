// The one interface both map engines implement (deck.gl 2D, Cesium 3D). The Vue shell talks to an
// engine only through this, so panels, stores and URL state never know which engine is on screen.
// Engine objects are big and not reactive: keep them in shallowRef/markRaw, never in a store.
import type { MapOverlay } from './overlays.ts';

export type LonLat = [number, number];

/** A camera both engines understand. zoom is the Web Mercator zoom at the view centre; in 3D it maps
 *  to a camera height (see camera.ts). bearing: degrees clockwise from north; pitch: 0 = straight down. */
export interface CameraView {
  lon: number;
  lat: number;
  zoom: number;
  bearing: number;
  pitch: number;
}

/** A feature the user picked (click/tap/keyboard) or hovers. */
export interface PickedFeature {
  layerId: string;
  id: string;
  properties: Record<string, unknown>;
  /** Where it is: the point itself, or where the user clicked on a line/polygon. */
  lonLat: LonLat;
  geometry?: GeoJSON.Geometry;
}

/** What the shell wants drawn for a catalog layer. */
export interface EngineLayerState {
  id: string;
  visible: boolean;
  /** 0–1 */
  opacity: number;
}

/** Measure/draw overlays, already in their final shape (circles come as polygons). */
export interface DrawShape {
  id: string;
  kind: 'line' | 'polygon';
  coordinates: LonLat[];
  /** Text shown at labelAt, e.g. "1.25 公里" */
  label?: string;
  labelAt?: LonLat;
  /** Still being drawn: shown dashed/lighter. */
  draft?: boolean;
}

/** Analysis results drawn above the map (hot-spot density, clusters, query shapes and hits); see overlays.ts. */
export type { MapOverlay };

export interface EngineStatus {
  tilesLoaded?: number;
  /** First complete viewport of the basemap has been drawn. */
  ready?: boolean;
  /** Chinese place names decoded so far (labels the engine has to show). */
  labelNames?: string[];
  error?: { key: string; detail: string };
}

/** A handle of the feature being edited (issue 8): a vertex to drag, or an edge midpoint that inserts one. */
export interface EditHandle {
  kind: 'vertex' | 'midpoint';
  part: number;
  ring: number;
  /** vertex: its index; midpoint: the index of the vertex the edge starts at. */
  index: number;
  lonLat: LonLat;
  selected?: boolean;
}

/** What the editor wants drawn above everything (2D; 3D shows the saved result through refreshLayers). */
export interface EditDrawing {
  kind: 'point' | 'line' | 'polygon';
  /** The working geometry of the feature being edited; the others an edit changes (neighbours, pieces). */
  primary: GeoJSON.Geometry | null;
  others: GeoJSON.Geometry[];
  handles: EditHandle[];
  /** A new feature or a cut line being drawn: its positions so far. */
  sketch: LonLat[];
  /** Where the pointer snaps now. */
  snap: LonLat | null;
  /** Validation findings with a place (the server's `location`). */
  issues: { lonLat: LonLat; severity: 'error' | 'warning'; message: string }[];
}

export interface EngineEvents {
  onViewChange(view: CameraView): void;
  onHover(feature: PickedFeature | null): void;
  /** A click/tap: the picked feature (if any) and where on the ground it was (null off the globe). */
  onClick(feature: PickedFeature | null, lonLat: LonLat | null): void;
  /** The ground position under the pointer, for the coordinate readout. */
  onPointer(lonLat: LonLat | null): void;
  onStatus(status: EngineStatus): void;
  /** Dragging an edit handle (the map does not pan meanwhile); px are CSS pixels in the map container. */
  onEditDrag?(phase: 'start' | 'move' | 'end', handle: EditHandle, lonLat: LonLat, px: [number, number]): void;
}

export interface EngineInit {
  container: HTMLElement;
  view: CameraView;
  layers: EngineLayerState[];
  /** Base URL of the tile server (window.location.origin in the app). */
  baseUrl: string;
  events: EngineEvents;
}

export interface MapEngine {
  readonly kind: '2d' | '3d';
  getView(): CameraView;
  setView(view: CameraView, opts?: { durationMs?: number }): void;
  setLayers(layers: EngineLayerState[]): void;
  /** Highlight the selected feature (camera: also its view cone). */
  setSelection(feature: PickedFeature | null): void;
  setHover(feature: PickedFeature | null): void;
  setDrawings(shapes: DrawShape[]): void;
  /** Replaces every analysis overlay; an empty list removes them. Overlay objects are immutable: same object, same drawing. */
  setOverlays(overlays: MapOverlay[]): void;
  /** While a draw/measure tool is active the engine must not start feature picking on click. */
  setCursor(mode: 'default' | 'crosshair'): void;
  /** Ground metres per CSS pixel at the view centre (scale bar). */
  metersPerPixel(): number;
  destroy(): void;
  /** Draws the editor's working geometry and handles (null: none). Optional: the 3D engine has no editor. */
  setEditing?(drawing: EditDrawing | null): void;
  /** Screen position (CSS px in the container) of a place, for snapping; null when off screen/globe. */
  project?(p: LonLat): [number, number] | null;
  /** The layers changed on the server (revision = the edit store's seq): reload their tiles and data (?rev=N). */
  refreshLayers?(layerIds: string[], revision: number): void;
}

export type EngineFactory = (init: EngineInit) => Promise<MapEngine>;
