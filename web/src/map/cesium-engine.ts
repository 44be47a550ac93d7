// The 3D map engine: a CesiumWidget (no Viewer widgets, no ion: no default imagery, terrain, geocoder)
// showing the city's own vector basemap rasterised onto the globe, the city's DEM as terrain, extruded
// buildings, point layers as PointPrimitiveCollections, and the selected camera's view cone.
// Loaded by the shell with a dynamic import(), so Cesium never weighs on the 2D bundle.
import {
  buildModuleUrl, Cartesian2, Cartesian3, Cartographic, CesiumWidget, Color, ColorGeometryInstanceAttribute, Credit,
  DirectionalLight, GeometryInstance, GroundPrimitive, HorizontalOrigin, ImageryLayer, Ion, JulianDate, LabelCollection,
  LabelStyle, Math as CesiumMath, Matrix4, Rectangle, NearFarScalar, DistanceDisplayCondition, PerInstanceColorAppearance, PolygonGeometry,
  PolygonHierarchy, PolylineCollection, ScreenSpaceEventHandler, ScreenSpaceEventType, Transforms, VerticalOrigin,
  type Scene,
} from 'cesium';
import 'cesium/Build/Cesium/Widgets/widgets.css';
import { CITY, getLayer, TILESETS, type Tileset } from '../../../layers/catalog.ts';
import { globeCameraToView, metersPerPixelAt, viewFromCentre, viewToGlobeCamera, type Viewport } from './camera.ts';
import { CJK_FONT_STACK, labelMinZoom } from './catalog-style.ts';
import { Buildings3D, BUILDINGS_MIN_ZOOM, type BuildingPick } from './cesium-buildings.ts';
import { loadDem, type Dem } from './cesium-dem.ts';
import { addNaturalEarth } from './cesium-background.ts';
import { createVectorImageryProvider } from './cesium-imagery.ts';
import { PointLayer3D, type PointPick } from './cesium-points.ts';
import { createDemTerrainProvider } from './cesium-terrain.ts';
import { createTileSource, type TileSource } from './cesium-vector-tiles.ts';
import { withRevision } from '../editing/revision-url.ts';
import type { CameraView, DrawShape, EngineFactory, EngineLayerState, LonLat, MapEngine, PickedFeature } from './engine.ts';
import { loadPointLayer } from './point-data.ts';
import { fetchTileJson } from './tilejson.ts';
import { viewConePolygon } from './view-cone.ts';
import { Overlays3D } from './overlays-3d.ts';

/** Relief is shown 1.5× (虞山's ~230 m otherwise reads flat from a few km); points and buildings follow. */
export const VERTICAL_EXAGGERATION = 1.5;
const POINT_LAYERS = ['cameras', 'sensors', 'facilities', 'responders', 'hazards'];
/** Overlay polygons, most specific first: a click answers with the smallest unit there. */
const PICKABLE_AREAS = ['grids', 'villages', 'towns'];
/** 虞山's summit area (ASTER GDEM): the test hook reports the terrain height there. */
const YUSHAN: LonLat = [120.7, 31.667];
const HOVER_MS = 80;
/** The sky is drawn once the frustum's top edge comes within this angle of the horizon. */
const SKY_MARGIN = CesiumMath.toRadians(3);
/** Areas are looked up on the server (OGC API Features), so only once the pointer has rested this long. */
const AREA_HOVER_MS = 300;
/** Noon in Changshu, fixed: lighting and the golden image do not depend on the clock. */
const FIXED_TIME = JulianDate.fromIso8601('2024-06-21T04:00:00Z');
const DATA_CREDIT = '数据：常熟市一张图演示数据（行政区划名称：国家统计局；高程：ASTER GDEM v3, NASA/METI）';

const rgba = (c: readonly number[], a = 1) => Color.fromBytes(c[0], c[1], c[2], Math.round(c[3] * a));

