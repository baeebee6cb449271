// Console panels from field operations: safety alerts (SOS, lost contact, out of zone) with acknowledgement,
// live crew positions on the map, and active patrols near an incident (with linking).
import { api, describe } from './api.js';
import { fmtDateTime, fmtNumber, fmtTime, t } from './i18n.js';
import { L } from './map.js';
import { badge, fill, h, toast } from './ui.js';

const ALERT_RANK = { sos: 0, lost_contact: 1, out_of_zone: 2 };

export class FieldOps {
  constructor({ state, can, onCount }) {
    this.state = state;
    this.can = can;
    this.onCount = onCount;
    this.alerts = new Map();
    this.patrols = new Map();  // patrol id → PatrolOut, for names of zones and crew
    this.positions = new Map();  // "patrol:volunteer" → marker
    this.layer = L.layerGroup().addTo(state.map);
    window.addEventListener('iolaos:lang', () => this.render());
  }

  async load() {
    const [alerts, latest] = await Promise.all([
      this.can('alert.read') ? api('/api/v1/alerts', { query: { status: 'open', limit: 200 } }).catch(() => []) : [],
      this.can('volunteer.location') ? api('/api/v1/positions/latest').catch(() => []) : [],
    ]);
    this.alerts = new Map(alerts.map((a) => [a.id, a]));
    this.layer.clearLayers();
    this.positions.clear();
    for (const p of latest) this.position(p);
    await this.resolvePatrols([...this.alerts.values()].map((a) => a.patrol_id));
    this.render();
  }

  /** Remember patrols (from the planning panel's list, or fetched) so alerts can name their zone. */
  async resolvePatrols(ids) {
    for (const p of this.state.planning?.patrols || []) this.patrols.set(p.patrol_id, p);
    const missing = [...new Set(ids)].filter((id) => !this.patrols.has(id));
    await Promise.all(missing.map((id) => api(`/api/v1/patrols/${id}`).then((p) => this.patrols.set(id, p)).catch(() => {})));
  }

  /** A live event; true when it was about field operations. */
  onEvent(msg) {
    if (msg.kind === 'alert.raised' || msg.kind === 'alert.acknowledged') {
      const alert = msg.payload;
      if (alert.status === 'open') this.alerts.set(alert.id, alert);
      else this.alerts.delete(alert.id);
      this.resolvePatrols([alert.patrol_id]).then(() => {
        this.render();
        if (msg.kind === 'alert.raised') toast(t('alert.new', { kind: t(`alert.kind.${alert.kind}`), place: this.place(alert.patrol_id) }), { bad: true, ms: 8000 });
      });
      return true;
    }
    if (msg.kind === 'position') { this.position(msg.payload); return true; }
    return false;
  }

  place(patrolId) {
    const p = this.patrols.get(patrolId);
    return p ? `${p.zone_name_el} · ${fmtTime(p.shift_start)}–${fmtTime(p.shift_end)}` : t('alert.patrol', { id: patrolId });
  }

  crewName(patrolId, volunteerId) {
    const member = this.patrols.get(patrolId)?.crew.find((c) => c.volunteer_id === volunteerId);
    return member?.volunteer_name || t('patrols.volunteer', { id: volunteerId });
  }

  position(p) {
    const key = `${p.patrol_id}:${p.volunteer_id}`;
    // An element of text nodes, never an HTML string: a volunteer's name is data, not markup (issue 16).
    const label = () => h('span', { class: 'crew-tooltip' },
      `${this.crewName(p.patrol_id, p.volunteer_id)} · ${this.place(p.patrol_id)} · ${fmtTime(p.at)}`
      + (p.accuracy_m ? ` · ±${fmtNumber(p.accuracy_m)} m` : ''));
    let marker = this.positions.get(key);
    if (!marker) {
      marker = L.circleMarker([p.lat, p.lon], { radius: 7, color: '#ffffff', weight: 2, fillColor: '#0d47a1', fillOpacity: 1, className: 'crew-position' });
      marker.bindTooltip(label);
      marker.addTo(this.layer);
      this.positions.set(key, marker);
    }
    marker.setLatLng([p.lat, p.lon]);
    // The function, not its value: the crew's name and zone are known only once the patrol is resolved, so the
    // tooltip is built when it opens (and rebuilt if open) rather than frozen at "Volunteer #id · Patrol #id".
    marker.setTooltipContent(label);
    this.resolvePatrols([p.patrol_id]).then(() => marker.getTooltip()?.update());
  }

