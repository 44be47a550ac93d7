// Writes the PWA icons (web/public/icons/icon-{192,512}.png and a maskable 512) — run once with
// `npx tsx web/src/phone/make-icons.ts` after changing the drawing. A blue tile with a white 3×3 grid
// (网格) and an orange location pin, drawn per pixel and encoded as RGBA PNG with node:zlib (PNG spec:
// https://www.w3.org/TR/png-3/ — signature, IHDR, IDAT with filter byte 0 per row, IEND, CRC-32 per chunk).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deflateSync } from 'node:zlib';

const CRC = new Uint32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc32 = (b: Uint8Array) => { let c = 0xffffffff; for (const x of b) c = CRC[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(Buffer.from(type, 'ascii'), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function encodePng(w: number, h: number, rgba: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w); v.setUint32(4, h); ihdr[8] = 8; ihdr[9] = 6; // 8-bit RGBA
  const raw = new Uint8Array(h * (1 + 4 * w));
  for (let y = 0; y < h; y++) raw.set(rgba.subarray(y * 4 * w, (y + 1) * 4 * w), y * (1 + 4 * w) + 1);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** `safe`: the share of the icon kept clear of the edge (maskable icons are cropped to a circle of 80 %). */
function draw(size: number, safe: number): Uint8Array {
  const px = new Uint8Array(size * size * 4);
  const inset = size * (1 - safe) / 2, span = size - 2 * inset, r = span * 0.18;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const i = (y * size + x) * 4;
    // background: full bleed when maskable, else a rounded square
    const dx = Math.max(0, Math.abs(x + 0.5 - size / 2) - (size / 2 - r)), dy = Math.max(0, Math.abs(y + 0.5 - size / 2) - (size / 2 - r));
    const inBg = safe < 1 || dx * dx + dy * dy <= r * r;
    if (!inBg) continue;
    let c = [31, 95, 191];
    const u = (x - inset) / span, t = (y - inset) / span;
    const line = span * 0.035 / span;
    const onGrid = u > 0.15 && u < 0.85 && t > 0.15 && t < 0.85
      && [0.15, 0.383, 0.617, 0.85].some((g) => Math.abs(u - g) < line || Math.abs(t - g) < line);
    if (onGrid) c = [255, 255, 255];
    // pin: a circle with a point below, in the centre cell
    const pu = u - 0.5, pt = t - 0.44;
    const inHead = pu * pu + pt * pt < 0.13 * 0.13;
    const inTail = t >= 0.44 && t < 0.7 && Math.abs(pu) < 0.13 * (0.7 - t) / 0.26;
    if (inHead || inTail) c = [255, 150, 30];
    if (pu * pu + pt * pt < 0.055 * 0.055) c = [255, 255, 255];
    px.set([...c, 255], i);
  }
  return px;
}

const out = resolve(import.meta.dirname, '../../public/icons');
for (const [name, size, safe] of [['icon-192.png', 192, 1], ['icon-512.png', 512, 1], ['icon-maskable-512.png', 512, 0.8]] as const) {
  writeFileSync(resolve(out, name), encodePng(size, size, draw(size, safe)));
  console.log(`wrote ${name}`);
}
