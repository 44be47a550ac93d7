// ZIP archives (PKWARE APPNOTE 6.3.10): read stored and deflated entries, write deflated ones.
// Lives in tile-server because it needs node:zlib: Node 20 has no deflate-raw CompressionStream, and
// layers/ must stay browser-safe. The browser uploads the raw file; the server unzips it.
// Reading goes by the central directory (§4.3.12), the authoritative list: local headers may carry
// zero sizes when the writer streamed (data descriptor, flag bit 3).
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Refuse archives that would expand beyond this in total (zip bombs): uploads are ≤ 64 MiB. */
export const MAX_UNZIPPED_BYTES = 512 * 1024 * 1024;
export const MAX_ENTRIES = 10_000;

export class ZipError extends Error {
  override readonly name = 'ZipError';
  constructor(readonly code: 'zip_invalid' | 'zip_unsupported' | 'zip_too_large', message: string) {
    super(message);
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const invalid = (why: string) =>
  new ZipError('zip_invalid', `ZIP 文件损坏或不完整：${why}。请重新压缩后再上传。The ZIP archive is damaged or truncated (${why}); re-create it and upload again.`);

/**
 * Names without the UTF-8 flag (bit 11) are in the writer's OEM code page: CP437 by the spec, but Chinese
 * Windows' built-in zip writes GBK. Strict UTF-8 first (some tools omit the flag), then GBK when the bytes
 * are not ASCII (CP437 box-drawing names are rarer than Chinese ones here).
 */
function decodeName(b: Uint8Array, utf8Flag: boolean): string {
  if (utf8Flag || b.every((x) => x < 0x80)) return new TextDecoder('utf-8').decode(b);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return new TextDecoder('gbk').decode(b);
  }
}

/** Entries by name (directories left out). Throws ZipError with what to do. */
export function readZip(bytes: Uint8Array): Map<string, Uint8Array> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // End of central directory: 22 bytes + up to 65535 bytes of comment, searched from the end.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw invalid('找不到中央目录 no end-of-central-directory record');
  const count = dv.getUint16(eocd + 10, true);
  const cdSize = dv.getUint32(eocd + 12, true);
  const cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    throw new ZipError('zip_unsupported', '不支持 ZIP64 压缩包；请用普通 ZIP 重新压缩（文件小于 4 GB）。ZIP64 archives are not supported; re-create a plain ZIP.');
  }
  if (count > MAX_ENTRIES) throw new ZipError('zip_too_large', `压缩包内文件过多（${count}）。Too many entries (${count} > ${MAX_ENTRIES}).`);
  if (cdOffset + cdSize > eocd) throw invalid('中央目录越界 central directory outside the file');
  const out = new Map<string, Uint8Array>();
  let total = 0;
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > eocd || dv.getUint32(p, true) !== 0x02014b50) throw invalid(`第 ${k + 1} 个目录项损坏 bad central directory entry ${k + 1}`);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    const csize = dv.getUint32(p + 20, true);
    const usize = dv.getUint32(p + 24, true);
    const nlen = dv.getUint16(p + 28, true);
    const xlen = dv.getUint16(p + 30, true);
    const clen = dv.getUint16(p + 32, true);
    const local = dv.getUint32(p + 42, true);
    const name = decodeName(bytes.subarray(p + 46, p + 46 + nlen), (flags & 0x800) !== 0);
    p += 46 + nlen + xlen + clen;
    if (name.endsWith('/')) continue;
    if (flags & 1) throw new ZipError('zip_unsupported', `「${name}」已加密；请解密后重新压缩。"${name}" is encrypted; unzip it with the password and zip again without one.`);
    if (local + 30 > bytes.length || dv.getUint32(local, true) !== 0x04034b50) throw invalid(`「${name}」的本地文件头损坏 bad local header`);
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + csize > bytes.length) throw invalid(`「${name}」的数据不完整 data of "${name}" truncated`);
    total += usize;
    if (usize > MAX_UNZIPPED_BYTES || total > MAX_UNZIPPED_BYTES) {
      throw new ZipError('zip_too_large', `解压后超过 ${MAX_UNZIPPED_BYTES >> 20} MiB；请拆分文件。Unzipped size exceeds ${MAX_UNZIPPED_BYTES >> 20} MiB; split the data.`);
    }
    const raw = bytes.subarray(start, start + csize);
    let data: Uint8Array;
    if (method === 0) data = raw.slice();
    else if (method === 8) {
      try {
        // maxOutputLength stops a bomb whose central directory lies about usize.
        const b = inflateRawSync(raw, { maxOutputLength: Math.max(usize, 1) });
        data = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        throw invalid(`「${name}」解压失败 cannot inflate "${name}" (${(e as Error).message})`);
      }
    } else {
      throw new ZipError('zip_unsupported', `「${name}」使用了不支持的压缩方法 ${method}；请用标准 ZIP（Deflate）重新压缩。Compression method ${method} is not supported; re-zip with Deflate.`);
    }
    if (data.length !== usize || crc32(data) !== crc) throw invalid(`「${name}」校验失败 CRC or size mismatch in "${name}"`);
    out.set(name, data);
  }
  return out;
}

/** A deflated archive with UTF-8 names (flag bit 11), no data descriptors, DOS time fixed at 1980-01-01 (reproducible bytes). */
export function writeZip(entries: { name: string; data: Uint8Array }[]): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const crc = crc32(e.data);
    const deflated = deflateRawSync(e.data);
    const stored = deflated.length >= e.data.length;
    const body = stored ? e.data : new Uint8Array(deflated.buffer, deflated.byteOffset, deflated.byteLength);
    const method = stored ? 0 : 8;
    const lh = new Uint8Array(30 + name.length);
    const l = new DataView(lh.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true);
    l.setUint16(6, 0x800, true);
    l.setUint16(8, method, true);
    l.setUint16(10, 0, true);
    l.setUint16(12, 0x21, true); // 1980-01-01
    l.setUint32(14, crc, true);
    l.setUint32(18, body.length, true);
    l.setUint32(22, e.data.length, true);
    l.setUint16(26, name.length, true);
    lh.set(name, 30);
    const ch = new Uint8Array(46 + name.length);
    const c = new DataView(ch.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(8, 0x800, true);
    c.setUint16(10, method, true);
    c.setUint16(14, 0x21, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, body.length, true);
    c.setUint32(24, e.data.length, true);
    c.setUint16(28, name.length, true);
    c.setUint32(42, offset, true);
    ch.set(name, 46);
    locals.push(lh, body);
    centrals.push(ch);
    offset += lh.length + body.length;
  }
  const cdSize = centrals.reduce((s, b) => s + b.length, 0);
  const end = new Uint8Array(22);
  const d = new DataView(end.buffer);
  d.setUint32(0, 0x06054b50, true);
  d.setUint16(8, entries.length, true);
  d.setUint16(10, entries.length, true);
  d.setUint32(12, cdSize, true);
  d.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const b of [...locals, ...centrals, end]) { out.set(b, p); p += b.length; }
  return out;
}
