// A GeoServer REST client over fetch. Paths and quirks follow ../../../shared/geoserver-rest-api/ (the
// Swagger documents) and its NOTES.md (Q1–Q12 cited inline). JSON throughout (`Accept: application/json`);
// style bodies go up as SLD with the content type of their version (Q6).

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface GeoServerOptions {
  /** Catalog REST root, e.g. http://127.0.0.1:8080/geoserver/rest (no trailing slash needed). */
  baseUrl: string;
  user: string;
  password: string;
  /** GeoWebCache REST root; default: baseUrl with its final `/rest` replaced by `/gwc/rest`. */
  gwcUrl?: string;
  fetch?: FetchLike;
}

/** Any non-2xx answer. `body` keeps GeoServer's raw text: its errors are plain text or HTML, rarely JSON (Q12). */
export class GeoServerError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly url: string,
    readonly body: string,
  ) {
    super(`GeoServer ${method} ${url} → ${status}: ${errorText(body) || '(empty body)'}. ` +
      (status === 401 ? 'Check the GeoServer user and password.' : status === 404 ? 'The resource does not exist (or the user may not see it, Q8).' : 'See the GeoServer log for details.'));
    this.name = 'GeoServerError';
  }
  /** GeoServer's own message: JSON `message`/`error`, the text of an HTML page, or the plain text. */
  get serverMessage(): string { return errorText(this.body); }
}

/** The network failed before GeoServer answered (refused, DNS, timeout): nothing about the catalog is known. */
export class GeoServerUnreachableError extends Error {
  constructor(readonly url: string, readonly reason: string) {
    super(`无法连接 GeoServer（${url}）：${reason}。请检查 GeoServer 地址（--geoserver / GEOSERVER_URL，如 http://host:8080/geoserver）以及 GeoServer 是否在运行。` +
      `Cannot reach GeoServer at ${url}: ${reason}. Check the address (--geoserver / GEOSERVER_URL, e.g. http://host:8080/geoserver) and that GeoServer is running.`);
    this.name = 'GeoServerUnreachableError';
  }
}

/**
 * The catalog REST root from what a person types: `http://host:8080/geoserver` or `…/geoserver/rest`
 * (a trailing `/rest/rest` would double the prefix, Q11).
 */
