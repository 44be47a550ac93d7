// The 2D map engine (deck.gl) behind engine.ts: basemap and overlay vector tiles from our tile
// server, catalog point layers as binary ScatterplotLayers with grid clusters at low zoom, addresses
// by bounding box at street zoom, picking, selection with the camera's view cone, and measure shapes.
// The Deck is a plain object inside this closure: never reactive, never on `window`.
import { Deck, FlyToInterpolator, MapView, WebMercatorViewport, type Layer, type PickingInfo } from '@deck.gl/core';
import { GeoJsonLayer, PathLayer, PolygonLayer, ScatterplotLayer, TextLayer } from '@deck.gl/layers';
import { CITY, LAYERS, TILESETS, getLayer, tilesetLayers, type LayerDef, type Tileset } from '../../../layers/catalog.ts';
import { BUILDING_OUTLINE_MIN_ZOOM, CJK_FONT_STACK, LABEL_HALO, LAYER_PROPERTY, tilesetStyle, type TilesetStyle } from './catalog-style.ts';
import { metersPerPixelAt } from './camera.ts';
import type { CameraView, DrawShape, EditDrawing, EditHandle, EngineFactory, EngineLayerState, LonLat, MapEngine, MapOverlay, PickedFeature } from './engine.ts';
import { withRevision } from '../editing/revision-url.ts';
import { overlayLayers2d } from './overlays-2d.ts';
import { loadPointLayer } from './point-data.ts';
import { CLUSTER_BELOW_ZOOM, binaryPoints, clustersAt, type BinaryPoints, type Clusters } from './point-layers-2d.ts';
import { labelNames } from './tile-content.ts';
import { createHoverTileLayer, createTilesetLayer, type TilesetLayerHandlers } from './tile-layers.ts';
import { createPictureLayer, createPictureRenderer, pictureKey, type PictureHandlers } from './raster-tile-layer.ts';
import type { PicturePart } from './picture-render.ts';
import { fetchTileJson, type TileJSON } from './tilejson.ts';
import { viewConePolygon } from './view-cone.ts';

/** Layers drawn from /data/{id}.fgb as points (everything else comes from the tiles). */
export const POINT_LAYERS = ['cameras', 'sensors', 'facilities', 'responders', 'hazards'] as const;
/** 492k addresses do not fit in a browser: they are fetched by bounding box, only at street zoom. */
export const ADDRESS_MIN_ZOOM = 16;
const ADDRESS_LIMIT = 10_000;
const MIN_ZOOM = 6;
const MAX_ZOOM = 19;
const MAX_PITCH = 80;
const SELECT_COLOUR: [number, number, number, number] = [255, 215, 0, 255];
const HOVER_COLOUR: [number, number, number, number] = [255, 200, 0, 140];
const CONE_FILL: [number, number, number, number] = [30, 140, 255, 60];
const CONE_LINE: [number, number, number, number] = [30, 140, 255, 220];
const DRAW_LINE: [number, number, number, number] = [220, 40, 120, 255];
const DRAW_FILL: [number, number, number, number] = [220, 40, 120, 50];
const EDIT_LINE: [number, number, number, number] = [0, 150, 255, 255];
const EDIT_FILL: [number, number, number, number] = [0, 150, 255, 45];
const EDIT_OTHER: [number, number, number, number] = [0, 150, 255, 140];
const SNAP_COLOUR: [number, number, number, number] = [255, 0, 200, 255];
const ISSUE_COLOURS = { error: [220, 30, 30, 255], warning: [240, 150, 0, 255] } as const;
/** A press within this many CSS pixels of an edit handle drags the handle instead of panning the map. */
export const HANDLE_HIT_PX = 9;
/** Label glyphs are built for the characters in use ('auto') from local fonts only. */
const LABEL_FONT = { sdf: true, fontSize: 48, buffer: 6, radius: 12 };

interface DeckViewState {
  longitude: number; latitude: number; zoom: number; bearing: number; pitch: number;
  minZoom: number; maxZoom: number; maxPitch: number;
  transitionDuration?: number;
  transitionInterpolator?: FlyToInterpolator;
}

function toDeck(v: CameraView): DeckViewState {
  return {
    longitude: v.lon, latitude: v.lat,
    zoom: Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.zoom)),
    bearing: v.bearing, pitch: Math.min(MAX_PITCH, Math.max(0, v.pitch)),
    minZoom: MIN_ZOOM, maxZoom: MAX_ZOOM, maxPitch: MAX_PITCH,
  };
}

function toCamera(v: { longitude: number; latitude: number; zoom: number; bearing?: number; pitch?: number }): CameraView {
  const b = v.bearing ?? 0;
  return { lon: v.longitude, lat: v.latitude, zoom: v.zoom, bearing: ((((b + 180) % 360) + 360) % 360) - 180, pitch: v.pitch ?? 0 };
}

/** Ground metres per CSS pixel of deck.gl's Web Mercator map (512-px tiles) at `lat`, `zoom`. */
export function deckMetersPerPixel(lat: number, zoom: number): number {
  return metersPerPixelAt(lat, zoom);
}

interface AddressSet { bbox: [number, number, number, number]; positions: Float64Array; props: Record<string, unknown>[] }

