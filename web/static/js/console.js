// Dispatcher console: risk map, live incident queue, incident actions (lifecycle, handover), planning panels.
import { api, describe } from './api.js';
import { applyI18n, athensDay, fmtDateTime, fmtDay, getLang, t } from './i18n.js';
import { Live } from './live.js';
import { createMap, fetchMunicipalities, fetchRisk, incidentMarker, L, ZoneLayer } from './map.js';
import { FieldOps } from './console-field.js';
import { NotificationStatus } from './console-notify.js';
import { Planning } from './console-planning.js';
import { Warnings } from './console-warnings.js';
import { badge, ensureSignedIn, fill, h, reloadOnSignOut, toast, topBar } from './ui.js';

const KINDS = ['smoke', 'wildfire', 'suspicious_activity', 'arson', 'road_blocked', 'other'];
const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 };
const STATUS_RANK = { reported: 0, acknowledged: 1, dispatched: 2, contained: 3, resolved: 4, closed: 5 };

const state = {
  me: null, org: null, region: null, orgs: new Map(), users: [], incidents: new Map(), markers: new Map(),
  selected: null, chain: null, dayOffset: 0, day: null, map: null, zones: null, live: null, planning: null,
};

/** An organisation's name in the current language; else the name the payload carried; else #id. */
export function orgName(id, carried) {
  const org = state.orgs.get(id);
  if (!org) return carried || t('org.unknown', { id });
  return getLang() === 'el' ? org.name_el : org.name_en;
}

function can(action) { return Boolean(state.me?.permissions?.[action]); }

async function main() {
  reloadOnSignOut();
  const bar = document.getElementById('topbar');
  topBar(bar, { pageKey: 'page.console' });
  applyI18n(document);
  const mainEl = document.getElementById('main');
  state.me = await ensureSignedIn(mainEl, { titleKey: 'signin.console', hintKey: 'signin.console.hint' });
  const { conn } = topBar(bar, { pageKey: 'page.console', me: state.me });
  mainEl.replaceChildren(document.getElementById('console-tpl').content.cloneNode(true));
  applyI18n(mainEl);
  await loadContext();
  setupMap();
  setupTabs();
  state.planning = new Planning({ state, can, orgName, onCount: (n, g) => setCounts(n, g) });
  state.field = new FieldOps({ state, can, onCount: setAlertCount });
  state.notifications = new NotificationStatus({ pane: document.getElementById('pane-safety') });  // console-notify.js
  state.warnings = new Warnings({ state, can });
  document.getElementById('sos-banner').addEventListener('click', () => document.getElementById('tab-safety').click());
  state.live = new Live({ topics: topics(), onEvent, onResync: () => refreshAll(), indicator: conn }).start();
  document.getElementById('show-closed').addEventListener('change', () => loadIncidents());
  document.getElementById('new-at-centre').addEventListener('click', () => openNewIncident(state.map.getCenter()));
  document.getElementById('new-at-centre').hidden = !can('incident.report');
  for (const b of document.querySelectorAll('.seg button')) b.addEventListener('click', () => setDay(Number(b.dataset.offset)));
  window.addEventListener('iolaos:lang', () => { renderQueue(); renderDetail(); renderDayName(); });
  window.iolaosConsole = { state, map: state.map };
  await setDay(0);
  await loadIncidents();
  await state.field.load();
  await state.warnings.load();
}

async function loadContext() {
  state.org = await api(`/api/v1/organisations/${state.me.organisation_id}`);
  state.region = state.org.region_code;
  try {
    for (const org of await api('/api/v1/organisations', { query: { limit: 500 } })) state.orgs.set(org.id, org);
  } catch { state.orgs.set(state.org.id, state.org); }
  try { state.users = await api('/api/v1/users', { query: { limit: 500 } }); } catch { state.users = []; }
}

function topics() {
  const list = [`org:${state.me.organisation_id}`];
  if (state.region) list.push(`region:${state.region}`);
  return list;
}

