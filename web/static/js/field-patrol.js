// Field operations on the phone: crew check-in, start/end, "returning", SOS, and sharing the phone's position
// only while one of the user's patrols is active (buffered on the device, sent in batches with idempotency keys).
import { api, newKey } from './api.js';
import { fmtTime, t } from './i18n.js';
import { h } from './ui.js';

const SEND_EVERY_MS = 15_000;
const MIN_GAP_MS = 10_000;
const MAX_BUFFER = 2000;

/** Buttons for what the leader can do with a patrol now (each action goes through the outbox). */
export function patrolActions(patrol, { own, can, queue, fieldStatus }) {
  if (!can('patrol.operate') || !['planned', 'staffed', 'active'].includes(patrol.status)) return null;
  const mine = patrol.crew.filter((c) => c.organisation_id === own);
  const accepted = mine.filter((c) => c.status === 'accepted');
  const checkedIn = patrol.crew.filter((c) => c.status === 'checked_in');
  const buttons = [];
  const place = patrol.zone_name_el;
  if (accepted.length) {
    buttons.push(h('button', { type: 'button', class: 'op', 'data-op': 'checkin', onclick: () => queue({
      type: 'checkin', patrolId: patrol.patrol_id, path: `/api/v1/patrols/${patrol.patrol_id}/check-in`,
      json: { volunteer_ids: accepted.map((c) => c.volunteer_id) }, vars: { n: accepted.length, place } }) },
    t('ops.checkin', { n: accepted.length })));
  }
  if (patrol.status !== 'active' && checkedIn.length) {
    buttons.push(h('button', { type: 'button', class: 'op accept', 'data-op': 'start', onclick: () => queue({
      type: 'start', patrolId: patrol.patrol_id, path: `/api/v1/patrols/${patrol.patrol_id}/start`, vars: { place } }) },
    t('ops.start')));
  }
  if (patrol.status === 'active') {
    if (fieldStatus !== 'returning') {
      buttons.push(h('button', { type: 'button', class: 'op', 'data-op': 'returning', onclick: () => queue({
        type: 'returning', patrolId: patrol.patrol_id, path: `/api/v1/patrols/${patrol.patrol_id}/field-status`,
        json: { status: 'returning' }, vars: { place } }) }, t('ops.returning')));
    }
    buttons.push(h('button', { type: 'button', class: 'op', 'data-op': 'end', onclick: () => queue({
      type: 'end', patrolId: patrol.patrol_id, path: `/api/v1/patrols/${patrol.patrol_id}/end`, vars: { place } }) },
    t('ops.end')));
  }
  return buttons.length ? h('div', { class: 'ops' }, buttons) : null;
}

/** The patrol an SOS would be about: an active one first, else today's next one with the user's team on it. */
export function sosTarget(patrols, own, now = Date.now()) {
  const ours = patrols.filter((p) => ['planned', 'staffed', 'active'].includes(p.status)
    && p.crew.some((c) => c.organisation_id === own && ['accepted', 'checked_in'].includes(c.status)));
  const active = ours.find((p) => p.status === 'active');
  if (active) return active;
  const soon = ours.filter((p) => new Date(p.shift_end).getTime() > now && new Date(p.shift_start).getTime() - now < 12 * 3600e3);
  return soon.sort((a, b) => (a.shift_start < b.shift_start ? -1 : 1))[0] || null;
}

/** Watches the phone's position while active patrols need it and sends it in batches; keeps it while offline. */
export class PositionSharer {
  constructor({ key, onChange }) {
    this.key = key;
    this.onChange = onChange;
    this.patrols = [];
    this.watch = null;
    this.last = null;
    this.lastSent = null;
    this.refused = null;
    this.batchKey = null;
    this.buffer = this.read();
    this.timer = setInterval(() => this.send(), SEND_EVERY_MS);
    window.addEventListener('online', () => this.send());
  }

  read() {
    try { return JSON.parse(localStorage.getItem(this.key) || '[]'); } catch { return []; }
  }

  save() { localStorage.setItem(this.key, JSON.stringify(this.buffer.slice(-MAX_BUFFER))); }

  /** Share for these patrol ids (empty: stop watching the position at once). */
  follow(patrolIds) {
    this.patrols = patrolIds;
    if (patrolIds.length && this.watch === null && navigator.geolocation) {
      this.watch = navigator.geolocation.watchPosition((pos) => this.seen(pos), () => this.onChange?.(),
        { enableHighAccuracy: true, maximumAge: 10_000, timeout: 30_000 });
    } else if (!patrolIds.length && this.watch !== null) {
      navigator.geolocation.clearWatch(this.watch);
      this.watch = null;
    }
    this.onChange?.();
  }

  get sharing() { return this.watch !== null; }

  seen(pos) {
    const now = Date.now();
    if (this.last && now - this.last.time < MIN_GAP_MS) return;
    this.last = { time: now, lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: pos.coords.accuracy };
    const at = new Date(now).toISOString();
    for (const id of this.patrols) {
      this.buffer.push({ patrol_id: id, at, lon: +pos.coords.longitude.toFixed(6), lat: +pos.coords.latitude.toFixed(6), accuracy_m: Math.round(pos.coords.accuracy || 0) });
    }
    this.save();
    this.onChange?.();
    if (!this.lastSent) this.send();
  }

  /** Send what is buffered (one batch, one Idempotency-Key kept until the batch is through). */
  async send() {
    if (this.sending || !this.buffer.length || !navigator.onLine) return;
    this.sending = true;
    const batch = this.buffer.slice(0, 500);
    this.batchKey = this.batchKey || newKey();
    try {
      const out = await api('/api/v1/positions', { method: 'POST', json: { reports: batch }, idempotencyKey: this.batchKey });
      this.buffer = this.buffer.slice(batch.length);
      this.batchKey = null;
      this.lastSent = new Date().toISOString();
      this.refused = out.rejected.length ? out.rejected[0].reason : null;
      this.save();
    } catch (err) {
      if (!err.network && err.status < 500 && err.status !== 409 && err.status !== 429) {
        this.buffer = this.buffer.slice(batch.length);  // refused as a whole: do not send it forever
        this.batchKey = null;
        this.refused = err.message;
        this.save();
      }
    } finally {
      this.sending = false;
      this.onChange?.();
    }
  }

  /** A line for the screen: sharing or not, last sent, waiting, refused. */
  describe() {
    if (!this.sharing) return this.buffer.length ? t('share.waiting', { n: this.buffer.length }) : '';
    const parts = [t('share.on')];
    if (this.lastSent) parts.push(t('share.sent', { time: fmtTime(this.lastSent) }));
    if (this.buffer.length) parts.push(t('share.waiting', { n: this.buffer.length }));
    if (this.refused) parts.push(t('share.refused', { reason: this.refused }));
    return parts.join(' · ');
  }

  /** The last position seen (for an SOS note), or null. */
  get position() { return this.last; }
}
