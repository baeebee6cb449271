// Calls to the IOLAOS API with the bearer token; every failure becomes an ApiError {status, error, detail}.
import { cachedAnswer, forgetAnswers } from './offline-cache.js';
import { getLang } from './i18n.js';

const TOKEN_KEY = 'iolaos.token';
let pending = 0;
const reads = new Set();  // GET paths answered so far (the service worker's first visit re-reads them to keep them)

/** The GET paths (with their queries) this page has read successfully so far. */
export function readsSoFar() { return [...reads]; }

/** How many API calls are waiting for an answer (the browser tests wait for 0 before cutting the network). */
export function inflight() { return pending; }

/** A failed API call: HTTP status (0 when the network failed), the server's error code and detail. */
export class ApiError extends Error {
  constructor(status, error, detail) {
    super(typeof detail === 'string' ? detail : `${status} ${error}`);
    this.status = status;
    this.error = error;
    this.detail = detail;
  }

  /** True when the request never got an answer (offline, server down): worth retrying later. */
  get network() { return this.status === 0; }
}

export function getToken() { return localStorage.getItem(TOKEN_KEY); }
export function setToken(token) { localStorage.setItem(TOKEN_KEY, token); }
export function clearToken() { localStorage.removeItem(TOKEN_KEY); forgetAnswers(); }

/** path with a query string built from the non-empty values of query. */
export function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/**
 * Call the API. Options: method, query, json (body), form (URL-encoded body), headers, idempotencyKey,
 * raw (return the Response). Resolves to the parsed JSON (null for 204).
 */
export async function api(path, { method = 'GET', query, json, form, headers = {}, idempotencyKey, raw = false } = {}) {
  // Error details and plan reasons come back in the page's language.
  const init = { method, headers: { Accept: 'application/json', 'Accept-Language': getLang(), ...headers } };
  const token = getToken();
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) init.headers['Idempotency-Key'] = idempotencyKey;
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = new URLSearchParams(form);
  }
  if (navigator.onLine === false) {  // do not even try; a read the service worker kept is answered from it
    const kept = method === 'GET' && !raw ? await cachedAnswer(withQuery(path, query)) : undefined;
    if (kept !== undefined) return kept;
    throw new ApiError(0, 'network', 'offline');
  }
  let resp;
  pending += 1;
  try {
    resp = await fetch(withQuery(path, query), init);
  } catch (err) {
    throw new ApiError(0, 'network', String(err?.message || err));
  } finally {
    pending -= 1;
  }
  if (!resp.ok) throw await toError(resp, Boolean(token));
  if (method === 'GET') reads.add(withQuery(path, query));
  if (raw) return resp;
  if (resp.status === 204) return null;
  const type = resp.headers.get('content-type') || '';
  return type.includes('json') ? resp.json() : resp.text();
}

async function toError(resp, hadToken) {
  let body = null;
  try { body = await resp.json(); } catch { /* not JSON */ }
  const error = new ApiError(resp.status, body?.error || `http_${resp.status}`, body?.detail ?? resp.statusText);
  if (resp.status === 401 && hadToken) {
    clearToken();
    window.dispatchEvent(new CustomEvent('iolaos:signedout', { detail: error }));
  }
  return error;
}

/** A readable one-line description of an ApiError's detail (strings, objects, or 422 lists). */
export function describe(err) {
  const detail = err?.detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => (typeof d === 'string' ? d : [d.loc?.filter((x) => x !== 'body').join('.'), d.msg].filter(Boolean).join(': '))).join('; ');
  }
  if (detail && typeof detail === 'object') return detail.message || JSON.stringify(detail);
  return err?.message || String(err);
}

/** Sign in with the OAuth2 password flow; stores the token and returns /auth/me. */
export async function signIn(username, password) {
  const out = await api('/api/v1/auth/token', { method: 'POST', form: { username, password } });
  setToken(out.access_token);
  return api('/api/v1/auth/me');
}

/** Revoke the token (best effort) and forget it. */
export async function signOut() {
  try { await api('/api/v1/auth/logout', { method: 'POST' }); } catch { /* already invalid or offline */ }
  clearToken();
}

/** Fetch a file with the token and hand it to the browser as a download named filename. */
export async function download(path, query, filename) {
  const resp = await api(path, { query, raw: true, headers: { Accept: '*/*' } });
  const blob = await resp.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return blob;
}

/** A fresh random key for Idempotency-Key. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
