import { describe, expect, it } from 'vitest';
import { LAYERS } from '../../layers/catalog.ts';
import { layerToSld, LABEL_FONT } from './sld.ts';
import { sldVersionOf } from './client.ts';

interface El { name: string; attrs: Record<string, string>; children: El[]; text: string }

// A strict little XML reader (no parser is installed): fails on unbalanced or mis-nested tags, bad
// attributes and stray `<`/`&`, which is what "well-formed" means for the SLD we emit.
function parseXml(xml: string): El {
  const root: El = { name: '#doc', attrs: {}, children: [], text: '' };
  const stack = [root];
  const re = /<\?[^?]*\?>|<(\/?)([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*"[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < xml.length && (m = re.exec(xml))) {
    pos = re.lastIndex;
    const top = stack[stack.length - 1]!;
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(m[5])) throw new Error(`bad entity in text: ${m[5]}`);
      top.text += m[5].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
      continue;
    }
    if (!m[2]) continue; // XML declaration
    if (m[1]) {
      if (top.name !== m[2]) throw new Error(`</${m[2]}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of m[3]!.matchAll(/([\w:.-]+)\s*=\s*"([^"]*)"/g)) {
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      attrs[a[1]!] = a[2]!;
    }
    const el: El = { name: m[2], attrs, children: [], text: '' };
    top.children.push(el);
    if (!m[4]) stack.push(el);
  }
  if (pos !== xml.length) throw new Error(`unparsable XML at offset ${pos}: ${xml.slice(pos, pos + 40)}`);
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error('XML must have exactly one root element');
  return root.children[0]!;
}
const all = (e: El, name: string): El[] => [...(e.name === name ? [e] : []), ...e.children.flatMap((c) => all(c, name))];

describe('layerToSld', () => {
  it('the reader rejects malformed XML (so the checks below can fail)', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow();
    expect(() => parseXml('<a>x & y</a>')).toThrow();
    expect(() => parseXml('<a>')).toThrow();
  });

  for (const layer of LAYERS) {
    it(`${layer.id}: well-formed SLD 1.0 with one rule per category`, () => {
      const sld = layerToSld(layer);
      const doc = parseXml(sld);
      expect(doc.name).toBe('StyledLayerDescriptor');
      expect(sldVersionOf(sld)).toBe('1.0.0');
      const rules = all(doc, 'Rule');
      const cats = layer.style.by && layer.style.categories ? Object.entries(layer.style.categories) : [];
      const filtered = rules.filter((r) => all(r, 'ogc:PropertyIsEqualTo').length > 0);
      expect(filtered.length).toBe(cats.length);
      for (const [i, [value, color]] of cats.entries()) {
        const eq = all(filtered[i]!, 'ogc:PropertyIsEqualTo')[0]!;
        expect(all(eq, 'ogc:PropertyName')[0]!.text).toBe(layer.style.by);
        expect(all(eq, 'ogc:Literal')[0]!.text).toBe(value);
        const hex = '#' + color.slice(0, 3).map((v) => v.toString(16).padStart(2, '0')).join('');
        const params = all(filtered[i]!, 'CssParameter').map((p) => p.text);
        expect(params).toContain(hex);
      }
      expect(rules.filter((r) => all(r, 'ElseFilter').length).length).toBe(cats.length ? 1 : 0);
      const sym = { point: 'PointSymbolizer', line: 'LineSymbolizer', polygon: 'PolygonSymbolizer' }[layer.geometry];
      expect(all(doc, sym).length).toBe(cats.length ? cats.length + 1 : 1);
      const text = all(doc, 'TextSymbolizer');
      expect(text.length).toBe(layer.style.label ? 1 : 0);
      if (layer.style.label) {
        expect(all(text[0]!, 'ogc:PropertyName')[0]!.text).toBe(layer.style.label);
        expect(all(text[0]!, 'CssParameter').find((p) => p.attrs.name === 'font-family')?.text).toBe(LABEL_FONT);
      }
    });
  }

  it('escapes attribute values and category names', () => {
    const sld = layerToSld({ id: 't', title: 'A & <B>', geometry: 'polygon', style: { fill: [1, 2, 3, 255], by: 'k"ind', categories: { 'x<y&z': [255, 0, 0, 128] } } });
    const doc = parseXml(sld);
    expect(all(doc, 'ogc:Literal')[0]!.text).toBe('x<y&z');
    expect(all(doc, 'CssParameter').some((p) => p.attrs.name === 'fill-opacity' && p.text === '0.502')).toBe(true);
  });
});
