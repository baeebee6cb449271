// Mobile field page for volunteer leaders: assignments (accept/decline), smoke reports with the phone's
// location, live incidents, and an on-device outbox so that nothing is lost or sent twice when offline.
import { api, describe } from './api.js';
import { applyI18n, athensDay, fmtDateTime, fmtDay, fmtTime, getLang, t } from './i18n.js';
import { Live } from './live.js';
import { createMap, fetchMunicipalities, fetchRisk, incidentMarker, L, ZoneLayer } from './map.js';
import { Outbox } from './outbox.js';
import { PositionSharer, patrolActions, sosTarget } from './field-patrol.js';
import { setupNotifications } from './field-notify.js';
import { setupPwa } from './field-pwa.js';
import { askReason, badge, ensureSignedIn, fill, h, reloadOnSignOut, riskChip, toast, topBar } from './ui.js';

const KINDS = ['smoke', 'wildfire', 'suspicious_activity', 'other'];
const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const state = {
  me: null, org: null, incidents: new Map(), patrols: [], map: null, zones: null, markers: new Map(),
  point: null, pointMarker: null, outbox: null, reportOpen: false, patrolTimer: null,
  myVolunteerId: null, fieldStatus: new Map(), sharer: null,
};

const $ = (id) => document.getElementById(id);
const can = (action) => Boolean(state.me?.permissions?.[action]);

async function main() {
  reloadOnSignOut();
  const bar = $('topbar');
  topBar(bar, { pageKey: 'page.field' });
  applyI18n(document);
  state.me = await ensureSignedIn($('main'), { titleKey: 'signin.field', hintKey: 'signin.field.hint' });
  const qbadge = h('span', { class: 'badge', id: 'qbadge', hidden: true });
  const { conn } = topBar(bar, { pageKey: 'page.field', me: state.me, extra: [qbadge] });
  $('main').replaceChildren($('field-tpl').content.cloneNode(true));
  applyI18n($('main'));
  state.org = await api(`/api/v1/organisations/${state.me.organisation_id}`);
  renderOrgLine();
  setupReportForm();
  state.outbox = new Outbox({ key: `iolaos.outbox.${state.me.id}`, onChange: renderOutbox, onSent });
  renderOutbox(state.outbox.items);
  state.outbox.flush();
  setupPwa({ outbox: state.outbox });  // offline reloads, Background Sync (field-pwa.js)
  state.sharer = new PositionSharer({ key: `iolaos.positions.${state.me.id}`, onChange: renderShare });
  $('sos').addEventListener('click', openSos);
  api('/api/v1/volunteers', { query: { limit: 500 } }).then((list) => {
    state.myVolunteerId = list.find((v) => v.user_id === state.me.id)?.id ?? null;
    updateSharing();
  }).catch(() => {});
  setupMap();
  const topics = [`org:${state.me.organisation_id}`];
  if (state.org.region_code) topics.push(`region:${state.org.region_code}`);
  new Live({ topics, onEvent, onResync: () => refresh(), indicator: conn }).start();
  window.addEventListener('iolaos:lang', () => { renderOrgLine(); fillSelects(); renderIncidents(); renderPatrols(); renderOutbox(state.outbox.items); renderLocation(); });
  window.iolaosField = { state };
  await refresh();
  setupNotifications($('main'));  // channels and this phone's push subscription (field-notify.js)
}

function renderOrgLine() {
  const name = getLang() === 'el' ? state.org.name_el : state.org.name_en;
  fill($('orgline'), h('strong', {}, name), ` · ${state.me.full_name}`);
}

async function refresh() {
  await Promise.all([loadIncidents(), loadPatrols(), paintRisk()]);
}

// --- map ---------------------------------------------------------------------------------------------
function setupMap() {
  state.map = createMap($('map'));
  state.map.on('click', (ev) => { if (state.reportOpen) setPoint(ev.latlng.lat, ev.latlng.lng, null); });
  fetchMunicipalities(state.org.region_code || undefined).then((collection) => {
    state.zones = new ZoneLayer(state.map, collection, { compact: true });
    const home = state.org.zone_codes?.[0];
    const bounds = (home && state.zones.bounds(home)?.pad(0.6)) || state.zones.allBounds();
    if (bounds?.isValid()) state.map.fitBounds(bounds);
    return paintRisk();
  }).catch((err) => toast(`${t('error.zones')}: ${describe(err)}`, { bad: true }));
}

