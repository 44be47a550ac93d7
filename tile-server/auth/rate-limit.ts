// In-process rate limits. Fixed windows for sign-in (10 per minute per IP: a password guesser is slowed to
// 14k tries a day from one address, and the per-user lockout stops it sooner); a token bucket for searches
// (30/s per session with a burst of 60: typing-as-you-search fires a few per second, a scraper far more).

export class WindowLimiter {
  private readonly hits = new Map<string, { start: number; n: number }>();
  constructor(private readonly max: number, private readonly windowMs: number, private readonly clock: () => number = Date.now) {}

  /** null = allowed (and counted); else the seconds until the window resets (Retry-After). */
  take(key: string): number | null {
    const now = this.clock();
    let h = this.hits.get(key);
    if (!h || now - h.start >= this.windowMs) {
      if (this.hits.size > 10_000) this.sweep(now);
      h = { start: now, n: 0 };
      this.hits.set(key, h);
    }
    if (h.n >= this.max) return Math.max(1, Math.ceil((h.start + this.windowMs - now) / 1000));
    h.n++;
    return null;
  }

  private sweep(now: number): void {
    for (const [k, h] of this.hits) if (now - h.start >= this.windowMs) this.hits.delete(k);
  }
}

export class TokenBucket {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly perSecond: number, private readonly burst: number, private readonly clock: () => number = Date.now) {}

  /** null = allowed; else seconds until one token is back. */
  take(key: string): number | null {
    const now = this.clock();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size > 10_000) this.buckets.clear(); // idle buckets are full anyway
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens < 1) return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
    b.tokens -= 1;
    return null;
  }
}