function setupMap() {
  state.map = createMap(document.getElementById('map'));
  state.map.on('click', (ev) => {
    if (ev.originalEvent?.target?.closest?.('.leaflet-marker-icon')) return;
    if (state.mapPick?.(ev.latlng)) return;  // a panel is picking an area (console-warnings.js)
    if (can('incident.report')) openNewIncident(ev.latlng);
  });
  const crosshair = document.getElementById('crosshair');
  const button = document.getElementById('new-at-centre');
  button.addEventListener('focus', () => { crosshair.hidden = false; });
  button.addEventListener('blur', () => { crosshair.hidden = true; });
  fetchMunicipalities().then((collection) => {
    state.zones = new ZoneLayer(state.map, collection, { onClick: null });
    state.planning.zones = state.zones;
    if (state.region) {
      const inRegion = collection.features.filter((f) => f.properties.parent_code === state.region);
      if (inRegion.length) state.map.fitBounds(coreBounds(inRegion), { padding: [10, 10] });
    }
    return paintRisk();
  }).catch((err) => toast(`${t('error.zones')}: ${describe(err)}`, { bad: true }));
}

/** Bounds of the zones nearest the middle of a region (far islands left out), so the map opens on its core. */
function coreBounds(features) {
  const boxes = features.map((f) => L.geoJSON(f).getBounds());
  const centres = boxes.map((b) => b.getCenter());
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const mid = L.latLng(median(centres.map((c) => c.lat)), median(centres.map((c) => c.lng)));
  const far = centres.map((c) => c.distanceTo(mid));
  const cut = far.slice().sort((a, b) => a - b)[Math.floor(far.length * 0.85)];
  const kept = boxes.filter((_, i) => far[i] <= cut);
  return kept.reduce((acc, b) => acc.extend(b), L.latLngBounds(kept[0].getSouthWest(), kept[0].getNorthEast()));
}

async function setDay(offset) {
  state.dayOffset = offset;
  state.day = athensDay(offset);
  for (const b of document.querySelectorAll('.seg button')) b.setAttribute('aria-checked', String(Number(b.dataset.offset) === offset));
  renderDayName();
  await Promise.all([paintRisk(), state.planning.load(state.day)]);
}

function renderDayName() {
  document.getElementById('day-name').textContent = state.day ? fmtDay(state.day) : '';
}

async function paintRisk() {
  if (!state.zones || !state.day) return;
  try {
    state.zones.setRisk(await fetchRisk(state.day), fmtDay(state.day));
  } catch (err) { toast(`${t('error.risk')}: ${describe(err)}`, { bad: true }); }
}

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const other of tabs) {
      const on = other === tab;
      other.setAttribute('aria-selected', String(on));
      other.tabIndex = on ? 0 : -1;
      document.getElementById(other.getAttribute('aria-controls')).hidden = !on;
    }
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => select(tab));
    tab.addEventListener('keydown', (ev) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      select(next);
      next.focus();
    });
  });
}

function setCounts(patrols, gaps) {
  document.getElementById('count-patrols').textContent = patrols;
  document.getElementById('count-gaps').textContent = gaps;
}

async function refreshAll() {
  await Promise.all([loadIncidents(), paintRisk(), state.planning.load(state.day)]);
  await state.field.load();
}

function setAlertCount(open, sos) {
  const count = document.getElementById('count-alerts');
  count.textContent = open;
  count.classList.toggle('hot', sos > 0);
}

async function loadIncidents() {
  const open = !document.getElementById('show-closed').checked;
  try {
    const list = await api('/api/v1/incidents', { query: { open: open ? 'true' : undefined, limit: 200 } });
    state.incidents = new Map(list.map((i) => [i.id, i]));
  } catch (err) {
    toast(`${t('error.incidents')}: ${describe(err)}`, { bad: true });
  }
  renderQueue();
  renderMarkers();
  if (state.selected) await selectIncident(state.selected, { pan: false });
}

