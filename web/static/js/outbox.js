// Actions queued on the device (localStorage) and sent when the network is there, each with its own
// Idempotency-Key so a retry after a lost answer changes nothing twice (the server replays the first answer).
import { ApiError, api, describe, newKey } from './api.js';

const RETRYABLE = new Set([401, 408, 409, 425, 429, 500, 502, 503, 504]);

export class Outbox {
  /** key: storage key (per signed-in user); onChange(items) after every change; onSent(item, result). */
  constructor({ key, onChange, onSent }) {
    this.key = key;
    this.onChange = onChange;
    this.onSent = onSent;
    this.items = this.read();
    this.flushing = false;
    this.backoff = 1000;
    this.timer = null;
    for (const item of this.items) if (item.state === 'sending') item.state = 'pending';  // the page closed mid-send
    window.addEventListener('online', () => { this.backoff = 1000; this.flush(); });
    window.addEventListener('offline', () => this.changed());
    window.addEventListener('storage', (ev) => { if (ev.key === this.key) { this.items = this.read(); this.changed(false); } });
  }

  read() {
    try { return JSON.parse(localStorage.getItem(this.key) || '[]'); } catch { return []; }
  }

  save() { localStorage.setItem(this.key, JSON.stringify(this.items)); }

  changed(save = true) {
    if (save) this.save();
    this.onChange?.(this.items);
  }

  /** Queue an action {type, label, vars, method, path, json}; it gets an Idempotency-Key and is sent in order. */
  add(action) {
    const item = { ...action, id: newKey(), created: new Date().toISOString(), state: 'pending', attempts: 0, error: null };
    this.items.push(item);
    this.changed();
    this.flush();
    return item;
  }

  get pending() { return this.items.filter((i) => i.state === 'pending' || i.state === 'sending').length; }

  /** Send pending actions in order until one cannot go (offline: wait for 'online'; server busy: back off). */
  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    clearTimeout(this.timer);
    try {
      for (const item of this.items.filter((i) => i.state === 'pending')) {
        if (!navigator.onLine) break;
        if (!(await this.send(item))) {
          this.timer = setTimeout(() => this.flush(), this.backoff);
          this.backoff = Math.min(this.backoff * 2, 60_000);
          break;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One attempt; false when it should be retried later. */
  async send(item) {
    item.state = 'sending';
    item.attempts += 1;
    this.changed();
    try {
      const result = await api(item.path, { method: item.method, json: item.json, idempotencyKey: item.id });
      this.items = this.items.filter((i) => i.id !== item.id);
      this.backoff = 1000;
      this.changed();
      this.onSent?.(item, result);
      return true;
    } catch (err) {
      const again = !(err instanceof ApiError) || err.network || RETRYABLE.has(err.status);
      item.state = again ? 'pending' : 'failed';
      item.error = again ? null : describe(err);
      item.status = err.status ?? 0;
      this.changed();
      return !again;  // a refused action does not hold up the ones behind it
    }
  }

  /** Try a failed action again (same key: if it did happen, the server answers as the first time). */
  retry(id) {
    const item = this.items.find((i) => i.id === id);
    if (item) { item.state = 'pending'; item.error = null; this.changed(); this.flush(); }
  }

  /** Forget an action that will not be sent. */
  discard(id) {
    this.items = this.items.filter((i) => i.id !== id);
    this.changed();
  }
}