export function restRootOf(url: string): string {
  let u: URL;
  try { u = new URL(url); } catch { throw new Error(`GeoServer 地址「${url}」不是 URL，应如 http://127.0.0.1:8080/geoserver。GeoServer URL "${url}" is not a URL; use e.g. http://127.0.0.1:8080/geoserver`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`GeoServer 地址须为 http(s)://…（得到 ${u.protocol}）。GeoServer URL must be http(s)://…, got ${u.protocol}`);
  const base = url.replace(/[?#].*$/, '').replace(/\/+$/, '');
  return /\/rest$/.test(base) ? base : `${base}/rest`;
}

function errorText(body: string): string {
  const t = body.trim();
  if (t.startsWith('{')) {
    try {
      const j = JSON.parse(t) as Record<string, unknown>;
      const m = j.message ?? (j.error as Record<string, unknown> | undefined)?.message ?? j.error;
      if (typeof m === 'string') return m;
    } catch { /* not JSON after all */ }
  }
  if (/^<(!doctype|html)/i.test(t)) {
    return t.replace(/<(head|script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 500);
  }
  return t.slice(0, 500);
}

/** Q1: a list may arrive as an array, a lone object (one element), "" (empty) or be missing. */
export function asList<T>(v: T | T[] | '' | null | undefined): T[] {
  if (v === undefined || v === null || v === '') return [];
  return Array.isArray(v) ? v : [v];
}

/** Unwraps `{"workspaces":{"workspace":[…]}}`-style lists whatever shape they came in. */
export function unwrapList<T>(body: unknown, outer: string, inner: string): T[] {
  const o = (body as Record<string, unknown> | null)?.[outer];
  if (o === undefined || o === null || o === '') return [];
  return asList((o as Record<string, unknown>)[inner] as T | T[] | '');
}

export interface NamedRef { name: string; href?: string }
export type SldVersion = '1.0.0' | '1.1.0';
export interface PostgisConnection {
  host: string; port: number; database: string; user: string; passwd: string; schema?: string;
  /** Extra connection parameters (e.g. `Expose primary keys`). */
  extra?: Record<string, string>;
}
export interface FeatureTypeSpec {
  name: string; nativeName?: string; title?: string; abstract?: string; srs?: string;
  /** Q4: needed when the table is empty, else GeoServer cannot compute bounds. */
  nativeBoundingBox?: { minx: number; miny: number; maxx: number; maxy: number; crs: string };
}
export type UploadFormat = 'shp' | 'gpkg';
export interface UploadOptions {
  /** first: configure the first feature type found (default); none: only store the data; all: every table. */
  configure?: 'first' | 'none' | 'all';
  /** overwrite replaces the store's data; append adds to it. */
  update?: 'overwrite' | 'append';
  /** Character set of the .dbf text (shapefile). */
  charset?: string;
  /** Target file name on the server, to avoid clashes between uploads. */
  filename?: string;
}
/**
 * Q10: shapefiles go up zipped (`application/zip`); a GeoPackage raw as `application/x-sqlite3` (or zipped).
 * datastores.yaml declares no `consumes` for the upload, so these come from the docs and the cited clients.
 */
export const UPLOAD_CONTENT_TYPE: Record<UploadFormat, string> = { shp: 'application/zip', gpkg: 'application/x-sqlite3' };

export interface SeedRequest {
  type: 'seed' | 'reseed' | 'truncate';
  gridSetId?: string; zoomStart?: number; zoomStop?: number; format?: string; threadCount?: number;
}

export const SLD_CONTENT_TYPE: Record<SldVersion, string> = {
  '1.0.0': 'application/vnd.ogc.sld+xml',
  '1.1.0': 'application/vnd.ogc.se+xml',
};

/** Reads the version attribute of the root StyledLayerDescriptor, so the upload type cannot disagree with it (Q6). */
export function sldVersionOf(sld: string): SldVersion {
  const m = /<(?:\w+:)?StyledLayerDescriptor\b[^>]*\bversion\s*=\s*["']([^"']+)["']/.exec(sld);
  if (!m) throw new Error('SLD has no StyledLayerDescriptor version attribute; add version="1.0.0" or "1.1.0".');
  if (m[1] !== '1.0.0' && m[1] !== '1.1.0') throw new Error(`SLD version ${m[1]} is not supported; use 1.0.0 or 1.1.0.`);
  return m[1];
}

const enc = encodeURIComponent;
type Query = Record<string, string | number | boolean | undefined>;

export class GeoServerClient {
  readonly baseUrl: string;
  readonly gwcUrl: string;
  private readonly auth: string;
  private readonly doFetch: FetchLike;

  constructor(opts: GeoServerOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    if (/\/rest\/rest$/.test(this.baseUrl)) throw new Error('baseUrl ends in /rest/rest (Q11); use …/geoserver/rest.');
    this.gwcUrl = (opts.gwcUrl ?? this.baseUrl.replace(/\/rest$/, '/gwc/rest')).replace(/\/+$/, '');
    this.auth = 'Basic ' + Buffer.from(`${opts.user}:${opts.password}`).toString('base64');
    this.doFetch = opts.fetch ?? ((url, init) => fetch(url, init));
  }

  /** One request; JSON bodies are serialised, strings go as they are with the given content type. */
  async request(method: string, path: string, opts: { query?: Query; json?: unknown; body?: string | Uint8Array; contentType?: string; gwc?: boolean } = {}): Promise<{ status: number; text: string; location: string | null }> {
    const qs = Object.entries(opts.query ?? {}).filter(([, v]) => v !== undefined).map(([k, v]) => `${enc(k)}=${enc(String(v))}`).join('&');
    const url = (opts.gwc ? this.gwcUrl : this.baseUrl) + path + (qs ? `?${qs}` : '');
    const headers: Record<string, string> = { Authorization: this.auth, Accept: 'application/json' };
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (opts.json !== undefined) { body = JSON.stringify(opts.json); headers['Content-Type'] = 'application/json'; }
    else if (opts.body !== undefined) {
      // fetch wants ArrayBuffer-backed bytes; copy only a view of a SharedArrayBuffer.
      body = typeof opts.body === 'string' || opts.body.buffer instanceof ArrayBuffer ? opts.body as string | Uint8Array<ArrayBuffer> : new Uint8Array(opts.body);
      headers['Content-Type'] = opts.contentType ?? 'application/xml';
    }
    let res: Response;
    try { res = await this.doFetch(url, { method, headers, body }); } catch (e) {
      // undici puts the socket error (ECONNREFUSED, ENOTFOUND, …) in `cause`.
      const c = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new GeoServerUnreachableError(url.replace(/\?.*$/, ''), c?.code ?? c?.message ?? (e as Error).message);
    }
    const text = await res.text();
    if (!res.ok) throw new GeoServerError(res.status, method, url, text);
    return { status: res.status, text, location: res.headers.get('location') };
  }

  private async getJson<T>(path: string, query?: Query, gwc = false): Promise<T> {
    const r = await this.request('GET', path, { query, gwc });
    try { return JSON.parse(r.text) as T; } catch {
      throw new Error(`GeoServer GET ${path} returned non-JSON (${r.text.slice(0, 80)}…); is baseUrl the REST root?`);
    }
  }

  /** GET that maps 404 to undefined (Q7: quietOnNotFound keeps the 404, it only silences the log). */
  private async getOrUndefined<T>(path: string, query?: Query): Promise<T | undefined> {
    try { return await this.getJson<T>(path, query); } catch (e) {
      if (e instanceof GeoServerError && e.status === 404) return undefined;
      throw e;
    }
  }

  // --- about
  async version(): Promise<{ name: string; version?: string }[]> {
    const b = await this.getJson<{ about?: { resource?: unknown } }>('/about/version');
    return asList(b.about?.resource as { '@name': string; Version?: string } | undefined)
      .map((r) => ({ name: r['@name'], version: r.Version === undefined ? undefined : String(r.Version) }));
  }

  // --- workspaces
  async listWorkspaces(): Promise<NamedRef[]> { return unwrapList(await this.getJson('/workspaces'), 'workspaces', 'workspace'); }
  async getWorkspace(ws: string): Promise<NamedRef | undefined> {
    return (await this.getOrUndefined<{ workspace: NamedRef }>(`/workspaces/${enc(ws)}`, { quietOnNotFound: true }))?.workspace;
  }
  async createWorkspace(ws: string): Promise<void> { await this.request('POST', '/workspaces', { json: { workspace: { name: ws } } }); }
  /** Without recurse GeoServer refuses a non-empty workspace (400 in practice, 403 documented: Q2). */
  async deleteWorkspace(ws: string, recurse = false): Promise<void> {
    await this.request('DELETE', `/workspaces/${enc(ws)}`, { query: { recurse: recurse || undefined } });
  }

  // --- namespaces
  async listNamespaces(): Promise<{ prefix?: string; name?: string }[]> { return unwrapList(await this.getJson('/namespaces'), 'namespaces', 'namespace'); }
  async getNamespace(prefix: string): Promise<{ prefix: string; uri: string } | undefined> {
    return (await this.getOrUndefined<{ namespace: { prefix: string; uri: string } }>(`/namespaces/${enc(prefix)}`))?.namespace;
  }
  async createNamespace(prefix: string, uri: string): Promise<void> { await this.request('POST', '/namespaces', { json: { namespace: { prefix, uri } } }); }
  async deleteNamespace(prefix: string): Promise<void> { await this.request('DELETE', `/namespaces/${enc(prefix)}`); }

  // --- datastores
  async listDatastores(ws: string): Promise<NamedRef[]> { return unwrapList(await this.getJson(`/workspaces/${enc(ws)}/datastores`), 'dataStores', 'dataStore'); }
  async getDatastore(ws: string, ds: string): Promise<{ name: string; connectionParameters: Record<string, string> } | undefined> {
    const b = await this.getOrUndefined<{ dataStore: { name: string; connectionParameters?: { entry?: unknown } } }>(`/workspaces/${enc(ws)}/datastores/${enc(ds)}`, { quietOnNotFound: true });
    if (!b) return undefined;
    const params: Record<string, string> = {};
    for (const e of asList(b.dataStore.connectionParameters?.entry as { '@key': string; $: unknown } | undefined)) params[e['@key']] = String(e.$);
    return { name: b.dataStore.name, connectionParameters: params };
  }
  private static postgisBody(ds: string, c: PostgisConnection): unknown {
    const params: Record<string, string> = { host: c.host, port: String(c.port), database: c.database, user: c.user, passwd: c.passwd, dbtype: 'postgis', schema: c.schema ?? 'public', ...c.extra };
    return { dataStore: { name: ds, connectionParameters: { entry: Object.entries(params).map(([k, v]) => ({ '@key': k, $: v })) } } };
  }
  async createPostgisDatastore(ws: string, ds: string, c: PostgisConnection): Promise<void> {
    await this.request('POST', `/workspaces/${enc(ws)}/datastores`, { json: GeoServerClient.postgisBody(ds, c) });
  }
  /** Q13: a PUT replaces connectionParameters as a whole, so send all of them. */
  async updatePostgisDatastore(ws: string, ds: string, c: PostgisConnection): Promise<void> {
    await this.request('PUT', `/workspaces/${enc(ws)}/datastores/${enc(ds)}`, { json: GeoServerClient.postgisBody(ds, c) });
  }
  /**
   * Uploads a file as the data of store `ds`, creating the store if needed (`PUT …/datastores/{ds}/file.{format}`).
   * With configure 'first'/'all' GeoServer also publishes the feature type(s) named after the table(s) or the
   * .shp. Q10: the documents list only 200, GeoServer answers 201 when it created the store; both are success.
   */
  async uploadDatastoreFile(ws: string, ds: string, format: UploadFormat, bytes: Uint8Array, opts: UploadOptions = {}): Promise<{ created: boolean }> {
    const r = await this.request('PUT', `/workspaces/${enc(ws)}/datastores/${enc(ds)}/file.${format}`, {
      query: { configure: opts.configure, update: opts.update, charset: opts.charset, filename: opts.filename },
      body: bytes, contentType: UPLOAD_CONTENT_TYPE[format],
    });
    return { created: r.status === 201 };
  }
  async deleteDatastore(ws: string, ds: string, recurse = false): Promise<void> {
    await this.request('DELETE', `/workspaces/${enc(ws)}/datastores/${enc(ds)}`, { query: { recurse: recurse || undefined } });
  }

  // --- feature types
  async listFeatureTypes(ws: string, ds: string): Promise<NamedRef[]> {
    return unwrapList(await this.getJson(`/workspaces/${enc(ws)}/datastores/${enc(ds)}/featuretypes`), 'featureTypes', 'featureType');
  }
  async getFeatureType(ws: string, ds: string, ft: string): Promise<(FeatureTypeSpec & Record<string, unknown>) | undefined> {
    return (await this.getOrUndefined<{ featureType: FeatureTypeSpec & Record<string, unknown> }>(`/workspaces/${enc(ws)}/datastores/${enc(ds)}/featuretypes/${enc(ft)}`, { quietOnNotFound: true }))?.featureType;
  }
  /** Q4: nativeName defaults to name so GeoServer publishes the existing table instead of trying to create one. */
  async createFeatureType(ws: string, ds: string, spec: FeatureTypeSpec): Promise<void> {
    await this.request('POST', `/workspaces/${enc(ws)}/datastores/${enc(ds)}/featuretypes`, { json: { featureType: { nativeName: spec.name, ...spec } } });
  }
  /** `recalculate` re-reads the bounds from the data (after an upload replaced it). */
  async updateFeatureType(ws: string, ds: string, spec: FeatureTypeSpec, opts: { recalculate?: ('nativebbox' | 'latlonbbox')[] } = {}): Promise<void> {
    await this.request('PUT', `/workspaces/${enc(ws)}/datastores/${enc(ds)}/featuretypes/${enc(spec.name)}`, {
      query: { recalculate: opts.recalculate?.join(',') },
      json: { featureType: { nativeName: spec.name, ...spec } },
    });
  }
  /** Q5: recurse also removes the layer; without it the layer survives and a re-publish fails. */
  async deleteFeatureType(ws: string, ds: string, ft: string, recurse = true): Promise<void> {
    await this.request('DELETE', `/workspaces/${enc(ws)}/datastores/${enc(ds)}/featuretypes/${enc(ft)}`, { query: { recurse: recurse || undefined } });
  }

  // --- layers (workspace-scoped paths: `/layers/{name}` is ambiguous across workspaces, Q11)
  async getLayer(ws: string, layer: string): Promise<{ name: string; defaultStyle?: { name: string; workspace?: string } } | undefined> {
    return (await this.getOrUndefined<{ layer: { name: string; defaultStyle?: { name: string; workspace?: string } } }>(`/workspaces/${enc(ws)}/layers/${enc(layer)}`))?.layer;
  }
  async setDefaultStyle(ws: string, layer: string, style: string, styleWorkspace?: string): Promise<void> {
    await this.request('PUT', `/workspaces/${enc(ws)}/layers/${enc(layer)}`, { json: { layer: { defaultStyle: { name: style, ...(styleWorkspace ? { workspace: styleWorkspace } : {}) } } } });
  }
  /** Q5: recurse also removes the layer from layer groups. */
  async deleteLayer(ws: string, layer: string, recurse = true): Promise<void> {
    await this.request('DELETE', `/workspaces/${enc(ws)}/layers/${enc(layer)}`, { query: { recurse: recurse || undefined } });
  }

  // --- styles (workspace-scoped)
  async listStyles(ws: string): Promise<NamedRef[]> { return unwrapList(await this.getJson(`/workspaces/${enc(ws)}/styles`), 'styles', 'style'); }
  async getStyle(ws: string, style: string): Promise<{ name: string; format?: string; languageVersion?: { version: string } } | undefined> {
    return (await this.getOrUndefined<{ style: { name: string; format?: string; languageVersion?: { version: string } } }>(`/workspaces/${enc(ws)}/styles/${enc(style)}`))?.style;
  }
  /** Creates the catalog entry and the file in one POST (Q6); the name travels in `?name=`. */
  async createStyle(ws: string, style: string, sld: string): Promise<void> {
    await this.request('POST', `/workspaces/${enc(ws)}/styles`, { query: { name: style }, body: sld, contentType: SLD_CONTENT_TYPE[sldVersionOf(sld)] });
  }
  async updateStyleBody(ws: string, style: string, sld: string): Promise<void> {
    await this.request('PUT', `/workspaces/${enc(ws)}/styles/${enc(style)}`, { body: sld, contentType: SLD_CONTENT_TYPE[sldVersionOf(sld)] });
  }
  async deleteStyle(ws: string, style: string, purge = true): Promise<void> {
    await this.request('DELETE', `/workspaces/${enc(ws)}/styles/${enc(style)}`, { query: { purge: purge || undefined, recurse: true } });
  }

  // --- layer groups (global)
  async listLayerGroups(): Promise<NamedRef[]> { return unwrapList(await this.getJson('/layergroups'), 'layerGroups', 'layerGroup'); }
  async getLayerGroup(name: string): Promise<{ name: string; publishables: NamedRef[] } | undefined> {
    const b = await this.getOrUndefined<{ layerGroup: { name: string; publishables?: { published?: unknown } | '' } }>(`/layergroups/${enc(name)}`);
    if (!b) return undefined;
    const p = b.layerGroup.publishables;
    return { name: b.layerGroup.name, publishables: asList(p ? p.published as NamedRef | NamedRef[] | undefined : undefined) };
  }
  /** Q15: the styles list must be as long as the publishables list; '' means each layer's default. */
  async createLayerGroup(name: string, layers: string[], title?: string): Promise<void> {
    await this.request('POST', '/layergroups', { json: { layerGroup: { name, title, mode: 'SINGLE', publishables: { published: layers.map((l) => ({ '@type': 'layer', name: l })) }, styles: { style: layers.map(() => '') } } } });
  }
  async deleteLayerGroup(name: string): Promise<void> { await this.request('DELETE', `/layergroups/${enc(name)}`); }

  // --- GeoWebCache (`ws:layer` names, `:` URL-encoded: Q11)
  async seed(layer: string, req: SeedRequest): Promise<void> {
    await this.request('POST', `/seed/${enc(layer)}.json`, {
      gwc: true,
      json: { seedRequest: { name: layer, gridSetId: req.gridSetId ?? 'EPSG:900913', zoomStart: req.zoomStart ?? 0, zoomStop: req.zoomStop ?? 18, format: req.format ?? 'image/png', type: req.type, threadCount: req.threadCount ?? 1 } },
    });
  }
  async truncate(layer: string): Promise<void> { await this.seed(layer, { type: 'truncate' }); }
  /** Q5: deleting a layer leaves its tile layer behind; this removes it. */
  async deleteTileLayer(layer: string): Promise<void> { await this.request('DELETE', `/layers/${enc(layer)}`, { gwc: true }); }
}