async function paintRisk() {
  if (!state.zones) return;
  try { state.zones.setRisk(await fetchRisk(athensDay(0), state.org.region_code || undefined), fmtDay(athensDay(0))); } catch { /* keep the last colours */ }
}

// --- incidents ---------------------------------------------------------------------------------------
async function loadIncidents() {
  try {
    const list = await api('/api/v1/incidents', { query: { open: 'true', limit: 100 } });
    for (const inc of list) state.incidents.set(inc.id, inc);
  } catch (err) { if (!err.network) toast(describe(err), { bad: true }); }
  renderIncidents();
}

function upsertIncident(inc, fresh = false) {
  if (inc.status === 'closed') state.incidents.delete(inc.id);
  else state.incidents.set(inc.id, inc);
  renderIncidents(fresh ? inc.id : null);
}

function onEvent(msg) {
  if ((msg.kind === 'incident.reported' || msg.kind === 'incident.updated') && msg.payload?.id) {
    const fresh = !state.incidents.has(msg.payload.id);
    upsertIncident(msg.payload, fresh);
    if (fresh && msg.payload.reported_by_user_id !== state.me.id) {
      toast(t('incident.new', { kind: t(`kind.${msg.payload.kind}`), place: msg.payload.zone_name_el || '—' }));
      if (navigator.vibrate) navigator.vibrate(200);
    }
  } else if (msg.kind === 'risk.changed' && msg.payload?.levels) {
    if (state.zones?.touches(msg.payload.levels, athensDay(0))) { clearTimeout(state.riskTimer); state.riskTimer = setTimeout(paintRisk, 300); }
  } else if (msg.topics.some((x) => x.startsWith('patrol:'))) {
    if (msg.kind === 'patrol.updated' && msg.payload?.patrol_id) state.fieldStatus.set(msg.payload.patrol_id, msg.payload.field_status);
    clearTimeout(state.patrolTimer);
    state.patrolTimer = setTimeout(loadPatrols, 400);
  }
}

