// SLD 1.0.0 from a catalog layer's style (layers/catalog.ts LayerStyle). Pure. SLD 1.0 rather than SE 1.1
// because every GeoServer and most desktop clients read it, and GeoServer's `.sld` output is 1.0 anyway (Q6).
import type { GeometryKind, LayerDef, LayerStyle } from '../../layers/catalog.ts';

type Rgba = [number, number, number, number];

/** A font that ships CJK glyphs on GeoServer hosts (Noto CJK on Debian/Ubuntu); GeoServer falls back per glyph otherwise. */
export const LABEL_FONT = 'Noto Sans CJK SC';

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const hex = (c: Rgba) => '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
const opacity = (c: Rgba) => String(Math.round((c[3] / 255) * 1000) / 1000);
const css = (name: string, value: string) => `<CssParameter name="${name}">${xmlEscape(value)}</CssParameter>`;

function symbolizer(kind: GeometryKind, style: LayerStyle, fill: Rgba | undefined): string {
  const line = style.line;
  const stroke = line ? `<Stroke>${css('stroke', hex(line))}${css('stroke-opacity', opacity(line))}${css('stroke-width', String(style.lineWidth ?? 1))}</Stroke>` : '';
  const fillXml = fill ? `<Fill>${css('fill', hex(fill))}${css('fill-opacity', opacity(fill))}</Fill>` : '';
  if (kind === 'point') {
    const size = String((style.radius ?? 4) * 2);
    return `<PointSymbolizer><Graphic><Mark><WellKnownName>circle</WellKnownName>${fillXml}${stroke}</Mark><Size>${size}</Size></Graphic></PointSymbolizer>`;
  }
  if (kind === 'line') {
    // A line layer's colour may live in `fill` (category colours) when no `line` is given.
    const c = fill ?? line ?? [0, 0, 0, 255];
    return `<LineSymbolizer><Stroke>${css('stroke', hex(c))}${css('stroke-opacity', opacity(c))}${css('stroke-width', String(style.lineWidth ?? 1))}</Stroke></LineSymbolizer>`;
  }
  return `<PolygonSymbolizer>${fillXml}${stroke}</PolygonSymbolizer>`;
}

function rule(name: string, title: string, filter: string, body: string): string {
  return `<Rule><Name>${xmlEscape(name)}</Name><Title>${xmlEscape(title)}</Title>${filter}${body}</Rule>`;
}

function label(kind: GeometryKind, attr: string): string {
  const placement = kind === 'line' ? '<LabelPlacement><LinePlacement/></LabelPlacement>'
    : '<LabelPlacement><PointPlacement><AnchorPoint><AnchorPointX>0.5</AnchorPointX><AnchorPointY>0.5</AnchorPointY></AnchorPoint></PointPlacement></LabelPlacement>';
  return `<TextSymbolizer><Label><ogc:PropertyName>${xmlEscape(attr)}</ogc:PropertyName></Label>` +
    `<Font>${css('font-family', LABEL_FONT)}${css('font-size', '12')}${css('font-style', 'normal')}${css('font-weight', 'normal')}</Font>` +
    `${placement}<Halo><Radius>1.5</Radius><Fill>${css('fill', '#ffffff')}</Fill></Halo><Fill>${css('fill', '#222222')}</Fill>` +
    `<VendorOption name="group">yes</VendorOption><VendorOption name="maxDisplacement">20</VendorOption></TextSymbolizer>`;
}

/**
 * One rule per category (`style.by` = value → PropertyIsEqualTo), then an ElseFilter rule for other values
 * with the base colours; without categories a single rule. Labels (if `style.label`) are their own rule.
 */
export function layerToSld(layer: Pick<LayerDef, 'id' | 'title' | 'geometry' | 'style'>, styleName = `onemap_${layer.id}`): string {
  const s = layer.style;
  const rules: string[] = [];
  const cats = s.by && s.categories ? Object.entries(s.categories) : [];
  for (const [value, color] of cats) {
    const filter = `<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>${xmlEscape(s.by!)}</ogc:PropertyName><ogc:Literal>${xmlEscape(value)}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>`;
    rules.push(rule(`${s.by}=${value}`, value, filter, symbolizer(layer.geometry, s, color)));
  }
  if (cats.length) rules.push(rule('other', '其他', '<ElseFilter/>', symbolizer(layer.geometry, s, s.fill)));
  else rules.push(rule('default', layer.title, '', symbolizer(layer.geometry, s, s.fill)));
  if (s.label) rules.push(rule('label', `${layer.title}标注`, '', label(layer.geometry, s.label)));
  return '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc" ' +
    'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
    'xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd">' +
    `<NamedLayer><Name>${xmlEscape(styleName)}</Name><UserStyle><Name>${xmlEscape(styleName)}</Name><Title>${xmlEscape(layer.title)}</Title>` +
    `<FeatureTypeStyle>${rules.join('')}</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n`;
}
