// OGC API – Features – Part 1: Core (OGC 17-069r4), GeoJSON encoding, at /ogc. Enough for GDAL's OAPIF
// driver, QGIS and plain HTTP clients: landing page, conformance, collections, items with bbox + paging,
// single items and a small OpenAPI 3.0 document.
import { badRequest, notFound } from './http-errors.ts';
import type { FeatureLayer } from './feature-store.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, parseBbox, parseLimit, parseOffset } from './params.ts';
import { PersonalView } from './personal-data.ts';

export const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';
export const GEOJSON = 'application/geo+json';
export const JSON_TYPE = 'application/json';
export const OPENAPI_TYPE = 'application/vnd.oai.openapi+json;version=3.0';

export const CONFORMANCE = [
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
];

export interface OgcResult {
  body: unknown;
  type: string;
}

interface Link { href: string; rel: string; type: string; title?: string }

/** `f` selects the encoding; only JSON exists (no HTML pages), so anything else is a 400, not a silent JSON. */
function checkFormat(q: URLSearchParams): void {
  const f = q.get('f');
  if (f !== null && f !== 'json' && f !== 'geojson') {
    throw badRequest('bad_format', `不支持的格式 f=${f.slice(0, 20)}；只提供 f=json。Unsupported f=${f.slice(0, 20)}: only f=json (GeoJSON) is served.`);
  }
}

function checkParams(q: URLSearchParams, allowed: readonly string[]): void {
  for (const k of q.keys()) {
    if (!allowed.includes(k)) {
      // OGC 17-069r4 /req/core/query-param-unknown: an unknown parameter is a 400.
      throw badRequest('unknown_param', `不支持的查询参数 ${k.slice(0, 40)}；可用参数：${allowed.join(', ')}。Unknown query parameter "${k.slice(0, 40)}"; supported: ${allowed.join(', ')}.`);
    }
  }
}

export function landing(base: string, q: URLSearchParams): OgcResult {
  checkFormat(q);
  checkParams(q, ['f']);
  const links: Link[] = [
    { href: `${base}/ogc`, rel: 'self', type: JSON_TYPE, title: '本页 This document' },
    { href: `${base}/ogc/api`, rel: 'service-desc', type: OPENAPI_TYPE, title: 'OpenAPI 3.0 定义 API definition' },
    { href: `${base}/ogc/conformance`, rel: 'conformance', type: JSON_TYPE, title: '符合的标准类 Conformance classes' },
    { href: `${base}/ogc/collections`, rel: 'data', type: JSON_TYPE, title: '图层 Collections' },
  ];
  return {
    type: JSON_TYPE,
    body: {
      title: '常熟城市运行一张图 要素服务 OneMap features',
      description: 'OGC API – Features – Part 1: Core（GeoJSON）。图层来自图层目录 layers/catalog.ts。',
      links,
    },
  };
}

export function conformance(q: URLSearchParams): OgcResult {
  checkFormat(q);
  checkParams(q, ['f']);
  return { type: JSON_TYPE, body: { conformsTo: CONFORMANCE } };
}

/** Indices (file order) of the features the caller may see among `candidates` (all features when null);
 *  null when they see every row (no filtering needed). A sharing grant's areas filter before paging and counting,
 *  so numberMatched and the extent say nothing of the rows outside them. */
async function visibleRows(layer: FeatureLayer, view: PersonalView, candidates: Uint32Array | null): Promise<Uint32Array | null> {
  if (view.access(layer.def).kind === 'full') return null;
  const f = await layer.open();
  const out: number[] = [];
  const n = candidates ? candidates.length : f.count;
  for (let k = 0; k < n; k++) {
    const i = candidates ? candidates[k] : k;
    if (view.allows(layer.def, f.feature(i).properties ?? {})) out.push(i);
  }
  return Uint32Array.from(out);
}

