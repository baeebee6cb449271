// Console panel "warn the public": draft a warning from an incident or the risk map, preview its area on the map
// and its CAP text, publish it (four-eyes approval when the deployment asks for it), update and cancel it.
import { api, describe } from './api.js';
import { fmtDateTime, getLang, t } from './i18n.js';
import { L } from './map.js';
import './strings-warnings.js';
import { askReason, badge, fill, h, toast } from './ui.js';

const HOURS = [2, 4, 6, 12, 24, 48];
const STATE_RANK = { published: 0, draft: 1, expired: 2, cancelled: 3, discarded: 4 };
const AREA_STYLE = { color: '#6a1b9a', weight: 3, fillColor: '#ab47bc', fillOpacity: 0.25, dashArray: '6 4' };

export class Warnings {
  constructor({ state, can }) {
    this.state = state;
    this.can = can;
    this.items = new Map();
    this.catalogue = null;
    this.municipalities = [];
    this.selected = null;  // warning id shown in the detail
    this.form = null;  // the form's working copy: {id?, source, incident_id, area: {...}, ...}
    this.preview = null;
    this.layer = L.layerGroup().addTo(state.map);
    this.pickLayer = L.layerGroup().addTo(state.map);
    state.mapPick = (latlng) => this.pick(latlng);  // map clicks go to the area picker while a form is open
    const button = document.getElementById('warn-new');
    button.hidden = !can('warning.issue');
    button.disabled = true;  // until the templates are loaded
    button.addEventListener('click', () => this.openForm());
    window.addEventListener('iolaos:lang', () => { this.render(); this.renderDetail(); });
  }

  async load() {
    if (!this.can('warning.read')) return;
    try {
      const [items, catalogue, municipalities] = await Promise.all([
        api('/api/v1/warnings', { query: { limit: 200 } }), this.catalogue || api('/api/v1/warnings/templates'),
        this.municipalities.length ? this.municipalities : this.fetchMunicipalities()]);
      this.items = new Map(items.map((w) => [w.id, w]));
      this.catalogue = catalogue;
      this.municipalities = municipalities;
    } catch (err) { toast(`${t('error.warnings')}: ${describe(err)}`, { bad: true }); }
    document.getElementById('warn-new').disabled = !this.catalogue;
    this.render();
  }

  async fetchMunicipalities() {
    const found = await api('/api/v1/zones', { query: { kind: 'municipality', parent: this.state.region || undefined, geometry: 'false', limit: 1000 } });
    const list = (found.features || found).map((f) => f.properties || f);
    return list.sort((a, b) => a.name_el.localeCompare(b.name_el, 'el'));
  }

  /** A live event; true when it was about warnings. */
  onEvent(msg) {
    if (msg.kind !== 'warning.updated') return false;
    this.refresh(msg.payload.warning_id);
    return true;
  }

  async refresh(id) {
    try { this.items.set(id, await api(`/api/v1/warnings/${id}`)); } catch { return; }
    this.render();
    if (this.selected === id && !this.form) this.renderDetail();
  }

  hazardName(key) { const hz = this.catalogue?.hazards?.[key]; return hz ? hz.event[getLang()] : key; }

  render() {
    const list = [...this.items.values()].sort((a, b) => (STATE_RANK[a.state] - STATE_RANK[b.state]) || (b.id - a.id));
    document.getElementById('count-warnings').textContent = list.filter((w) => w.state === 'published').length;
    const ul = document.getElementById('warnings');
    fill(ul, list.length ? list.map((w) => h('li', {},
      h('button', { type: 'button', class: 'item-btn', 'aria-current': this.selected === w.id ? 'true' : undefined,
        'data-warning': String(w.id), onclick: () => this.select(w.id) },
      badge('warn.state.', w.state, 'wst'), ' ', h('strong', {}, this.hazardName(w.hazard)),
      w.pending_changes && w.state === 'published' ? h('span', { class: 'badge' }, t('warn.pending')) : null,
      h('span', { class: 'meta' }, getLang() === 'el' ? w.area.desc_el : w.area.desc_en),
      h('span', { class: 'meta' }, `${t('warn.expires.at')} ${fmtDateTime(w.expires)}`)))) : h('li', { class: 'empty' }, t('warn.none')));
  }

  select(id) {
    this.selected = id;
    this.form = null;
    this.preview = null;
    this.render();
    this.renderDetail();
    this.loadPreview();
  }