export const createDeckEngine: EngineFactory = async (init) => {
  const { container, events, baseUrl } = init;
  let viewState: DeckViewState = toDeck(init.view);
  const states = new Map<string, EngineLayerState>();
  const setStates = (list: EngineLayerState[]) => { for (const s of list) states.set(s.id, s); };
  setStates(init.layers);
  const isOn = (id: string, zoom = viewState.zoom): boolean => {
    const def = getLayer(id);
    const s = states.get(id);
    const visible = s ? s.visible : def?.visibleByDefault ?? false;
    return !!def && visible && zoom >= def.minzoom && zoom < def.maxzoom;
  };
  const opacityOf = (id: string) => states.get(id)?.opacity ?? 1;

  let tileJsons: Partial<Record<Tileset, TileJSON>> = {};
  const points = new Map<string, BinaryPoints>();
  const loading = new Set<string>();
  let addresses: AddressSet | null = null;
  let addressAbort: AbortController | null = null;
  let addressTimer: ReturnType<typeof setTimeout> | null = null;
  let selection: PickedFeature | null = null;
  let selectionGeometry: GeoJSON.Geometry | null = null;
  let hover: PickedFeature | null = null;
  let drawings: DrawShape[] = [];
  let overlays: MapOverlay[] = [];
  let cursor: 'default' | 'crosshair' = 'default';
  let destroyed = false;
  let editing: EditDrawing | null = null;
  /** Revision of the data each point layer was last loaded at (after an edit, ?rev=N). */
  const pointRevs = new Map<string, number>();

  // ---- status for the shell (cumulative counts, so any number of listeners can diff them)
  let tilesLoaded = 0;
  const names = new Set<string>();
  /** Tilesets whose vector layer (labels, picking) has loaded the viewport, and `picture` once the picture has. */
  const loadedTilesets = new Set<string>();
  const allLoaded = () => (globalThis as any).__x || (globalThis as any).__y || loadedTilesets.has('picture') && TILESETS.every((ts) => !tileJsons[ts] || loadedTilesets.has(ts));
  let ready = false;
  const labelled = (ts: Tileset): LayerDef[] => tilesetLayers(ts).filter((l) => l.geometry === 'point' && l.style.label);
  const handlers: TilesetLayerHandlers = {
    onTile(tileset, content) {
      tilesLoaded += 1;
      if (content) {
        for (const l of labelled(tileset)) for (const n of labelNames(content, l.tiles!.sourceLayer, l.style.label!)) if (names.size < 500) names.add(n);
      }
      events.onStatus({ tilesLoaded, labelNames: [...names], ready });
    },
    onViewportLoad(tileset) { viewportLoaded(tileset); },
    onError(tileset, error) { tileFailed(tileset, error); },
  };
  const pictureHandlers: PictureHandlers = {
    onViewportLoad() { viewportLoaded('picture'); },
    onError(error) { tileFailed('picture', error); },
  };
  function viewportLoaded(key: string): void {
    loadedTilesets.add(key);
    if (!ready && allLoaded()) ready = true;
    events.onStatus({ tilesLoaded, labelNames: [...names], ready });
  }
  function tileFailed(tileset: string, error: unknown): void {
    events.onStatus({ error: { key: 'tileFailed', detail: `${tileset}: ${error instanceof Error ? error.message : String(error)}` } });
  }
  /** Draws the picture's tiles (in a worker). */
  const pictures = createPictureRenderer();

  // ---- tile styles are cached by key, so a pan does not rebuild accessors (deck.gl compares them)
  const styleCache = new Map<Tileset, TilesetStyle>();
  function styleFor(ts: Tileset): TilesetStyle {
    const shown = tilesetLayers(ts).filter((l) => isOn(l.id)).map((l) => l.id);
    const s = tilesetStyle(ts, shown, viewState.zoom, { buildingOutlineMinZoom: BUILDING_OUTLINE_MIN_ZOOM });
    const old = styleCache.get(ts);
    if (old && old.key === s.key) return old;
    styleCache.set(ts, s);
    return s;
  }

  // ---- picking
  const tileLayerBySource = new Map<string, LayerDef>(LAYERS.filter((l) => l.tiles).map((l) => [`${l.tiles!.tileset}/${l.tiles!.sourceLayer}`, l]));

  function picked(info: PickingInfo): PickedFeature | null | 'cluster' {
    if (!info.picked || !info.layer) return null;
    const lid = info.layer.id;
    const lonLat = (info.coordinate ? [info.coordinate[0], info.coordinate[1]] : [viewState.longitude, viewState.latitude]) as LonLat;
    for (const ts of TILESETS) {
      if (lid === `tiles-${ts}`) {
        const f = info.object as { properties?: Record<string, unknown> } | undefined;
        const props = { ...(f?.properties ?? {}) };
        const def = tileLayerBySource.get(`${ts}/${String(props[LAYER_PROPERTY])}`);
        if (!def) return null;
        delete props[LAYER_PROPERTY];
        const id = props.id ?? props.code ?? props.name;
        if (id === undefined || id === null) return null;
        return { layerId: def.id, id: String(id), properties: props, lonLat };
      }
    }
    if (lid.startsWith('clusters-')) return 'cluster';
    if (lid.startsWith('points-')) {
      const layerId = lid.slice('points-'.length);
      const i = info.index;
      if (layerId === 'addresses') {
        if (!addresses || i < 0 || i >= addresses.props.length) return null;
        const p = addresses.props[i];
        const pos: LonLat = [addresses.positions[2 * i], addresses.positions[2 * i + 1]];
        return { layerId, id: String(p.id), properties: p, lonLat: pos, geometry: { type: 'Point', coordinates: pos } };
      }
      const pts = points.get(layerId);
      if (!pts || i < 0 || i >= pts.data.count) return null;
      const p = pts.data.properties(i);
      const pos = pts.data.position(i);
      return { layerId, id: String(p.id ?? i), properties: p, lonLat: pos, geometry: { type: 'Point', coordinates: pos } };
    }
    return null;
  }

  const sameFeature = (a: PickedFeature | null, b: PickedFeature | null) => a?.layerId === b?.layerId && a?.id === b?.id;

  // deck.gl compares `data` by reference: a new object on every render would re-upload every buffer on
  // every frame of a pan. Data objects are therefore cached on what they are built from.
  const memoSlots = new Map<string, { deps: unknown[]; value: unknown }>();
  function memo<T>(slot: string, deps: unknown[], build: () => T): T {
    const m = memoSlots.get(slot);
    if (m && m.deps.length === deps.length && m.deps.every((d, i) => d === deps[i])) return m.value as T;
    const value = build();
    memoSlots.set(slot, { deps, value });
    return value;
  }

  // ---- picking on demand. deck.gl picks by itself on every pointer-down (to prepare a click) and on
  // every pointer move (for hover): each pass draws every pickable layer again and waits on readPixels.
  // On software WebGL (no GPU: headless browsers, old wall PCs) one pass costs several frames, and every
  // pan starts with one. So deck.gl's own passes draw nothing (layerFilter); the engine picks itself
  // only on a click and when the pointer rests (pickAt).
  let picking = false;
  function pickAt(x: number, y: number): PickingInfo | null {
    picking = true;
    deck.setProps({ _pickable: true });
    try {
      return deck.pickObject({ x, y, radius: 6 });
    } finally {
      picking = false;
      deck.setProps({ _pickable: false });
    }
  }

  // ---- the Deck
  const deck = new Deck<MapView>({
    parent: container as HTMLDivElement,
    views: new MapView({ id: 'map', repeat: false, controller: { doubleClickZoom: true, touchRotate: true, dragRotate: true, keyboard: true } }),
    viewState,
    layers: [],
    // A small radius makes thin lines and 6-px dots hittable with a finger.
    pickingRadius: 6,
    // deck.gl picks synchronously on pointer-down and only counts a press released within 250 ms as a
    // click; on software WebGL (headless test browsers, old wall PCs) picking alone takes 0.4–2.5 s, so
    // clicks were lost. A press that moves more than a few pixels is still a drag.
    eventRecognizerOptions: { click: { time: 10_000 } },
    // (Tile fills and lines kept for picking alone are left out of the frames on screen by tile-layers.ts.)
    // The hover highlight layers are never picked (they would find the hovered feature again, at full cost).
    layerFilter: ({ layer, isPicking }) => (isPicking ? picking && !layer.id.startsWith('hover-') : true),
    // And with no layer to draw, deck.gl's own passes would still clear the picking buffer and read it
    // back: readPixels waits for the GPU to finish every frame queued so far, which on software WebGL
    // stalled the page for about a second at the start of each drag. `_pickable: false` skips them
    // altogether (pickAt turns it on for its own pass).
    _pickable: false,
    getCursor: ({ isDragging, isHovering }) => (cursor === 'crosshair' ? 'crosshair' : isDragging ? 'grabbing' : isHovering ? 'pointer' : 'grab'),
    onViewStateChange: ({ viewState: next }) => {
      const zoomChanged = (next as DeckViewState).zoom !== viewState.zoom;
      viewState = { ...(next as DeckViewState) };
      deck.setProps({ viewState });
      events.onViewChange(toCamera(viewState));
      // The layer list depends on the view only through the zoom (labels, outlines, clusters, min/max
      // zooms): a pan keeps every layer as it is, so the list is not rebuilt (and re-diffed by deck.gl,
      // layer by layer and tile by tile) on each pointer move of a drag.
      if (zoomChanged) render();
      scheduleAddresses();
    },
    onClick: (clicked) => {
      const lonLat = clicked.coordinate ? [clicked.coordinate[0], clicked.coordinate[1]] as LonLat : null;
      if (cursor === 'crosshair') { events.onClick(null, lonLat); return; }
      const info = pickAt(clicked.x, clicked.y) ?? clicked;
      const f = picked(info);
      if (f === 'cluster') {
        // A cluster stands for many points: open it up rather than pick one of them.
        if (lonLat) setView({ ...toCamera(viewState), lon: lonLat[0], lat: lonLat[1], zoom: Math.max(CLUSTER_BELOW_ZOOM, viewState.zoom + 2) }, { durationMs: 500 });
        events.onClick(null, lonLat);
        return;
      }
      events.onClick(f, lonLat);
    },
    onError: (error: Error) => events.onStatus({ error: { key: 'mapInitFailed', detail: error.message } }),
  });

  // ---- hover: picked only when the pointer rests, never during a drag (see tile-layers.ts)
  const HOVER_REST_MS = 60;
  let hoverTimer: ReturnType<typeof setTimeout> | null = null;
  function pointerAt(e: PointerEvent): [number, number] {
    const r = container.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }
  function onPointerMove(e: PointerEvent): void {
    if (hoverTimer) { clearTimeout(hoverTimer); hoverTimer = null; }
    // During a drag the map moves with the pointer: the place under it (the readout) stays the same,
    // and measuring the container on every move forced a layout per event while the map pans.
    if (e.buttons !== 0) return;
    const [x, y] = pointerAt(e);
    const vp = deck.getViewports()[0];
    const ll = vp ? vp.unproject([x, y]) : null;
    events.onPointer(ll && Number.isFinite(ll[0]) && Number.isFinite(ll[1]) ? [ll[0], ll[1]] : null);
    if (e.pointerType === 'touch' || cursor === 'crosshair') return;
    hoverTimer = setTimeout(() => {
      hoverTimer = null;
      const info = pickAt(x, y);
      const f = info ? picked(info) : null;
      const next = f === 'cluster' ? null : f;
      if (!sameFeature(next, hover)) { hover = next; events.onHover(next); render(); }
    }, HOVER_REST_MS);
  }
  function onPointerLeave(): void {
    if (hoverTimer) clearTimeout(hoverTimer);
    events.onPointer(null);
    if (hover) { hover = null; events.onHover(null); render(); }
  }
  // A press starts a drag or a click: a hover pick still pending from the move before it would run in
  // the middle of the drag (and a click picks for itself).
  function onPointerDown(): void {
    if (hoverTimer) { clearTimeout(hoverTimer); hoverTimer = null; }
  }
  container.addEventListener('pointerdown', onPointerDown, { passive: true, capture: true });
  container.addEventListener('pointermove', onPointerMove, { passive: true });
  container.addEventListener('pointerleave', onPointerLeave, { passive: true });

  // ---- edit handles: a press on one drags it (the map must not pan), reported to the shell in lon/lat
  let dragging: EditHandle | null = null;
  function handleAt(x: number, y: number): EditHandle | null {
    const vp = deck.getViewports()[0];
    if (!editing || !vp) return null;
    let best: EditHandle | null = null, bestD = HANDLE_HIT_PX * HANDLE_HIT_PX;
    // Vertices win over midpoints at equal distance: they are drawn on top.
    for (const kind of ['vertex', 'midpoint'] as const) {
      for (const h of editing.handles) {
        if (h.kind !== kind) continue;
        const [hx, hy] = vp.project(h.lonLat);
        const d = (hx - x) ** 2 + (hy - y) ** 2;
        if (d < bestD) { best = h; bestD = d; }
      }
      if (best) return best;
    }
    return best;
  }
  function groundAt(x: number, y: number): LonLat | null {
    const ll = deck.getViewports()[0]?.unproject([x, y]);
    return ll && Number.isFinite(ll[0]) && Number.isFinite(ll[1]) ? [ll[0], ll[1]] : null;
  }
  function onEditDown(e: PointerEvent): void {
    if (!editing || e.button !== 0 || !events.onEditDrag) return;
    const [x, y] = pointerAt(e);
    const h = handleAt(x, y);
    if (!h) return;
    // Capture phase on the container: deck.gl's gesture recogniser (on the canvas inside) never sees the press.
    e.stopPropagation();
    e.preventDefault();
    dragging = h;
    try { container.setPointerCapture(e.pointerId); } catch { /* synthetic events have no active pointer */ }
    events.onEditDrag('start', h, groundAt(x, y) ?? h.lonLat, [x, y]);
  }
  function onEditMove(e: PointerEvent): void {
    if (!dragging) return;
    e.stopPropagation();
    const [x, y] = pointerAt(e);
    const ll = groundAt(x, y);
    if (ll) events.onEditDrag?.('move', dragging, ll, [x, y]);
  }
  function onEditUp(e: PointerEvent): void {
    if (!dragging) return;
    e.stopPropagation();
    const h = dragging;
    dragging = null;
    try { container.releasePointerCapture(e.pointerId); } catch { /* not captured */ }
    const [x, y] = pointerAt(e);
    events.onEditDrag?.('end', h, groundAt(x, y) ?? h.lonLat, [x, y]);
  }
  container.addEventListener('pointerdown', onEditDown, { capture: true });
  container.addEventListener('pointermove', onEditMove, { capture: true });
  container.addEventListener('pointerup', onEditUp, { capture: true });
  container.addEventListener('pointercancel', onEditUp, { capture: true });

  // ---- point layers
  function ensurePoints(): void {
    for (const id of POINT_LAYERS) {
      if (!isOn(id) || points.has(id) || loading.has(id)) continue;
      loading.add(id);
      const rev = pointRevs.get(id);
      // A distinct base (the hash is dropped by URL resolution) keeps point-data.ts's per-page cache apart per revision.
      loadPointLayer(id, rev ? `${baseUrl}#rev${rev}` : baseUrl, rev ? (u, i) => fetch(withRevision(String(u), rev), i) : fetch)
        .then((data) => { if (!destroyed) { points.set(id, binaryPoints(getLayer(id)!, data)); render(); } })
        .catch((e: unknown) => events.onStatus({ error: { key: 'shell.layerFailed', detail: `${id}: ${e instanceof Error ? e.message : String(e)}` } }))
        .finally(() => loading.delete(id));
    }
  }

  function pointLayer(def: LayerDef, pts: BinaryPoints): Layer {
    const radius = def.style.radius ?? 4;
    return new ScatterplotLayer({
      id: `points-${def.id}`,
      // Binary attributes: positions stay Float64 (deck.gl splits them into high/low parts on the GPU).
      data: memo(`points-${def.id}`, [pts], () => ({ length: pts.data.count, attributes: {
        getPosition: { value: pts.data.positions, size: 2 }, getFillColor: { value: pts.colours, size: 4, normalized: true } } })),
      radiusUnits: 'pixels', getRadius: radius, radiusMinPixels: 2,
      stroked: true, getLineColor: [255, 255, 255, 220], lineWidthUnits: 'pixels', getLineWidth: 1,
      opacity: opacityOf(def.id), pickable: true,
    });
  }

  function clusterLayers(def: LayerDef, pts: BinaryPoints): Layer[] {
    const c: Clusters = clustersAt(pts, viewState.zoom, CITY.center[1]);
    const { data, labelData, labels } = memo(`clusters-${def.id}`, [c], () => {
      const sizes = new Float32Array(c.count);
      const texts: string[] = new Array(c.count);
      for (let i = 0; i < c.count; i++) {
        sizes[i] = c.counts[i] === 1 ? (def.style.radius ?? 4) : Math.min(26, 8 + 3.2 * Math.log2(c.counts[i]));
        texts[i] = c.counts[i] > 1 ? String(c.counts[i]) : '';
      }
      return {
        data: { length: c.count, attributes: { getPosition: { value: c.positions, size: 2 }, getRadius: { value: sizes, size: 1 } } },
        labelData: { length: c.count, attributes: { getPosition: { value: c.positions, size: 2 } } },
        labels: texts,
      };
    });
    const colour = pts.colours.length >= 4 ? [pts.colours[0], pts.colours[1], pts.colours[2]] : [60, 60, 60];
    const mainColour = (def.style.by && def.style.categories ? Object.values(def.style.categories)[0] : def.style.fill) ?? [colour[0], colour[1], colour[2], 255];
    return [
      new ScatterplotLayer({
        id: `clusters-${def.id}`,
        data, radiusUnits: 'pixels', getFillColor: [mainColour[0], mainColour[1], mainColour[2], 200],
        stroked: true, getLineColor: [255, 255, 255, 255], lineWidthUnits: 'pixels', getLineWidth: 1.5,
        opacity: opacityOf(def.id), pickable: true,
        updateTriggers: { getFillColor: def.id },
      }),
      new TextLayer({
        id: `cluster-counts-${def.id}`,
        data: labelData,
        getText: (_: unknown, { index }: { index: number }) => labels[index],
        getSize: 11, getColor: [255, 255, 255, 255], fontWeight: 700, characterSet: '0123456789',
        fontFamily: CJK_FONT_STACK, sizeUnits: 'pixels', opacity: opacityOf(def.id),
        updateTriggers: { getText: labels },
      }),
    ];
  }

  // ---- addresses by bbox
  function viewportBounds(): [number, number, number, number] {
    const vp = deck.getViewports()[0] ?? new WebMercatorViewport({ ...viewState, width: container.clientWidth || 1, height: container.clientHeight || 1 });
    const b = (vp as WebMercatorViewport).getBounds();
    return [b[0], b[1], b[2], b[3]];
  }

  function scheduleAddresses(): void {
    if (addressTimer) clearTimeout(addressTimer);
    if (!isOn('addresses') || viewState.zoom < ADDRESS_MIN_ZOOM) return;
    addressTimer = setTimeout(loadAddresses, 250);
  }

  async function loadAddresses(): Promise<void> {
    const [w, s, e, n] = viewportBounds();
    if (addresses && w >= addresses.bbox[0] && s >= addresses.bbox[1] && e <= addresses.bbox[2] && n <= addresses.bbox[3]) return;
    // Fetch half a screen beyond each edge, so small pans need no new request.
    const dx = (e - w) / 2, dy = (n - s) / 2;
    const bbox: [number, number, number, number] = [w - dx, s - dy, e + dx, n + dy];
    addressAbort?.abort();
    const ctrl = new AbortController();
    addressAbort = ctrl;
    try {
      const url = new URL(`/ogc/collections/addresses/items?bbox=${bbox.map((v) => v.toFixed(6)).join(',')}&limit=${ADDRESS_LIMIT}`, baseUrl);
      const res = await fetch(url, { signal: ctrl.signal });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const fc = (await res.json()) as GeoJSON.FeatureCollection;
      const feats = fc.features.filter((f) => f.geometry?.type === 'Point');
      const positions = new Float64Array(feats.length * 2);
      feats.forEach((f, i) => {
        const c = (f.geometry as GeoJSON.Point).coordinates;
        positions[2 * i] = c[0];
        positions[2 * i + 1] = c[1];
      });
      if (destroyed) return;
      addresses = { bbox, positions, props: feats.map((f) => ({ id: f.id, ...(f.properties ?? {}) })) };
      render();
    } catch (e) {
      if ((e as Error).name === 'AbortError') return;
      events.onStatus({ error: { key: 'shell.layerFailed', detail: `addresses: ${(e as Error).message}` } });
    }
  }

  // ---- selection geometry (polygons from tiles carry no geometry: fetch it from OGC API Features)
  async function fetchSelectionGeometry(f: PickedFeature): Promise<void> {
    try {
      const res = await fetch(new URL(`/ogc/collections/${encodeURIComponent(f.layerId)}/items/${encodeURIComponent(f.id)}`, baseUrl));
      if (!res.ok) return;
      const feature = (await res.json()) as GeoJSON.Feature;
      if (selection && sameFeature(selection, f) && feature.geometry) { selectionGeometry = feature.geometry; render(); }
    } catch { /* highlight only: the panel still shows the attributes */ }
  }

  // ---- the layer list, bottom to top
  function render(): void {
    if (destroyed) return;
    ensurePoints();
    const layers: Layer[] = [];
    const picture: PicturePart[] = [];
    const vector: Layer[] = [];
    const alpha: Record<string, number> = {};
    for (const ts of TILESETS) {
      const tj = tileJsons[ts];
      if (!tj) continue;
      // A tileset with none of its layers shown is left out: its features would all be drawn transparent.
      // (Its viewport then never loads, so it also no longer holds back `ready`.)
      if (!tilesetLayers(ts).some((l) => isOn(l.id))) { loadedTilesets.add(ts); continue; }
      const opacity = Object.fromEntries(tilesetLayers(ts).map((l) => [l.id, opacityOf(l.id)]));
      Object.assign(alpha, opacity);
      const style = styleFor(ts);
      picture.push({ tileset: ts, tileJson: tj, shown: [...style.bySourceLayer.values()].map((l) => l.id), zoom: viewState.zoom });
      // The hovered feature's highlight over the picture, then labels (and picking).
      const hoverDef = hover ? getLayer(hover.layerId) : undefined;
      if (hover && hoverDef?.tiles?.tileset === ts) {
        vector.push(createHoverTileLayer(ts, tj, memo(`hover-style-${ts}`, [hoverDef.id, style.key], () => tilesetStyle(ts, [hoverDef.id], viewState.zoom)), hover.id));
      }
      if (!(globalThis as any).__y) vector.push(createTilesetLayer(ts, tj, style, handlers, { opacity }));
    }
    // One picture of every shown tileset's fills and lines (basemap, then boundaries), under all labels.
    if (picture.length) {
      // Keyed on what the picture draws: a zoom that changes neither the layers shown nor the outlines redraws nothing.
      const key = `${pictureKey(picture, alpha)}|${viewState.zoom >= BUILDING_OUTLINE_MIN_ZOOM ? 'outlined' : ''}`;
      const parts = memo('picture', [key], () => picture);
      if (!(globalThis as any).__x) layers.push(createPictureLayer(parts, alpha, key, pictures, pictureHandlers));
    } else loadedTilesets.add('picture');
    layers.push(...vector);
    if (!ready && Object.keys(tileJsons).length && allLoaded()) {
      ready = true;
      queueMicrotask(() => events.onStatus({ tilesLoaded, labelNames: [...names], ready }));
    }
    layers.push(...overlayLayers2d(overlays, 'below'));
    if (selectionGeometry && selectionGeometry.type !== 'Point') {
      layers.push(new GeoJsonLayer({
        id: 'selection-shape', data: memo('selection-shape', [selectionGeometry], () => ({ type: 'Feature', geometry: selectionGeometry, properties: {} }) as GeoJSON.Feature),
        stroked: true, filled: true, getFillColor: [255, 215, 0, 50], getLineColor: SELECT_COLOUR,
        lineWidthUnits: 'pixels', getLineWidth: 3,
      }));
    }
    const cone = memo('cone', [selection], selectionCone);
    if (cone) {
      layers.push(new PolygonLayer({
        id: 'view-cone', data: memo('cone-data', [cone], () => [cone]), getPolygon: (d: LonLat[]) => d, getFillColor: CONE_FILL, getLineColor: CONE_LINE,
        lineWidthUnits: 'pixels', getLineWidth: 2, stroked: true, filled: true,
      }));
    }
    const drawn: string[] = [];
    for (const id of POINT_LAYERS) {
      const pts = points.get(id);
      if (!pts || !isOn(id)) continue;
      const def = getLayer(id)!;
      if (viewState.zoom < CLUSTER_BELOW_ZOOM) {
        layers.push(...clusterLayers(def, pts));
        drawn.push(`${id}:clusters`);
      } else {
        layers.push(pointLayer(def, pts));
        drawn.push(`${id}:${pts.data.count}`);
      }
    }
    if (addresses && isOn('addresses') && viewState.zoom >= ADDRESS_MIN_ZOOM) {
      const def = getLayer('addresses')!;
      layers.push(new ScatterplotLayer({
        id: 'points-addresses',
        data: memo('addresses', [addresses], () => ({ length: addresses!.props.length, attributes: { getPosition: { value: addresses!.positions, size: 2 } } })),
        radiusUnits: 'pixels', getRadius: def.style.radius ?? 2, radiusMinPixels: 2, getFillColor: def.style.fill ?? [90, 90, 200, 255],
        opacity: opacityOf('addresses'), pickable: true,
      }));
      drawn.push(`addresses:${addresses.props.length}`);
    }
    if (selection) {
      const at = selection.geometry?.type === 'Point' ? selection.geometry.coordinates as LonLat : selection.lonLat;
      if (selection.geometry?.type === 'Point' || !selectionGeometry) {
        layers.push(new ScatterplotLayer({
          id: 'selection-point', data: memo('selection-point', [selection], () => [at]), getPosition: (d: LonLat) => d, radiusUnits: 'pixels', getRadius: 10,
          filled: false, stroked: true, getLineColor: SELECT_COLOUR, lineWidthUnits: 'pixels', getLineWidth: 3,
        }));
      }
    }
    if (hover && hover.geometry?.type === 'Point') {
      const at = hover.geometry.coordinates;
      layers.push(new ScatterplotLayer({
        id: 'hover-point', data: memo('hover-point', [hover], () => [at]),
        getPosition: (d: number[]) => d as LonLat, radiusUnits: 'pixels', getRadius: 9, filled: true, getFillColor: HOVER_COLOUR,
        stroked: true, getLineColor: [255, 255, 255, 255], lineWidthUnits: 'pixels', getLineWidth: 1.5,
      }));
    }
    layers.push(...overlayLayers2d(overlays, 'above'));
    layers.push(...drawingLayers());
    layers.push(...editLayers());
    deck.setProps({ layers });
    container.dataset.pointsDrawn = drawn.join(',');
  }

  function selectionCone(): LonLat[] | null {
    if (!selection || selection.layerId !== 'cameras') return null;
    const p = selection.properties;
    const [h, f, r] = [Number(p.heading), Number(p.fov), Number(p.range_m)];
    if (![h, f, r].every(Number.isFinite) || f <= 0 || r <= 0) return null;
    const at = selection.geometry?.type === 'Point' ? selection.geometry.coordinates : selection.lonLat;
    return viewConePolygon(at[0], at[1], h, f, r, 24);
  }

  function drawingLayers(): Layer[] {
    if (!drawings.length) return [];
    const { polys, lines, labels, vertices } = memo('drawings', [drawings], () => ({
      polys: drawings.filter((d) => d.kind === 'polygon' && d.coordinates.length >= 3),
      lines: drawings.filter((d) => d.kind === 'line' || d.coordinates.length < 3),
      labels: drawings.filter((d) => d.label && d.labelAt),
      vertices: drawings.flatMap((d) => d.coordinates),
    }));
    const alpha = (d: DrawShape, c: [number, number, number, number]): [number, number, number, number] => [c[0], c[1], c[2], d.draft ? Math.round(c[3] * 0.55) : c[3]];
    const key = drawings.map((d) => `${d.id}:${d.coordinates.length}:${d.draft ? 1 : 0}:${d.label ?? ''}`).join(';');
    return [
      new PolygonLayer({
        id: 'draw-polygons', data: polys, getPolygon: (d: DrawShape) => d.coordinates,
        getFillColor: (d: DrawShape) => alpha(d, DRAW_FILL), getLineColor: (d: DrawShape) => alpha(d, DRAW_LINE),
        lineWidthUnits: 'pixels', getLineWidth: 2, stroked: true, filled: true,
        updateTriggers: { getFillColor: key, getLineColor: key },
      }),
      new PathLayer({
        id: 'draw-lines', data: lines, getPath: (d: DrawShape) => d.coordinates, getColor: (d: DrawShape) => alpha(d, DRAW_LINE),
        widthUnits: 'pixels', getWidth: 3, capRounded: true, jointRounded: true, updateTriggers: { getColor: key },
      }),
      new ScatterplotLayer({
        id: 'draw-vertices', data: vertices, getPosition: (d: LonLat) => d,
        radiusUnits: 'pixels', getRadius: 4, getFillColor: [255, 255, 255, 255], stroked: true, getLineColor: DRAW_LINE,
        lineWidthUnits: 'pixels', getLineWidth: 2,
      }),
      new TextLayer({
        id: 'draw-labels', data: labels, getPosition: (d: DrawShape) => d.labelAt!, getText: (d: DrawShape) => d.label!,
        getSize: 14, sizeUnits: 'pixels', getColor: [40, 20, 40, 255], characterSet: 'auto', fontFamily: CJK_FONT_STACK,
        fontSettings: LABEL_FONT, outlineWidth: 3, outlineColor: LABEL_HALO, getPixelOffset: [0, -14],
        updateTriggers: { getText: key },
      }),
    ];
  }

  // ---- the editor's working geometry, handles, snap indicator and validation markers (above everything)
  function editLayers(): Layer[] {
    const d = editing;
    if (!d) return [];
    const out: Layer[] = [];
    if (d.others.length) {
      out.push(new GeoJsonLayer({
        id: 'edit-others', data: memo('edit-others', [d.others], () => ({ type: 'FeatureCollection', features: d.others.map((g) => ({ type: 'Feature', geometry: g, properties: {} })) }) as GeoJSON.FeatureCollection),
        stroked: true, filled: true, getFillColor: [0, 150, 255, 20], getLineColor: EDIT_OTHER, lineWidthUnits: 'pixels', getLineWidth: 2,
        pointRadiusUnits: 'pixels', getPointRadius: 6,
      }));
    }
    if (d.primary) {
      out.push(new GeoJsonLayer({
        id: 'edit-primary', data: memo('edit-primary', [d.primary], () => ({ type: 'Feature', geometry: d.primary, properties: {} }) as GeoJSON.Feature),
        stroked: true, filled: true, getFillColor: EDIT_FILL, getLineColor: EDIT_LINE, lineWidthUnits: 'pixels', getLineWidth: 3,
        pointRadiusUnits: 'pixels', getPointRadius: 7,
      }));
    }
    if (d.sketch.length) {
      out.push(new PathLayer({
        id: 'edit-sketch', data: memo('edit-sketch', [d.sketch], () => [d.sketch]), getPath: (p: LonLat[]) => p, getColor: SNAP_COLOUR,
        widthUnits: 'pixels', getWidth: 2, capRounded: true, jointRounded: true,
      }));
    }
    const { mids, verts } = memo('edit-handles', [d.handles], () => ({ mids: d.handles.filter((h) => h.kind === 'midpoint'), verts: d.handles.filter((h) => h.kind === 'vertex') }));
    out.push(new ScatterplotLayer({
      id: 'edit-midpoints', data: mids, getPosition: (h: EditHandle) => h.lonLat, radiusUnits: 'pixels', getRadius: 4,
      getFillColor: [255, 255, 255, 170], stroked: true, getLineColor: EDIT_OTHER, lineWidthUnits: 'pixels', getLineWidth: 1,
    }));
    out.push(new ScatterplotLayer({
      id: 'edit-vertices', data: verts, getPosition: (h: EditHandle) => h.lonLat, radiusUnits: 'pixels',
      getRadius: (h: EditHandle) => (h.selected ? 7 : 5), getFillColor: (h: EditHandle) => (h.selected ? SELECT_COLOUR : [255, 255, 255, 255]),
      stroked: true, getLineColor: EDIT_LINE, lineWidthUnits: 'pixels', getLineWidth: 2,
      updateTriggers: { getRadius: verts, getFillColor: verts },
    }));
    if (d.snap) {
      out.push(new ScatterplotLayer({
        id: 'edit-snap', data: memo('edit-snap', [d.snap], () => [d.snap]), getPosition: (p: LonLat) => p, radiusUnits: 'pixels', getRadius: 9,
        filled: false, stroked: true, getLineColor: SNAP_COLOUR, lineWidthUnits: 'pixels', getLineWidth: 2.5,
      }));
    }
    if (d.issues.length) {
      out.push(new ScatterplotLayer({
        id: 'edit-issues', data: d.issues, getPosition: (i: EditDrawing['issues'][number]) => i.lonLat, radiusUnits: 'pixels', getRadius: 10,
        getFillColor: (i: EditDrawing['issues'][number]) => [...ISSUE_COLOURS[i.severity].slice(0, 3), 90] as [number, number, number, number],
        stroked: true, getLineColor: (i: EditDrawing['issues'][number]) => [...ISSUE_COLOURS[i.severity]] as [number, number, number, number],
        lineWidthUnits: 'pixels', getLineWidth: 3, updateTriggers: { getFillColor: d.issues, getLineColor: d.issues },
      }));
    }
    return out;
  }

  /** Reloads tiles and point data of edited layers: new URLs (?rev=N) make deck.gl fetch them again. */
  function refreshLayers(ids: string[], revision: number): void {
    const tilesets = new Set<Tileset>();
    for (const id of ids) {
      const def = getLayer(id);
      if (def?.tiles) tilesets.add(def.tiles.tileset);
      if ((POINT_LAYERS as readonly string[]).includes(id)) { pointRevs.set(id, revision); points.delete(id); }
      if (id === 'addresses') addresses = null;
    }
    for (const ts of tilesets) {
      const tj = tileJsons[ts];
      if (tj) tileJsons = { ...tileJsons, [ts]: { ...tj, tiles: tj.tiles.map((u) => withRevision(u, revision)) } };
    }
    if (selection && ids.includes(selection.layerId) && selection.geometry?.type !== 'Point') void fetchSelectionGeometry(selection);
    render();
    scheduleAddresses();
  }

  // ---- MapEngine
  function setView(view: CameraView, opts?: { durationMs?: number }): void {
    const next = toDeck(view);
    viewState = opts?.durationMs ? { ...next, transitionDuration: opts.durationMs, transitionInterpolator: new FlyToInterpolator() } : next;
    deck.setProps({ viewState });
    if (!opts?.durationMs) events.onViewChange(toCamera(viewState));
    render();
    scheduleAddresses();
  }

  const engine: MapEngine = {
    kind: '2d',
    getView: () => toCamera(viewState),
    setView,
    setLayers(list) {
      setStates(list);
      if (!isOn('addresses')) addresses = null;
      render();
      scheduleAddresses();
    },
    setSelection(f) {
      if (sameFeature(f, selection) && f?.geometry === selection?.geometry) return;
      selection = f;
      selectionGeometry = f?.geometry ?? null;
      if (f && !f.geometry) void fetchSelectionGeometry(f);
      render();
    },
    setHover(f) {
      if (sameFeature(f, hover)) return;
      hover = f;
    },
    setDrawings(shapes) { drawings = shapes; render(); },
    setOverlays(list) { overlays = list; render(); },
    setCursor(mode) { cursor = mode; deck.setProps({}); },
    metersPerPixel: () => deckMetersPerPixel(viewState.latitude, viewState.zoom),
    setEditing(d) {
      editing = d;
      container.dataset.editHandles = String(d?.handles.filter((h) => h.kind === 'vertex').length ?? 0);
      render();
    },
    project(p) {
      const vp = deck.getViewports()[0];
      if (!vp) return null;
      const [x, y] = vp.project(p);
      return Number.isFinite(x) && Number.isFinite(y) ? [x, y] : null;
    },
    refreshLayers,
    destroy() {
      destroyed = true;
      if (hoverTimer) clearTimeout(hoverTimer);
      container.removeEventListener('pointerdown', onPointerDown, { capture: true });
      container.removeEventListener('pointermove', onPointerMove);
      container.removeEventListener('pointerleave', onPointerLeave);
      container.removeEventListener('pointerdown', onEditDown, { capture: true });
      container.removeEventListener('pointermove', onEditMove, { capture: true });
      container.removeEventListener('pointerup', onEditUp, { capture: true });
      container.removeEventListener('pointercancel', onEditUp, { capture: true });
      delete container.dataset.editHandles;
      addressAbort?.abort();
      if (addressTimer) clearTimeout(addressTimer);
      deck.finalize();
      pictures.destroy();
      delete container.dataset.pointsDrawn;
    },
  };

  render();
  // TileJSON of both tilesets; one failing leaves the other on screen with an error message.
  const results = await Promise.allSettled(TILESETS.map((ts) => fetchTileJson(ts, baseUrl)));
  const loaded: Partial<Record<Tileset, TileJSON>> = {};
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') loaded[TILESETS[i]] = r.value;
    else events.onStatus({ error: { key: 'tileJsonFailed', detail: `${TILESETS[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}` } });
  });
  tileJsons = loaded;
  render();
  scheduleAddresses();
  return engine;
};