function renderIncidents(freshId = null) {
  const list = $('incidents');
  if (!list) return;
  const items = [...state.incidents.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  $('inc-count').textContent = items.length;
  fill(list, items.length ? items.map((inc) => h('li', { class: inc.id === freshId ? 'fresh' : '', 'data-incident': inc.id },
    h('div', { class: 'title-line' }, h('strong', {}, `${t(`kind.${inc.kind}`)} #${inc.id}`), badge('severity.', inc.severity, 'sev'), badge('status.', inc.status)),
    h('div', { class: 'meta' }, `${inc.zone_name_el || t('common.unlocated')} · ${fmtDateTime(inc.created_at)}`
      + (inc.reporter_organisation_id === state.me.organisation_id ? ` · ${t('field.byus')}` : '')),
    inc.description ? h('div', { class: 'meta' }, inc.description) : null))
    : h('li', { class: 'empty' }, t('field.noincidents')));
  renderMarkers();
}

function renderMarkers() {
  if (!state.map) return;
  for (const marker of state.markers.values()) marker.remove();
  state.markers.clear();
  for (const inc of state.incidents.values()) {
    state.markers.set(inc.id, incidentMarker(inc, `${t(`kind.${inc.kind}`)} #${inc.id}`).addTo(state.map));
  }
}

// --- assignments -------------------------------------------------------------------------------------
async function loadPatrols() {
  try {
    // Yesterday too: a night shift (22:00-02:00) belongs to the day it began, and its crew still needs it after midnight.
    const [yesterday, ...coming] = await Promise.all([-1, 0, 1].map((d) => api('/api/v1/patrols', { query: { date: athensDay(d), limit: 200 } })));
    const now = Date.now();
    const underWay = yesterday.filter((p) => p.status === 'active' || new Date(p.shift_end).getTime() > now);
    state.patrols = [...underWay, ...coming.flat()].filter((p) => p.status !== 'cancelled');
  } catch (err) { if (!err.network) toast(describe(err), { bad: true }); }
  renderPatrols();
}

function queuedFor(assignmentId) {
  return state.outbox?.items.find((i) => i.assignmentId === assignmentId && i.state !== 'failed');
}

function renderPatrols() {
  const box = $('assignments');
  if (!box) return;
  const own = state.me.organisation_id;
  const rank = (p) => (p.status === 'active' ? 0 : p.crew.some((c) => c.organisation_id === own && c.status === 'proposed') ? 1
    : ['completed', 'cancelled'].includes(p.status) ? 3 : 2);
  const mine = state.patrols.filter((p) => p.crew.some((c) => c.organisation_id === own))
    .sort((a, b) => (rank(a) - rank(b)) || (a.shift_start < b.shift_start ? -1 : 1));
  $('assign-count').textContent = mine.reduce((n, p) => n + p.crew.filter((c) => c.organisation_id === own && c.status === 'proposed').length, 0);
  renderSos();
  updateSharing();
  if (!mine.length) { fill(box, h('p', { class: 'empty' }, t('field.noassignments'))); return; }
  fill(box, mine.map((p) => h('article', { class: 'patrol', 'data-patrol': p.patrol_id },
    h('div', { class: 'title-line' }, h('strong', {}, riskChip(p.risk_category), ' ', p.zone_name_el), badge('patrol.status.', p.status)),
    h('div', { class: 'meta' }, `${fmtDay(athensDayOf(p.shift_start))} ${fmtTime(p.shift_start)}–${fmtTime(p.shift_end)} · ${t(`capability.${p.capability}`)} · `
      + t('field.crewsize', { n: p.crew_size })),
    p.crew.filter((c) => c.organisation_id === own).map((c) => memberRow(p, c)),
    opsFor(p))));
}

function opsFor(patrol) {
  const queued = state.outbox?.items.find((i) => i.patrolId === patrol.patrol_id && i.state !== 'failed');
  if (queued) return h('p', { class: 'hint' }, t('field.queued', { action: t(`outbox.${queued.type}`) }));
  const actions = patrolActions(patrol, { own: state.me.organisation_id, can, queue: queueOp, fieldStatus: state.fieldStatus.get(patrol.patrol_id) });
  const sharing = patrol.status === 'active' && state.sharer?.patrols.includes(patrol.patrol_id);
  return [actions, sharing ? h('p', { class: 'share', id: `share-${patrol.patrol_id}`, role: 'status' }, state.sharer.describe()) : null];
}

function queueOp(action) {
  state.outbox.add({ method: 'POST', ...action });
  renderPatrols();
}

/** Share the phone's position for active patrols on which the user's own volunteer record is checked in. */
function updateSharing() {
  if (!state.sharer) return;
  const ids = state.patrols.filter((p) => p.status === 'active'
    && p.crew.some((c) => c.volunteer_id === state.myVolunteerId && c.status === 'checked_in')).map((p) => p.patrol_id);
  if (ids.join() !== state.sharer.patrols.join()) state.sharer.follow(ids);
}

function renderShare() {
  for (const el of document.querySelectorAll('p.share')) el.textContent = state.sharer.describe();
}

function renderSos() {
  const target = sosTarget(state.patrols, state.me.organisation_id);
  const queued = state.outbox?.items.some((i) => i.type === 'sos' && i.state !== 'failed');
  $('sos').disabled = !target || queued;
  $('sos-note').textContent = queued ? t('sos.queued') : !target ? t('field.sos.nopatrol')
    : target.status === 'active' ? t('field.sos.active') : `${fmtTime(target.shift_start)}–${fmtTime(target.shift_end)}`;
}

function openSos() {
  const target = sosTarget(state.patrols, state.me.organisation_id);
  if (!target) return;
  const note = h('textarea', { id: 'sos-text', maxlength: '400' });
  const dialog = h('dialog', { 'aria-labelledby': 'sos-title', class: 'sos-dialog' },
    h('form', { method: 'dialog' },
      h('h2', { id: 'sos-title' }, t('sos.title')),
      h('p', {}, t('sos.patrol', { place: target.zone_name_el, time: `${fmtTime(target.shift_start)}–${fmtTime(target.shift_end)}` })),
      h('label', { for: 'sos-text' }, t('sos.note')), note,
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => dialog.close('cancel') }, t('common.cancel')),
        h('button', { type: 'submit', value: 'send', class: 'danger', id: 'sos-send' }, t('sos.send')))));
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'send') {
      const where = state.sharer.position || state.point;
      const text = [note.value.trim(), where ? `${t('sos.where')}: ${where.lat.toFixed(5)}, ${where.lon.toFixed(5)}` : ''].filter(Boolean).join(' · ');
      state.outbox.add({ type: 'sos', patrolId: target.patrol_id, method: 'POST', path: `/api/v1/patrols/${target.patrol_id}/sos`,
        json: { note: text.slice(0, 400) }, vars: { place: target.zone_name_el } });
      toast(navigator.onLine ? t('sos.sending') : t('sos.offline'), { bad: true, ms: 6000 });
      renderSos();
    }
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
  note.focus();
}