  drawArea(geometry) {
    this.layer.clearLayers();
    if (!geometry) return;
    const shape = L.geoJSON(geometry, { style: AREA_STYLE, interactive: false }).addTo(this.layer);
    this.state.map.fitBounds(shape.getBounds(), { padding: [30, 30], maxZoom: 12 });
  }

  async loadPreview() {
    const w = this.items.get(this.selected);
    if (!w) return;
    this.drawArea(w.area.geometry);
    if (!w.allowed_actions.length) return;
    try { this.preview = await api(`/api/v1/warnings/${w.id}/preview`); } catch { this.preview = null; }
    if (this.selected === w.id && !this.form) this.renderDetail();
  }

  renderDetail() {
    const box = document.getElementById('warning-detail');
    const pane = document.getElementById('pane-warnings');
    if (this.form) { this.renderForm(box); pane.classList.add('has-detail'); return; }
    const w = this.items.get(this.selected);
    box.hidden = !w;
    pane.classList.toggle('has-detail', Boolean(w));
    if (!w) return;
    const actions = w.allowed_actions;
    const buttons = [];
    if (actions.includes('publish') && this.can('warning.issue')) {
      buttons.push(h('button', { type: 'button', class: 'primary', id: 'warn-publish', onclick: () => this.publish(w) },
        w.status === 'draft' ? t('warn.publish') : t('warn.publish.update')));
    }
    if (actions.includes('approve') && this.can('warning.approve')) {
      buttons.push(h('button', { type: 'button', id: 'warn-approve', onclick: () => this.approve(w) }, t('warn.approve')));
    }
    if (actions.includes('edit') && this.can('warning.issue')) {
      buttons.push(h('button', { type: 'button', id: 'warn-edit', onclick: () => this.openForm(w) }, t('warn.edit')));
    }
    if (actions.includes('cancel') && this.can('warning.issue')) {
      buttons.push(h('button', { type: 'button', class: 'danger', id: 'warn-cancel', onclick: () => this.cancel(w) },
        w.status === 'draft' ? t('warn.discard') : t('warn.cancel')));
    }
    const lang = getLang();
    fill(box,
      h('h3', {}, badge('warn.state.', w.state, 'wst'), this.hazardName(w.hazard), h('span', { class: 'meta-inline' }, t('warn.revision', { revision: w.revision }))),
      w.needs_approval ? h('p', { class: 'hint warn-flag' }, t('warn.needsapproval')) : null,
      h('dl', {},
        h('dt', {}, t('warn.area')), h('dd', {}, lang === 'el' ? w.area.desc_el : w.area.desc_en),
        h('dt', {}, t('warn.response')), h('dd', {}, t(`warn.rt.${w.response_type}`)),
        h('dt', {}, 'CAP'), h('dd', {}, [w.urgency, w.severity, w.certainty].map((v) => t(`warn.cap.${v}`)).join(' · ')),
        h('dt', {}, t('warn.expires.at')), h('dd', {}, fmtDateTime(w.expires)),
        h('dt', {}, 'geocode'), h('dd', { class: 'mono' }, w.area.geocodes.map((g) => `${g.value_name} ${g.value}`).join(', '))),
      h('p', { class: 'instruction' }, lang === 'el' ? w.instruction_el : w.instruction_en),
      h('div', { class: 'actions' }, buttons),
      this.preview ? h('details', { class: 'cap-preview', open: true },
        h('summary', {}, `${t('warn.preview')} — ${this.preview.msg_type}`),
        h('pre', { id: 'warn-xml', class: 'cap-xml' }, this.preview.xml)) : null,
      h('h4', {}, t('warn.messages')),
      w.messages.length ? h('ol', { class: 'cap-messages', id: 'warn-messages' }, w.messages.map((m) => h('li', {},
        h('strong', {}, m.msg_type), ` ${fmtDateTime(m.sent)} · `,
        h('a', { href: m.url, target: '_blank', rel: 'noopener', class: 'mono' }, m.identifier)))) : h('p', { class: 'hint' }, t('warn.nomessages')));
  }

  // --- the form ------------------------------------------------------------------------------------------
  ownIncidents() {
    return [...this.state.incidents.values()].filter((i) => i.lead_organisation_id === this.state.me.organisation_id
      || this.state.org?.kind === 'civil_protection');
  }

