// The demo city's elevation grid (/terrain/dem.json + /terrain/dem.f32, ASTER GDEM v3 resampled by the
// data build): a float32 grid of cells, row-major from the north-west, sampled bilinearly between cell
// centres. Outside the grid the ground is at 0 m (the plain around Changshu is a few metres above sea).
// Pure: the 3D terrain provider, point clamping and buildings' bases all read heights from here.

export interface DemMeta {
  version: number;
  west: number;
  south: number;
  east: number;
  north: number;
  width: number;
  height: number;
  source?: string;
}

export interface Dem {
  readonly meta: DemMeta;
  /** Height in metres at (lon, lat); 0 outside the grid or over no-data cells. */
  heightAt(lon: number, lat: number): number;
}

export function createDem(meta: DemMeta, values: Float32Array): Dem {
  const { west, south, east, north, width, height } = meta;
  if (!(width > 0 && height > 0 && east > west && north > south)) throw new Error(`高程数据描述无效 (bad dem.json: ${JSON.stringify(meta)})`);
  if (values.length !== width * height) {
    throw new Error(`高程数据大小不符：应为 ${width}×${height} 个值，实为 ${values.length}（请重新运行 npm run data）`);
  }
  const dx = (east - west) / width;
  const dy = (north - south) / height;
  const at = (col: number, row: number): number => {
    const c = Math.min(width - 1, Math.max(0, col));
    const r = Math.min(height - 1, Math.max(0, row));
    const v = values[r * width + c];
    return Number.isFinite(v) && v > -1000 ? v : 0;
  };
  return {
    meta,
    heightAt(lon, lat) {
      if (!(lon >= west && lon <= east && lat >= south && lat <= north)) return 0;
      // Continuous cell coordinates with cell centres on integers.
      const fx = (lon - west) / dx - 0.5;
      const fy = (north - lat) / dy - 0.5;
      const c0 = Math.floor(fx), r0 = Math.floor(fy);
      const tx = fx - c0, ty = fy - r0;
      const top = at(c0, r0) * (1 - tx) + at(c0 + 1, r0) * tx;
      const bottom = at(c0, r0 + 1) * (1 - tx) + at(c0 + 1, r0 + 1) * tx;
      return top * (1 - ty) + bottom * ty;
    },
  };
}

/** Fetches and checks the grid; errors name the file and what to do. */
export async function loadDem(baseUrl: string, fetchFn: typeof fetch = fetch): Promise<Dem> {
  const metaUrl = new URL('/terrain/dem.json', baseUrl).href;
  const dataUrl = new URL('/terrain/dem.f32', baseUrl).href;
  const [m, d] = await Promise.all([fetchFn(metaUrl), fetchFn(dataUrl)]);
  if (!m.ok || !d.ok) throw new Error(`加载高程数据失败：HTTP ${m.ok ? d.status : m.status}（请确认已运行 npm start 构建数据）`);
  const meta = (await m.json()) as DemMeta;
  if (meta.version !== 1) throw new Error(`不支持的高程数据版本 ${meta.version}（需要 1）`);
  const buf = await d.arrayBuffer();
  // float32 little-endian: copy through a DataView only on a big-endian machine (none in practice).
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  let values: Float32Array;
  if (le) values = new Float32Array(buf);
  else {
    const view = new DataView(buf);
    values = new Float32Array(buf.byteLength / 4);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  }
  return createDem(meta, values);
}
