// The field page as an installable app: registers the service worker (sw.js) and lets Background Sync, where the
// browser has it, wake the outbox when the network returns (the 'online' event does the same everywhere else).
import { getToken, inflight, readsSoFar } from './api.js';

const SYNC_TAG = 'iolaos-outbox';

/** Register the service worker and wire the outbox to Background Sync; resolves to the registration or null. */
export async function setupPwa({ outbox }) {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return null;
  navigator.serviceWorker.addEventListener('message', (ev) => {
    if (ev.data?.type === 'outbox-flush') outbox.flush();
  });
  // On the very first visit the page read its data before the worker ran: read it once more through the worker,
  // which keeps what the field page needs, so that the next visit opens without network.
  if (!navigator.serviceWorker.controller) {
    navigator.serviceWorker.addEventListener('controllerchange', () => warm(), { once: true });
  }
  let registration;
  try {
    registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch {
    return null;  // the page works as before, only not offline
  }
  const askForSync = () => {
    if (outbox.pending > 0) registration.sync?.register(SYNC_TAG).catch(() => {});
  };
  window.addEventListener('offline', askForSync);
  const changed = outbox.onChange;
  outbox.onChange = (items) => { changed?.(items); if (!navigator.onLine) askForSync(); };
  askForSync();
  window.iolaosPwa = { registration };
  return registration;
}

async function warm() {
  for (let waited = 0; inflight() > 0 && waited < 15_000; waited += 100) {
    await new Promise((resolve) => { setTimeout(resolve, 100); });  // reads still under way finish first
  }
  const token = getToken();
  const headers = token ? { Authorization: `Bearer ${token}`, Accept: 'application/json' } : { Accept: 'application/json' };
  await Promise.all(readsSoFar().map((path) => fetch(path, { headers }).catch(() => null)));
  window.dispatchEvent(new CustomEvent('iolaos:offline-ready'));
  document.body.dataset.offlineReady = 'true';
}