  sorted() {
    return [...this.alerts.values()].sort((a, b) => (ALERT_RANK[a.kind] - ALERT_RANK[b.kind]) || (a.raised_at < b.raised_at ? 1 : -1));
  }

  render() {
    const list = document.getElementById('alerts');
    if (!list) return;
    const alerts = this.sorted();
    const sos = alerts.filter((a) => a.kind === 'sos');
    this.onCount(alerts.length, sos.length);
    const banner = document.getElementById('sos-banner');
    banner.hidden = !sos.length;
    banner.textContent = sos.length ? t('alert.banner', { n: sos.length, place: this.place(sos[0].patrol_id) }) : '';
    if (!alerts.length) { fill(list, h('li', { class: 'empty' }, t('alert.none'))); return; }
    fill(list, alerts.map((a) => h('li', { class: `alert alert-${a.kind}`, 'data-alert': a.id },
      h('div', { class: 'title-line' }, h('strong', {}, t(`alert.kind.${a.kind}`)), badge('alert.status.', a.status)),
      h('div', { class: 'meta' }, `${this.place(a.patrol_id)} · ${fmtDateTime(a.raised_at)}`),
      a.details?.note ? h('div', {}, a.details.note) : null,
      this.can('alert.manage') ? h('div', { class: 'actions' }, h('button', {
        type: 'button', class: 'primary', onclick: (ev) => this.acknowledge(a, ev.target),
      }, t('alert.acknowledge')), h('button', { type: 'button', onclick: () => this.show(a.patrol_id) }, t('alert.show'))) : null)));
  }

  show(patrolId) {
    const p = this.patrols.get(patrolId);
    const marker = [...this.positions.entries()].find(([k]) => k.startsWith(`${patrolId}:`))?.[1];
    if (marker) this.state.map.setView(marker.getLatLng(), 13);
    else if (p && this.state.zones?.bounds(p.zone_code)) this.state.map.fitBounds(this.state.zones.bounds(p.zone_code), { maxZoom: 12 });
  }

  async acknowledge(alert, button) {
    button.disabled = true;
    try {
      await api(`/api/v1/alerts/${alert.id}/acknowledge`, { method: 'POST', json: { note: '' } });
      this.alerts.delete(alert.id);
      toast(t('alert.acknowledged'));
      this.render();
    } catch (err) { button.disabled = false; toast(describe(err), { bad: true }); }
  }

  /** Active patrols near an incident, each with a button to link it (filled in when the answer comes). */
  nearby(incident) {
    if (!this.can('patrol.read')) return null;
    const box = h('fieldset', { class: 'nearby' }, h('legend', {}, t('near.title')), h('p', { class: 'empty' }, t('common.loading')));
    api(`/api/v1/incidents/${incident.id}/patrols/near`, { query: { radius_km: 15 } }).then(async (found) => {
      await this.resolvePatrols(found.map((f) => f.patrol_id));
      fill(box, h('legend', {}, t('near.title')), found.length ? h('ul', { class: 'crew' }, found.map((f) => h('li', {},
        h('span', { class: 'title-line' }, h('strong', {}, this.place(f.patrol_id)), h('span', { class: 'badge' }, f.distance_km == null ? f.distance_band : `${fmtNumber(f.distance_km, 1)} km`)),
        h('div', { class: 'meta' }, t(`near.by.${f.by}`)),
        this.can('incident.manage') ? h('button', { type: 'button', class: 'link', onclick: (ev) => this.link(incident, f.patrol_id, ev.target) }, t('near.link')) : null)))
        : h('p', { class: 'empty' }, t('near.none')));
    }).catch(() => fill(box, h('legend', {}, t('near.title')), h('p', { class: 'empty' }, t('near.none'))));
    return box;
  }

  async link(incident, patrolId, button) {
    button.disabled = true;
    try {
      await api(`/api/v1/incidents/${incident.id}/patrols`, { method: 'POST', json: { patrol_id: patrolId } });
      button.replaceWith(h('span', { class: 'badge st-accepted' }, t('near.linked')));
    } catch (err) { button.disabled = false; toast(describe(err), { bad: true }); }
  }
}
