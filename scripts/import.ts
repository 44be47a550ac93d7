// npm run import -- FILE --layer L [--crs EPSG:4549|gcj02|…] [--encoding gbk] [--map '{"编号":null}']
//                   [--as role:id] [--comment TEXT] [--dry-run] [--yes] [--no-address-check] [--data DIR]
// Imports a department's file into an editable layer through the same edit service and store as the
// server (SQLite var/edits.sqlite, or EDIT_DATABASE_URL / DATABASE_URL): prints the preview, stops on any
// problem, otherwise writes everything as ONE batch. A running server picks the commit up within 2 s.
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { getLayer, LAYERS } from '../layers/catalog.ts';
import { CRS_NAMES, parseCrs } from '../layers/crs.ts';
import type { Actor } from '../layers/incidents/model.ts';
import type { Geocoder, ImportPreview } from '../layers/import/types.ts';

const USAGE = `用法 usage: npm run import -- FILE --layer LAYER [--crs EPSG:4549|EPSG:4490|gcj02|bd09|…] [--encoding gbk|utf-8]
       [--map '{"源字段":"目标字段"}'] [--as planner:me] [--comment 说明] [--dry-run] [--yes]
       [--no-address-check]   不把坐标与标准地址库比对（省去载入地址库的几秒）skip comparing coordinates with the address base
可导入图层 editable layers: ${LAYERS.filter((l) => l.edit).map((l) => l.id).join(', ')}`;

function fail(msg: string, code = 1): never {
  process.stderr.write(`\n✗ ${msg}\n`);
  process.exit(code);
}

function printPreview(p: ImportPreview): void {
  const out = (s = '') => process.stdout.write(s + '\n');
  const def = getLayer(p.layer)!;
  out(`图层 layer: ${def.title} (${p.layer})   格式 format: ${p.format}${p.encoding ? `   编码 encoding: ${p.encoding}` : ''}`);
  out(`坐标系 CRS: ${p.sourceCrs} — ${CRS_NAMES[p.sourceCrs]}（${{ file: '文件声明 from the file', option: '命令行指定 from --crs', guess: '推断 guessed' }[p.crsFrom]}）`);
  out(`记录 rows: ${p.total}   新增 creates: ${p.creates}   更新 updates: ${p.updates}   未变 unchanged: ${p.unchanged}   错误 errors: ${p.errors.length}`);
  if (p.bbox) out(`范围 bbox (WGS84): ${p.bbox.map((v) => v.toFixed(6)).join(', ')}`);
  out('字段映射 field map:');
  for (const [s, t] of Object.entries(p.fieldMap)) out(`  ${s} → ${t ?? '（不导入 skipped）'}`);
  for (const w of p.warnings) out(`⚠ ${w.message}`);
  for (const e of p.errors.slice(0, 50)) {
    for (const i of e.issues) out(`✗ ${e.row ? `第 ${e.row} 条 row ${e.row}` : '整体 whole import'}${e.id ? ` (${e.id})` : ''}: ${i.message}${i.location ? ` @ ${i.location.map((v) => v.toFixed(6)).join(',')}` : ''}`);
  }
  if (p.errors.length > 50) out(`… 另有 ${p.errors.length - 50} 条记录有错误 and ${p.errors.length - 50} more rows with errors`);
  if (p.sample.length) {
    out('样例 sample:');
    for (const f of p.sample.slice(0, 3)) out(`  ${f.id}  ${JSON.stringify(f.properties).slice(0, 160)}`);
  }
}