function onEvent(msg) {
  const { kind, payload, topics: eventTopics } = msg;
  if (state.field.onEvent(msg)) return;
  if (state.warnings?.onEvent(msg)) return;
  if ((kind === 'incident.reported' || kind === 'incident.updated') && payload?.id) {
    const isNew = !state.incidents.has(payload.id);
    upsertIncident(payload);
    if (isNew && kind === 'incident.reported' && payload.reported_by_user_id !== state.me.id) {
      toast(t('incident.new', { kind: t(`kind.${payload.kind}`), place: payload.zone_name_el || '—' }));
    }
    if (state.selected === payload.id) loadChain(payload.id);
    return;
  }
  if (kind === 'risk.changed' && payload?.levels) {
    if (state.zones?.touches(payload.levels, state.day)) { clearTimeout(state.riskTimer); state.riskTimer = setTimeout(paintRisk, 300); }
    return;
  }
  const incidentTopic = eventTopics.find((x) => x.startsWith('incident:'));
  if (incidentTopic) { refreshIncident(Number(incidentTopic.slice(9))); return; }
  if (eventTopics.some((x) => x.startsWith('patrol:')) || kind.startsWith('plan.') || kind.startsWith('coverage.')) {
    state.planning.reloadSoon();
  }
}

async function refreshIncident(id) {
  try { upsertIncident(await api(`/api/v1/incidents/${id}`)); } catch { return; }
  if (state.selected === id) loadChain(id);
}

function upsertIncident(incident) {
  const showClosed = document.getElementById('show-closed').checked;
  if (incident.status === 'closed' && !showClosed) state.incidents.delete(incident.id);
  else state.incidents.set(incident.id, incident);
  renderQueue();
  renderMarkers();
  if (state.selected === incident.id) renderDetail();
}

function sortedIncidents() {
  return [...state.incidents.values()].sort((a, b) => (STATUS_RANK[a.status] - STATUS_RANK[b.status])
    || (SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]) || (b.created_at < a.created_at ? -1 : 1));
}

function incidentLabel(inc) {
  return `${t(`kind.${inc.kind}`)} #${inc.id} · ${inc.zone_name_el || t('common.unlocated')}`;
}

function renderQueue() {
  const list = document.getElementById('queue');
  if (!list) return;
  const items = sortedIncidents();
  document.getElementById('count-incidents').textContent = items.filter((i) => i.status !== 'closed').length;
  if (!items.length) { fill(list, h('li', { class: 'empty' }, t('console.noincidents'))); return; }
  fill(list, items.map((inc) => h('li', { 'data-incident': inc.id },
    h('button', { type: 'button', class: 'item-btn', 'aria-current': String(state.selected === inc.id), onclick: () => selectIncident(inc.id) },
      h('span', { class: 'title-line' }, h('strong', {}, `${t(`kind.${inc.kind}`)} #${inc.id}`),
        badge('severity.', inc.severity, 'sev'), badge('status.', inc.status)),
      h('span', { class: 'meta' }, `${inc.zone_name_el || t('common.unlocated')} · ${fmtDateTime(inc.created_at)}`)))));
}

function renderMarkers() {
  if (!state.map) return;
  for (const [id, marker] of state.markers) {
    if (!state.incidents.has(id)) { marker.remove(); state.markers.delete(id); }
  }
  for (const inc of state.incidents.values()) {
    state.markers.get(inc.id)?.remove();
    const marker = incidentMarker(inc, incidentLabel(inc)).addTo(state.map);
    marker.on('click', (ev) => { L.DomEvent.stopPropagation(ev); selectIncident(inc.id, { pan: false }); });
    if (state.selected === inc.id) marker.getElement()?.classList.add('selected');
    state.markers.set(inc.id, marker);
  }
}

async function selectIncident(id, { pan = true } = {}) {
  const inc = state.incidents.get(id);
  if (state.selected !== id) state.nearby = inc ? state.field.nearby(inc) : null;
  state.selected = id;
  renderQueue();
  renderMarkers();
  if (inc && pan) state.map.panTo([inc.point.coordinates[1], inc.point.coordinates[0]]);
  renderDetail();
  await loadChain(id);
}

async function loadChain(id) {
  try { state.chain = await api(`/api/v1/responsibility/incident/${id}`); } catch { state.chain = null; }
  if (state.selected === id) renderDetail();
}

function userName(id) {
  const user = state.users.find((u) => u.id === id);
  return user ? user.full_name : `#${id}`;
}

/**
 * The selected incident's detail. Its parts are separate boxes updated on their own, so that live updates
 * never take the keyboard focus or half-typed text away from the controls (rebuilt only when the incident's
 * status, the language or the selection changes).
 */
