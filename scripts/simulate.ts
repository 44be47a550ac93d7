// npm run simulate -- [options]: every demo sensor and camera reporting over MQTT, patrol units driving the
// roads, scripted events at named places. See --help.
import { join } from 'node:path';
import { loadWorld } from './sim/devices.ts';
import { EVENT_TYPES, parseEventSpec, type EventSpec } from './sim/events.ts';
import { startSimulation } from './sim/runner.ts';

const HELP = `用法 usage: npm run simulate -- [选项]

  --url <mqtt://…>        MQTT 地址（默认 MQTT_URL 或 mqtt://127.0.0.1:1883，即产品内置的 broker）
  --rate <n>              传感器+摄像机合计每秒读数（与 --interval 二选一）
  --interval <s>          每台传感器/摄像机的上报间隔，秒（默认 10）
  --patrol-interval <s>   每个巡逻单元的位置上报间隔，秒（默认 5）
  --duration <s>          运行秒数后退出（默认一直运行，Ctrl-C 结束）
  --event <type@地名:秒>  脚本事件，可多次，如 --event flood@尚湖:60 --event gas@吕舍村:120
  --list-events           列出事件类型
  --seed <n>              随机种子（默认 1）：同一种子 → 同样的设备特性与读数规律
  --qos <0|1>             发布 QoS（默认 0）
  --binary                紧凑二进制载荷（默认 JSON；格式见 tile-server/telemetry/payload.ts）
  --data <dir>            数据目录（默认 geodata/build）
  --stats <s>             进度输出间隔，秒（默认 5；0 关闭）
  --help                  本帮助
`;

interface Cli {
  url: string; rate: number | null; intervalS: number; patrolIntervalS: number; durationS: number | null;
  events: EventSpec[]; seed: number; qos: 0 | 1; binary: boolean; dataDir: string; statsEveryS: number;
}

function fail(msg: string): never {
  console.error(`错误 error: ${msg}\n（--help 查看用法）`);
  process.exit(2);
}

function num(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min) fail(`${name} needs a number ≥ ${min}, got ${v ?? 'nothing'}`);
  return n;
}

export function parseArgs(argv: string[]): Cli | 'help' | 'list' {
  const cli: Cli = {
    url: process.env.MQTT_URL || 'mqtt://127.0.0.1:1883', rate: null, intervalS: 10, patrolIntervalS: 5, durationS: null,
    events: [], seed: 1, qos: 0, binary: false, dataDir: join(import.meta.dirname, '..', 'geodata', 'build'), statsEveryS: 5,
  };
  let interval = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string | undefined => argv[++i];
    switch (a) {
      case '--help': case '-h': return 'help';
      case '--list-events': return 'list';
      case '--url': cli.url = next() ?? fail('--url needs a value'); break;
      case '--rate': cli.rate = num(a, next(), 0.001); break;
      case '--interval': cli.intervalS = num(a, next(), 0.05); interval = true; break;
      case '--patrol-interval': cli.patrolIntervalS = num(a, next(), 0.05); break;
      case '--duration': cli.durationS = num(a, next(), 0); break;
      case '--seed': cli.seed = Math.floor(num(a, next(), 0)); break;
      case '--qos': { const q = next(); if (q !== '0' && q !== '1') fail(`--qos is 0 or 1, got ${q}`); cli.qos = q === '1' ? 1 : 0; break; }
      case '--binary': cli.binary = true; break;
      case '--data': cli.dataDir = next() ?? fail('--data needs a directory'); break;
      case '--stats': cli.statsEveryS = num(a, next(), 0); break;
      case '--event': {
        const v = next() ?? fail('--event needs type@place[:seconds]');
        try { cli.events.push(parseEventSpec(v)); } catch (e) { fail((e as Error).message); }
        break;
      }
      default: fail(`unknown option ${a}`);
    }
  }
  if (interval && cli.rate !== null) fail('give --rate or --interval, not both');
  return cli;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  if (cli === 'help') { process.stdout.write(HELP); return; }
  if (cli === 'list') {
    for (const t of EVENT_TYPES) {
      const eff = t.effects.map((e) => `${e.kind} ≤${e.radiusM} m 超警 +${e.peakOver}`).join('；');
      console.log(`${t.id}\t${t.title}\t${eff}\t上升 ${t.riseS}s，持续 ${t.holdS}s`);
    }
    console.log('\n地名取自 places / villages / facilities 图层（精确匹配优先，其次包含该名的最短名称）。例：--event flood@尚湖:60');
    return;
  }
  const t0 = Date.now();
  let world;
  try { world = loadWorld(cli.dataDir); } catch (e) { fail((e as Error).message); }
  console.log(`设备 ${world.devices.length}（传感器+摄像机）· 巡逻 ${world.patrols.length} · 路网 ${world.graph.nodeCount} 节点 · 载入 ${Date.now() - t0} ms`);
  const perS = cli.rate ?? world.devices.length / cli.intervalS;
  console.log(`→ ${cli.url} · ${Math.round(perS)} 条/s + 巡逻 ${Math.round(world.patrols.length / cli.patrolIntervalS)} 条/s · QoS ${cli.qos} · ${cli.binary ? '二进制' : 'JSON'} · 种子 ${cli.seed}`);
  let sim;
  try {
    sim = startSimulation(world, {
      url: cli.url, seed: cli.seed, rate: cli.rate, intervalS: cli.intervalS, patrolIntervalS: cli.patrolIntervalS,
      durationS: cli.durationS, qos: cli.qos, binary: cli.binary, events: cli.events, statsEveryS: cli.statsEveryS,
    });
  } catch (e) { fail((e as Error).message); }
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130); // a second Ctrl-C: do not wait
    interrupted = true;
    console.log('\n正在停止… stopping');
    void sim.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const st = await sim.done;
  console.log(`结束 done: 已发 ${st.published} 条，跳过 ${st.skipped}，错误 ${st.errors}`);
  process.exit(0);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
