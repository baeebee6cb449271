// Read answers the service worker kept (sw.js), for the field page when there is no network: the page reads the
// cache itself instead of sending a request that could only fail.
export const API_CACHE = 'iolaos-api';

/** The kept JSON answer for a GET of url, or undefined. */
export async function cachedAnswer(url) {
  if (!('caches' in window)) return undefined;
  try {
    const hit = await (await caches.open(API_CACHE)).match(url, { ignoreVary: true });
    return hit ? hit.json() : undefined;
  } catch {
    return undefined;
  }
}

/** Forget every kept answer (sign-out: the next person on this device must not read them). */
export async function forgetAnswers() {
  if ('caches' in window) await caches.delete(API_CACHE).catch(() => {});
}