  openForm(w) {
    const hazards = this.catalogue?.hazards || {};
    if (w) {
      this.form = { id: w.id, hazard: w.hazard, response_type: w.response_type, urgency: w.urgency, severity: w.severity,
        certainty: w.certainty, instruction_el: w.instruction_el, instruction_en: w.instruction_en,
        description_el: w.description_el, description_en: w.description_en, hours: 6,
        area: w.area.kind === 'circle' ? { kind: 'circle', lon: w.area.centre[0], lat: w.area.centre[1], radius_km: w.area.radius_km }
          : w.area.kind === 'zones' ? { kind: 'zones', zone_codes: [...w.area.zone_codes] }
            : { kind: 'polygon', points: w.area.geometry.coordinates[0].slice(0, -1).map(([x, y]) => [y, x]) } };
    } else {
      const incident = this.ownIncidents()[0];
      const hazard = incident ? 'wildfire' : 'fire_risk';
      const response = hazards[hazard]?.responses?.[0] || 'Avoid';
      this.form = { source: incident ? 'incident' : 'risk_map', incident_id: incident?.id, hazard, response_type: response,
        hours: 6, area: incident ? { kind: 'circle', lon: incident.point.coordinates[0], lat: incident.point.coordinates[1], radius_km: 5 }
          : { kind: 'zones', zone_codes: this.highRisk() } };
      this.applyTemplate();
    }
    this.selected = w ? w.id : null;
    this.drawPick();
    this.renderDetail();
  }

  /** Municipalities of the caller's region at fire-risk 4 or 5 on the day the map shows (the risk map's proposal). */
  highRisk() {
    const levels = this.state.zones?.levels || {};
    return this.municipalities.filter((m) => (levels[m.code]?.category || 0) >= 4).map((m) => m.code);
  }

  applyTemplate() {
    const f = this.form;
    const hz = this.catalogue?.hazards?.[f.hazard];
    if (!hz) return;
    if (!hz.responses.includes(f.response_type)) f.response_type = hz.responses[0];
    Object.assign(f, { urgency: hz.urgency, severity: hz.severity, certainty: hz.certainty });
    const words = this.catalogue.instructions[f.response_type];
    Object.assign(f, { instruction_el: words.el, instruction_en: words.en });
  }

  select_(id, label, values, current, onchange, labeller = (v) => v) {
    return [h('label', { for: id }, label),
      h('select', { id, onchange: (ev) => onchange(ev.target.value) },
        values.map(([v, text]) => h('option', { value: String(v), selected: String(v) === String(current) }, labeller(text))))];
  }

  renderForm(box) {
    const f = this.form;
    box.hidden = false;
    const cat = this.catalogue || { hazards: {}, urgencies: [], severities: [], certainties: [] };
    const set = (key, rerender = false) => (value) => { f[key] = value; if (rerender) this.renderDetail(); };
    const fields = [];
    if (!f.id) {
      fields.push(...this.select_('warn-source', t('warn.source'), [['incident', t('warn.source.incident')], ['risk_map', t('warn.source.risk_map')]],
        f.source, (v) => {
          f.source = v;
          if (v === 'incident' && !f.incident_id) f.incident_id = this.ownIncidents()[0]?.id;
          if (v === 'risk_map') {
            Object.assign(f, { hazard: 'fire_risk', area: { kind: 'zones', zone_codes: this.highRisk() } });
            this.applyTemplate();
            this.drawPick();
          }
          this.renderDetail();
        }));
      if (f.source === 'incident') {
        const incidents = this.ownIncidents();
        fields.push(...(incidents.length ? this.select_('warn-incident', t('warn.incident'),
          incidents.map((i) => [i.id, `#${i.id} ${t(`kind.${i.kind}`)} · ${i.zone_name_el || '—'}`]), f.incident_id,
          (v) => { f.incident_id = Number(v); }) : [h('p', { class: 'hint' }, t('warn.noincident'))]));
      }
    }
    fields.push(...this.select_('warn-hazard', t('warn.hazard'), Object.keys(cat.hazards).map((k) => [k, this.hazardName(k)]), f.hazard,
      (v) => { f.hazard = v; this.applyTemplate(); this.renderDetail(); }));
    fields.push(...this.select_('warn-response', t('warn.response'), (cat.hazards[f.hazard]?.responses || []).map((r) => [r, t(`warn.rt.${r}`)]),
      f.response_type, (v) => { f.response_type = v; const w = cat.instructions[v]; Object.assign(f, { instruction_el: w.el, instruction_en: w.en }); this.renderDetail(); }));
    for (const [key, values] of [['urgency', cat.urgencies], ['severity', cat.severities], ['certainty', cat.certainties]]) {
      fields.push(...this.select_(`warn-${key}`, t(`warn.${key}`), values.map((v) => [v, `${t(`warn.cap.${v}`)} (${v})`]), f[key], set(key)));
    }
    fields.push(...this.select_('warn-hours', t('warn.expires'), HOURS.map((n) => [n, t('warn.hours', { n })]), f.hours, (v) => { f.hours = Number(v); }));
    const text = (key, labelKey, rows = 2) => [h('label', { for: `warn-${key}` }, t(labelKey)),
      h('textarea', { id: `warn-${key}`, rows: String(rows), maxlength: '1000', oninput: (ev) => { f[key] = ev.target.value; } }, f[key] || '')];
    fill(box,
      h('h3', {}, f.id ? t('warn.form.edit') : t('warn.form.title')),
      h('form', { class: 'warn-form', id: 'warn-form', onsubmit: (ev) => { ev.preventDefault(); this.save(); } },
        h('div', { class: 'grid' }, fields),
        this.areaFields(),
        text('instruction_el', 'warn.instruction.el', 3), text('instruction_en', 'warn.instruction.en', 3),
        text('description_el', 'warn.description.el'), text('description_en', 'warn.description.en'),
        h('div', { class: 'actions' },
          h('button', { type: 'button', onclick: () => this.closeForm() }, t('common.cancel')),
          h('button', { type: 'submit', class: 'primary', id: 'warn-save' }, t('warn.save')))));
  }