function renderDetail() {
  const box = document.getElementById('detail');
  if (!box) return;
  const inc = state.incidents.get(state.selected);
  box.parentElement.classList.toggle('has-detail', Boolean(inc));
  if (!inc) { box.hidden = true; return; }
  box.hidden = false;
  if (!box.firstChild) box.append(h('div', { class: 'part-head' }), h('div', { class: 'part-controls' }), h('div', { class: 'part-nearby' }), h('div', { class: 'part-chain' }));
  const [head, controls, nearby, chain] = box.children;
  const holder = state.chain?.current;
  const holderText = holder ? `${holder.holder_name || t('holder.desk')} · ${orgName(holder.holder_organisation_id, holder.holder_organisation_name)} (${t('common.since')} ${fmtDateTime(holder.since)})` : '—';
  fill(head,
    h('h3', {}, `${t(`kind.${inc.kind}`)} #${inc.id}`, badge('severity.', inc.severity, 'sev'), badge('status.', inc.status)),
    h('dl', {},
      h('dt', {}, t('incident.place')), h('dd', {}, inc.zone_name_el || t('common.unlocated')),
      h('dt', {}, t('incident.reported')), h('dd', {}, fmtDateTime(inc.created_at)),
      h('dt', {}, t('incident.lead')), h('dd', {}, orgName(inc.lead_organisation_id, inc.lead_organisation_name)),
      inc.notified_organisation_ids.length ? [h('dt', {}, t('incident.notified')), h('dd', {}, inc.notified_organisation_ids.map((id, i) => orgName(id, inc.notified_organisation_names?.[i])).join(', '))] : null,
      h('dt', {}, t('incident.holder')), h('dd', { id: 'holder' }, holderText),
      inc.description ? [h('dt', {}, t('incident.note')), h('dd', {}, inc.description)] : null));
  const key = `${inc.id}:${inc.status}:${getLang()}`;
  if (controls.dataset.key !== key) {
    controls.dataset.key = key;
    fill(controls, transitionControls(inc), handoverControls(inc));
  }
  if (nearby.firstChild !== state.nearby) fill(nearby, state.nearby);
  fill(chain, chainList());
}

/** Whether the caller's incident.manage scope covers the incident's lead agency (else the server answers 403). */
function mayManage(inc) {
  const scope = state.me.permissions['incident.manage'];
  if (!scope) return false;
  if (scope === 'own') return inc.lead_organisation_id === state.me.organisation_id;
  if (scope === 'region') {
    const lead = state.orgs.get(inc.lead_organisation_id);
    return Boolean(lead) && (!state.region || lead.region_code === state.region);
  }
  return true;
}

function transitionControls(inc) {
  if (!mayManage(inc) || !inc.allowed_transitions.length) return null;
  const note = h('input', { id: 'transition-note', maxlength: '500', placeholder: t('incident.note.placeholder') });
  const error = h('p', { class: 'error', role: 'alert' });
  const buttons = inc.allowed_transitions.map((to) => h('button', {
    type: 'button', class: to === inc.allowed_transitions[0] ? 'primary' : '', 'data-transition': to,
    onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        upsertIncident(await api(`/api/v1/incidents/${inc.id}/status`, { method: 'POST', json: { status: to, note: note.value.trim() } }));
        toast(t('incident.moved', { id: inc.id, status: t(`status.${to}`) }));
        loadChain(inc.id);
      } catch (err) { error.textContent = describe(err); ev.target.disabled = false; }
    },
  }, t(`transition.${to}`)));
  return h('fieldset', {}, h('legend', {}, t('incident.lifecycle')),
    h('label', { for: 'transition-note' }, t('incident.note.label')), note, h('div', { class: 'actions' }, buttons), error);
}