function athensDayOf(iso) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Athens' }).format(new Date(iso));
}

function memberRow(patrol, c) {
  const queued = queuedFor(c.assignment_id);
  const respond = can('assignment.respond') && c.assignment_id;
  let buttons = null;
  if (queued) {
    buttons = h('p', { class: 'hint' }, t('field.queued', { action: t(`outbox.${queued.type}`) }));
  } else if (respond && c.status === 'proposed') {
    buttons = h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'accept', onclick: () => respondTo(patrol, c, 'accept') }, t('field.accept')),
      h('button', { type: 'button', onclick: () => respondTo(patrol, c, 'decline') }, t('field.decline')));
  } else if (respond && c.status === 'accepted') {
    buttons = h('button', { type: 'button', class: 'withdraw', onclick: () => respondTo(patrol, c, 'decline') }, t('field.withdraw'));
  }
  return h('div', { class: 'member' },
    h('span', { class: 'name' }, c.volunteer_name || t('patrols.volunteer', { id: c.volunteer_id })),
    badge('assignment.', c.status),
    c.decline_reason ? h('span', { class: 'meta' }, c.decline_reason) : null, buttons);
}

async function respondTo(patrol, member, type) {
  let json;
  if (type === 'decline') {
    const reason = await askReason({ titleKey: member.status === 'accepted' ? 'field.withdraw.title' : 'field.decline.title' });
    if (!reason) return;
    json = { reason };
  }
  state.outbox.add({
    type, assignmentId: member.assignment_id, method: 'POST', path: `/api/v1/assignments/${member.assignment_id}/${type}`, json,
    vars: { who: member.volunteer_name || `#${member.volunteer_id}`, place: patrol.zone_name_el },
  });
  renderPatrols();
}

// --- report ------------------------------------------------------------------------------------------
function fillSelects() {
  const kind = $('report-kind');
  const severity = $('report-severity');
  if (!kind) return;
  const k = kind.value || 'smoke';
  const s = severity.value || 'medium';
  fill(kind, KINDS.map((x) => h('option', { value: x, selected: x === k }, t(`kind.${x}`))));
  fill(severity, SEVERITIES.map((x) => h('option', { value: x, selected: x === s }, t(`severity.${x}`))));
}

function setupReportForm() {
  fillSelects();
  $('report-open').hidden = !can('incident.report');
  $('report-open').addEventListener('click', () => openReport(true));
  $('report-cancel').addEventListener('click', () => openReport(false));
  $('locate').addEventListener('click', locate);
  $('report-form').addEventListener('submit', (ev) => { ev.preventDefault(); sendReport(); });
}

function openReport(open) {
  state.reportOpen = open;
  $('report').hidden = !open;
  $('report-open').setAttribute('aria-expanded', String(open));
  if (open) {
    $('report').scrollIntoView({ block: 'start' });
    $('report-kind').focus();
    if (!state.point) locate();
  } else {
    state.pointMarker?.remove();
    state.pointMarker = null;
    if (state.viewBefore) state.map.setView(...state.viewBefore, { animate: false });
    state.viewBefore = null;
    state.point = null;
    $('report-error').textContent = '';
  }
}

