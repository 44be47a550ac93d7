import { describe, expect, it } from 'vitest';
import { placementInAncestor } from './tile-raster.ts';

describe('placementInAncestor', () => {
  it('draws a tile at its own zoom as it is', () => {
    expect(placementInAncestor(14, 13683, 6660, 14, 512)).toEqual({ x: 13683, y: 6660, placement: { size: 512, scale: 1, dx: 0, dy: 0, pixelRatio: 1 } });
  });

  it('cuts a deeper tile from its ancestor: scaled by 2^(z − zSource), shifted to its corner', () => {
    // z16 tile (54735, 26642) lies in z14 tile (13683, 6660): column 3, row 2 of the 4 × 4 children.
    const { x, y, placement } = placementInAncestor(16, 54735, 26642, 14, 512, 2);
    expect([x, y]).toEqual([13683, 6660]);
    expect(placement).toEqual({ size: 512, scale: 4, dx: 3 * 512, dy: 2 * 512, pixelRatio: 2 });
    // The ancestor's extent maps onto [−dx, −dx + size·scale): this child's square is [0, size).
    const extent = 4096, k = (placement.size * placement.scale) / extent;
    expect(3 * 1024 * k - placement.dx).toBe(0);
    expect(4 * 1024 * k - placement.dx).toBe(512);
  });

  it('never scales down (a source deeper than the tile is drawn at scale 1)', () => {
    expect(placementInAncestor(12, 10, 20, 14, 256).placement.scale).toBe(1);
  });
});
