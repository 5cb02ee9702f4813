// The station's service worker: keeps the app shell (the /station page and
// its static assets) so the station opens without a connection and can be
// installed. Network first, the cache only as a fallback, so an update is
// seen as soon as the server is reachable. API requests (order look-ups,
// uploads) are never touched, let alone cached.
//
// Registered by station.js as <assets>/station/sw.js with scope /station;
// the server sends `Service-Worker-Allowed: /station` with this file.

const CACHE = 'chotomoni-station-v1';
const ASSETS = new URL('../', self.location).pathname; // e.g. /assets/
const SHELL_ASSETS = [
  'station/station.js',
  'station/i18n.js',
  'station/store.js',
  'station/queue.js',
  'station/scanner.js',
  'station/recorder.js',
  'station/ui.js',
  'station/station.css',
  'station/manifest.webmanifest',
  'station/icon.svg',
  'vendor/tus.min.js',
  'vendor/zxing.min.js',
].map((p) => ASSETS + p);
const NETWORK_TIMEOUT_MS = 5000;

function pagePath() {
  return new URL(self.registration.scope).pathname.replace(/\/$/, '') || '/station';
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all([...SHELL_ASSETS, pagePath()].map(async (url) => {
      try {
        const res = await fetch(url, { credentials: 'same-origin', cache: 'no-cache' });
        if (cacheable(res)) await cache.put(url, res);
      } catch { /* offline during install: filled on the next visit */ }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('chotomoni-station-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function cacheable(res) {
  return res && res.ok && res.status === 200 && !res.redirected && res.type === 'basic';
}

/** The cache entry a request maps to: the page without its query, an asset as is. */
function shellKey(request) {
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== 'GET') return null;
  if (url.pathname.startsWith('/api/')) return null;
  if (request.mode === 'navigate' && url.pathname === pagePath()) return url.pathname + url.search;
  if (SHELL_ASSETS.includes(url.pathname)) return url.pathname;
  return null;
}

self.addEventListener('fetch', (event) => {
  const key = shellKey(event.request);
  if (!key) return; // the network, untouched
  event.respondWith(networkFirst(event.request, key));
});

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  const fromNetwork = fetch(request).then(async (res) => {
    if (cacheable(res)) await cache.put(key, res.clone());
    return res;
  });
  const timeout = new Promise((resolve) => setTimeout(() => resolve(null), NETWORK_TIMEOUT_MS));
  try {
    const res = await Promise.race([fromNetwork, timeout]);
    if (res) return res;
  } catch { /* offline: fall through to the cache */ }
  const cached = (await cache.match(key)) || (await cache.match(key, { ignoreSearch: true }));
  if (cached) return cached;
  return fromNetwork; // nothing cached: the network's answer or its error
}
