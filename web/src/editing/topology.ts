// Topological editing inside one layer: grids share their boundaries, so a vertex dragged on one grid
// must move the same vertex of every neighbour, an inserted vertex must go into the neighbour's
// matching edge too, and a removed one must leave both. Otherwise one edit opens a gap or an overlap
// that the server's partition check (issue 8 item 2) rightly refuses. Pure.
import { samePos, type Parts, type Pos } from './geometry.ts';

/** Moves every vertex at `from` to `to`; returns null when there is none (the feature is not a neighbour there). */
export function moveShared(parts: Parts, from: Pos, to: Pos): Parts | null {
  let hit = false;
  const out = parts.map((rings) => rings.map((r) => r.map((p) => {
    if (!samePos(p, from)) return p;
    hit = true;
    return [to[0], to[1]] as Pos;
  })));
  return hit ? out : null;
}

/** Inserts `at` into every edge a→b or b→a (rings wrap around); null when no such edge exists. */
export function insertShared(parts: Parts, a: Pos, b: Pos, at: Pos, closedRings: boolean): Parts | null {
  let hit = false;
  const out = parts.map((rings) => rings.map((r) => {
    const n = r.length, res: Pos[] = [];
    for (let i = 0; i < n; i++) {
      res.push(r[i]);
      if (!closedRings && i === n - 1) break;
      const q = r[(i + 1) % n];
      if ((samePos(r[i], a) && samePos(q, b)) || (samePos(r[i], b) && samePos(q, a))) { res.push([at[0], at[1]]); hit = true; }
    }
    return res;
  }));
  return hit ? out : null;
}

/** Removes every vertex at `p` when the ring keeps at least `min` vertices; null when nothing was removed. */
export function deleteShared(parts: Parts, p: Pos, min: number): Parts | null {
  let hit = false;
  const out = parts.map((rings) => rings.map((r) => {
    const kept = r.filter((q) => !samePos(q, p));
    if (kept.length === r.length || kept.length < min) return r;
    hit = true;
    return kept;
  }));
  return hit ? out : null;
}

/** Whether two features share at least one vertex (a neighbour for topological editing). */
export function sharesVertex(a: Parts, b: Parts): boolean {
  const keys = new Set<string>();
  // 1e-9° buckets: SAME_EPS, rounded both ways is close enough for coordinates copied from one build.
  for (const rings of a) for (const r of rings) for (const p of r) keys.add(`${Math.round(p[0] * 1e9)},${Math.round(p[1] * 1e9)}`);
  for (const rings of b) for (const r of rings) for (const p of r) if (keys.has(`${Math.round(p[0] * 1e9)},${Math.round(p[1] * 1e9)}`)) return true;
  return false;
}