async function collection(base: string, layer: FeatureLayer, view: PersonalView): Promise<Record<string, unknown>> {
  const f = await layer.open();
  const d = layer.def;
  let bbox = f.bbox;
  const rows = await visibleRows(layer, view, null);
  if (rows) {
    // The extent of what the caller may see, not of the layer.
    const b = [Infinity, Infinity, -Infinity, -Infinity];
    for (const i of rows) {
      const p = f.feature(i).geometry;
      const walk = (c: unknown): void => {
        if (Array.isArray(c) && typeof c[0] === 'number') {
          b[0] = Math.min(b[0], c[0] as number); b[1] = Math.min(b[1], c[1] as number);
          b[2] = Math.max(b[2], c[0] as number); b[3] = Math.max(b[3], c[1] as number);
        } else if (Array.isArray(c)) for (const x of c) walk(x);
      };
      if (p && p.type !== 'GeometryCollection') walk(p.coordinates);
    }
    bbox = (b[0] <= b[2] ? b : [0, 0, 0, 0]) as typeof bbox;
  }
  const self = `${base}/ogc/collections/${d.id}`;
  return {
    id: d.id,
    title: d.title,
    description: `${d.titleEn}. ${d.sourceNote}`,
    itemType: 'feature',
    extent: { spatial: { bbox: [bbox], crs: CRS84 } },
    crs: [CRS84],
    storageCrs: CRS84,
    links: [
      { href: self, rel: 'self', type: JSON_TYPE, title: d.title },
      { href: `${self}/items`, rel: 'items', type: GEOJSON, title: `${d.title}（GeoJSON）` },
      { href: `${base}/data/${d.id}.fgb`, rel: 'enclosure', type: 'application/flatgeobuf', title: `${d.title}（FlatGeobuf）` },
    ],
  };
}

/** The collections the caller may see (role, grade, sharing grants: PersonalView.canSee); others are not listed. */
export async function collections(base: string, layers: Map<string, FeatureLayer>, q: URLSearchParams, view: PersonalView = PersonalView.masked()): Promise<OgcResult> {
  checkFormat(q);
  checkParams(q, ['f']);
  const list = [];
  for (const layer of layers.values()) if (view.canSee(layer.def)) list.push(await collection(base, layer, view));
  return {
    type: JSON_TYPE,
    body: { links: [{ href: `${base}/ogc/collections`, rel: 'self', type: JSON_TYPE }], collections: list },
  };
}

export function findLayer(layers: Map<string, FeatureLayer>, id: string): FeatureLayer {
  const layer = layers.get(id);
  if (!layer) {
    throw notFound('unknown_collection', `没有图层 ${id.slice(0, 64)}；可用图层见 /ogc/collections（${[...layers.keys()].join(', ') || '无：请先运行 npm run data'}）。No collection "${id.slice(0, 64)}": see /ogc/collections.`);
  }
  return layer;
}

export async function collectionDoc(base: string, layer: FeatureLayer, q: URLSearchParams, view: PersonalView = PersonalView.masked()): Promise<OgcResult> {
  checkFormat(q);
  checkParams(q, ['f']);
  view.check(layer.def);
  return { type: JSON_TYPE, body: await collection(base, layer, view) };
}

function withId(feature: GeoJSON.Feature): GeoJSON.Feature {
  const id = feature.properties?.id;
  return id === undefined || id === null ? feature : { ...feature, id: id as string | number };
}

const ITEMS_PARAMS = ['f', 'bbox', 'bbox-crs', 'limit', 'offset', 'datetime'] as const;

/** Personal fields are masked as `view` says (tile-server/personal-data.ts); the caller records `view.done`. */
export async function items(base: string, layer: FeatureLayer, q: URLSearchParams, view: PersonalView = PersonalView.masked()): Promise<OgcResult> {
  checkFormat(q);
  checkParams(q, ITEMS_PARAMS);
  const bboxCrs = q.get('bbox-crs');
  if (bboxCrs !== null && bboxCrs !== CRS84) {
    throw badRequest('bad_bbox_crs', `bbox-crs 只支持 ${CRS84}（经纬度）。Only bbox-crs=${CRS84} is supported.`);
  }
  const bboxParam = q.get('bbox');
  const bbox = bboxParam === null ? null : parseBbox(bboxParam);
  const limit = parseLimit(q.get('limit'));
  const offset = parseOffset(q.get('offset'));
  // `datetime` is accepted and ignored: no layer has a temporal extent yet (/req/core/fc-time-response
  // applies only to features with a temporal geometry).
  view.check(layer.def);
  const f = await layer.open();
  const bboxed = bbox ? await layer.match(bbox) : null;
  const matched = (await visibleRows(layer, view, bboxed)) ?? bboxed;
  const total = matched ? matched.length : f.count;
  const end = Math.min(total, offset + limit);
  const features: GeoJSON.Feature[] = [];
  for (let k = offset; k < end; k++) features.push(withId(view.feature(layer.def, f.feature(matched ? matched[k] : k))));

  const self = `${base}/ogc/collections/${layer.def.id}/items`;
  const pageUrl = (o: number) => {
    const p = new URLSearchParams();
    if (bboxParam !== null) p.set('bbox', bbox!.join(','));
    p.set('limit', String(limit));
    p.set('offset', String(o));
    return `${self}?${p.toString()}`;
  };
  const links: Link[] = [
    { href: pageUrl(offset), rel: 'self', type: GEOJSON, title: '本页 This page' },
    { href: `${base}/ogc/collections/${layer.def.id}`, rel: 'collection', type: JSON_TYPE, title: layer.def.title },
  ];
  if (end < total && end <= MAX_OFFSET) links.push({ href: pageUrl(end), rel: 'next', type: GEOJSON, title: '下一页 Next page' });
  if (offset > 0) links.push({ href: pageUrl(Math.max(0, offset - limit)), rel: 'prev', type: GEOJSON, title: '上一页 Previous page' });
  return {
    type: GEOJSON,
    body: {
      type: 'FeatureCollection',
      numberMatched: total,
      numberReturned: features.length,
      timeStamp: new Date().toISOString(),
      links,
      features,
    },
  };
}

