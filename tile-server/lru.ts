// A bounded LRU on a Map (insertion order = recency). Bounded by entry count AND by a caller-supplied
// size (bytes), so a cache of tiles cannot grow past its memory budget whatever the tile sizes are.

export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  private totalSize = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxSize = Infinity,
    private readonly sizeOf: (v: V) => number = () => 0,
  ) {
    if (!(maxEntries >= 1)) throw new Error(`Lru: maxEntries must be >= 1, got ${maxEntries}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** Total of sizeOf over the entries held. */
  get bytes(): number {
    return this.totalSize;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      // Re-insert to mark as most recently used.
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    const size = this.sizeOf(value);
    if (size > this.maxSize) return; // would evict everything and still not fit
    const old = this.map.get(key);
    if (old !== undefined) {
      this.totalSize -= this.sizeOf(old);
      this.map.delete(key);
    }
    this.map.set(key, value);
    this.totalSize += size;
    while (this.map.size > this.maxEntries || this.totalSize > this.maxSize) {
      const oldest = this.map.keys().next().value as K;
      this.totalSize -= this.sizeOf(this.map.get(oldest) as V);
      this.map.delete(oldest);
    }
  }

  delete(key: K): boolean {
    const old = this.map.get(key);
    if (old === undefined) return false;
    this.totalSize -= this.sizeOf(old);
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.totalSize = 0;
  }
}
