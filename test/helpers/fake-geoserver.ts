// An in-process fake GeoServer driven by GeoServer's own REST documents (a copy of shared/geoserver-rest-api in test/fixtures/geoserver-rest-api/,
// Swagger 2.0). Every request is checked against them: an undeclared path answers 400, an undeclared
// method (or one the documents list only as 405) 405, an undeclared or mistyped query parameter 400, a
// body content type outside `consumes` 415 — each recorded in `violations`, which the suite asserts empty.
// Answers use only the statuses an operation lists, or a row of OVERLAY (real behaviour the documents
// omit, each with its NOTES.md citation). It keeps catalog state (workspaces, datastores, feature types,
// layers, styles, layer groups, GWC tile layers and seed requests) and records the operations exercised.
// File uploads (PUT …/datastores/{ds}/file.{gpkg|shp}) are read with readers of its own (better-sqlite3 for
// GeoPackage, a zip/.shp/.dbf reader below), not the project's writers' counterparts, so a malformed file
// is a violation; the tables found configure the feature type as GeoServer's `configure=first|all` does.
// Approach: NOTES.md §4. No YAML parser is installed, so the reader below handles the subset the files use.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';

export const CONTRACT_DIR = new URL('../fixtures/geoserver-rest-api/', import.meta.url).pathname;

// ---- Minimal YAML reader ----------------------------------------------------------------------
// No YAML parser is installed (js-yaml/yaml are absent from node_modules), so this reads the subset
// the 13 GeoServer documents use: block mappings and sequences (including compact `- key: v` items and
// sequences at their parent key's indent), quoted and plain scalars (multi-line plain scalars folded),
// `|`/`>` block scalars, and single- or multi-line flow collections (kept as parsed JSON when they are
// JSON, else as their raw text: they only occur in examples, which the fake never reads). No anchors,
// tags or multi-document streams: none of the files uses them.
interface YLine { indent: number; text: string }