function locate() {
  if (!navigator.geolocation) { $('loc-text').textContent = t('field.nogps'); return; }
  $('loc-text').textContent = t('field.locating');
  navigator.geolocation.getCurrentPosition(
    (pos) => setPoint(pos.coords.latitude, pos.coords.longitude, pos.coords.accuracy),
    () => { $('loc-text').textContent = t('field.nogps'); },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
}

function setPoint(lat, lon, accuracy) {
  state.point = { lat: Number(lat.toFixed(6)), lon: Number(lon.toFixed(6)), accuracy, place: null };
  if (!state.viewBefore) state.viewBefore = [state.map.getCenter(), state.map.getZoom()];
  state.pointMarker?.remove();
  state.pointMarker = L.circleMarker([lat, lon], { radius: 10, color: '#b3300b', weight: 3, fillOpacity: 0.25 }).addTo(state.map);
  state.map.setView([lat, lon], Math.max(state.map.getZoom(), 11), { animate: false });
  renderLocation();
  if (navigator.onLine) {
    const point = state.point;
    api('/api/v1/zones/locate', { query: { lon: point.lon, lat: point.lat } }).then((out) => {
      point.place = out.zones.find((z) => z.kind === 'municipality')?.name_el || null;
      renderLocation();
    }).catch(() => {});
  }
}

function renderLocation() {
  const p = state.point;
  const text = $('loc-text');
  if (!text || !p) return;
  const acc = p.accuracy ? ` · ±${Math.round(p.accuracy)} m` : ` · ${t('field.onmap')}`;
  text.textContent = `${p.place ? `${p.place} · ` : ''}${p.lat}, ${p.lon}${acc}`;
}

function sendReport() {
  const error = $('report-error');
  if (!state.point) { error.textContent = t('field.needlocation'); return; }
  const kind = $('report-kind').value;
  const note = $('report-note').value.trim();
  const accuracy = state.point.accuracy ? ` (±${Math.round(state.point.accuracy)} m)` : '';
  state.outbox.add({
    type: 'incident', method: 'POST', path: '/api/v1/incidents',
    json: { kind, severity: $('report-severity').value, description: note ? `${note}${accuracy}` : accuracy.trim(), point: { type: 'Point', coordinates: [state.point.lon, state.point.lat] } },
    vars: { kind, place: state.point.place || `${state.point.lat}, ${state.point.lon}` },
  });
  $('report-note').value = '';
  toast(navigator.onLine ? t('field.sending') : t('field.queuedoffline'));
  openReport(false);
}

// --- outbox ------------------------------------------------------------------------------------------
function onSent(item, result) {
  if (item.type === 'incident' && result?.id) {
    upsertIncident(result, true);
    toast(t('field.sent', { id: result.id }));
  } else if (item.type === 'sos') {
    toast(t('sos.sent'), { bad: true, ms: 6000 });
    renderSos();
  } else {
    loadPatrols();
  }
}

function outboxLabel(item) {
  const vars = { ...item.vars };
  if (item.type === 'incident') vars.kind = t(`kind.${vars.kind}`);
  return t(`outbox.${item.type}.label`, vars);
}

function renderOutbox(items) {
  const box = $('outbox');
  if (!box) return;
  const waiting = items.filter((i) => i.state !== 'failed').length;
  const badgeEl = $('qbadge');
  badgeEl.hidden = items.length === 0;
  badgeEl.textContent = t('outbox.badge', { n: items.length });
  badgeEl.setAttribute('aria-label', t('outbox.aria', { n: items.length }));
  box.hidden = items.length === 0;
  $('outbox-count').textContent = items.length;
  $('outbox-state').textContent = !navigator.onLine ? t('outbox.offline') : waiting ? t('outbox.sending') : t('outbox.failedhint');
  fill($('outbox-items'), items.map((item) => h('li', { 'data-state': item.state, 'data-key': item.id },
    h('span', { class: 'what' }, outboxLabel(item),
      h('span', { class: 'meta' }, `${fmtTime(item.created)} · ${t(`outbox.state.${item.state}`)}`
        + (item.attempts > 1 ? ` · ${t('outbox.attempts', { n: item.attempts })}` : '') + (item.error ? ` · ${item.error}` : ''))),
    item.state === 'failed' ? [
      h('button', { type: 'button', onclick: () => state.outbox.retry(item.id) }, t('outbox.retry')),
      h('button', { type: 'button', onclick: () => state.outbox.discard(item.id) }, t('outbox.discard'))] : null)));
  renderPatrols();
}

main().catch((err) => {
  console.error(err);
  toast(describe(err), { bad: true });
});
