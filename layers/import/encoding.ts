// Text encodings of department files: Chinese GIS data is GBK (code page 936) as often as UTF-8.
// Order of evidence: an explicit choice, a byte-order mark, what the file declares (.cpg, the dbf
// language-driver byte), then strict UTF-8, then GBK. Strict UTF-8 is a good test: GBK text of any length
// is almost never valid UTF-8 (two-byte GBK sequences start 0x81–0xFE and rarely form valid UTF-8 runs).
// Pure: TextDecoder knows 'gbk' in browsers and in Node built with full ICU (the default since Node 13).

export class EncodingError extends Error {
  override readonly name = 'EncodingError';
}

/** A WHATWG encoding label for a .cpg / option text, or null when unknown. */
export function normaliseEncoding(label: string): string | null {
  const s = label.trim().toLowerCase().replace(/^ansi\s*/, '').replace(/[\s_]/g, '');
  if (!s) return null;
  if (/^(utf-?8|65001)$/.test(s)) return 'utf-8';
  if (/^(cp)?936$|^gbk$|^gb2312$|^gb-?18030$|^euc-?cn$/.test(s)) return 'gbk';
  if (/^(cp)?950$|^big-?5$/.test(s)) return 'big5';
  if (/^(cp)?1252$|^latin-?1$|^iso-?8859-?1$/.test(s)) return 'windows-1252';
  try {
    return new TextDecoder(s).encoding;
  } catch {
    return null;
  }
}

/**
 * dBASE language-driver ids (byte 29) that name a code page outright (Esri, "dBASE language driver
 * IDs" in the shapefile white paper's companions; GDAL ogr/ogrsf_frmts/shape/ogrshapelayer.cpp).
 * 0x57 ("ANSI") means the writer's system code page, which tells nothing: it is left to detection.
 */
const LDID: Readonly<Record<number, string>> = {
  0x4d: 'gbk', 0x7a: 'gbk', 0x4e: 'big5', 0x78: 'big5', 0x03: 'windows-1252',
};
export function encodingFromLdid(ldid: number): string | null {
  const e = LDID[ldid];
  if (!e) return null;
  try {
    return new TextDecoder(e).encoding;
  } catch {
    return null;
  }
}

/** 'utf-8' when the bytes are valid UTF-8 (ASCII included), else 'gbk'. */
export function detectEncoding(bytes: Uint8Array): 'utf-8' | 'gbk' {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return 'utf-8';
  } catch {
    return 'gbk';
  }
}

export function decoderFor(encoding: string): TextDecoder {
  try {
    return new TextDecoder(encoding);
  } catch {
    throw new EncodingError(`不支持的字符编码「${encoding}」；请用 utf-8 或 gbk。Unsupported encoding "${encoding}": use utf-8 or gbk.`);
  }
}

/** Decodes a whole text file; a BOM wins over everything (it cannot be an accident). */
export function decodeText(bytes: Uint8Array, encoding?: string): { text: string; encoding: string } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8' };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16le' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(bytes.subarray(2)), encoding: 'utf-16be' };
  let enc: string;
  if (encoding) {
    const n = normaliseEncoding(encoding);
    if (!n) throw new EncodingError(`不认识的字符编码「${encoding}」；请用 utf-8 或 gbk。Unknown encoding "${encoding}": use utf-8 or gbk.`);
    enc = n;
  } else enc = detectEncoding(bytes);
  return { text: decoderFor(enc).decode(bytes), encoding: enc };
}

/** FNV-1a 32-bit of the bytes, hex: names a file's content (ids of created features derive from it). */
export function digest(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