  areaFields() {
    const f = this.form;
    const area = f.area;
    const kinds = ['zones', 'circle', 'polygon'];
    const setKind = (kind) => {
      const c = this.state.map.getCenter();
      f.area = kind === 'zones' ? { kind, zone_codes: [] } : kind === 'circle' ? { kind, lon: c.lng, lat: c.lat, radius_km: 5 } : { kind, points: [] };
      this.drawPick();
      this.renderDetail();
    };
    const parts = [h('legend', {}, t('warn.area')),
      h('div', { class: 'seg', role: 'radiogroup' }, kinds.map((k) => h('button', { type: 'button', role: 'radio', id: `warn-area-${k}`,
        'aria-checked': String(area.kind === k), onclick: () => setKind(k) }, t(`warn.area.${k}`)))),
      h('p', { class: 'hint' }, t(`warn.area.${area.kind}.hint`))];
    if (area.kind === 'zones') {
      parts.push(h('select', { id: 'warn-zones', multiple: true, size: '6', 'aria-label': t('warn.area.zones'),
        onchange: (ev) => { area.zone_codes = [...ev.target.selectedOptions].map((o) => o.value); this.drawPick(); } },
      this.municipalities.map((m) => h('option', { value: m.code, selected: area.zone_codes.includes(m.code) }, m.name_el))));
    } else if (area.kind === 'circle') {
      parts.push(h('div', { class: 'grid' },
        h('span', {}, t('warn.centre')), h('span', { class: 'mono', id: 'warn-centre' }, `${area.lat.toFixed(4)}, ${area.lon.toFixed(4)}`),
        h('label', { for: 'warn-radius' }, t('warn.radius')),
        h('input', { id: 'warn-radius', type: 'number', min: '0.5', max: '50', step: '0.5', value: String(area.radius_km),
          oninput: (ev) => { area.radius_km = Number(ev.target.value); this.drawPick(); } })));
    } else {
      parts.push(h('p', { class: 'mono', id: 'warn-vertices' }, String(area.points.length)),
        h('button', { type: 'button', onclick: () => { area.points = []; this.drawPick(); this.renderDetail(); } }, t('warn.area.clear')));
    }
    return h('fieldset', { class: 'warn-area' }, parts);
  }

  /** A map click while the form is open: toggle a municipality, move the circle, or add a polygon corner. */
  pick(latlng) {
    const area = this.form?.area;
    if (!area) return false;
    if (area.kind === 'circle') { area.lon = latlng.lng; area.lat = latlng.lat; }
    if (area.kind === 'polygon') area.points.push([latlng.lat, latlng.lng]);
    if (area.kind === 'zones') {
      const hit = [...(this.state.zones?.byCode || new Map()).entries()].find(([, layer]) => layer.getBounds().contains(latlng)
        && L.geoJSON(layer.feature).getLayers().some((l) => pointInLayer(latlng, l)));
      if (hit && this.municipalities.some((m) => m.code === hit[0])) {
        const codes = new Set(area.zone_codes);
        if (codes.has(hit[0])) codes.delete(hit[0]); else codes.add(hit[0]);
        area.zone_codes = [...codes];
      }
    }
    this.drawPick();
    this.renderDetail();
    return true;
  }

