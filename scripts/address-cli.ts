// npm run --silent address -- parse|geocode
// Reads one address a line on stdin and writes one JSON object a line on stdout (JSONL), in input order,
// one output line per input line (empty lines included, so outputs stay aligned with inputs):
//   parse   → {"text": "...", "elements": [{"label": "road", "start": 3, "end": 7, "text": "海虞北路"}, ...]}
//   geocode → {"text": "...", "match": {code, full, lon, lat, grid_code} | null, "score": 0..1, "reason": "..." | null}
// stdout carries nothing else; progress and errors go to stderr. Input is streamed line by line and output
// waits for stdout to drain, so arbitrarily large inputs run in constant memory.
// geocode reads the demo addresses from $DATA_DIR (default geodata/build).
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseAddress } from '../address-standards/parse.ts';
import type { AddressIndex } from '../address-standards/geocode.ts';
import { loadAddressData } from '../tile-server/address-api.ts';
import { loadGazetteer } from './lib/load-gazetteer.ts';

const USAGE = '用法 / usage: npm run --silent address -- parse|geocode  < addresses.txt  > out.jsonl';

async function write(line: string): Promise<void> {
  if (!process.stdout.write(line + '\n')) await once(process.stdout, 'drain');
}

async function main(): Promise<number> {
  const mode = process.argv[2];
  if (mode !== 'parse' && mode !== 'geocode') {
    console.error(`未知命令 ${mode ?? '(无)'}。Unknown command "${mode ?? ''}".\n${USAGE}`);
    return 2;
  }
  // A reader that went away (e.g. `| head`) ends the run quietly instead of crashing on EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const gaz = loadGazetteer();
  let index: AddressIndex | null = null;
  if (mode === 'geocode') {
    const dataDir = process.env.DATA_DIR ?? 'geodata/build';
    console.error(`[address] 正在加载标准地址库 ${dataDir} … loading the address index`);
    try {
      const d = await loadAddressData(dataDir);
      index = d.index;
      console.error(`[address] ${d.index.size} 条地址，用时 ${(d.loadMs / 1000).toFixed(1)} s / ${d.index.size} addresses loaded`);
    } catch (err) {
      console.error(`[address] ${(err as Error).message}`);
      return 1;
    }
  }
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let n = 0;
  for await (const raw of rl) {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    n++;
    if (mode === 'parse') {
      let elements: unknown[] = [];
      try {
        elements = text ? parseAddress(text, gaz).elements : [];
      } catch (err) {
        console.error(`[address] 第 ${n} 行解析失败 / line ${n} failed: ${(err as Error).message}`);
      }
      await write(JSON.stringify({ text, elements }));
    } else {
      const best = text.trim() ? index!.search(text, 1)[0] : undefined;
      await write(JSON.stringify(best
        ? { text, match: { code: best.record.code, full: best.record.full, lon: best.lon, lat: best.lat, grid_code: best.record.grid_code }, score: best.score, reason: best.reason }
        : { text, match: null, score: 0, reason: null }));
    }
    if (n % 10000 === 0) console.error(`[address] ${n} 行 / lines`);
  }
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`[address] ${(err as Error)?.stack ?? String(err)}`);
  process.exitCode = 1;
});
