// Process entry: `npm run serve` (or via `npm start`). Env: PORT (8080), HOST (127.0.0.1),
// DATA_DIR (geodata/build), WEB_DIR (dist/web), DATABASE_URL (PostGIS + incidents), INCIDENT_DATABASE_URL,
// ONEMAP_DB_FILE (incidents' SQLite file, default var/onemap.sqlite), ONEMAP_WARM=0 (skip the index warm-up,
// for tests that start many servers). Telemetry (issue 7): MQTT_URL (an external broker; default the embedded
// one), MQTT_PORT (the embedded broker's MQTT port, 1883), TELEMETRY_DATABASE_URL, ONEMAP_TELEMETRY_FILE.
import { startServer } from './server.ts';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const dataDir = process.env.DATA_DIR ?? 'geodata/build';
const webDir = process.env.WEB_DIR ?? 'dist/web';

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT=${process.env.PORT} 不是有效端口；请设为 0–65535。PORT must be an integer 0–65535.`);
  process.exit(1);
}

try {
  const server = await startServer({ dataDir, webDir, host, port, warmAddressIndex: process.env.ONEMAP_WARM !== '0' });
  const health = await fetch(`${server.url}/healthz`).then((r) => r.json() as Promise<{ tilesets: string[]; layers: string[] }>);
  console.log(`OneMap 服务已启动 listening on ${server.url}`);
  console.log(`  瓦片集 tilesets: ${health.tilesets.join(', ') || '—'}；图层 layers: ${health.layers.length}`);
  if (health.tilesets.length === 0 || health.layers.length === 0) {
    console.warn(`  数据目录 ${dataDir} 中缺少数据：请运行 \`npm run data && npm run tiles\`，或直接 \`npm start\`。`);
    console.warn(`  No data in ${dataDir}: run \`npm run data && npm run tiles\`, or \`npm start\`.`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: 正在停止 stopping…`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') console.error(`端口 ${port} 已被占用；请设置 PORT=其他端口。Port ${port} is in use: set PORT to another port.`);
  else console.error(`启动失败 Cannot start: ${e.message}`);
  process.exit(1);
}