  drawPick() {
    this.pickLayer.clearLayers();
    this.layer.clearLayers();
    const area = this.form?.area;
    if (!area) return;
    if (area.kind === 'circle') L.circle([area.lat, area.lon], { radius: area.radius_km * 1000, ...AREA_STYLE }).addTo(this.pickLayer);
    if (area.kind === 'polygon' && area.points.length) L.polygon(area.points, AREA_STYLE).addTo(this.pickLayer);
    if (area.kind === 'zones') {
      for (const code of area.zone_codes) {
        const layer = this.state.zones?.byCode.get(code);
        if (layer) L.geoJSON(layer.feature, { style: AREA_STYLE, interactive: false }).addTo(this.pickLayer);
      }
    }
  }

  closeForm() {
    this.form = null;
    this.pickLayer.clearLayers();
    this.renderDetail();
    if (this.selected) this.loadPreview();
  }

  body() {
    const f = this.form;
    const a = f.area;
    const area = a.kind === 'zones' ? { kind: 'zones', zone_codes: a.zone_codes }
      : a.kind === 'circle' ? { kind: 'circle', lon: round(a.lon), lat: round(a.lat), radius_km: a.radius_km }
        : { kind: 'polygon', geometry: { type: 'Polygon', coordinates: [[...a.points, a.points[0]].map(([y, x]) => [round(x), round(y)])] } };
    const out = { hazard: f.hazard, response_type: f.response_type, urgency: f.urgency, severity: f.severity,
      certainty: f.certainty, instruction_el: f.instruction_el, instruction_en: f.instruction_en,
      description_el: f.description_el || '', description_en: f.description_en || '', area,
      expires: new Date(Date.now() + f.hours * 3600_000).toISOString() };
    if (!f.id) Object.assign(out, { source: f.source, incident_id: f.source === 'incident' ? f.incident_id : undefined });
    return out;
  }

  async save() {
    const f = this.form;
    try {
      const saved = f.id ? await api(`/api/v1/warnings/${f.id}`, { method: 'PUT', json: this.body() })
        : await api('/api/v1/warnings', { method: 'POST', json: this.body() });
      this.items.set(saved.id, saved);
      toast(t('warn.saved', { revision: saved.revision }));
      this.pickLayer.clearLayers();
      this.select(saved.id);
    } catch (err) { toast(describe(err), { bad: true, ms: 6000 }); }
  }

  async act(w, path, json, message) {
    try {
      const out = await api(`/api/v1/warnings/${w.id}/${path}`, { method: 'POST', json });
      this.items.set(out.id, out);
      toast(message(out));
      this.select(out.id);
    } catch (err) { toast(describe(err), { bad: true, ms: 6000 }); }
  }

  publish(w) {
    return this.act(w, 'publish', { revision: w.revision }, (out) => t('warn.published', { type: out.messages.at(-1)?.msg_type }));
  }

  approve(w) { return this.act(w, 'approve', { revision: w.revision }, (out) => t('warn.approved', { revision: out.revision })); }

  async cancel(w) {
    const reason = await askReason({ titleKey: 'warn.cancel.title' });
    if (reason) await this.act(w, 'cancel', { reason }, () => t('warn.cancelled'));
  }
}

function round(x) { return Math.round(x * 1e6) / 1e6; }

/** Is the point inside a polygon layer (ray casting over every ring; islands and holes included)? */
function pointInLayer(latlng, layer) {
  const rings = [];
  const walk = (x) => { if (Array.isArray(x) && x.length && x[0] instanceof L.LatLng) rings.push(x); else if (Array.isArray(x)) x.forEach(walk); };
  walk(layer.getLatLngs ? layer.getLatLngs() : []);
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const a = ring[i];
      const b = ring[j];
      if ((a.lat > latlng.lat) !== (b.lat > latlng.lat)
        && latlng.lng < ((b.lng - a.lng) * (latlng.lat - a.lat)) / (b.lat - a.lat) + a.lng) inside = !inside;
    }
  }
  return inside;
}
