// POST /api/imports?layer=L&crs=…&encoding=…&filename=…&mode=preview|apply[&comment=…][&fieldMap={json}]
// body = the file itself (GeoJSON, CSV, FlatGeobuf or a zipped shapefile; ≤ 64 MiB).
//   preview → 200 ImportPreview
//   apply   → 200 { applied, versions, preview } — one atomic batch; 422 import_has_errors { preview } when
//             the preview found problems (nothing written); the edit service's 403/409/422 pass through.
//   &progress=ndjson → 200 application/x-ndjson: {stage: 'geocode'|'convert'|'validate'|'write', done, total}
//             lines, then one {result: <the body above>} or {error: {code, message, …}} line.
// The browser uploads the raw bytes (no multipart): unzipping needs node:zlib, which the browser side lacks.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CrsError, parseCrs, type CrsCode } from '../../layers/crs.ts';
import { CsvError } from '../../layers/import/csv.ts';
import { EncodingError } from '../../layers/import/encoding.ts';
import { applyImport, planImport, type ImportService, type ImportView } from '../../layers/import/pipeline.ts';
import { detectFormat, readCsv, readFgb, readGeoJson, sourceFromShapefile } from '../../layers/import/readers.ts';
import { ImportError, type Geocoder, type ImportSource } from '../../layers/import/types.ts';
import { ShapefileError } from '../../layers/formats/shapefile.ts';
import type { Actor } from '../../layers/incidents/model.ts';
import { readShapefileZip } from '../formats/shapefile-zip.ts';
import { ZipError } from '../formats/zip.ts';
import { HttpError, badRequest, sendError } from '../http-errors.ts';
import { readBody } from '../request-body.ts';
import { actorOf } from '../auth/request-actor.ts';
import { getLayer } from '../../layers/catalog.ts';
import { personalView } from '../personal-data.ts';

export type { ImportPreview } from '../../layers/import/types.ts';

export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;
/** Geocoder matches below this are not trusted to place a feature (0.55 ≈ only the road matched; address-standards/geocode.ts). */
export const MIN_GEOCODE_SCORE = 0.7;

/** Reads any supported file into import rows; errors are ImportError / ZipError / ShapefileError / CsvError / EncodingError. */
export function readImportFile(bytes: Uint8Array, filename = '', opts: { encoding?: string } = {}): ImportSource {
  const format = detectFormat(bytes, filename);
  switch (format) {
    case 'shapefile': return sourceFromShapefile(readShapefileZip(bytes, opts), bytes);
    case 'fgb': return readFgb(bytes);
    case 'geojson': return readGeoJson(bytes, opts);
    case 'csv': return readCsv(bytes, opts);
  }
}

/** The address base as an import geocoder: the best match, when good enough. */
export function geocoderFromIndex(search: (text: string, limit: number) => { lon: number; lat: number; score: number; record: { full: string } }[]): Geocoder {
  return async (text) => {
    const best = search(text, 1)[0];
    return best && best.score >= MIN_GEOCODE_SCORE ? { lon: best.lon, lat: best.lat, address: best.record.full } : null;
  };
}

/**
 * The server's AddressApi as an import geocoder (what server.ts passes to ImportApi): the index is built on
 * first use (`warm()`), so a server that never imports addresses never pays for it.
 */
export function geocoderFromAddressApi(api: { warm(): Promise<{ index: { search(text: string, limit: number): { lon: number; lat: number; score: number; record: { full: string } }[] } }> }): Geocoder {
  return async (text) => {
    const { index } = await api.warm();
    return geocoderFromIndex((t, n) => index.search(t, n))(text);
  };
}

/** Errors of a bad file or request → HTTP; anything else is rethrown (the router answers 500). */
export function importHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  if (err instanceof ImportError) {
    const status = err.code === 'unknown_layer' ? 404 : err.code === 'layer_not_editable' ? 403 : err.code === 'geocoder_unavailable' ? 503 : err.code === 'import_has_errors' ? 422 : 400;
    return new HttpError(status, err.code, err.message);
  }
  if (err instanceof ZipError || err instanceof ShapefileError || err instanceof CsvError || err instanceof EncodingError) return new HttpError(400, 'bad_file', err.message);
  if (err instanceof CrsError) return new HttpError(400, 'bad_crs', err.message);
  return null;
}

function sendBody(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' });
  res.end(body);
}

