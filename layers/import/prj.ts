// CRS of a .prj (Esri WKT1 or OGC WKT1/WKT2) → one of our CrsCodes, or null when it is none of them.
// Names differ by writer (ArcGIS "CGCS2000_3_Degree_GK_CM_120E", GDAL/EPSG "CGCS2000 / 3-degree
// Gauss-Kruger CM 120E"), so the projection is recognised by its parameters, not its name: a
// Transverse Mercator / Gauss–Krüger on CGCS2000 with central meridian 120 and false easting 500 000
// (EPSG:4549) or 40 500 000 (EPSG:4528). Beijing 1954 / Xi'an 1980 need a seven-parameter transform we
// do not have: they give null, and the importer asks for a reprojected file.
import { parseCrs, type CrsCode } from '../crs.ts';

function param(wkt: string, name: RegExp): number | null {
  const re = /PARAMETER\s*\[\s*"([^"]+)"\s*,\s*([-+0-9.eE]+)/g;
  for (let m = re.exec(wkt); m; m = re.exec(wkt)) if (name.test(m[1])) return Number(m[2]);
  return null;
}

const norm = (s: string) => s.toLowerCase().replace(/[\s_\-./]/g, '');

export function crsFromPrj(wkt: string): CrsCode | null {
  const w = wkt.trim();
  if (!w) return null;
  const top = /^\s*(\w+)\s*\[\s*"([^"]*)"/.exec(w);
  if (!top) return null;
  const kind = top[1].toUpperCase();
  const name = norm(top[2]);
  // The outermost AUTHORITY / ID is the last one in WKT1 / WKT2.
  const auth = [...w.matchAll(/(?:AUTHORITY|ID)\s*\[\s*"EPSG"\s*,\s*"?(\d+)"?\s*\]/gi)].pop();
  const datum = norm(/DATUM\s*\[\s*"([^"]*)"/i.exec(w)?.[1] ?? '');
  const cgcs = /china2000|cgcs2000|chinageodeticcoordinatesystem2000/.test(datum) || /cgcs2000|china2000/.test(name);
  const wgs = /wgs1984|wgs84|worldgeodeticsystem1984/.test(datum);
  if (/^PROJ(CS|CRS|ECTEDCRS)$/.test(kind)) {
    if (auth && ['4549', '4528', '3857', '900913', '102100'].includes(auth[1])) return parseCrs(auth[1]);
    const proj = norm(/(?:PROJECTION|METHOD)\s*\[\s*"([^"]*)"/i.exec(w)?.[1] ?? '');
    if (/mercatorauxiliarysphere|popularvisualisation|pseudomercator/.test(proj + name)) return 'EPSG:3857';
    if (/mercator/.test(proj) && wgs && /webmercator|pseudo|auxiliary|3857/.test(name)) return 'EPSG:3857';
    if (/transversemercator|gausskruger|gaussktuger|tmerc/.test(proj) && cgcs) {
      const cm = param(w, /^(central_meridian|longitude of natural origin|longitude_of_center)$/i);
      const fe = param(w, /^(false_easting|false easting)$/i);
      const k = param(w, /^(scale_factor|scale factor at natural origin)$/i) ?? 1;
      if (cm === 120 && Math.abs(k - 1) < 1e-9) {
        if (fe === 500000) return 'EPSG:4549';
        if (fe === 40500000) return 'EPSG:4528';
      }
    }
    return null;
  }
  if (/^GEOG(CS|CRS|RAPHICCRS)$|^GEODCRS$/.test(kind)) {
    if (auth && ['4326', '4490'].includes(auth[1])) return parseCrs(auth[1]);
    if (cgcs) return 'EPSG:4490';
    if (wgs) return 'EPSG:4326';
  }
  return null;
}