export const createCesiumEngine: EngineFactory = async (init) => {
  // Ion is never used: no token, and every provider below is our own.
  Ion.defaultAccessToken = '';
  // Cesium's documented base-URL setter (typed only as the CESIUM_BASE_URL global): no window global needed.
  (buildModuleUrl as unknown as { setBaseUrl(url: string): void }).setBaseUrl(new URL('/cesium/', init.baseUrl).href);
  const { events } = init;
  const html = document.documentElement;

  const [dem, ...tileJsons] = await Promise.all([
    loadDem(init.baseUrl),
    ...TILESETS.map((ts) => fetchTileJson(ts, init.baseUrl)),
  ]) as [Dem, ...Awaited<ReturnType<typeof fetchTileJson>>[]];

  const errorOf = (key: string) => (e: Error) => events.onStatus({ error: { key, detail: e.message } });
  const sources: TileSource[] = TILESETS.map((ts, i) => createTileSource(ts as Tileset, tileJsons[i], errorOf('tileFailed')));

  const widget = new CesiumWidget(init.container, {
    baseLayer: false,
    terrainProvider: createDemTerrainProvider(dem, dem.meta.source ?? 'ASTER GDEM v3'),
    skyBox: false,
    scene3DOnly: true,
    shouldAnimate: false,
    // Continuous rendering, capped: the globe's tile queue only advances in rendered frames.
    targetFrameRate: 20,
    msaaSamples: 1,
  });
  const scene: Scene = widget.scene;
  const globe = scene.globe;
  const camera = scene.camera;
  widget.clock.currentTime = FIXED_TIME.clone();
  scene.verticalExaggeration = VERTICAL_EXAGGERATION;
  globe.baseColor = Color.fromBytes(0xf4, 0xf1, 0xea, 255);
  globe.showGroundAtmosphere = false;
  globe.depthTestAgainstTerrain = true;
  // Default 2; a little coarser keeps software WebGL (no GPU) loading a pitched view in well under a minute.
  globe.maximumScreenSpaceError = 3;
  scene.fog.enabled = true;
  // A low light from the north-west, fixed in the city's frame: shades slopes like a hillshade.
  const enu = Transforms.eastNorthUpToFixedFrame(Cartesian3.fromDegrees(120.75, 31.65));
  const local = new Cartesian3(0.5, -0.5, -0.7);
  scene.light = new DirectionalLight({ direction: Cartesian3.normalize(Matrix4.multiplyByPointAsVector(enu, local, new Cartesian3()), new Cartesian3()) });
  widget.creditDisplay.addStaticCredit(new Credit(DATA_CREDIT, true));
  // The world around the city (not blank): Natural Earth from our server, cut out where the city's map lies.
  const cityBounds = tileJsons.map((t) => t.bounds).filter((b): b is [number, number, number, number] => !!b);
  const cutout: [number, number, number, number] = cityBounds.length
    ? [Math.min(...cityBounds.map((b) => b[0])), Math.min(...cityBounds.map((b) => b[1])), Math.max(...cityBounds.map((b) => b[2])), Math.max(...cityBounds.map((b) => b[3]))]
    : CITY.bounds;
  // --- what cannot be seen is not drawn. The sky only where the horizon is in view (looking down on the
  // city it is all off screen, yet drawing it cost a quarter of each frame on software WebGL), and the
  // Natural Earth world only while the view reaches beyond the city (inside, it is cut out anyway).
  let naturalEarth: ImageryLayer | null = null;
  const cutoutRect = Rectangle.fromDegrees(...cutout);
  const syncUnseen = () => {
    const fovy = (camera.frustum as unknown as { fovy?: number }).fovy ?? CesiumMath.toRadians(40);
    const h = Math.max(0, camera.positionCartographic.height);
    const r = globe.ellipsoid.maximumRadius;
    // The horizon lies this far below the level of the eye; the frustum's top edge must reach it.
    const dip = Math.acos(r / (r + h));
    const sky = camera.pitch + fovy / 2 > -dip - SKY_MARGIN;
    if (scene.skyAtmosphere && scene.skyAtmosphere.show !== sky) { scene.skyAtmosphere.show = sky; scene.requestRender(); }
    if (naturalEarth) {
      const view = sky ? undefined : camera.computeViewRectangle(globe.ellipsoid);
      const world = !view || !(Rectangle.contains(cutoutRect, Rectangle.northwest(view)) && Rectangle.contains(cutoutRect, Rectangle.southeast(view)));
      if (naturalEarth.show !== world) { naturalEarth.show = world; scene.requestRender(); }
    }
  };

  addNaturalEarth(globe.imageryLayers, init.baseUrl, cutout)
    .then((layer) => { naturalEarth = layer; syncUnseen(); scene.requestRender(); })
    .catch((e: unknown) => events.onStatus({ error: { key: 'tileFailed', detail: `Natural Earth: ${e instanceof Error ? e.message : String(e)}` } }));

  let layerStates: EngineLayerState[] = init.layers;
  const stateOf = (id: string) => layerStates.find((l) => l.id === id);
  let tilesDrawn = 0;
  let ready = false;

  // --- imagery: rebuilt when visibility/opacity of a tiled layer changes (tiles stay decoded in the sources)
  let imagery: ImageryLayer | null = null;
  let imageryKey = '';
  let imageryTimer: ReturnType<typeof setTimeout> | undefined;
  const tiledKey = (ls: EngineLayerState[]) => ls.filter((l) => getLayer(l.id)?.tiles).map((l) => `${l.id}:${l.visible ? l.opacity : 0}`).join(',');
  function buildImagery(): void {
    const key = tiledKey(layerStates);
    if (key === imageryKey) return;
    imageryKey = key;
    const next = new ImageryLayer(createVectorImageryProvider({
      sources, layers: layerStates, credit: tileJsons.map((t) => t.attribution).filter(Boolean).join('；'),
      onTile: () => { tilesDrawn++; scene.requestRender(); },
      hillshade: dem,
    }));
    globe.imageryLayers.add(next);
    if (imagery) globe.imageryLayers.remove(imagery, true);
    imagery = next;
    scene.requestRender();
  }
  buildImagery();

  // --- place names as labels on the ground (CJK from local fonts), shown by kind with distance
  const labels = scene.primitives.add(new LabelCollection()) as LabelCollection;
  const labelNames: string[] = [];
  loadPointLayer('places', init.baseUrl).then((places) => {
    const names = places.column('name');
    for (let i = 0; i < places.count; i++) {
      const name = names[i];
      if (typeof name !== 'string' || !name) continue;
      const props = places.properties(i);
      const [lon, lat] = places.position(i);
      const z = labelMinZoom(props);
      const size = z <= 0 ? 18 : z <= 9 ? 16 : 13;
      labels.add({
        text: name,
        font: `500 ${size}px ${CJK_FONT_STACK}`,
        position: Cartesian3.fromDegrees(lon, lat, dem.heightAt(lon, lat) * VERTICAL_EXAGGERATION + 10),
        fillColor: Color.fromBytes(35, 35, 35),
        outlineColor: Color.WHITE.withAlpha(0.9),
        outlineWidth: 3,
        style: LabelStyle.FILL_AND_OUTLINE,
        horizontalOrigin: HorizontalOrigin.CENTER,
        verticalOrigin: VerticalOrigin.CENTER,
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
        distanceDisplayCondition: new DistanceDisplayCondition(0, zoomDistance(lat, z)),
      });
      labelNames.push(name);
    }
    events.onStatus({ labelNames: [...labelNames] });
    scene.requestRender();
  }).catch(errorOf('shell.layerFailed'));

  // --- point layers, loaded the first time they are visible
  const points = new Map<string, PointLayer3D>();
  const pointLoads = new Set<string>();
  /** Layer → edit revision: reloads fetch /data/{id}.fgb?rev=N past the browser's cache. */
  const pointRevs = new Map<string, number>();
  function syncPoints(): void {
    for (const id of POINT_LAYERS) {
      const s = stateOf(id);
      const layer = points.get(id);
      if (layer) layer.setStyle(!!s?.visible, s?.opacity ?? 1);
      else if (s?.visible && !pointLoads.has(id)) {
        pointLoads.add(id);
        const rev = pointRevs.get(id);
        // A distinct base per revision keeps point-data.ts's per-page cache apart (as in deck-engine.ts).
        loadPointLayer(id, rev ? `${init.baseUrl}#rev${rev}` : init.baseUrl, rev ? (u, i) => fetch(withRevision(String(u), rev), i) : fetch).then((data) => {
          if (destroyed || points.has(id)) return;
          const minzoom = getLayer(id)?.minzoom ?? 0;
          const l = new PointLayer3D(scene, data, { meta: dem.meta, heightAt: (a, b) => dem.heightAt(a, b) * VERTICAL_EXAGGERATION },
            zoomDistance(data.count ? data.positions[1] : 31.65, minzoom));
          points.set(id, l);
          const st = stateOf(id);
          l.setStyle(!!st?.visible, st?.opacity ?? 1);
          applySelection();
          scene.requestRender();
        }).catch((e: Error) => { pointLoads.delete(id); errorOf('shell.layerFailed')(e); });
      }
    }
  }

  // --- buildings
  const buildings = new Buildings3D(scene, sources[TILESETS.indexOf('basemap')], dem, VERTICAL_EXAGGERATION, errorOf('tileFailed'));
  const syncBuildings = () => {
    const s = stateOf('buildings');
    buildings.setStyle(!!s?.visible, s?.opacity ?? 1);
    const v = currentView();
    buildings.update(v.lon, v.lat, !!s?.visible && v.zoom >= BUILDINGS_MIN_ZOOM);
    scene.requestRender();
  };


  // --- selection, hover, cone, drawings: ground-following lines from the DEM
  const lines = scene.primitives.add(new PolylineCollection()) as PolylineCollection;
  const hoverLines = scene.primitives.add(new PolylineCollection()) as PolylineCollection;
  const drawLines = scene.primitives.add(new PolylineCollection()) as PolylineCollection;
  const drawLabels = scene.primitives.add(new LabelCollection()) as LabelCollection;
  let cone: GroundPrimitive | null = null;
  let drawFills: GroundPrimitive[] = [];
  let selected: PickedFeature | null = null;

  const groundPositions = (coords: LonLat[], lift = 3): Cartesian3[] => {
    const out: number[] = [];
    for (let i = 0; i < coords.length; i++) {
      const [a, b] = coords[i];
      const next = coords[i + 1];
      // Densify to ~50 m so the line follows the terrain between vertices.
      const steps = next ? Math.min(200, Math.ceil(Math.hypot((next[0] - a) * 95_000, (next[1] - b) * 111_000) / 50)) : 1;
      for (let k = 0; k < steps; k++) {
        const lon = next ? a + ((next[0] - a) * k) / steps : a;
        const lat = next ? b + ((next[1] - b) * k) / steps : b;
        out.push(lon, lat, dem.heightAt(lon, lat) * VERTICAL_EXAGGERATION + lift);
      }
    }
    return Cartesian3.fromDegreesArrayHeights(out);
  };

  const groundPolygon = (ring: LonLat[], colour: Color): GroundPrimitive => new GroundPrimitive({
    geometryInstances: new GeometryInstance({
      geometry: new PolygonGeometry({ polygonHierarchy: new PolygonHierarchy(Cartesian3.fromDegreesArray(ring.flat())) }),
      attributes: { color: ColorGeometryInstanceAttribute.fromColor(colour) },
    }),
    appearance: new PerInstanceColorAppearance({ flat: true, translucent: true }),
    asynchronous: true,
  });

  const overlays = new Overlays3D(scene, { heightAt: (lon, lat) => dem.heightAt(lon, lat) * VERTICAL_EXAGGERATION, positions: groundPositions });

  function outlinesOf(geometry: GeoJSON.Geometry | undefined): LonLat[][] {
    if (!geometry) return [];
    switch (geometry.type) {
      case 'Polygon': return geometry.coordinates as LonLat[][];
      case 'MultiPolygon': return geometry.coordinates.flat() as LonLat[][];
      case 'LineString': return [geometry.coordinates as LonLat[]];
      case 'MultiLineString': return geometry.coordinates as LonLat[][];
      default: return [];
    }
  }

  function applySelection(): void {
    lines.removeAll();
    if (cone) { scene.primitives.remove(cone); cone = null; }
    for (const [id, layer] of points) layer.select(selected?.layerId === id ? layer.indexOf(selected.id) : -1);
    buildings.select(selected?.layerId === 'buildings' ? selected.id : null);
    if (selected && selected.layerId !== 'buildings' && !POINT_LAYERS.includes(selected.layerId)) {
      for (const ring of outlinesOf(selected.geometry)) {
        lines.add({ positions: groundPositions(ring, 5), width: 4, material: undefined }).material.uniforms.color = Color.fromBytes(255, 200, 0, 255);
      }
    }
    if (selected?.layerId === 'cameras') {
      const p = selected.properties;
      const [lon, lat] = selected.lonLat;
      const heading = Number(p.heading), fov = Number(p.fov), range = Number(p.range_m);
      if ([heading, fov, range].every(Number.isFinite) && fov > 0 && range > 0) {
        const ring = viewConePolygon(lon, lat, heading, fov, range);
        cone = scene.primitives.add(groundPolygon(ring.slice(0, -1), Color.fromBytes(30, 140, 255, 90))) as GroundPrimitive;
        lines.add({ positions: groundPositions(ring, 4), width: 2 }).material.uniforms.color = Color.fromBytes(30, 140, 255, 255);
      }
    }
    scene.requestRender();
  }

  // --- the camera
  const viewport = (): Viewport => {
    const fr = camera.frustum as unknown as { fovy?: number };
    return { height: widget.canvas.clientHeight || 800, fovyDeg: CesiumMath.toDegrees(fr.fovy ?? CesiumMath.toRadians(40)) };
  };
  function flyTo(view: CameraView, durationMs = 0): void {
    const vp = viewport();
    const cam = viewToGlobeCamera(view, vp, dem.heightAt(view.lon, view.lat) * VERTICAL_EXAGGERATION);
    const dest = Cartesian3.fromDegrees(cam.lon, cam.lat, cam.height);
    const orientation = { heading: CesiumMath.toRadians(cam.heading), pitch: CesiumMath.toRadians(cam.pitch), roll: 0 };
    if (durationMs > 0) camera.flyTo({ destination: dest, orientation, duration: durationMs / 1000 });
    else camera.setView({ destination: dest, orientation });
    scene.requestRender();
  }
  function currentView(): CameraView {
    const vp = viewport();
    const heading = CesiumMath.toDegrees(camera.heading);
    const pitch = CesiumMath.toDegrees(camera.pitch);
    const centre = new Cartesian2(widget.canvas.clientWidth / 2, widget.canvas.clientHeight / 2);
    const ray = camera.getPickRay(centre);
    const hit = ray && globe.pick(ray, scene);
    if (hit) {
      const c = Cartographic.fromCartesian(hit);
      return viewFromCentre({ lon: CesiumMath.toDegrees(c.longitude), lat: CesiumMath.toDegrees(c.latitude), distance: Cartesian3.distance(hit, camera.positionWC) }, heading, pitch, vp);
    }
    const pc = camera.positionCartographic;
    const lon = CesiumMath.toDegrees(pc.longitude), lat = CesiumMath.toDegrees(pc.latitude);
    return globeCameraToView({ lon, lat, height: pc.height, heading, pitch }, vp, dem.heightAt(lon, lat) * VERTICAL_EXAGGERATION);
  }
  function zoomDistance(lat: number, zoom: number): number {
    // Labels of a kind appear where the 2D map would show them: the camera distance of that zoom.
    return (viewport().height * metersPerPixelAt(lat, zoom)) / 2 / Math.tan(CesiumMath.toRadians(viewport().fovyDeg) / 2) * 1.2;
  }
  flyTo(init.view);
  syncUnseen();

  // --- events
  let destroyed = false;
  camera.percentageChanged = 0.01;
  const offChanged = camera.changed.addEventListener(() => { syncUnseen(); events.onViewChange(currentView()); });
  const offMoveEnd = camera.moveEnd.addEventListener(() => { syncUnseen(); events.onViewChange(currentView()); syncBuildings(); });

  const groundAt = (pos: Cartesian2): LonLat | null => {
    const ray = camera.getPickRay(pos);
    const hit = ray && globe.pick(ray, scene);
    if (!hit) return null;
    const c = Cartographic.fromCartesian(hit);
    return [CesiumMath.toDegrees(c.longitude), CesiumMath.toDegrees(c.latitude)];
  };
  const pickPrimitive = (pos: Cartesian2): PickedFeature | null => {
    const picked = scene.pick(pos) as { id?: PointPick | BuildingPick } | undefined;
    const id = picked?.id;
    if (id && typeof id === 'object' && 'kind' in id) {
      if (id.kind === 'point') return points.get(id.layerId)?.feature(id.index) ?? null;
      if (id.kind === 'building') return id.feature;
    }
    return null;
  };
  async function pickArea(lonLat: LonLat): Promise<PickedFeature | null> {
    const zoom = currentView().zoom;
    for (const layerId of PICKABLE_AREAS) {
      const s = stateOf(layerId);
      const def = getLayer(layerId);
      if (!s?.visible || !def || zoom < def.minzoom - 1) continue;
      const e = 1e-5;
      const url = new URL(`/ogc/collections/${layerId}/items`, init.baseUrl);
      url.searchParams.set('bbox', [lonLat[0] - e, lonLat[1] - e, lonLat[0] + e, lonLat[1] + e].join(','));
      url.searchParams.set('limit', '1');
      const res = await fetch(url);
      if (!res.ok) throw new Error(`查询 ${layerId} 失败：HTTP ${res.status}`);
      const fc = (await res.json()) as GeoJSON.FeatureCollection;
      const f = fc.features?.[0];
      if (f) return { layerId, id: String(f.id ?? f.properties?.id ?? ''), properties: f.properties ?? {}, lonLat, geometry: f.geometry };
    }
    return null;
  }

  let cursor: 'default' | 'crosshair' = 'default';
  const handler = new ScreenSpaceEventHandler(widget.canvas);
  handler.setInputAction((e: { position: Cartesian2 }) => {
    const lonLat = groundAt(e.position);
    if (cursor === 'crosshair') { events.onClick(null, lonLat); return; }
    const f = pickPrimitive(e.position);
    if (f || !lonLat) { events.onClick(f, lonLat); return; }
    pickArea(lonLat).then((a) => events.onClick(a, lonLat)).catch((err: Error) => { errorOf('globe.pickFailed')(err); events.onClick(null, lonLat); });
  }, ScreenSpaceEventType.LEFT_CLICK);
  let lastHover = 0;
  let hoverTimer: ReturnType<typeof setTimeout> | undefined;
  let lastHoverKey = '';
  let hoveringArea = false;
  let areaTimer: ReturnType<typeof setTimeout> | undefined;
  let areaSeq = 0;
  const emitHover = (f: PickedFeature | null) => {
    hoveringArea = !!f && PICKABLE_AREAS.includes(f.layerId);
    const key = f ? `${f.layerId}/${f.id}` : '';
    if (key !== lastHoverKey) { lastHoverKey = key; events.onHover(f); }
  };
  handler.setInputAction((e: { endPosition: Cartesian2 }) => {
    const pos = Cartesian2.clone(e.endPosition);
    const ground = groundAt(pos);
    events.onPointer(ground);
    if (cursor === 'crosshair') return;
    const run = () => {
      lastHover = performance.now();
      const f = pickPrimitive(pos);
      clearTimeout(areaTimer);
      const seq = ++areaSeq;
      if (f || !ground) emitHover(f);
      else {
        // Nothing drawn as a primitive here: the town, village or grid under a resting pointer. An area
        // already outlined stays so until the answer comes (no flicker while moving inside it).
        if (!hoveringArea) emitHover(null);
        areaTimer = setTimeout(() => {
          pickArea(ground).then((a) => { if (seq === areaSeq && !destroyed) emitHover(a); }).catch(() => { /* hover only */ });
        }, AREA_HOVER_MS);
      }
      widget.canvas.style.cursor = f ? 'pointer' : '';
    };
    clearTimeout(hoverTimer);
    const wait = HOVER_MS - (performance.now() - lastHover);
    if (wait <= 0) run(); else hoverTimer = setTimeout(run, wait);
  }, ScreenSpaceEventType.MOUSE_MOVE);

  // Ready: the globe's tile queue drained after the first imagery tiles were drawn.
  const offProgress = globe.tileLoadProgressEvent.addEventListener((queued: number) => {
    events.onStatus({ tilesLoaded: tilesDrawn });
    html.dataset.globeTiles = String(tilesDrawn);
    html.dataset.globeQueued = String(queued);
    if (queued === 0 && tilesDrawn > 0 && !ready) {
      ready = true;
      const h = globe.getHeight(Cartographic.fromDegrees(YUSHAN[0], YUSHAN[1]));
      html.dataset.globeYushanM = h === undefined ? '' : (h / VERTICAL_EXAGGERATION).toFixed(1);
      html.dataset.globeReady = '1';
      events.onStatus({ ready: true, tilesLoaded: tilesDrawn });
    }
  });
  const offRenderError = scene.renderError.addEventListener((_s: Scene, err: unknown) => {
    events.onStatus({ error: { key: 'globe.renderFailed', detail: `${err instanceof Error ? err.message : String(err)}` } });
  });

  syncPoints();
  syncBuildings();

  /** After an edit (here or by someone else): re-fetch the edited tilesets and point layers at the new revision. */
  function refreshLayers(ids: string[], revision: number): void {
    let tiles = false;
    for (const id of ids) {
      const def = getLayer(id);
      if (def?.tiles) { sources[TILESETS.indexOf(def.tiles.tileset)]?.refresh(revision); tiles = true; }
      const layer = points.get(id);
      if (layer || pointLoads.has(id)) {
        layer?.destroy(scene);
        points.delete(id);
        pointLoads.delete(id);
        pointRevs.set(id, revision);
      }
    }
    if (tiles) { imageryKey = ''; buildImagery(); }
    syncPoints();
    scene.requestRender();
  }

  const engine: MapEngine = {
    kind: '3d',
    refreshLayers,
    getView: currentView,
    setView: (view, opts) => flyTo(view, opts?.durationMs ?? 0),
    setLayers(next) {
      layerStates = next;
      // An opacity slider sends many states a second: re-rasterise the draped map once it settles.
      clearTimeout(imageryTimer);
      imageryTimer = setTimeout(buildImagery, 150);
      syncPoints();
      syncBuildings();
      const places = stateOf('places');
      labels.show = places ? places.visible : true;
      scene.requestRender();
    },
    setSelection(f) {
      selected = f;
      applySelection();
    },
    setHover(f) {
      // Points grow under the pointer and areas get a light outline; buildings only change the cursor
      // (recolouring a batched building primitive on every pointer move would cost more than it shows).
      for (const [id, layer] of points) layer.hover(f?.layerId === id ? layer.indexOf(f.id) : -1);
      hoverLines.removeAll();
      if (f && PICKABLE_AREAS.includes(f.layerId) && !(selected?.layerId === f.layerId && selected.id === f.id)) {
        for (const ring of outlinesOf(f.geometry)) {
          hoverLines.add({ positions: groundPositions(ring, 4), width: 3 }).material.uniforms.color = Color.fromBytes(255, 200, 0, 170);
        }
      }
      scene.requestRender();
    },
    setOverlays(list) { overlays.set(list); },
    setDrawings(shapes: DrawShape[]) {
      drawLines.removeAll();
      drawLabels.removeAll();
      for (const p of drawFills) scene.primitives.remove(p);
      drawFills = [];
      for (const s of shapes) {
        if (s.coordinates.length < 2) continue;
        const ring = s.kind === 'polygon' ? [...s.coordinates, s.coordinates[0]] : s.coordinates;
        drawLines.add({ positions: groundPositions(ring, 4), width: s.draft ? 2 : 3 }).material.uniforms.color = s.draft ? Color.fromBytes(220, 40, 40, 160) : Color.fromBytes(220, 40, 40, 255);
        if (s.kind === 'polygon' && !s.draft && s.coordinates.length >= 3) {
          drawFills.push(scene.primitives.add(groundPolygon(s.coordinates, Color.fromBytes(220, 40, 40, 60))) as GroundPrimitive);
        }
        if (s.label && s.labelAt) {
          const [lon, lat] = s.labelAt;
          drawLabels.add({
            text: s.label, font: `500 14px ${CJK_FONT_STACK}`,
            position: Cartesian3.fromDegrees(lon, lat, dem.heightAt(lon, lat) * VERTICAL_EXAGGERATION + 8),
            fillColor: Color.fromBytes(160, 20, 20), outlineColor: Color.WHITE, outlineWidth: 3, style: LabelStyle.FILL_AND_OUTLINE,
            disableDepthTestDistance: Number.POSITIVE_INFINITY, pixelOffset: new Cartesian2(0, -14),
            scaleByDistance: new NearFarScalar(1e3, 1, 1e5, 1),
          });
        }
      }
      scene.requestRender();
    },
    setCursor(mode) {
      cursor = mode;
      widget.canvas.style.cursor = mode === 'crosshair' ? 'crosshair' : '';
    },
    metersPerPixel() {
      const v = currentView();
      return metersPerPixelAt(v.lat, v.zoom);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      clearTimeout(hoverTimer);
      clearTimeout(areaTimer);
      clearTimeout(imageryTimer);
      offChanged(); offMoveEnd(); offProgress(); offRenderError();
      handler.destroy();
      buildings.clear();
      overlays.clear();
      widget.destroy();
      for (const k of ['globeReady', 'globeTiles', 'globeYushanM', 'globeQueued']) delete html.dataset[k];
    },
  };
  return engine;
};