function handoverControls(inc) {
  if (!can('responsibility.handover')) return null;
  const holders = state.users.filter((u) => u.is_active && ['admin', 'dispatcher', 'officer', 'coordinator', 'leader'].includes(u.role));
  const select = h('select', { id: 'handover-to', required: true },
    h('option', { value: '' }, t('handover.choose')),
    holders.map((u) => h('option', { value: u.id }, `${u.full_name} · ${t(`role.${u.role}`)}`)));
  const reason = h('input', { id: 'handover-reason', required: true, minlength: '3', maxlength: '500' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', {},
    h('label', { for: 'handover-to' }, t('handover.to')), select,
    h('label', { for: 'handover-reason' }, t('handover.reason')), reason,
    error, h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('handover.submit'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      state.chain = await api(`/api/v1/responsibility/incident/${inc.id}/handover`, { method: 'POST', json: { to_user_id: Number(select.value), reason: reason.value.trim() } });
      toast(t('handover.done', { name: state.chain.current?.holder_name || userName(Number(select.value)) }));
      refreshIncident(inc.id);
    } catch (err) { error.textContent = describe(err); }
  });
  return h('fieldset', {}, h('legend', {}, t('handover.title')), form);
}

function chainList() {
  if (!state.chain?.chain?.length) return null;
  const items = state.chain.chain.map((x, i, all) => h('li', { class: i === all.length - 1 ? 'current' : '' },
    h('strong', {}, x.holder_name || t('holder.desk')), ` · ${orgName(x.holder_organisation_id, x.holder_organisation_name)}`,
    h('div', { class: 'meta' }, `${fmtDateTime(x.since)} → ${x.until ? fmtDateTime(x.until) : t('common.now')} · ${x.reason}`)));
  return h('details', {}, h('summary', {}, t('handover.chain', { n: state.chain.chain.length })), h('ol', { class: 'chain' }, items));
}

function openNewIncident(latlng) {
  const lat = Number(latlng.lat.toFixed(5));
  const lon = Number(latlng.lng.toFixed(5));
  const where = h('p', { class: 'hint', id: 'new-where' }, `${lat}, ${lon}`);
  const kind = h('select', { id: 'new-kind', name: 'kind' }, KINDS.map((k) => h('option', { value: k }, t(`kind.${k}`))));
  const severity = h('select', { id: 'new-severity', name: 'severity' }, SEVERITIES.map((s) => h('option', { value: s, selected: s === 'medium' }, t(`severity.${s}`))));
  const note = h('textarea', { id: 'new-note', name: 'description', maxlength: '2000' });
  const error = h('p', { class: 'error', role: 'alert' });
  const temp = L.circleMarker([lat, lon], { radius: 9, color: '#b3300b', weight: 3, fillOpacity: 0.2 }).addTo(state.map);
  const dialog = h('dialog', { 'aria-labelledby': 'new-title', id: 'new-incident' },
    h('form', { method: 'dialog' },
      h('h2', { id: 'new-title' }, t('incident.create')), where,
      h('div', { class: 'row' },
        h('div', {}, h('label', { for: 'new-kind' }, t('incident.kind')), kind),
        h('div', {}, h('label', { for: 'new-severity' }, t('incident.severity')), severity)),
      h('label', { for: 'new-note' }, t('incident.note')), note, error,
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, t('common.cancel')),
        h('button', { type: 'submit', class: 'primary', id: 'new-submit' }, t('incident.submit')))));
  api('/api/v1/zones/locate', { query: { lon, lat } }).then((out) => {
    const names = out.zones.filter((z) => z.kind !== 'sector').map((z) => z.name_el);
    where.textContent = `${names.join(' · ') || t('common.unlocated')} (${lat}, ${lon})`;
  }).catch(() => {});
  dialog.querySelector('form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const submit = dialog.querySelector('#new-submit');
    submit.disabled = true;
    try {
      const inc = await api('/api/v1/incidents', { method: 'POST', json: { kind: kind.value, severity: severity.value, description: note.value.trim(), point: { type: 'Point', coordinates: [lon, lat] } } });
      upsertIncident(inc);
      dialog.close();
      toast(t('incident.created', { id: inc.id, lead: orgName(inc.lead_organisation_id, inc.lead_organisation_name) }));
      selectIncident(inc.id, { pan: false });
    } catch (err) { error.textContent = describe(err); submit.disabled = false; }
  });
  dialog.addEventListener('close', () => { temp.remove(); dialog.remove(); });
  document.body.append(dialog);
  dialog.showModal();
  kind.focus();
}

main().catch((err) => {
  console.error(err);
  toast(describe(err), { bad: true });
});
