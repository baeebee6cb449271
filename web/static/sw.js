// The field page's service worker (served at /sw.js so that its scope is the whole site).
// - Keeps the app shell, the map library and the last answers the field page read (who I am, my organisation, the
//   zone outlines of my region, patrols, incidents, today's risk) so that a reload without network works.
//   Everything comes from this service: the worker never fetches from another host.
// - Reads go to the network first and fall back to the copy kept here; writes are never touched (the page's outbox
//   sends them, each with its Idempotency-Key, so nothing happens twice).
// - Background Sync: when the browser fires 'sync' for the outbox, open pages are asked to send it.
// - Web Push: shows the notification (title, short text, link) and opens the page when it is tapped.
const VERSION = 'iolaos-v1';
const SHELL = `${VERSION}-shell`;
const API = 'iolaos-api';  // read answers of the signed-in user; the page deletes it on sign-out
const SHELL_FILES = [
  '/field', '/manifest.webmanifest',
  '/static/css/base.css', '/static/css/field.css', '/static/img/favicon.svg',
  '/static/img/icon-192.png', '/static/img/icon-512.png',
  '/static/js/api.js', '/static/js/field.js', '/static/js/field-patrol.js', '/static/js/field-notify.js',
  '/static/js/field-pwa.js', '/static/js/offline-cache.js', '/static/js/i18n.js', '/static/js/strings.js',
  '/static/js/live.js', '/static/js/map.js', '/static/js/outbox.js', '/static/js/ui.js',
  '/static/vendor/leaflet/leaflet.css', '/static/vendor/leaflet/leaflet-src.esm.js',
  '/static/vendor/leaflet/images/marker-icon.png', '/static/vendor/leaflet/images/marker-icon-2x.png',
  '/static/vendor/leaflet/images/marker-shadow.png', '/static/vendor/leaflet/images/layers.png',
];
// API reads the field page needs to open; anything else (volunteers' details, audit…) is never kept.
const API_READS = [
  /^\/api\/v1\/auth\/me$/, /^\/api\/v1\/organisations\/\d+$/, /^\/api\/v1\/zones$/, /^\/api\/v1\/zones\/risk\/[\d-]+$/,
  /^\/api\/v1\/patrols$/, /^\/api\/v1\/incidents$/, /^\/api\/v1\/notifications\/(config|preferences)$/,
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('iolaos-v') && !k.startsWith(VERSION)).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    if (url.pathname === '/field') event.respondWith(networkFirst(request, SHELL, '/field'));
    return;
  }
  if (url.pathname.startsWith('/static/') || url.pathname === '/manifest.webmanifest') {
    event.respondWith(networkFirst(request, SHELL, url.pathname));
  } else if (API_READS.some((re) => re.test(url.pathname))) {
    event.respondWith(networkFirst(request, API, null));
  }
});

/** The network's answer (kept for later when it is a success), else the kept copy, else a plain 503. */
async function networkFirst(request, cacheName, key) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(key || request, response.clone());
    return response;
  } catch {
    const kept = await cache.match(key || request, { ignoreVary: true });
    return kept || new Response(JSON.stringify({ error: 'offline', detail: 'no network and no copy on this device' }),
      { status: 503, headers: { 'Content-Type': 'application/json' } });
  }
}

self.addEventListener('sync', (event) => {
  if (event.tag === 'iolaos-outbox') event.waitUntil(askPagesToFlush());
});

async function askPagesToFlush() {
  const pages = await self.clients.matchAll({ type: 'window' });
  for (const page of pages) page.postMessage({ type: 'outbox-flush' });
}

self.addEventListener('push', (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = { title: 'ΙΟΛΑΟΣ', body: event.data?.text() || '' }; }
  event.waitUntil(self.registration.showNotification(data.title || 'ΙΟΛΑΟΣ', {
    body: data.body || '', tag: data.tag, data: { url: data.url || '/field' }, icon: '/static/img/icon-192.png',
    badge: '/static/img/icon-192.png', requireInteraction: Boolean(data.life_safety), renotify: Boolean(data.life_safety),
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url || '/field', self.location.origin).href;
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((pages) => {
    const open = pages.find((p) => p.url.startsWith(target));
    return open ? open.focus() : self.clients.openWindow(target);
  }));
});
