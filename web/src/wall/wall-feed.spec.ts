import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Indicators } from '../../../layers/wall/model.ts';
import { startWallFeed, wsUrl, type SocketLike } from './wall-feed.ts';

function fakeSocket(): SocketLike & { closed: boolean } {
  return { onopen: null, onclose: null, onerror: null, onmessage: null, closed: false, close() { this.closed = true; } };
}
const ind = (at: number, open: number) => ({ at, incidents: { open } }) as unknown as Indicators;

describe('wall feed', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('builds the /ws URL from the page origin', () => {
    expect(wsUrl('http://127.0.0.1:8080/')).toBe('ws://127.0.0.1:8080/ws');
    expect(wsUrl('https://wall.example')).toBe('wss://wall.example/ws');
  });

  it('takes pushes, drops older figures, relays commands and reconnects', async () => {
    vi.useFakeTimers();
    const sockets: ReturnType<typeof fakeSocket>[] = [];
    const seen: number[] = [];
    const commands: string[] = [];
    const states: boolean[] = [];
    const fetchFn = vi.fn(async () => new Response(JSON.stringify(ind(100, 1)), { status: 200 })) as unknown as typeof fetch;
    const stop = startWallFeed('http://h', {
      indicators: (i) => seen.push(i.incidents.open),
      command: (m) => commands.push(m.cmd),
      connection: (on) => states.push(on),
      error: () => {},
    }, { open: () => { const s = fakeSocket(); sockets.push(s); return s; }, fetchFn });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual([1]);
    // The summary's route since issue 10 (/api/indicators is the indicator system's now).
    expect((fetchFn as unknown as ReturnType<typeof vi.fn>).mock.calls[0][0]).toBe('http://h/api/wall/summary');
    const s = sockets[0];
    s.onopen!();
    s.onmessage!({ data: JSON.stringify({ type: 'indicators', ...ind(200, 5) }) });
    s.onmessage!({ data: JSON.stringify({ type: 'indicators', ...ind(150, 9) }) }); // older than what is shown
    s.onmessage!({ data: JSON.stringify({ type: 'wall', cmd: 'flyTo', town: 't1', by: 'op', at: 1 }) });
    s.onmessage!({ data: JSON.stringify({ type: 'incident' }) });
    expect(seen.slice(-1)).toEqual([5]);
    expect(seen).not.toContain(9);
    expect(commands).toEqual(['flyTo']);
    s.onclose!();
    expect(states).toEqual([true, false]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sockets.length).toBe(2);
    stop();
    expect(sockets[1].closed).toBe(true);
  });
});
