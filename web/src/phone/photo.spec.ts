import { describe, expect, it } from 'vitest';
import { fitScale, shrinkPhoto } from './photo.ts';

describe('phone photos', () => {
  it('fits the long side, never enlarges', () => {
    expect(fitScale(4000, 3000)).toBeCloseTo(2048 / 4000);
    expect(fitScale(3000, 4000)).toBeCloseTo(2048 / 4000);
    expect(fitScale(800, 600)).toBe(1);
  });
  it('keeps a small photo byte for byte', async () => {
    const b = new Blob([new Uint8Array([0xff, 0xd8, 0xff, 1, 2])], { type: 'image/jpeg' });
    expect(await shrinkPhoto(b)).toBe(b);
  });
});