export function parseYamlSubset(source: string): unknown {
  const lines: YLine[] = [];
  for (const raw of source.replace(/\r\n?/g, '\n').split('\n')) {
    const text = raw.replace(/[ \t]+$/, '');
    const indent = text.length - text.replace(/^ +/, '').length;
    lines.push({ indent, text: text.slice(indent) });
  }
  let i = 0;
  const skipBlank = () => { while (i < lines.length && (lines[i]!.text === '' || lines[i]!.text.startsWith('#') || (lines[i]!.indent === 0 && lines[i]!.text === '---'))) i++; };
  const isSeqItem = (t: string) => t === '-' || t.startsWith('- ');

  function scalar(s: string): unknown {
    if (s.startsWith("'")) return s.slice(1, s.lastIndexOf("'")).replace(/''/g, "'");
    if (s.startsWith('"')) { try { return JSON.parse(s.slice(0, s.lastIndexOf('"') + 1)); } catch { return s.slice(1, s.lastIndexOf('"')); } }
    if (s.startsWith('[') || s.startsWith('{')) {
      try { return JSON.parse(s); } catch { /* YAML flow syntax */ }
      if (s.startsWith('[') && s.endsWith(']')) return s.slice(1, -1).split(',').map((x) => x.trim()).filter(Boolean).map(scalar);
      return s;
    }
    if (/^(true|false)$/.test(s)) return s === 'true';
    if (/^(null|~)$/.test(s)) return null;
    if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
    return s;
  }
  function splitKey(t: string): [string, string] | null {
    let end: number;
    if (t.startsWith('"') || t.startsWith("'")) {
      end = t.indexOf(t[0]!, 1) + 1;
      if (t[end] !== ':') return null;
      return [String(scalar(t.slice(0, end))), t.slice(end + 1).trim()];
    }
    const m = /:(\s|$)/.exec(t);
    if (!m) return null;
    return [t.slice(0, m.index).trim(), t.slice(m.index + 1).trim()];
  }
  // A value after `key:` or `- `: block scalar, flow collection spanning lines, or plain/quoted scalar.
  function value(rest: string, ownerIndent: number): unknown {
    if (/^[|>][-+]?$/.test(rest)) {
      const body: string[] = [];
      let contentIndent = -1;
      while (i < lines.length && (lines[i]!.text === '' || lines[i]!.indent > ownerIndent)) {
        const l = lines[i++]!;
        if (l.text !== '' && contentIndent < 0) contentIndent = l.indent;
        body.push(l.text === '' ? '' : ' '.repeat(Math.max(0, l.indent - Math.max(contentIndent, 0))) + l.text);
      }
      while (body.length && body[body.length - 1] === '') body.pop();
      return rest.startsWith('|') ? body.join('\n') + '\n' : body.join(' ') + '\n';
    }
    let text = rest;
    const open = (s: string) => (s.match(/[[{]/g)?.length ?? 0) - (s.match(/[\]}]/g)?.length ?? 0);
    const quotedOpen = (s: string) => (s.startsWith('"') && (s.length < 2 || !s.endsWith('"'))) || (s.startsWith("'") && (s.length < 2 || !s.endsWith("'")));
    // A quoted scalar runs to its closing quote wherever the next lines are indented (flow context).
    while (i < lines.length && quotedOpen(text)) text += ' ' + lines[i++]!.text;
    while (i < lines.length && lines[i]!.indent > ownerIndent && lines[i]!.text !== '' &&
      (((text.startsWith('[') || text.startsWith('{')) && open(text) > 0) || !/^["'[{]/.test(text))) {
      text += ' ' + lines[i++]!.text;
    }
    return scalar(text);
  }
  function block(indent: number): unknown {
    skipBlank();
    if (i >= lines.length) return null;
    return isSeqItem(lines[i]!.text) ? sequence(indent) : mapping(indent);
  }
  function childOf(ownerIndent: number, allowCompactSeq: boolean): unknown {
    skipBlank();
    const next = lines[i];
    if (!next) return null;
    if (next.indent > ownerIndent) {
      const t = next.text;
      const isKey = /^["'][^"']*["']\s*:/.test(t) || (!/^["'[{]/.test(t) && splitKey(t) !== null);
      if (!isSeqItem(t) && !isKey) { i++; return value(t, ownerIndent); } // a scalar on the next line
      return block(next.indent);
    }
    if (allowCompactSeq && next.indent === ownerIndent && isSeqItem(next.text)) return sequence(ownerIndent);
    return null;
  }
  function mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (;;) {
      skipBlank();
      const l = lines[i];
      if (!l || l.indent !== indent || isSeqItem(l.text)) return out;
      const kv = splitKey(l.text);
      if (!kv) throw new Error(`YAML subset: expected "key: value" at line ${i + 1}: ${l.text}`);
      i++;
      out[kv[0]] = kv[1] === '' ? childOf(indent, true) : value(kv[1], indent);
    }
  }
  function sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      skipBlank();
      const l = lines[i];
      if (!l || l.indent !== indent || !isSeqItem(l.text)) return out;
      const rest = l.text.slice(1).trimStart();
      if (rest === '') { i++; out.push(childOf(indent, false)); continue; }
      if (splitKey(rest) && !/^["'[{]/.test(rest) || /^["'][^"']*["']:/.test(rest)) {
        // `- key: v` opens a mapping whose keys sit at the column after the dash.
        lines[i] = { indent: indent + (l.text.length - rest.length), text: rest };
        out.push(mapping(lines[i]!.indent));
        continue;
      }
      i++;
      out.push(value(rest, indent));
    }
  }
  const doc = block(0);
  skipBlank();
  if (i < lines.length) throw new Error(`YAML subset: unparsed input at line ${i + 1}: ${lines[i]!.text}`);
  return doc;
}

// ---- Contract ---------------------------------------------------------------------------------
interface QueryParam { type?: string; enum?: unknown[]; itemEnum?: unknown[]; required: boolean }
export interface Operation {
  /** `file#operationId` (gwclayers and layers reuse ids, so the file is part of the key). */
  key: string;
  method: string;
  /** Full path template including the basePath, e.g. /geoserver/rest/workspaces/{workspaceName}. */
  template: string;
  regex: RegExp;
  names: string[];
  literalSegments: number;
  query: Map<string, QueryParam>;
  consumes: string[];
  bodyRequired: boolean;
  statuses: Set<number>;
}

// Fixes applied to the documents as loaded, each with its reason (NOTES.md §4.1).
const SPEC_FIXUPS = {
  // datastores.yaml and settings.yaml declare no basePath; GeoServer serves them under /rest.
  defaultBasePath: '/geoserver/rest',
  // styles.yaml writes two paths as /rest/… under basePath /geoserver/rest, a doubled /rest (Q11).
  stripRestPrefix: (file: string, path: string) => (file === 'styles.yaml' && path.startsWith('/rest/') ? path.slice(5) : path),
};

type Doc = { basePath?: string; paths?: Record<string, Record<string, any>>; parameters?: Record<string, any>; consumes?: string[] };

export function loadContract(dir = CONTRACT_DIR): Operation[] {
  const ops: Operation[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const doc = parseYamlSubset(readFileSync(join(dir, file), 'utf8')) as Doc;
    const base = doc.basePath ?? SPEC_FIXUPS.defaultBasePath;
    for (const [rawPath, item] of Object.entries(doc.paths ?? {})) {
      const path = SPEC_FIXUPS.stripRestPrefix(file, rawPath);
      const template = base + path;
      const names: string[] = [];
      const regex = new RegExp('^' + template.split(/(\{[^}]+\})/).map((part) => {
        const m = /^\{([^}]+)\}$/.exec(part);
        if (m) { names.push(m[1]!); return '([^/]+?)'; }
        return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      }).join('') + '$');
      const literalSegments = template.split('/').filter((s) => s && !s.includes('{')).length;
      const shared = (item.parameters ?? []) as any[];
      for (const method of ['get', 'put', 'post', 'delete', 'head', 'patch']) {
        const op = item[method];
        if (!op) continue;
        const params = [...shared, ...((op.parameters ?? []) as any[])].map((p) =>
          p && typeof p.$ref === 'string' ? doc.parameters?.[p.$ref.replace('#/parameters/', '')] ?? {} : p ?? {});
        const query = new Map<string, QueryParam>();
        for (const p of params.filter((p) => p.in === 'query')) query.set(p.name, { type: p.type, enum: p.enum, itemEnum: p.items?.enum, required: !!p.required });
        ops.push({
          key: `${file}#${op.operationId ?? `${method.toUpperCase()} ${path}`}`,
          method: method.toUpperCase(), template, regex, names, literalSegments, query,
          consumes: (op.consumes ?? doc.consumes ?? []) as string[],
          bodyRequired: params.some((p) => p.in === 'body' && p.required),
          statuses: new Set(Object.keys(op.responses ?? {}).map(Number)),
        });
      }
    }
  }
  // Literal segments win over parameters (`…/featuretypes` over `…/{method}.{format}`).
  return ops.sort((a, b) => b.literalSegments - a.literalSegments);
}

