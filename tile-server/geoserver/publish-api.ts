// POST /api/publish {layer}: a planner's one-click publish of a layer, edits included, to the department's
// GeoServer. The answer streams NDJSON: one `{step, action, detail?}` line per publishing step as it
// completes, then `{done: true, …}` or `{error: {code, status?, message}}` (a stream cannot change its
// HTTP status once the first step went out). Errors found before the first step are ordinary JSON errors.
// GeoServer is configured from the environment:
//   GEOSERVER_URL       http://host:8080/geoserver (or …/geoserver/rest)
//   GEOSERVER_USER      default admin
//   GEOSERVER_PASSWORD  required
//   GEOSERVER_DB_URL    postgres://… as GeoServer sees PostGIS; set → PostGIS store, unset → GeoPackage upload
//   GEOSERVER_FORMAT    gpkg (default) or shp, for the upload
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getLayer } from '../../layers/catalog.ts';
import { GRADE_INFO } from '../../layers/governance/model.ts';
import { governanceOf } from '../../layers/governance/grades.ts';
import { HttpError, badRequest, sendError } from '../http-errors.ts';
import { readJson as readJsonBody } from '../request-body.ts';
import { actorOf } from '../auth/request-actor.ts';
import { GeoServerClient, restRootOf, type FetchLike } from './client.ts';
import type { FeatureSource } from './geopackage.ts';
import { explainPublishError, postgisFromUrl, publish, tableOf, WORKSPACE, type PublishSource, type PublishStep } from './publish.ts';

/** What the API needs of EffectiveLayers: the layer as it is now (built data + edits). */
export interface EffectiveLayersLike {
  file(layer: string): Promise<FeatureSource>;
}

export interface PublishApiDeps {
  view: EffectiveLayersLike;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** For tests; default global fetch. */
  fetch?: FetchLike;
}

export const PUBLISH_ROLES = ['planner', 'admin'] as const;
const MAX_BODY = 4 * 1024;
const NEEDS = 'GEOSERVER_URL（如 http://127.0.0.1:8080/geoserver）、GEOSERVER_USER、GEOSERVER_PASSWORD，可选 GEOSERVER_DB_URL（GeoServer 访问 PostGIS 的地址；不设则上传 GeoPackage）';
const NEEDS_EN = 'GEOSERVER_URL (e.g. http://127.0.0.1:8080/geoserver), GEOSERVER_USER, GEOSERVER_PASSWORD, optionally GEOSERVER_DB_URL (PostGIS as GeoServer sees it; unset → GeoPackage upload)';

interface Config { restUrl: string; user: string; password: string; dbUrl?: string; format: 'gpkg' | 'shp' }

export class PublishApi {
  /** Layers being published now: a second click waits for the first instead of interleaving its steps. */
  private readonly running = new Set<string>();

  constructor(private readonly deps: PublishApiDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, _query: string): Promise<void> {
    try {
      if (req.method !== 'POST') {
        throw new HttpError(405, 'method_not_allowed', '发布请用 POST /api/publish，正文 {"layer":"grids"}。Use POST /api/publish with {"layer": "grids"}.', { Allow: 'POST' });
      }
      const actor = actorOf(req);
      if (!(PUBLISH_ROLES as readonly string[]).includes(actor.role)) {
        throw new HttpError(403, 'publish_forbidden', `只有规划人员或管理员可以发布图层（当前角色 ${actor.role}）。Only planners and admins may publish layers (you are ${actor.role}).`);
      }
      const body = await readJson(req);
      const layer = body.layer;
      const def = typeof layer === 'string' ? getLayer(layer) : undefined;
      if (!def) throw badRequest('unknown_layer', `未知图层「${String(layer).slice(0, 40)}」；图层标识见 GET /api/layers，如 grids。Unknown layer; use an id from GET /api/layers, e.g. grids.`);
      // Sensitive and core data are shared only through approved requests, which a GeoServer layer would bypass (issue 10).
      const grade = governanceOf(def).grade;
      if (grade === 'sensitive' || grade === 'core') {
        throw new HttpError(409, 'graded_layer', `图层「${def.title}」为${GRADE_INFO[grade].title}数据，不能发布到 GeoServer：它只经数据共享审批后按授权范围提供。Layer ${def.id} is graded ${grade}: it is not published; it is shared only through approved requests.`);
      }
      const cfg = this.config();
      if (this.running.has(def.id)) {
        throw new HttpError(409, 'publish_in_progress', `图层 ${def.title} 正在发布，请稍候再试。Layer ${def.id} is being published already; try again when it finishes.`);
      }
      this.running.add(def.id);
      try {
        await this.stream(res, def.id, cfg);
      } finally {
        this.running.delete(def.id);
      }
    } catch (e) {
      if (e instanceof HttpError) return sendError(res, e);
      if (!res.headersSent) return sendError(res, new HttpError(500, 'publish_failed', explainPublishError(e).message));
      res.destroy();
    }
  }