export async function item(base: string, layer: FeatureLayer, id: string, q: URLSearchParams, view: PersonalView = PersonalView.masked()): Promise<OgcResult> {
  checkFormat(q);
  checkParams(q, ['f']);
  view.check(layer.def);
  const i = await layer.indexOf(id);
  // A row outside the caller's grant is answered as absent: the same 404, so its existence does not leak.
  if (i === undefined || !view.allows(layer.def, (await layer.open()).feature(i).properties ?? {})) {
    throw notFound('unknown_feature', `图层 ${layer.def.id} 中没有要素 ${id.slice(0, 100)}。No feature "${id.slice(0, 100)}" in ${layer.def.id}: list ids via /ogc/collections/${layer.def.id}/items.`);
  }
  const f = await layer.open();
  const self = `${base}/ogc/collections/${layer.def.id}/items/${encodeURIComponent(id)}`;
  return {
    type: GEOJSON,
    body: {
      ...withId(view.feature(layer.def, f.feature(i))),
      links: [
        { href: self, rel: 'self', type: GEOJSON },
        { href: `${base}/ogc/collections/${layer.def.id}`, rel: 'collection', type: JSON_TYPE },
      ],
    },
  };
}

/** A compact OpenAPI 3.0 description of the routes above (the `oas30` conformance class). */
export function openApi(base: string, layers: Map<string, FeatureLayer>): OgcResult {
  const json = { 'application/json': { schema: { type: 'object' } } };
  const geojson = { [GEOJSON]: { schema: { type: 'object' } } };
  const err = { description: '错误 Error: { "error": { "code", "message" } }', content: json };
  const param = (name: string, schema: object, description: string, inPath = false) => ({
    name, in: inPath ? 'path' : 'query', required: inPath, description, schema, style: 'form', explode: false,
  });
  const collectionId = param('collectionId', { type: 'string', enum: [...layers.keys()] }, '图层 id', true);
  return {
    type: OPENAPI_TYPE,
    body: {
      openapi: '3.0.3',
      info: { title: 'OneMap OGC API – Features', version: '1.0.0', description: '常熟城市运行一张图 要素服务' },
      servers: [{ url: `${base}/ogc` }],
      paths: {
        '/': { get: { summary: 'Landing page', responses: { 200: { description: 'Landing page', content: json } } } },
        '/conformance': { get: { summary: 'Conformance', responses: { 200: { description: 'Conformance classes', content: json } } } },
        '/collections': { get: { summary: 'Collections', responses: { 200: { description: 'Collections', content: json } } } },
        '/collections/{collectionId}': {
          get: { summary: 'Collection', parameters: [collectionId], responses: { 200: { description: 'Collection', content: json }, 404: err } },
        },
        '/collections/{collectionId}/items': {
          get: {
            summary: 'Features',
            parameters: [
              collectionId,
              param('bbox', { type: 'array', minItems: 4, maxItems: 6, items: { type: 'number' } }, 'minLon,minLat,maxLon,maxLat (CRS84)'),
              param('limit', { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }, `每页要素数；大于 ${MAX_LIMIT} 按 ${MAX_LIMIT}`),
              param('offset', { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 }, '跳过的要素数（用 next 链接翻页）'),
              param('datetime', { type: 'string' }, '接受但忽略（图层没有时间属性）'),
            ],
            responses: { 200: { description: 'Features', content: geojson }, 400: err, 404: err },
          },
        },
        '/collections/{collectionId}/items/{featureId}': {
          get: {
            summary: 'Feature',
            parameters: [collectionId, param('featureId', { type: 'string' }, '要素 id', true)],
            responses: { 200: { description: 'Feature', content: geojson }, 404: err },
          },
        },
      },
    },
  };
}