/** Real answers the documents omit, allowed on top of an operation's listed statuses. */
export const OVERLAY: { status: number; applies: (op: Operation) => boolean; source: string }[] = [
  { status: 401, applies: () => true, source: 'Q8: any operation can return 401 without valid credentials' },
  { status: 404, applies: (op) => op.names.length > 0, source: 'Q7: a missing named resource answers 404 (quietOnNotFound only silences logs)' },
  { status: 400, applies: (op) => op.key === 'workspaces.yaml#deleteWorkspace', source: 'Q2: non-empty workspace without recurse → 400' },
  { status: 500, applies: (op) => /#post(Datastores|FeatureTypes)$/.test(op.key), source: 'Q3: duplicate store/resource → IllegalArgumentException → 500' },
  { status: 400, applies: (op) => op.key.endsWith('#postFeatureTypes'), source: 'Q4: unknown nativeName without attributes → 400' },
  { status: 201, applies: (op) => op.key === 'datastores.yaml#putDataStoreUpload', source: 'Q10: an upload that creates the store answers 201 (geoserver-restconfig requires it)' },
];

/**
 * Content types for operations whose document declares no `consumes` (Q10: the upload; the docs and the
 * cited clients name these), keyed by operation and then by the `{format}` path parameter.
 */
export const CONSUMES_OVERLAY: Record<string, Record<string, string[]>> = {
  'datastores.yaml#putDataStoreUpload': { shp: ['application/zip'], gpkg: ['application/x-sqlite3', 'application/zip'] },
};
/** Values the upload's free-text query parameters take in GeoServer (DataStoreFileController; datastores.md). */
const UPLOAD_QUERY_VALUES: Record<string, string[]> = { configure: ['first', 'none', 'all'], update: ['append', 'overwrite'] };

// ---- Uploaded files, read independently of the project's writers ------------------------------------
/** What GeoServer would find in an uploaded file: its feature tables. */
export interface UploadedTable {
  name: string;
  geometryType: string;
  srs: string;
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  bbox: [number, number, number, number] | null;
}

/** Opens a GeoPackage the way a reader must (GeoPackage 1.2 Req 2, 10–14, 19–21) and throws on what it lacks. */
export function readGeoPackageTables(bytes: Uint8Array): UploadedTable[] {
  if (Buffer.from(bytes.subarray(0, 16)).toString('latin1') !== 'SQLite format 3\0') throw new Error('not an SQLite file');
  const dir = mkdtempSync(join(tmpdir(), 'fake-gs-'));
  try {
    const file = join(dir, 'upload.gpkg');
    writeFileSync(file, bytes);
    const db = new Database(file, { readonly: true });
    try {
      if (db.pragma('application_id', { simple: true }) !== 0x47504b47) throw new Error('application_id is not "GPKG"');
      const srs = db.prepare('SELECT srs_id, organization, organization_coordsys_id FROM gpkg_spatial_ref_sys').all() as { srs_id: number; organization: string; organization_coordsys_id: number }[];
      for (const id of [-1, 0, 4326]) if (!srs.some((r) => r.srs_id === id)) throw new Error(`gpkg_spatial_ref_sys lacks srs_id ${id}`);
      const contents = db.prepare("SELECT c.table_name AS t, g.column_name AS col, g.geometry_type_name AS gt, g.srs_id AS srs, c.min_x, c.min_y, c.max_x, c.max_y FROM gpkg_contents c JOIN gpkg_geometry_columns g USING (table_name) WHERE c.data_type = 'features' ORDER BY c.rowid").all() as
        { t: string; col: string; gt: string; srs: number; min_x: number | null; min_y: number | null; max_x: number | null; max_y: number | null }[];
      if (!contents.length) throw new Error('no feature table in gpkg_contents/gpkg_geometry_columns');
      return contents.map((c) => {
        const info = db.prepare(`PRAGMA table_info("${c.t.replace(/"/g, '""')}")`).all() as { name: string; type: string; pk: number }[];
        if (!info.length) throw new Error(`table ${c.t} named in gpkg_contents does not exist`);
        const org = srs.find((r) => r.srs_id === c.srs);
        if (!org) throw new Error(`srs_id ${c.srs} of ${c.t} is not in gpkg_spatial_ref_sys`);
        const rows = db.prepare(`SELECT * FROM "${c.t.replace(/"/g, '""')}"`).all() as Record<string, unknown>[];
        for (const r of rows) {
          const g = r[c.col] as Buffer | null;
          // StandardGeoPackageBinary: "GP", version 0, flags, srs_id (§2.1.3).
          if (g && (g.toString('latin1', 0, 2) !== 'GP' || g[2] !== 0 || (g[3]! & 1 ? g.readInt32LE(4) : g.readInt32BE(4)) !== c.srs)) throw new Error(`${c.t}: a geometry lacks the GeoPackage binary header`);
          delete r[c.col];
        }
        return {
          name: c.t, geometryType: c.gt, srs: `${org.organization}:${org.organization_coordsys_id}`,
          columns: info.filter((i) => i.name !== c.col && !i.pk).map((i) => ({ name: i.name, type: i.type })),
          rows: rows.map((r) => { const o = { ...r }; for (const i of info) if (i.pk) delete o[i.name]; return o; }),
          bbox: c.min_x === null ? null : [c.min_x, c.min_y!, c.max_x!, c.max_y!],
        };
      });
    } finally { db.close(); }
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** The entries of a zip (stored or deflated), from its central directory (APPNOTE 4.3.12, 4.3.16). */
export function readZipEntries(bytes: Uint8Array): Map<string, Buffer> {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) if (b.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const out = new Map<string, Buffer>();
  let p = b.readUInt32LE(eocd + 16);
  for (let n = b.readUInt16LE(eocd + 10); n > 0; n--) {
    if (b.readUInt32LE(p) !== 0x02014b50) throw new Error('zip central directory is corrupt');
    const method = b.readUInt16LE(p + 10), size = b.readUInt32LE(p + 20), nameLen = b.readUInt16LE(p + 28);
    const extra = b.readUInt16LE(p + 30), comment = b.readUInt16LE(p + 32), local = b.readUInt32LE(p + 42);
    const name = b.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
    const data = b.subarray(start, start + size);
    if (method !== 0 && method !== 8) throw new Error(`zip entry ${name} uses compression method ${method}`);
    out.set(name, method === 0 ? Buffer.from(data) : inflateRawSync(data));
    p += 46 + nameLen + extra + comment;
  }
  return out;
}

const SHAPE_TYPES: Record<number, string> = { 0: 'NULL', 1: 'POINT', 3: 'MULTILINESTRING', 5: 'MULTIPOLYGON', 8: 'MULTIPOINT' };

/** A zipped shapefile as GeoServer's shapefile store reads it: .shp records, .dbf fields and rows (charset from .cpg), .prj. */
export function readShapefileZipTables(bytes: Uint8Array, charset?: string): UploadedTable[] {
  const entries = readZipEntries(bytes);
  const tables: UploadedTable[] = [];
  for (const [name, shp] of entries) {
    if (!/\.shp$/i.test(name)) continue;
    const stem = name.replace(/\.shp$/i, '');
    const part = (ext: string) => [...entries].find(([n]) => n.toLowerCase() === `${stem}.${ext}`.toLowerCase())?.[1];
    const dbf = part('dbf'), shx = part('shx'), prj = part('prj'), cpg = part('cpg');
    if (!dbf || !shx) throw new Error(`${stem}: a shapefile needs .shp, .shx and .dbf`);
    if (shp.readInt32BE(0) !== 9994 || shp.readInt32BE(24) * 2 !== shp.length) throw new Error(`${name}: bad .shp header or length`);
    let records = 0;
    for (let o = 100; o < shp.length; o += 8 + shp.readInt32BE(o + 4) * 2) records++;
    const count = dbf.readUInt32LE(4), headerLen = dbf.readUInt16LE(8), recLen = dbf.readUInt16LE(10);
    if (count !== records) throw new Error(`${stem}: .dbf has ${count} rows, .shp ${records} shapes`);
    const fields: { name: string; type: string; len: number }[] = [];
    for (let o = 32; dbf[o] !== 0x0d; o += 32) fields.push({ name: dbf.toString('latin1', o, o + 11).replace(/\0.*$/, ''), type: String.fromCharCode(dbf[o + 11]!), len: dbf[o + 16]! });
    const enc = (charset ?? cpg?.toString('latin1').trim() ?? 'ISO-8859-1').toLowerCase().replace(/^utf-?8$/, 'utf-8');
    const decoder = new TextDecoder(enc === 'utf-8' ? 'utf-8' : 'latin1');
    const rows: Record<string, unknown>[] = [];
    for (let r = 0; r < count; r++) {
      let o = headerLen + r * recLen + 1;
      const row: Record<string, unknown> = {};
      for (const f of fields) { row[f.name] = decoder.decode(dbf.subarray(o, o + f.len)).trim(); o += f.len; }
      rows.push(row);
    }
    const bbox: [number, number, number, number] = [shp.readDoubleLE(36), shp.readDoubleLE(44), shp.readDoubleLE(52), shp.readDoubleLE(60)];
    tables.push({
      name: stem.replace(/^.*\//, ''), geometryType: SHAPE_TYPES[shp.readInt32LE(32)] ?? `shape type ${shp.readInt32LE(32)}`,
      srs: prj && /WGS[ _]?(19)?84/i.test(prj.toString('latin1')) ? 'EPSG:4326' : 'UNKNOWN',
      columns: fields.map((f) => ({ name: f.name, type: f.type })), rows, bbox: count ? bbox : null,
    });
  }
  if (!tables.length) throw new Error('the zip holds no .shp');
  return tables;
}

// ---- Fake ---------------------------------------------------------------------------------------
export interface FakeOptions {
  user?: string;
  password?: string;
  /** Tables the PostGIS store "has"; publishing another nativeName answers 400 (Q4). Default: any. */
  tables?: string[];
  /** Q1 shapes: one-element lists as a bare object, empty lists as "". Default true for both. */
  collapseSingletons?: boolean;
  emptyListAsString?: boolean;
  /** Q12: GeoServer's error bodies are plain text or a Tomcat HTML page. */
  errorBodies?: 'text/plain' | 'text/html';
}

interface Store {
  type: 'PostGIS' | 'GeoPackage' | 'Shapefile';
  params: Record<string, string>;
  featureTypes: Map<string, Record<string, unknown>>;
  /** File stores: the tables of the uploaded data (what a WFS GetFeature would return). */
  tables?: Map<string, UploadedTable>;
}
interface Style { body: string; contentType: string; version: string }
interface Ws { stores: Map<string, Store>; styles: Map<string, Style> }
interface LayerState { ws: string; store: string; name: string; defaultStyle: { name: string; workspace?: string } }

export interface FakeReply { status: number; body: string; contentType: string; location?: string }

export class FakeGeoServer {
  readonly operations = loadContract();
  readonly violations: string[] = [];
  readonly exercised = new Set<string>();
  readonly workspaces = new Map<string, Ws>();
  readonly layers = new Map<string, LayerState>();
  readonly layerGroups = new Map<string, string[]>();
  readonly tileLayers = new Set<string>();
  readonly seedRequests: { layer: string; type: string }[] = [];
  readonly opts: Required<Omit<FakeOptions, 'tables'>> & { tables?: string[] };
  private server?: Server;

  constructor(opts: FakeOptions = {}) {
    this.opts = { user: 'admin', password: 'geoserver', collapseSingletons: true, emptyListAsString: true, errorBodies: 'text/plain', ...opts };
  }

  async listen(): Promise<{ url: string; restUrl: string; close: () => Promise<void> }> {
    this.server = createServer((req, res) => {
      readBody(req).then((body: Buffer) => {
        const r = this.handle(req.method ?? 'GET', req.url ?? '/', req.headers as Record<string, string | undefined>, body);
        res.writeHead(r.status, { 'Content-Type': r.contentType, ...(r.location ? { Location: r.location } : {}) });
        res.end(r.body);
      }, (e: Error) => { res.writeHead(500); res.end(String(e)); });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    const addr = this.server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    return { url, restUrl: `${url}/geoserver/rest`, close: () => new Promise((ok) => this.server!.close(() => ok())) };
  }

  /** Operations with a 2xx answer in the documents that were never called. */
  unexercised(keys: string[]): string[] { return keys.filter((k) => !this.exercised.has(k)); }

  private reject(status: number, why: string): FakeReply {
    this.violations.push(why);
    return { status, body: `contract violation: ${why}`, contentType: 'text/plain' };
  }

  handle(method: string, rawUrl: string, headers: Record<string, string | undefined>, rawBody: string | Uint8Array): FakeReply {
    const bytes = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
    const body = bytes.toString('utf8');
    const url = new URL(rawUrl, 'http://fake');
    const path = url.pathname;
    const matching = this.operations.filter((o) => o.regex.test(path));
    if (!matching.length) return this.reject(400, `${method} ${path}: no path in the documents matches`);
    const op = matching.find((o) => o.method === method);
    if (!op) return this.reject(405, `${method} ${path}: method not declared for ${matching[0]!.template}`);
    if (![...op.statuses].some((s) => s >= 200 && s < 300)) return this.reject(405, `${method} ${path}: ${op.key} is documented only as ${[...op.statuses].join('/')}`);
    for (const [k, v] of url.searchParams) {
      const q = op.query.get(k);
      if (!q) return this.reject(400, `${method} ${path}: query parameter "${k}" is not declared for ${op.key}`);
      if (q.enum && !q.enum.map(String).includes(v)) return this.reject(400, `${op.key}: ${k}=${v} not in ${q.enum.join('|')}`);
      // csv arrays (featuretype `recalculate`): each item must be one of the items' enum.
      if (q.itemEnum && v !== '' && v.split(',').some((x) => !q.itemEnum!.map(String).includes(x))) return this.reject(400, `${op.key}: ${k}=${v} has items outside ${q.itemEnum.join('|')}`);
      const values = op.key === 'datastores.yaml#putDataStoreUpload' ? UPLOAD_QUERY_VALUES[k] : undefined;
      if (values && !values.includes(v)) return this.reject(400, `${op.key}: ${k}=${v} not in ${values.join('|')}`);
      if (q.type === 'boolean' && v !== 'true' && v !== 'false') return this.reject(400, `${op.key}: ${k}=${v} is not a boolean`);
    }
    for (const [k, q] of op.query) if (q.required && !url.searchParams.has(k)) return this.reject(400, `${op.key}: required query parameter ${k} missing`);
    const ctype = (headers['content-type'] ?? '').split(';')[0]!.trim();
    if (bytes.length) {
      const format = /\.([^./]+)$/.exec(path)?.[1] ?? '';
      const consumes = op.consumes.length ? op.consumes : CONSUMES_OVERLAY[op.key]?.[format] ?? [];
      if (!consumes.includes(ctype)) return this.reject(415, `${op.key}: Content-Type "${ctype}" not in consumes [${consumes.join(', ')}]`);
    } else if (op.bodyRequired) return this.reject(400, `${op.key}: a request body is required`);

    this.exercised.add(op.key);
    const params: Record<string, string> = {};
    const m = op.regex.exec(path)!;
    op.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]!); });

    const reply = (status: number, data?: unknown, location?: string): FakeReply => {
      if (!op.statuses.has(status) && !OVERLAY.some((o) => o.status === status && o.applies(op))) {
        this.violations.push(`fake answered ${status} for ${op.key}, which lists ${[...op.statuses].join('/')}`);
      }
      if (status >= 400) {
        const msg = String(data ?? '');
        return this.opts.errorBodies === 'text/html'
          ? { status, contentType: 'text/html', body: `<!doctype html><html><head><title>HTTP Status ${status}</title><style>b{}</style></head><body><h1>HTTP Status ${status} – Error</h1><p><b>Message</b> ${msg.replace(/</g, '&lt;')}</p></body></html>` }
          : { status, contentType: 'text/plain', body: msg };
      }
      return { status, contentType: data === undefined ? 'text/plain' : 'application/json', body: data === undefined ? '' : typeof data === 'string' ? data : JSON.stringify(data), location };
    };

    const auth = headers.authorization ?? '';
    if (auth !== 'Basic ' + Buffer.from(`${this.opts.user}:${this.opts.password}`).toString('base64')) return reply(401, 'HTTP 401 Unauthorized');

    let json: any;
    if (body && /json/.test(ctype)) {
      try { json = JSON.parse(body); } catch { return reply(400, 'Invalid JSON body'); }
    }
    try {
      return this.dispatch(op, params, url.searchParams, json, body, ctype, reply, `${url.origin}`, bytes);
    } catch (e) {
      return this.reject(500, `fake has no behaviour for ${op.key}: ${(e as Error).message}`);
    }
  }

  /** The value of a wrapped list, in the shapes GeoServer emits (Q1). */
  private listValue(inner: string, items: unknown[]): unknown {
    if (!items.length && this.opts.emptyListAsString) return '';
    return { [inner]: items.length === 1 && this.opts.collapseSingletons ? items[0] : items };
  }
  private list(outer: string, inner: string, items: unknown[]): unknown { return { [outer]: this.listValue(inner, items) }; }

  private dispatch(op: Operation, p: Record<string, string>, q: URLSearchParams, json: any, body: string, ctype: string,
    reply: (status: number, data?: unknown, location?: string) => FakeReply, origin: string, bytes: Buffer): FakeReply {
    const id = op.key.split('#')[1]!;
    const file = op.key.split('#')[0]!;
    const wsName = p.workspaceName ?? p.workspace;
    const ws = wsName === undefined ? undefined : this.workspaces.get(wsName);
    if (wsName !== undefined && !ws && !(id === 'postWorkspaces')) return reply(404, `No such workspace: '${wsName}'`);
    const store = p.storeName !== undefined ? ws!.stores.get(p.storeName) : undefined;
    if (p.storeName !== undefined && !store && !/Upload$/.test(id)) return reply(404, `No such datastore: ${wsName},${p.storeName}`);
    const rest = `${origin}/geoserver/rest`;
    const flag = (k: string) => q.get(k) === 'true';

    if (file === 'manifests.yaml' && id === 'GET /about/version') {
      return reply(200, { about: { resource: [{ '@name': 'GeoServer', Version: '2.25.2' }, { '@name': 'GeoTools', Version: '31.2' }] } });
    }
    switch (id) {
      // workspaces / namespaces (1:1)
      case 'getWorkspaces': return reply(200, this.list('workspaces', 'workspace', [...this.workspaces.keys()].map((name) => ({ name, href: `${rest}/workspaces/${name}.json` }))));
      case 'getNamespaces': return reply(200, this.list('namespaces', 'namespace', [...this.workspaces.keys()].map((name) => ({ name, href: `${rest}/namespaces/${name}.json` }))));
      case 'postWorkspaces': case 'postNamespaces': {
        const name = id === 'postWorkspaces' ? json?.workspace?.name : json?.namespace?.prefix;
        if (typeof name !== 'string' || !name) return this.reject(400, `${op.key}: body lacks the name`);
        if (this.workspaces.has(name)) return reply(id === 'postWorkspaces' ? 409 : 401, `Workspace '${name}' already exists`);
        this.workspaces.set(name, { stores: new Map(), styles: new Map() });
        return reply(201, name, `${rest}/workspaces/${name}`);
      }
      case 'getWorkspace': return reply(200, { workspace: { name: wsName, dataStores: `${rest}/workspaces/${wsName}/datastores.json` } });
      case 'getNamespace': {
        if (!this.workspaces.has(p.namespaceName!)) return reply(404, `No such namespace: '${p.namespaceName}'`);
        return reply(200, { namespace: { prefix: p.namespaceName, uri: `http://onemap.local/${p.namespaceName}` } });
      }
      case 'deleteNamespace': case 'deleteWorkspace': {
        const name = wsName ?? p.namespaceName!;
        const w = this.workspaces.get(name);
        if (!w) return reply(404, `No such workspace: '${name}'`);
        const empty = !w.stores.size && !w.styles.size;
        if (!empty && (id === 'deleteNamespace' || !flag('recurse'))) return reply(id === 'deleteWorkspace' ? 400 : 403, `Workspace ${name} not empty`);
        for (const [k, l] of this.layers) if (l.ws === name) { this.layers.delete(k); this.tileLayers.delete(k); }
        this.workspaces.delete(name);
        return reply(200);
      }
      // datastores
      case 'getDatastores': return reply(200, this.list('dataStores', 'dataStore', [...ws!.stores.keys()].map((name) => ({ name, href: `${rest}/workspaces/${wsName}/datastores/${name}.json` }))));
      case 'postDatastores': case 'putDatastore': {
        const d = json?.dataStore;
        const entries = d?.connectionParameters?.entry;
        if (typeof d?.name !== 'string' || entries === undefined) return this.reject(400, `${op.key}: body needs dataStore.name and connectionParameters.entry`);
        const params: Record<string, string> = {};
        for (const e of Array.isArray(entries) ? entries : [entries]) params[e['@key']] = String(e.$);
        if (id === 'postDatastores') {
          if (ws!.stores.has(d.name)) return reply(500, `Store '${d.name}' already exists in workspace '${wsName}'`);
          ws!.stores.set(d.name, { type: params.dbtype === 'postgis' ? 'PostGIS' : params.dbtype === 'geopkg' ? 'GeoPackage' : 'Shapefile', params, featureTypes: new Map() });
          return reply(201, d.name, `${rest}/workspaces/${wsName}/datastores/${d.name}`);
        }
        store!.params = params; // Q13: replaced as a whole
        return reply(200);
      }
      case 'putDataStoreUpload': {
        if (p.method !== 'file') return this.reject(501, `${op.key}: only method "file" is modelled (got ${p.method})`);
        const format = p.format!;
        if (format !== 'gpkg' && format !== 'shp') return this.reject(501, `${op.key}: only gpkg and shp uploads are modelled (got ${format})`);
        if (!bytes.length) return this.reject(400, `${op.key}: the upload has no body`);
        let tables: UploadedTable[];
        try {
          const file = ctype === 'application/zip' && format === 'gpkg'
            ? [...readZipEntries(bytes)].find(([n]) => n.endsWith('.gpkg'))?.[1] ?? Buffer.alloc(0) : bytes;
          tables = format === 'gpkg' ? readGeoPackageTables(file) : readShapefileZipTables(bytes, q.get('charset') ?? undefined);
        } catch (e) {
          return this.reject(400, `${op.key}: GeoServer could not read the uploaded ${format}: ${(e as Error).message}`);
        }
        const type = format === 'gpkg' ? 'GeoPackage' : 'Shapefile';
        let s = store;
        const created = !s;
        if (s && s.type !== type) return this.reject(400, `${op.key}: store ${p.storeName} is a ${s.type} store, not ${type}`);
        const file = q.get('filename') ?? `${p.storeName}.${format}`;
        if (!s) {
          s = { type, featureTypes: new Map(), tables: new Map(),
            params: format === 'gpkg' ? { database: `file:data/${wsName}/${p.storeName}/${file}`, dbtype: 'geopkg' }
              : { url: `file:data/${wsName}/${p.storeName}/${tables[0]!.name}.shp`, charset: q.get('charset') ?? 'ISO-8859-1', filetype: 'shapefile' } };
          ws!.stores.set(p.storeName!, s);
        }
        const append = q.get('update') === 'append';
        if (!append) s.tables = new Map();
        for (const t of tables) {
          const prev = s.tables!.get(t.name);
          s.tables!.set(t.name, append && prev ? { ...t, rows: [...prev.rows, ...t.rows] } : t);
        }
        const configure = q.get('configure') ?? 'first';
        for (const t of configure === 'none' ? [] : configure === 'all' ? tables : tables.slice(0, 1)) {
          if (s.featureTypes.has(t.name)) continue; // an existing feature type keeps its configuration
          if (this.layers.has(`${wsName}:${t.name}`)) return this.reject(400, `${op.key}: layer ${wsName}:${t.name} already exists in another store; delete it first`);
          const [minx, miny, maxx, maxy] = t.bbox ?? [0, 0, 0, 0];
          s.featureTypes.set(t.name, { name: t.name, nativeName: t.name, srs: t.srs, enabled: true, nativeBoundingBox: { minx, miny, maxx, maxy, crs: t.srs },
            attributes: { attribute: t.columns.map((c) => ({ name: c.name, binding: c.type })) } });
          this.layers.set(`${wsName}:${t.name}`, { ws: wsName!, store: p.storeName!, name: t.name, defaultStyle: { name: 'polygon' } });
          this.tileLayers.add(`${wsName}:${t.name}`);
        }
        return created ? reply(201) : reply(200);
      }
      case 'getDataStore': return reply(200, { dataStore: { name: p.storeName, enabled: true, type: store!.type, workspace: { name: wsName },
        connectionParameters: this.listValue('entry', Object.entries(store!.params).map(([k, v]) => ({ '@key': k, $: v }))),
        featureTypes: `${rest}/workspaces/${wsName}/datastores/${p.storeName}/featuretypes.json` } });
      case 'deleteDatastore': {
        if (store!.featureTypes.size && !flag('recurse')) return this.reject(400, `${op.key}: store not empty and recurse not set (the client should recurse)`);
        for (const ft of store!.featureTypes.keys()) { this.layers.delete(`${wsName}:${ft}`); this.tileLayers.delete(`${wsName}:${ft}`); }
        ws!.stores.delete(p.storeName!);
        return reply(200);
      }
      // feature types (store-scoped)
      case 'getFeatureTypes': {
        if (!store) return this.reject(400, `${op.key}: only the store-scoped variant is modelled`);
        return reply(200, this.list('featureTypes', 'featureType', [...store.featureTypes.keys()].map((name) => ({ name, href: `${rest}/workspaces/${wsName}/datastores/${p.storeName}/featuretypes/${name}.json` }))));
      }
      case 'postFeatureTypes': case 'putFeatureType': {
        if (!store) return this.reject(400, `${op.key}: only the store-scoped variant is modelled`);
        const ft = json?.featureType;
        if (typeof ft?.name !== 'string') return this.reject(400, `${op.key}: body needs featureType.name`);
        const native = ft.nativeName ?? ft.name;
        if (id === 'postFeatureTypes') {
          if (store.featureTypes.has(ft.name) || this.layers.has(`${wsName}:${ft.name}`)) return reply(500, `Resource named '${ft.name}' already exists in store: '${p.storeName}'`);
          const known = store.tables ? [...store.tables.keys()] : this.opts.tables;
          if (known && !known.includes(native) && !ft.attributes) return reply(400, 'Trying to create new feature type inside the store, but no attributes were specified');
          store.featureTypes.set(ft.name, { ...ft, nativeName: native, enabled: true });
          this.layers.set(`${wsName}:${ft.name}`, { ws: wsName!, store: p.storeName!, name: ft.name, defaultStyle: { name: 'polygon' } });
          this.tileLayers.add(`${wsName}:${ft.name}`);
          return reply(201, ft.name, `${rest}/workspaces/${wsName}/datastores/${p.storeName}/featuretypes/${ft.name}`);
        }
        const cur = store.featureTypes.get(p.featureTypeName!);
        if (!cur) return reply(404, `No such feature type: ${p.featureTypeName}`);
        store.featureTypes.set(p.featureTypeName!, { ...cur, ...ft, name: p.featureTypeName });
        return reply(200);
      }
      case 'getFeatureType': {
        const cur = store?.featureTypes.get(p.featureTypeName!);
        if (!cur) return reply(404, `No such feature type: ${wsName},${p.storeName},${p.featureTypeName}`);
        return reply(200, { featureType: cur });
      }
      case 'deleteFeatureType': {
        if (!store?.featureTypes.has(p.featureTypeName!)) return reply(404, `No such feature type: ${p.featureTypeName}`);
        const key = `${wsName}:${p.featureTypeName}`;
        if (this.layers.has(key) && !flag('recurse')) return this.reject(400, `${op.key}: layer ${key} still exists; recurse=true is needed (Q5)`);
        this.layers.delete(key);
        store.featureTypes.delete(p.featureTypeName!);
        return reply(200);
      }
      // layers (workspace-scoped)
      case 'layersWorkspaceGet': return reply(200, this.list('layers', 'layer', [...this.layers.values()].filter((l) => l.ws === wsName).map((l) => ({ name: l.name }))));
      case 'layersNameWorkspaceGet': case 'layersNameWorkspacePut': case 'layersNameWorkspaceDelete': {
        if (file !== 'layers.yaml') break;
        const key = `${wsName}:${p.layerName}`;
        const l = this.layers.get(key);
        if (!l) return reply(404, `No such layer: ${key}`);
        if (id === 'layersNameWorkspaceGet') return reply(200, { layer: { name: l.name, type: 'VECTOR', defaultStyle: l.defaultStyle, resource: { '@class': 'featureType', name: key } } });
        if (id === 'layersNameWorkspaceDelete') {
          if (flag('recurse')) for (const [g, members] of this.layerGroups) this.layerGroups.set(g, members.filter((m) => m !== key && m !== l.name));
          this.layers.delete(key);
          return reply(200);
        }
        const ds = json?.layer?.defaultStyle;
        if (ds) {
          const styleWs = ds.workspace as string | undefined;
          const exists = styleWs ? this.workspaces.get(styleWs)?.styles.has(ds.name) : false;
          if (!exists) return reply(404, `No such style: ${styleWs ?? ''}:${ds.name}`);
          l.defaultStyle = { name: ds.name, workspace: styleWs };
        }
        return reply(200);
      }
      // styles (workspace-scoped)
      case 'getWorkspaceStyles': return reply(200, this.list('styles', 'style', [...ws!.styles.keys()].map((name) => ({ name }))));
      case 'postWorkspaceStyles': case 'putWorkspaceStyle': {
        const isSld = ctype === 'application/vnd.ogc.sld+xml' || ctype === 'application/vnd.ogc.se+xml';
        if (!isSld) return this.reject(415, `${op.key}: only SLD uploads are modelled (got ${ctype})`);
        const version = /<(?:\w+:)?StyledLayerDescriptor\b[^>]*\bversion="([^"]+)"/.exec(body)?.[1];
        const expected = ctype === 'application/vnd.ogc.sld+xml' ? '1.0.0' : '1.1.0';
        if (version !== expected) return this.reject(400, `${op.key}: SLD version ${version} sent as ${ctype} (Q6)`);
        const name = id === 'postWorkspaceStyles' ? q.get('name') : p.style!;
        if (!name) return this.reject(400, `${op.key}: SLD upload without ?name=`);
        if (id === 'putWorkspaceStyle' && !ws!.styles.has(name)) return reply(404, `No such style: ${name}`);
        if (id === 'postWorkspaceStyles' && ws!.styles.has(name)) return this.reject(400, `${op.key}: style ${name} exists; PUT the body instead`);
        ws!.styles.set(name, { body, contentType: ctype, version });
        return id === 'postWorkspaceStyles' ? reply(201, name, `${rest}/workspaces/${wsName}/styles/${name}`) : reply(200);
      }
      case 'getWorkspaceStyle': case 'deleteWorkspaceStyle': {
        const s = ws!.styles.get(p.style!);
        if (!s) return reply(404, `No such style: ${p.style}`);
        if (id === 'getWorkspaceStyle') return reply(200, { style: { name: p.style, workspace: { name: wsName }, format: 'sld', languageVersion: { version: s.version }, filename: `${p.style}.sld` } });
        const users = [...this.layers.values()].filter((l) => l.defaultStyle.name === p.style && l.defaultStyle.workspace === wsName);
        if (users.length && !flag('recurse')) return this.reject(400, `${op.key}: style in use by ${users.map((u) => u.name).join(',')}`);
        for (const u of users) u.defaultStyle = { name: 'polygon' };
        ws!.styles.delete(p.style!);
        return reply(200);
      }
      // layer groups (global)
      case 'getLayergroups': return reply(200, this.list('layerGroups', 'layerGroup', [...this.layerGroups.keys()].map((name) => ({ name }))));
      case 'postLayergroups': {
        const g = json?.layerGroup;
        const pubs = g?.publishables?.published;
        if (typeof g?.name !== 'string' || !pubs) return this.reject(400, `${op.key}: body needs layerGroup.name and publishables`);
        const names = (Array.isArray(pubs) ? pubs : [pubs]).map((x: { name: string }) => x.name);
        const styles = g.styles?.style;
        if (styles !== undefined && (Array.isArray(styles) ? styles : [styles]).length !== names.length) return this.reject(400, `${op.key}: styles and publishables differ in length (Q15)`);
        this.layerGroups.set(g.name, names.filter((n: string) => this.layers.has(n)));
        return reply(201, g.name, `${rest}/layergroups/${g.name}`);
      }
      case 'getLayergroup': case 'deleteLayergroup': {
        const g = this.layerGroups.get(p.layergroupName!);
        if (!g) return reply(404, `No such layer group: ${p.layergroupName}`);
        if (id === 'deleteLayergroup') { this.layerGroups.delete(p.layergroupName!); return reply(200); }
        return reply(200, { layerGroup: { name: p.layergroupName, mode: 'SINGLE', publishables: this.listValue('published', g.map((name) => ({ '@type': 'layer', name }))) } });
      }
      // GeoWebCache
      case 'layerSeedPost': {
        const req = json?.seedRequest;
        if (!this.tileLayers.has(p.layer!)) return reply(400, `Unknown layer: ${p.layer}`);
        if (!req || !['seed', 'reseed', 'truncate'].includes(req.type)) return reply(400, 'seedRequest.type must be seed|reseed|truncate');
        this.seedRequests.push({ layer: p.layer!, type: req.type });
        return reply(201);
      }
      case 'layersNameDelete': {
        if (file !== 'gwclayers.yaml') break;
        if (!this.tileLayers.delete(p.layerName!)) return reply(404, `Unknown layer: ${p.layerName}`);
        return reply(200);
      }
    }
    return this.reject(501, `${op.key}: declared by the documents but not modelled by the fake`);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks)));
    req.on('error', fail);
  });
}
