// OneMap's service worker (issue 9 item 4): the grid manager's phone keeps working without a network.
//   shell  — the pages and the built assets (hashed names: cache first, they never change);
//   tiles  — the tiles of the user's grid z12–16 (sent by the page after sign-in: cached copy first, refreshed behind);
//   data   — the few GET answers the phone view reads (its cases, categories, grid, track, TileJSON):
//            network first, the cached copy when offline.
// Writes (POST/PUT/DELETE) are never touched: the page's outbox (web/src/phone/outbox.ts) queues them in
// IndexedDB and resends with the same Idempotency-Key, so a request is never replayed from here.
// Bump VERSION when the caching rules change: old caches are deleted on activate.
const VERSION = 'v1';
const SHELL = `onemap-shell-${VERSION}`;
const TILES = `onemap-tiles-${VERSION}`;
const DATA = `onemap-data-${VERSION}`;
const KEEP = [SHELL, TILES, DATA];

const isTile = (p) => /^\/tiles\/[^/]+\/\d+\/\d+\/\d+/.test(p);
const isAsset = (p) => p.startsWith('/assets/') || p.startsWith('/icons/') || p === '/manifest.webmanifest';
const isData = (p) => p === '/api/session' || p.startsWith('/api/incidents') || p.startsWith('/api/patrols/track')
  || p.startsWith('/ogc/collections/grids/items/') || /^\/tiles\/[^/]+\.json$/.test(p);
const cacheFor = (p) => (isTile(p) ? TILES : isData(p) ? DATA : SHELL);

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => Promise.allSettled(['/', '/?layout=phone'].map((u) => c.add(u)))).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('onemap-') && !KEEP.includes(k)).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

/** The page's list (app shell, grid tiles, data): fetched once each, in small batches; answers with counts. */
async function precache(urls, port) {
  let tiles = 0, stored = 0, failed = 0;
  const todo = [...new Set(urls)].map((u) => new URL(u, self.location.origin)).filter((u) => u.origin === self.location.origin);
  for (let i = 0; i < todo.length; i += 6) {
    await Promise.all(todo.slice(i, i + 6).map(async (u) => {
      const name = cacheFor(u.pathname);
      const cache = await caches.open(name);
      try {
        if (name !== DATA && await cache.match(u.href)) { if (name === TILES) tiles++; return; }
        const res = await fetch(u.href, { credentials: 'same-origin' });
        // 204: a tile the archive does not have (empty sea or beyond the data): worth remembering too.
        if (res.ok) { await cache.put(u.href, res); stored++; if (name === TILES) tiles++; } else failed++;
      } catch { failed++; }
    }));
  }
  port?.postMessage({ type: 'precached', tiles, stored, failed });
}

self.addEventListener('message', (event) => {
  const m = event.data;
  if (m && m.type === 'precache' && Array.isArray(m.urls)) event.waitUntil(precache(m.urls, event.ports[0]));
  if (m && m.type === 'clear') event.waitUntil(Promise.all(KEEP.filter((k) => k !== SHELL).map((k) => caches.delete(k))));
});

async function cacheFirst(req, name) {
  const hit = await caches.match(req, { ignoreVary: true });
  if (hit) return hit;
  const res = await fetch(req);
  if (res.ok && name) (await caches.open(name)).put(req, res.clone());
  return res;
}

/**
 * Tiles of the grid: the cached copy at once (offline, or a slow network), refreshed in the background so an
 * edited tile (tile-server/editing re-cuts tiles in place) is current on the next view. Uncached tiles (outside
 * the grid) go to the network and are not kept: the cache holds the grid, not wherever the map was panned.
 */
async function staleWhileRevalidate(event, req) {
  const hit = await caches.match(req, { ignoreVary: true });
  if (!hit) return fetch(req);
  event.waitUntil(fetch(req).then(async (res) => { if (res.ok) await (await caches.open(TILES)).put(req, res); }).catch(() => {}));
  return hit;
}

async function networkFirst(req, name, fallbackUrl) {
  try {
    const res = await fetch(req);
    if (res.ok) (await caches.open(name)).put(req, res.clone());
    return res;
  } catch (err) {
    const hit = (await caches.match(req, { ignoreVary: true })) || (fallbackUrl && (await caches.match(fallbackUrl)));
    if (hit) return hit;
    throw err;
  }
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const p = url.pathname;
  if (req.mode === 'navigate') { event.respondWith(networkFirst(req, SHELL, '/')); return; }
  if (req.headers.has('range')) return; // PMTiles/FlatGeobuf byte ranges: straight to the network
  if (isAsset(p)) { event.respondWith(cacheFirst(req, SHELL)); return; }
  if (isTile(p)) { event.respondWith(staleWhileRevalidate(event, req)); return; }
  if (isData(p)) { event.respondWith(networkFirst(req, DATA)); return; }
});