/** The uploaded file; past `max` a 413 (drained up to 1 MiB more so the client reads it, then the socket drops). */
async function readUpload(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const b = await readBody(req, max, max + (1 << 20));
  if (b === null) throw new HttpError(413, 'body_too_large', `文件超过 ${max >> 20} MiB；请拆分后分批导入，或用 npm run import 在服务器上导入。The file exceeds ${max >> 20} MiB; split it or use npm run import on the server.`, { Connection: 'close' });
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export class ImportApi {
  constructor(private readonly deps: { service: ImportService; view: ImportView; geocode: Geocoder }) {}

  async handle(req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
    try {
      await this.serve(req, res, query);
    } catch (err) {
      // The edit service's EditError (status, code, details) passes through with its details (issues, conflict).
      const e = err as { status?: unknown; code?: unknown; message?: string; details?: Record<string, unknown> };
      if (!(err instanceof HttpError) && typeof e?.status === 'number' && typeof e.code === 'string' && e.status >= 400 && e.status < 500) {
        sendBody(res, e.status, { error: { code: e.code, message: e.message, ...(e.details ?? {}) } });
        return;
      }
      const h = importHttpError(err);
      if (!h) throw err;
      sendError(res, h);
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
    if (req.method !== 'POST') {
      throw new HttpError(405, 'method_not_allowed', '导入请用 POST，正文为文件本身。Use POST with the file as the body.', { Allow: 'POST, OPTIONS' });
    }
    const q = new URLSearchParams(query);
    const layer = q.get('layer');
    if (!layer) throw badRequest('missing_layer', '缺少 layer 参数（要导入的图层，如 facilities）。Missing layer: the layer to import into, e.g. ?layer=facilities.');
    const mode = q.get('mode') ?? 'preview';
    if (mode !== 'preview' && mode !== 'apply') throw badRequest('bad_mode', 'mode 须为 preview 或 apply。mode must be preview or apply.');
    let crs: CrsCode | undefined;
    const crsText = q.get('crs');
    if (crsText) crs = parseCrs(crsText);
    const encoding = q.get('encoding') || undefined;
    let fieldMap: Record<string, string | null> | undefined;
    const mapText = q.get('fieldMap');
    if (mapText) {
      try {
        fieldMap = JSON.parse(mapText) as Record<string, string | null>;
        if (typeof fieldMap !== 'object' || fieldMap === null || Array.isArray(fieldMap)) throw new Error('not an object');
      } catch {
        throw badRequest('bad_field_map', 'fieldMap 须为 JSON 对象，如 {"名称":"name","备注":null}。fieldMap must be a JSON object such as {"名称":"name","备注":null}.');
      }
    }
    const actor: Actor = actorOf(req);
    // A graded layer is written only by those who see all of it (issue 10): a preview compares with its rows.
    const def = getLayer(layer);
    if (def) {
      const access = personalView(req).access(def);
      if (access.kind !== 'full') {
        req.resume();
        throw access.kind === 'none' ? new HttpError(403, access.code, access.message)
          : new HttpError(403, 'grant_read_only', `共享授权只用于查看：图层「${def.title}」只能由数据所有部门（或管理员）导入。A sharing grant is for reading: only the owner department (or an admin) imports into ${def.id}.`);
      }
    }
    const bytes = await readUpload(req, MAX_IMPORT_BYTES);
    if (bytes.length === 0) throw badRequest('empty_body', '请求正文为空：请把文件作为正文上传。The body is empty: send the file as the request body.');
    const source = readImportFile(bytes, q.get('filename') ?? '', { encoding });
    // ?progress=ndjson: stream {stage, done, total} lines, then {result} or {error} (the client's progress bar).
    // Errors found before this point still get a plain JSON status; after it, the status is 200 and the
    // last line tells the outcome.
    const stream = q.get('progress') === 'ndjson' ? new ProgressStream(res) : null;
    try {
      const plan = await planImport(source, { layer, crs, fieldMap, geocode: this.deps.geocode, onProgress: stream?.line }, this.deps, actor);
      if (mode === 'preview') return this.finish(res, stream, 200, plan.preview);
      if (plan.preview.errors.length > 0) {
        const n = plan.preview.errors.length;
        return this.finish(res, stream, 422, { error: { code: 'import_has_errors', message: `预览发现 ${n} 处错误，未写入任何数据；请修正后重试。The preview found ${n} problem(s); nothing was written.`, preview: plan.preview } });
      }
      const versions = await applyImport(plan, this.deps, actor, {
        comment: q.get('comment') ?? `导入 ${q.get('filename') ?? source.format}`,
        onProgress: stream ? (d, t) => stream.line('write', d, t) : undefined,
      });
      this.finish(res, stream, 200, { applied: plan.changes.length, versions: versions.length, preview: plan.preview });
    } catch (err) {
      if (!stream) throw err;
      const e = err as { code?: unknown; message?: string; details?: Record<string, unknown> };
      const h = importHttpError(err);
      stream.end({ error: h ? { code: h.code, message: h.message } : { code: typeof e.code === 'string' ? e.code : 'internal_error', message: e.message ?? String(err), ...(e.details ?? {}) } });
    }
  }

  private finish(res: ServerResponse, stream: ProgressStream | null, status: number, body: unknown): void {
    if (stream) stream.end(status === 200 ? { result: body } : (body as object));
    else sendBody(res, status, body);
  }
}

/** NDJSON progress lines, at most one per percent per stage. */
class ProgressStream {
  private last = '';
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' });
  }
  readonly line = (stage: string, done: number, total: number): void => {
    const key = `${stage}:${total ? Math.floor((100 * done) / total) : 100}`;
    if (key === this.last) return;
    this.last = key;
    this.res.write(JSON.stringify({ stage, done, total }) + '\n');
  };
  end(value: unknown): void {
    this.res.end(JSON.stringify(value) + '\n');
  }
}
