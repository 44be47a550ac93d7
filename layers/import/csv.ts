// CSV as RFC 4180 says and as spreadsheets write it: quoted fields with "" escapes and line breaks
// inside quotes, CRLF or LF, a delimiter found from the header line (comma, tab or semicolon; Excel in
// some locales writes semicolons). Text decoding (BOM, GBK) happens before, in encoding.ts.

export class CsvError extends Error {
  override readonly name = 'CsvError';
}

export interface CsvTable { header: string[]; rows: string[][]; delimiter: string }

function sniffDelimiter(text: string): string {
  let inQ = false;
  const counts: Record<string, number> = { ',': 0, '\t': 0, ';': 0 };
  for (const ch of text) {
    if (ch === '"') inQ = !inQ;
    else if (!inQ && (ch === '\n' || ch === '\r')) break;
    else if (!inQ && ch in counts) counts[ch]++;
  }
  const best = Object.entries(counts).sort((a, b) => b[1] - a[1])[0];
  return best[1] > 0 ? best[0] : ',';
}

export function parseCsv(text: string, delimiter?: string): CsvTable {
  const d = delimiter ?? sniffDelimiter(text);
  const records: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  const n = text.length;
  const endField = () => { row.push(field); field = ''; };
  const endRow = () => { endField(); records.push(row); row = []; };
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      field += c; i++; continue;
    }
    if (c === '"' && field === '') { quoted = true; i++; continue; }
    if (c === d) { endField(); i++; continue; }
    if (c === '\r' || c === '\n') {
      endRow();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += c; i++;
  }
  if (quoted) throw new CsvError(`CSV 第 ${records.length + 1} 行有未闭合的引号；请检查该行的 " 是否成对。Unclosed quote in CSV record ${records.length + 1}; check the quotes on that line.`);
  if (field !== '' || row.length > 0) endRow();
  // Blank lines (a trailing newline, spacer rows) are not records.
  const nonEmpty = records.filter((r) => !(r.length === 1 && r[0].trim() === ''));
  if (nonEmpty.length === 0) throw new CsvError('CSV 文件是空的：第一行应为列名。The CSV is empty: the first line must name the columns.');
  const header = nonEmpty[0].map((h) => h.trim());
  const rows = nonEmpty.slice(1);
  rows.forEach((r, k) => {
    if (r.length > header.length && r.slice(header.length).some((v) => v.trim() !== '')) {
      throw new CsvError(`CSV 第 ${k + 2} 行有 ${r.length} 列，而表头只有 ${header.length} 列；含分隔符的值要加引号。Row ${k + 2} has ${r.length} fields but the header ${header.length}; quote values that contain "${d}".`);
    }
  });
  return { header, rows, delimiter: d };
}
