import { describe, expect, it } from 'vitest';
import { createDem } from './cesium-dem.ts';

// 3 × 2 cells of 1° over lon 0–3, lat 0–2; rows from the north.
const meta = { version: 1, west: 0, south: 0, east: 3, north: 2, width: 3, height: 2 };
const values = new Float32Array([
  10, 20, 30, // north row, centres at lat 1.5
  40, 50, 60, // south row, centres at lat 0.5
]);

describe('createDem', () => {
  const dem = createDem(meta, values);

  it('returns cell values at cell centres (row 0 is the north)', () => {
    expect(dem.heightAt(0.5, 1.5)).toBeCloseTo(10, 6);
    expect(dem.heightAt(2.5, 0.5)).toBeCloseTo(60, 6);
  });

  it('interpolates bilinearly between centres', () => {
    expect(dem.heightAt(1.0, 1.5)).toBeCloseTo(15, 6);
    expect(dem.heightAt(0.5, 1.0)).toBeCloseTo(25, 6);
    expect(dem.heightAt(1.0, 1.0)).toBeCloseTo(30, 6);
  });

  it('holds edge values up to the grid border and is 0 outside it', () => {
    expect(dem.heightAt(0.1, 1.9)).toBeCloseTo(10, 6);
    expect(dem.heightAt(-0.1, 1)).toBe(0);
    expect(dem.heightAt(1, 2.01)).toBe(0);
  });

  it('treats no-data as sea level', () => {
    const d = createDem(meta, new Float32Array([Number.NaN, -9999, 0, 0, 0, 0]));
    expect(d.heightAt(0.5, 1.5)).toBe(0);
    expect(d.heightAt(1.5, 1.5)).toBe(0);
  });

  it('refuses a grid whose size does not match its description', () => {
    expect(() => createDem(meta, new Float32Array(5))).toThrow(/3×2/);
  });
});
