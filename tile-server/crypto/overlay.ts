// A store wrapped by another that replaces some of its methods and passes the rest through unchanged. The
// encrypting stores use it so a method added to a store later (by another issue) keeps working through them
// without a forwarding line here; the methods they replace are the ones that read or write encrypted values.
// An assignment to the wrapper (a test wrapping `store.update` to count conflicts) replaces the wrapper's method and
// leaves the target alone, so the wrapper's own methods keep calling the target's originals.
export function overlay<T extends object>(target: T, replaced: Partial<T>): T {
  const own = { ...replaced } as Record<PropertyKey, unknown>;
  return new Proxy(target, {
    set(_t, p, v) {
      own[p] = v;
      return true;
    },
    get(t, p) {
      if (Object.prototype.hasOwnProperty.call(own, p)) return own[p];
      const v = Reflect.get(t, p, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}
