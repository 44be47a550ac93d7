import { describe, expect, it } from 'vitest';
import { wantsPhone } from './phone-layout.ts';

const as = (role: string) => async () => ({ role });
const never = async (): Promise<never> => { throw new Error('must not ask the server'); };

describe('phone layout choice', () => {
  it('follows ?layout= first', async () => {
    expect(await wantsPhone('?layout=phone', 1920, never)).toBe(true);
    expect(await wantsPhone('?layout=desktop', 390, never)).toBe(false);
    expect(await wantsPhone('?layout=wall', 390, never)).toBe(false);
    expect(await wantsPhone('', 1280, never)).toBe(false);
  });
  it('defaults to the phone for grid managers (and the signed-out) on narrow screens', async () => {
    expect(await wantsPhone('', 390, as('grid_manager'))).toBe(true);
    expect(await wantsPhone('', 390, as('operator'))).toBe(false);
    expect(await wantsPhone('', 390, async () => null)).toBe(true);
    expect(await wantsPhone('', 390, async () => 'unknown')).toBe(true);
  });
});
