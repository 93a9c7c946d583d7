/**
 * The device app's service worker (served at /device/sw.js, scope /device): the app shell works
 * offline (a page saying so, with the styles and script cached), and Web Push messages become
 * notifications that open the request. A message says only who asks and the binding message; the
 * app fetches the request itself, signed in with the device's cookie.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

// The cache is named after the shell's content: a new release (a security fix to device.js) makes
// a new cache, and the old one is deleted when the new worker activates.
const SHELL_VERSION = createHash('sha256')
  .update(readFileSync(new URL('../assets/device.js', import.meta.url)))
  .update(readFileSync(new URL('../assets/app.css', import.meta.url)))
  .update(readFileSync(new URL('../assets/webauthn.js', import.meta.url)))
  .digest('base64url').slice(0, 12);

export const SERVICE_WORKER = String.raw`'use strict';
const CACHE = 'sekisho-device-${SHELL_VERSION}';
const SHELL = ['/device/offline', '/assets/app.css', '/assets/device.js', '/assets/webauthn.js', '/assets/device-icon.svg'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    // Always the network for pages (requests change by the second); the offline page only without one.
    event.respondWith(fetch(request).catch(() => caches.match('/device/offline')));
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

self.addEventListener('push', (event) => {
  let message = {};
  try { message = event.data ? event.data.json() : {}; } catch (e) { message = {}; }
  if (message.kind === 'settled') {
    event.waitUntil(self.registration.getNotifications({ tag: message.requestId })
      .then((list) => list.forEach((n) => n.close())));
    return;
  }
  if (message.kind !== 'request' || typeof message.requestId !== 'string') return;
  const body = message.bindingMessage ? '[' + message.bindingMessage + ']' : '';
  event.waitUntil(self.registration.showNotification(String(message.clientName || 'Sekisho'), {
    body, tag: message.requestId, requireInteraction: true, icon: '/assets/device-icon.svg',
    data: { url: '/device/requests/' + encodeURIComponent(message.requestId) },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || '/device';
  event.waitUntil(self.clients.matchAll({ type: 'window' }).then((windows) => {
    for (const w of windows) if (w.url.endsWith(url) && 'focus' in w) return w.focus();
    return self.clients.openWindow(url);
  }));
});
`;