  private config(): Config {
    const env = this.deps.env ?? process.env;
    const url = env.GEOSERVER_URL?.trim();
    const missing = [!url && 'GEOSERVER_URL', !env.GEOSERVER_PASSWORD && 'GEOSERVER_PASSWORD'].filter(Boolean);
    if (missing.length) {
      throw new HttpError(503, 'geoserver_not_configured', `服务器未配置 GeoServer（缺少 ${missing.join('、')}）。请在启动服务器的环境中设置 ${NEEDS}。GeoServer is not configured (missing ${missing.join(', ')}); set ${NEEDS_EN} where the server starts.`);
    }
    let restUrl: string;
    try { restUrl = restRootOf(url!); } catch (e) {
      throw new HttpError(503, 'geoserver_not_configured', `GEOSERVER_URL 无效：${(e as Error).message}。请设置为如 http://127.0.0.1:8080/geoserver。GEOSERVER_URL is invalid.`);
    }
    const format = env.GEOSERVER_FORMAT === 'shp' ? 'shp' : 'gpkg';
    return { restUrl, user: env.GEOSERVER_USER || 'admin', password: env.GEOSERVER_PASSWORD!, dbUrl: env.GEOSERVER_DB_URL || undefined, format };
  }

  private async stream(res: ServerResponse, layer: string, cfg: Config): Promise<void> {
    res.writeHead(200, {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Access-Control-Allow-Origin': '*',
    });
    const line = (v: unknown) => { if (!res.destroyed) res.write(JSON.stringify(v) + '\n'); };
    try {
      const client = new GeoServerClient({ baseUrl: cfg.restUrl, user: cfg.user, password: cfg.password, fetch: this.deps.fetch });
      let source: PublishSource;
      if (cfg.dbUrl) source = { kind: 'postgis', db: postgisFromUrl(cfg.dbUrl) };
      else {
        // The effective file is read while the GeoPackage is written, in slices: the server keeps serving.
        const file = await this.deps.view.file(layer);
        line({ step: `read ${layer}`, action: 'done', detail: `${file.count} features (edits included)` } satisfies PublishStep);
        source = { kind: 'file', format: cfg.format, features: file };
      }
      await publish(client, layer, { source, onProgress: (s) => line(s) });
      const name = `${WORKSPACE}:${tableOf(layer)}`;
      line({ done: true, layer, name, source: source.kind === 'postgis' ? 'postgis' : source.format, wms: cfg.restUrl.replace(/\/rest$/, `/${WORKSPACE}/wms`) });
    } catch (e) {
      line({ error: explainPublishError(e) });
    } finally {
      res.end();
    }
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const v = await readJsonBody(req, {
    max: MAX_BODY,
    tooLarge: `请求正文超过 ${MAX_BODY / 1024} KiB。Body larger than ${MAX_BODY / 1024} KiB.`,
    unsupported: '请求正文须为 JSON（Content-Type: application/json），如 {"layer":"grids"}。Send Content-Type: application/json.',
    notJson: '正文不是合法的 JSON，应为 {"layer":"grids"}。The body is not valid JSON; send {"layer": "grids"}.',
  });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('bad_body', '正文须为 {"layer":"grids"}。The body must be {"layer": "grids"}.');
  for (const k of Object.keys(v)) if (k !== 'layer') throw badRequest('unknown_param', `不认识的字段「${k.slice(0, 40)}」；只接受 layer。Unknown field; only "layer" is accepted.`);
  return v as Record<string, unknown>;
}
