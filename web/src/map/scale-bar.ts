// Scale bar length: the largest "nice" ground distance (1, 2 or 5 × 10^k metres) that fits in
// `maxPx` CSS pixels at the current metres-per-pixel, as on printed maps.
export interface ScaleBar { meters: number; px: number; unit: 'm' | 'km'; value: number }

export function niceScale(metersPerPixel: number, maxPx = 100): ScaleBar | null {
  if (!Number.isFinite(metersPerPixel) || metersPerPixel <= 0 || maxPx <= 0) return null;
  const maxM = metersPerPixel * maxPx;
  const pow = 10 ** Math.floor(Math.log10(maxM));
  const step = [5, 2, 1].find((k) => k * pow <= maxM) ?? 1;
  const meters = step * pow;
  return meters >= 1000
    ? { meters, px: meters / metersPerPixel, unit: 'km', value: meters / 1000 }
    : { meters, px: meters / metersPerPixel, unit: 'm', value: meters };
}
