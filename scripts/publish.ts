// Publishes catalog layers to a GeoServer: `npm run publish -- --geoserver URL --user U --layer L|--all
// [--format postgis|gpkg|shp] [--db-url URL-as-geoserver-sees-it] [--data-dir DIR] [--unpublish]`.
// The password comes from GEOSERVER_PASSWORD or a prompt, never from the command line (it would end up in
// the shell history and `ps`). gpkg/shp upload the layer as it is now: the built file with the stored
// edits laid over it (the same edit store the server uses: EDIT_DATABASE_URL / DATABASE_URL, else
// ONEMAP_EDITS_FILE or var/edits.sqlite). postgis points GeoServer at the onemap.layer_<id> tables.
// Exit code 0 when every layer was published, 1 otherwise, with GeoServer's status and message.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLayer, LAYERS, type LayerDef } from '../layers/catalog.ts';
import type { EditFeature } from '../layers/editing/model.ts';
import { overlayFgb } from '../layers/editing/overlay-fgb.ts';
import { openFlatGeobuf, type FgbFile } from '../layers/formats/flatgeobuf.ts';
import { defaultEditDbFile, openEditStore } from '../tile-server/editing/edit-store.ts';
import { GeoServerClient, GeoServerError, GeoServerUnreachableError, restRootOf } from '../tile-server/geoserver/client.ts';
import { explainPublishError, postgisFromUrl, publish, tableOf, unpublish, WORKSPACE, type PublishSource, type PublishStep } from '../tile-server/geoserver/publish.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = `用法 Usage: npm run publish -- --geoserver http://host:8080/geoserver --user admin (--layer grids[,roads] | --all)
    [--format postgis|gpkg|shp] [--db-url postgres://user:pass@host:5432/onemap] [--data-dir geodata/build] [--unpublish]
  密码取自环境变量 GEOSERVER_PASSWORD，否则提示输入。The password comes from GEOSERVER_PASSWORD or a prompt.
  --format postgis 需要 --db-url（GeoServer 访问 PostGIS 的地址）；默认有 --db-url 时为 postgis，否则 gpkg。`;

class UsageError extends Error {}

function fail(msg: string): never { throw new UsageError(msg); }

interface Args { restUrl: string; user: string; layers: LayerDef[]; format: 'postgis' | 'gpkg' | 'shp'; dbUrl?: string; dataDir: string; unpublish: boolean }

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      geoserver: { type: 'string' }, user: { type: 'string' }, layer: { type: 'string', multiple: true }, all: { type: 'boolean' },
      format: { type: 'string' }, 'db-url': { type: 'string' }, 'data-dir': { type: 'string' }, unpublish: { type: 'boolean' },
      password: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(USAGE); process.exit(0); }
  if (values.password !== undefined) fail('不接受命令行密码（会留在 shell 历史中）；请设置 GEOSERVER_PASSWORD 或按提示输入。--password is refused: it would stay in the shell history; set GEOSERVER_PASSWORD or type it at the prompt.');
  const url = values.geoserver ?? process.env.GEOSERVER_URL;
  if (!url) fail('缺少 --geoserver（或 GEOSERVER_URL），如 http://127.0.0.1:8080/geoserver。Missing --geoserver URL.');
  let restUrl: string;
  try { restUrl = restRootOf(url); } catch (e) { fail((e as Error).message); }
  const ids = (values.layer ?? []).flatMap((l) => l.split(',')).map((l) => l.trim()).filter(Boolean);
  if (values.all && ids.length) fail('--layer 与 --all 只能选一个。Use either --layer or --all.');
  if (!values.all && !ids.length) fail('缺少 --layer L 或 --all。Missing --layer L or --all.');
  const layers = values.all ? LAYERS : ids.map((id) => getLayer(id) ?? fail(`未知图层「${id}」；可用：${LAYERS.map((l) => l.id).join(', ')}。Unknown layer "${id}".`));
  const dbUrl = values['db-url'] ?? process.env.GEOSERVER_DB_URL;
  const format = values.format ?? (dbUrl ? 'postgis' : 'gpkg');
  if (format !== 'postgis' && format !== 'gpkg' && format !== 'shp') fail(`--format 须为 postgis、gpkg 或 shp（得到 ${format}）。--format must be postgis, gpkg or shp.`);
  if (format === 'postgis' && !dbUrl && !values.unpublish) fail('--format postgis 需要 --db-url（或 GEOSERVER_DB_URL）：GeoServer 访问 PostGIS 的地址。--format postgis needs --db-url, the PostGIS URL as GeoServer sees it.');
  return { restUrl, user: values.user ?? process.env.GEOSERVER_USER ?? 'admin', layers, format, dbUrl, dataDir: resolve(values['data-dir'] ?? join(ROOT, 'geodata', 'build')), unpublish: !!values.unpublish };
}

/** GEOSERVER_PASSWORD, else a prompt on the terminal (echo off), else the first line of piped stdin. */
async function password(): Promise<string> {
  const env = process.env.GEOSERVER_PASSWORD;
  if (env) return env;
  const tty = !!process.stdin.isTTY;
  let muted = false;
  const output = new Writable({ write(chunk, _enc, done) { if (!muted) process.stderr.write(chunk); done(); } });
  const rl = createInterface({ input: process.stdin, output, terminal: tty });
  if (tty) process.stderr.write('GeoServer 密码 password: ');
  muted = tty;
  const line = await new Promise<string | null>((ok) => {
    rl.once('line', ok);
    rl.once('close', () => ok(null));
  });
  rl.close();
  if (tty) process.stderr.write('\n');
  if (!line) fail('没有密码：请设置 GEOSERVER_PASSWORD 或在终端中运行以便输入。No password: set GEOSERVER_PASSWORD or run in a terminal to be prompted.');
  return line;
}

/** The layer as the server shows it: the built file with the stored edits laid over it. */
async function effectiveLayer(def: LayerDef, dataDir: string): Promise<FgbFile> {
  const path = join(dataDir, def.fgb);
  const base = existsSync(path) ? openFlatGeobuf(new Uint8Array(readFileSync(path))) : null;
  const databaseUrl = process.env.EDIT_DATABASE_URL || process.env.DATABASE_URL || null;
  const edits = new Map<string, EditFeature | null>();
  // No database and no edits file: nothing was ever edited (and opening the store would create the file).
  if (databaseUrl || existsSync(defaultEditDbFile())) {
    const store = await openEditStore({ databaseUrl });
    try {
      for (const v of await store.current(def.id)) edits.set(v.id, v.deleted ? null : v.feature);
    } finally { await store.close(); }
  }
  if (!base && !edits.size) fail(`${path} 不存在，图层 ${def.id} 也没有编辑：请先 npm run build:data，或用 --data-dir 指向构建目录。${path} is missing and the layer has no edits; build the data first or pass --data-dir.`);
  return overlayFgb(base, edits, def.fields);
}

const ACTION: Record<PublishStep['action'], string> = { created: '新建 created', updated: '更新 updated', deleted: '删除 deleted', absent: '不存在 absent', done: '完成 done' };

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  const pass = await password();
  const client = new GeoServerClient({ baseUrl: args.restUrl, user: args.user, password: pass });
  const log = (s: PublishStep) => console.log(`  ✓ ${s.step} — ${ACTION[s.action]}${s.detail ? ` (${s.detail})` : ''}`);
  let failed = 0;
  for (const [i, def] of args.layers.entries()) {
    console.log(`[${i + 1}/${args.layers.length}] ${args.unpublish ? '撤销发布 unpublish' : '发布 publish'} ${def.id}（${def.title}）→ ${WORKSPACE}:${tableOf(def.id)}${args.unpublish ? '' : ` [${args.format}]`}`);
    try {
      if (args.unpublish) await unpublish(client, def.id, { onProgress: log });
      else {
        const source: PublishSource = args.format === 'postgis'
          ? { kind: 'postgis', db: postgisFromUrl(args.dbUrl!) }
          : { kind: 'file', format: args.format, features: await effectiveLayer(def, args.dataDir) };
        if (source.kind === 'file') console.log(`  ✓ read ${def.id} — ${(source.features as FgbFile).count} features (edits included)`);
        await publish(client, def.id, { source, onProgress: log });
      }
    } catch (e) {
      if (e instanceof UsageError) throw e;
      failed++;
      const x = explainPublishError(e);
      console.error(`  ✗ ${def.id}: ${x.message}`);
      // Nothing else can succeed against a server that is unreachable or refuses the credentials.
      if (e instanceof GeoServerUnreachableError || (e instanceof GeoServerError && e.status === 401)) break;
    }
  }
  if (failed) console.error(`失败 ${failed} 个图层。${failed} layer(s) failed.`);
  else console.log(`全部完成：${args.layers.length} 个图层。Done: ${args.layers.length} layer(s). WMS: ${args.restUrl.replace(/\/rest$/, `/${WORKSPACE}/wms`)}`);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) console.error(`${(e as Error).message}\n${USAGE}`);
  else console.error(explainPublishError(e).message);
  process.exit(1);
});