function progressBar(label: string): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    const pct = total ? Math.floor((100 * done) / total) : 100;
    if (pct === last) return;
    last = pct;
    process.stderr.write(`\r${label} ${done}/${total} (${pct}%)${done >= total ? '\n' : ''}`);
  };
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        layer: { type: 'string' }, crs: { type: 'string' }, encoding: { type: 'string' }, map: { type: 'string' },
        as: { type: 'string' }, comment: { type: 'string' }, 'dry-run': { type: 'boolean' }, yes: { type: 'boolean', short: 'y' },
        data: { type: 'string' }, help: { type: 'boolean', short: 'h' }, 'no-address-check': { type: 'boolean' },
      },
    });
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`, 2);
  }
  const { values: o, positionals } = args;
  if (o.help) { process.stdout.write(USAGE + '\n'); return; }
  if (positionals.length !== 1) fail(`请给出一个要导入的文件。Give exactly one file to import.\n${USAGE}`, 2);
  if (!o.layer) fail(`缺少 --layer（要导入的图层）。Missing --layer.\n${USAGE}`, 2);
  const def = getLayer(o.layer);
  if (!def) fail(`没有图层「${o.layer}」。Unknown layer "${o.layer}".\n${USAGE}`, 2);
  const crs = o.crs ? (() => { try { return parseCrs(o.crs!); } catch (e) { return fail((e as Error).message, 2); } })() : undefined;
  let fieldMap: Record<string, string | null> | undefined;
  if (o.map) {
    try { fieldMap = JSON.parse(o.map); } catch { fail(`--map 须为 JSON 对象，如 '{"编号":null,"名称":"name"}'。--map must be a JSON object.`, 2); }
  }
  const asText = o.as ?? process.env.ONEMAP_ACTOR ?? 'planner:import-cli';
  const [role, id] = [asText.slice(0, asText.indexOf(':')), asText.slice(asText.indexOf(':') + 1)];
  if (!role || !id) fail(`--as 须为「角色:标识」，如 planner:zhang。--as must be role:id, e.g. planner:zhang.`, 2);
  const actor: Actor = { role: role as Actor['role'], id };

  const file = resolve(positionals[0]);
  let bytes: Uint8Array;
  try {
    const b = readFileSync(file);
    bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    fail(`读不到文件 ${file}：${(e as NodeJS.ErrnoException).code ?? (e as Error).message}。Cannot read the file; check the path.`);
  }

  // Heavy modules after the arguments are known to be right (a usage error should be instant).
  const { readImportFile, importHttpError, geocoderFromIndex } = await import('../tile-server/editing/import-api.ts');
  const { planImport, applyImport } = await import('../layers/import/pipeline.ts');
  const { openEditStore } = await import('../tile-server/editing/edit-store.ts');
  const { EffectiveLayers } = await import('../tile-server/editing/effective.ts');
  const { EditService } = await import('../tile-server/editing/service.ts');
  const { openFeatureLayers } = await import('../tile-server/feature-store.ts');
  const dataDir = resolve(o.data ?? process.env.ONEMAP_DATA_DIR ?? 'geodata/build');

  const explain = (e: unknown): never => {
    const h = importHttpError(e);
    if (h) fail(h.message);
    const x = e as { code?: string; message?: string; details?: { issues?: { message: string }[] } };
    if (x?.details?.issues?.length) fail(`${x.message}\n${x.details.issues.slice(0, 20).map((i) => `  ✗ ${i.message}`).join('\n')}`);
    if (x?.code === 'version_conflict') fail(`${x.message}\n别人刚改过这些要素；请重新运行导入（会基于最新版本）。Someone changed these features meanwhile; run the import again.`);
    fail(x?.message ?? String(e));
  };

  let source;
  try {
    source = readImportFile(bytes, basename(file), { encoding: o.encoding });
  } catch (e) {
    explain(e);
  }
  const store = await openEditStore({ databaseUrl: process.env.EDIT_DATABASE_URL || process.env.DATABASE_URL || null }).catch((e: Error) =>
    fail(`打不开编辑库：${e.message}。检查 EDIT_DATABASE_URL / DATABASE_URL，或 var/edits.sqlite 是否可写。Cannot open the edit store.`));
  try {
    const view = new EffectiveLayers(dataDir, await openFeatureLayers(dataDir));
    view.apply(await store.current());
    const service = new EditService({ store, view, clock: Date.now });
    // Loaded on first use (rows with addresses only, or the check of coordinates against addresses).
    let loading: Promise<(t: string) => ReturnType<Geocoder>> | undefined;
    const needed = source!.rows.some((r) => !r.geometry && r.address);
    const geocode: Geocoder | undefined = o['no-address-check'] && !needed ? undefined : async (text) => {
      loading ??= (async () => {
        process.stderr.write('正在载入标准地址库 loading the address base…\n');
        const { loadAddressData } = await import('../tile-server/address-api.ts');
        const data = await loadAddressData(dataDir);
        return geocoderFromIndex((t, n) => data.index.search(t, n));
      })();
      return (await loading)(text);
    };
    const plan = await planImport(source!, { layer: def!.id, crs, fieldMap, geocode, onProgress: (stage, d, t) => { if (t > 200) progressBar({ geocode: '地址定位 geocoding', convert: '转换 converting', validate: '校验 validating' }[stage])(d, t); } }, { service, view }, actor).catch(explain);
    printPreview(plan.preview);
    if (plan.preview.errors.length) fail(`发现 ${plan.preview.errors.length} 条有错误的记录，未写入任何数据。请修正文件（或用 --crs / --encoding / --map 说明文件）后重试。Nothing was written: fix the rows above and run again.`);
    if (plan.changes.length === 0) { process.stdout.write('\n没有需要写入的变化 nothing to change.\n'); return; }
    if (o['dry-run']) { process.stdout.write('\n--dry-run：未写入。Dry run: nothing written.\n'); return; }
    if (!o.yes) {
      if (!process.stdin.isTTY) fail('确认写入请加 --yes（非交互运行）。Add --yes to write when not running interactively.', 2);
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = (await rl.question(`\n写入 ${plan.changes.length} 个要素到 ${def!.id}？[y/N] `)).trim().toLowerCase();
      rl.close();
      if (answer !== 'y' && answer !== 'yes' && answer !== '是') { process.stdout.write('已取消 cancelled.\n'); return; }
    }
    const versions = await applyImport(plan, { service }, actor, { comment: o.comment ?? `导入 ${basename(file)}`, onProgress: progressBar('写入 writing') }).catch(explain);
    process.stdout.write(`\n✓ 已写入 ${versions.length} 个版本到 ${def!.id}（一次提交）。Wrote ${versions.length} versions in one commit; a running server shows them within 2 s.\n`);
  } finally {
    await store.close();
  }
}

main().catch((e: Error) => fail(`${e.message}\n${e.stack ?? ''}`));
