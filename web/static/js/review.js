// Review page for regional authorities: audit journal with filters and CSV export, an incident's timeline
// with its responsibility chain, chain verification, coverage/equity charts and ICS-214 PDFs.
import { api, describe, download } from './api.js';
import { hbars, lorenz, pairs } from './charts.js';
import { applyI18n, athensDay, athensLocalToIso, fmtDateTime, fmtDay, fmtNumber, getLang, has, isoToAthensLocal, parseDay, parseDayTime, showDay, showDayTime, t } from './i18n.js';
import { Live } from './live.js';
import { Season } from './season.js';
import { badge, ensureSignedIn, fill, h, reloadOnSignOut, riskChip, toast, topBar } from './ui.js';
import { WarningHistory } from './review-warnings.js';

const ACTIONS = ['incident.*', 'incident.report', 'incident.transition', 'responsibility.*', 'responsibility.assign',
  'responsibility.take', 'responsibility.handover', 'plan.commit', 'patrol.*', 'assignment.*', 'assignment.accept',
  'assignment.decline', 'assignment.override', 'assignment.remove', 'risk.set', 'coverage.policy', 'organisation.*',
  'user.*', 'volunteer.*', 'auth.*'];
const SUBJECT_TYPES = ['incident', 'patrol', 'assignment', 'plan', 'risk_map', 'coverage_policy', 'organisation', 'user', 'volunteer'];
const PAGE = 100;

const state = { me: null, org: null, orgs: new Map(), filters: {}, records: [], cursor: null, incidents: [], selected: null };
const $ = (id) => document.getElementById(id);

function orgName(id) {
  const org = state.orgs.get(id);
  if (!org) return id ? `#${id}` : '—';
  return getLang() === 'el' ? org.name_el : org.name_en;
}

function actionLabel(action, label) {
  return has(`act.${action}`) ? t(`act.${action}`) : (label || action);  // label: the server's catalogue
}

async function main() {
  reloadOnSignOut();
  const bar = $('topbar');
  topBar(bar, { pageKey: 'page.review' });
  applyI18n(document);
  state.me = await ensureSignedIn($('main'), { titleKey: 'signin.review', hintKey: 'signin.review.hint' });
  const { conn } = topBar(bar, { pageKey: 'page.review', me: state.me });
  $('main').replaceChildren($('review-tpl').content.cloneNode(true));
  applyI18n($('main'));
  state.org = await api(`/api/v1/organisations/${state.me.organisation_id}`);
  try { for (const o of await api('/api/v1/organisations', { query: { limit: 500 } })) state.orgs.set(o.id, o); } catch { state.orgs.set(state.org.id, state.org); }
  setupTabs();
  setupFilters();
  setupCoverage();
  state.season = new Season({ region: state.org.region_code });
  setupIcs();
  state.warnings = new WarningHistory();
  window.addEventListener('iolaos:lang', () => { fillSelects(); renderJournal(); renderIncidents(); renderTimeline(); renderVerify(); renderCoverage(); });
  const topics = [`org:${state.me.organisation_id}`];
  if (state.org.region_code) topics.push(`region:${state.org.region_code}`);
  new Live({ topics, onEvent, onResync: () => loadIncidents(), indicator: conn }).start();
  window.iolaosReview = { state };
  await Promise.all([verify(), search(), loadIncidents()]);
}

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => tabs.forEach((x) => {
    const on = x === tab;
    x.setAttribute('aria-selected', String(on));
    x.tabIndex = on ? 0 : -1;
    $(x.getAttribute('aria-controls')).hidden = !on;
    if (on && x.id === 'tab-coverage' && !state.coverage) loadCoverage();
    if (on && x.id === 'tab-season' && !state.season.data) state.season.load();
  });
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => select(tab));
    tab.addEventListener('keydown', (ev) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
      if (step) { const next = tabs[(i + step + tabs.length) % tabs.length]; select(next); next.focus(); }
    });
  });
}

// --- chain verification ------------------------------------------------------------------------------
async function verify() {
  try { state.verify = await api('/api/v1/audit/verify'); } catch (err) { state.verify = { error: describe(err) }; }
  renderVerify();
}

function renderVerify() {
  const box = $('verify');
  const v = state.verify;
  if (!box || !v) return;
  box.className = `verify panel ${v.ok ? 'ok' : 'bad'}`;
  if (v.error) { fill(box, h('span', { class: 'state' }, t('verify.error')), h('span', {}, v.error)); return; }
  fill(box,
    h('span', { class: 'state', id: 'verify-state' }, v.ok ? t('verify.ok') : t('verify.broken', { seq: v.broken_seq })),
    h('span', {}, t('verify.checked', { n: fmtNumber(v.checked), head: v.head_seq })),
    h('code', { title: v.head_hash }, `${v.head_hash.slice(0, 16)}…`),
    v.reason ? h('span', {}, v.reason) : null,
    h('button', { type: 'button', class: 'link', onclick: () => verify() }, t('verify.again')));
}

// --- journal -----------------------------------------------------------------------------------------
function fillSelects() {
  const orgs = [...state.orgs.values()].sort((a, b) => orgName(a.id).localeCompare(orgName(b.id), getLang()));
  for (const [id, any] of [['f-org', true], ['ics-org', false]]) {
    const select = $(id);
    const value = select.value || (any ? '' : String(state.me.organisation_id));
    fill(select, any ? h('option', { value: '' }, t('review.any')) : null,
      orgs.map((o) => h('option', { value: o.id, selected: String(o.id) === value }, orgName(o.id))));
  }
  const stype = $('f-stype');
  const current = stype.value;
  fill(stype, h('option', { value: '' }, t('review.any')), SUBJECT_TYPES.map((x) => h('option', { value: x, selected: x === current }, t(`subject.${x}`))));
  fill($('actions'), ACTIONS.map((a) => h('option', { value: a }, actionLabel(a))));
}

function setupFilters() {
  fillSelects();
  $('filters').addEventListener('submit', (ev) => { ev.preventDefault(); search(); });
  $('clear').addEventListener('click', () => { $('filters').reset(); search(); });
  $('more').addEventListener('click', () => search(true));
  $('export').addEventListener('click', exportCsv);
}

/** The instant typed in an input (Athens time), or null when empty; throws a translated Error when invalid. */
function typedInstant(id) {
  try {
    return athensLocalToIso(parseDayTime($(id).value));
  } catch {
    $(id).focus();
    throw new Error(t('date.invalid', { value: $(id).value.trim() }));
  }
}

function typedDay(id) {
  try {
    return parseDay($(id).value);
  } catch {
    $(id).focus();
    throw new Error(t('date.invalid', { value: $(id).value.trim() }));
  }
}

function readFilters() {
  return {
    since: typedInstant('f-since'), until: typedInstant('f-until'),
    organisation_id: $('f-org').value, action: $('f-action').value.trim(),
    subject_type: $('f-stype').value, subject_id: $('f-sid').value.trim(),
  };
}

async function search(more = false) {
  $('journal-error').textContent = '';
  if (!more) {
    try { state.filters = readFilters(); } catch (err) { $('journal-error').textContent = err.message; return; }
    state.records = [];
    state.cursor = 0;
  }
  try {
    const page = await api('/api/v1/audit', { query: { ...state.filters, cursor: state.cursor || undefined, limit: PAGE } });
    state.records.push(...page.records);
    state.cursor = page.next_cursor;
  } catch (err) { $('journal-error').textContent = describe(err); }
  renderJournal();
}

function renderJournal() {
  const body = $('journal-rows');
  if (!body) return;
  $('journal-count').textContent = t(state.cursor ? 'review.count.more' : 'review.count', { n: fmtNumber(state.records.length) });
  $('more').hidden = !state.cursor;
  fill(body, state.records.length ? state.records.map((r) => h('tr', { 'data-seq': r.seq },
    h('td', { class: 'num' }, r.seq),
    h('td', {}, fmtDateTime(r.occurred_at)),
    h('td', {}, r.actor_name || '—', h('div', { class: 'meta' }, [r.actor_role ? t(`role.${r.actor_role}`) : '', r.actor_organisation_id ? orgName(r.actor_organisation_id) : ''].filter(Boolean).join(' · '))),
    h('td', {}, actionLabel(r.action, r.action_label), h('div', {}, h('code', {}, r.action))),
    h('td', {}, r.subject_type === 'incident'
      ? h('button', { type: 'button', class: 'link', onclick: () => openIncident(Number(r.subject_id)) }, `${t('subject.incident')} #${r.subject_id}`)
      : `${has(`subject.${r.subject_type}`) ? t(`subject.${r.subject_type}`) : r.subject_type} ${r.subject_id}`),
    h('td', { class: 'data', title: JSON.stringify(r.data, null, 1) }, summarise(r.data))))
    : h('tr', {}, h('td', { colspan: '6', class: 'empty' }, t('review.none'))));
}

/** A short one-line summary of a record's data (lists counted, long values cut); the full data goes in a tooltip. */
function summarise(data, max = 180) {
  const parts = Object.entries(data || {}).map(([k, v]) => {
    if (Array.isArray(v) && (v.length > 4 || v.some((x) => x !== null && typeof x === 'object'))) return `${k}: ${t('review.items', { n: v.length })}`;
    const text = v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
    return `${k}: ${text.length > 60 ? `${text.slice(0, 59)}…` : text}`;
  });
  const line = parts.join(' · ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

async function exportCsv() {
  let filters;
  try { filters = readFilters(); } catch (err) { $('journal-error').textContent = err.message; return; }
  const { organisation_id: org, action } = filters;
  const name = ['iolaos-audit', athensDay(0), org ? `org${org}` : '', action ? action.replace(/[^a-z_]/gi, '') : ''].filter(Boolean).join('-');
  try { await download('/api/v1/audit/export.csv', filters, `${name}.csv`); } catch (err) { $('journal-error').textContent = describe(err); }
}

// --- incidents and their timelines -------------------------------------------------------------------
async function loadIncidents() {
  try { state.incidents = await api('/api/v1/incidents', { query: { limit: 200 } }); } catch { state.incidents = []; }
  renderIncidents();
}

function onEvent(msg) {
  if (msg.kind.startsWith('incident.') || msg.topics.some((x) => x.startsWith('incident:'))) {
    clearTimeout(state.incTimer);
    state.incTimer = setTimeout(() => { loadIncidents(); if (state.selected) openIncident(state.selected, false); }, 500);
  }
}

function renderIncidents() {
  const list = $('inc-list');
  if (!list) return;
  $('inc-count').textContent = state.incidents.length;
  fill(list, state.incidents.length ? state.incidents.map((inc) => h('li', {}, h('button', {
    type: 'button', class: 'item-btn', 'aria-current': String(state.selected === inc.id), onclick: () => openIncident(inc.id),
  }, h('span', { class: 'title-line' }, h('strong', {}, `${t(`kind.${inc.kind}`)} #${inc.id}`), badge('status.', inc.status)),
  h('span', { class: 'meta', style: 'display:block' }, `${inc.zone_name_el || t('common.unlocated')} · ${fmtDateTime(inc.created_at)}`))))
    : h('li', { class: 'empty' }, t('review.noincidents')));
}

async function openIncident(id, switchTab = true) {
  state.selected = id;
  if (switchTab) $('tab-incidents').click();
  try {
    const [incident, chain, audit] = await Promise.all([
      api(`/api/v1/incidents/${id}`), api(`/api/v1/responsibility/incident/${id}`),
      api('/api/v1/audit', { query: { subject_type: 'incident', subject_id: id, limit: 1000 } })]);
    state.timeline = { incident, chain, records: audit.records };
  } catch (err) { state.timeline = { error: describe(err) }; }
  renderIncidents();
  renderTimeline();
}

function renderTimeline() {
  const box = $('timeline');
  const tl = state.timeline;
  if (!box || !tl) return;
  if (tl.error) { fill(box, h('p', { class: 'error' }, tl.error)); return; }
  const { incident: inc, chain, records } = tl;
  const holders = chain.chain.map((x, i, all) => h('tr', { class: i === all.length - 1 ? 'current' : '' },
    h('td', {}, x.holder_name || t('holder.desk')), h('td', {}, orgName(x.holder_organisation_id)),
    h('td', {}, fmtDateTime(x.since)), h('td', {}, x.until ? fmtDateTime(x.until) : t('common.now')),
    h('td', {}, x.reason), h('td', { class: 'num' }, h('code', {}, `#${x.audit_seq}`))));
  const steps = records.map((r) => h('li', { class: r.action.startsWith('responsibility') ? 'holder' : '' },
    h('div', {}, h('strong', {}, actionLabel(r.action, r.action_label)), ` · ${fmtDateTime(r.occurred_at)}`),
    h('div', { class: 'meta' }, `${r.actor_name || '—'}${r.actor_role ? ` (${t(`role.${r.actor_role}`)})` : ''} · ${summarise(r.data)}`),
    h('code', {}, `seq ${r.seq} · ${r.hash.slice(0, 12)}…`)));
  fill(box,
    h('h3', {}, `${t(`kind.${inc.kind}`)} #${inc.id}`, badge('severity.', inc.severity, 'sev'), badge('status.', inc.status)),
    h('p', { class: 'meta' }, `${inc.zone_name_el || t('common.unlocated')} · ${t('incident.lead')}: ${orgName(inc.lead_organisation_id)} · ${t('incident.reported')}: ${fmtDateTime(inc.created_at)}`),
    h('h4', {}, t('review.chain')),
    h('div', { class: 'tablewrap' }, h('table', { class: 'holders' },
      h('thead', {}, h('tr', {}, ['holder', 'organisation', 'since', 'until', 'reason', 'record'].map((k) => h('th', { scope: 'col' }, t(`review.h.${k}`))))),
      h('tbody', {}, holders))),
    h('h4', {}, t('review.timeline')), h('ol', { class: 'steps' }, steps));
}

// --- coverage and equity -----------------------------------------------------------------------------
function setupCoverage() {
  $('cov-start').value = showDay(athensDay(-6));
  $('cov-end').value = showDay(athensDay(1));
  $('cov-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadCoverage(); });
}

async function loadCoverage() {
  $('cov-error').textContent = '';
  let query;
  try {
    query = { start: typedDay('cov-start'), end: typedDay('cov-end'), region: state.org.region_code || undefined };
  } catch (err) { $('cov-error').textContent = err.message; return; }
  try {
    const [equity, report] = await Promise.all([api('/api/v1/coverage/equity', { query }), api('/api/v1/coverage/report', { query })]);
    state.coverage = { equity, report };
  } catch (err) { state.coverage = null; $('cov-error').textContent = describe(err); }
  renderCoverage();
}

function renderCoverage() {
  const box = $('coverage');
  const cov = state.coverage;
  if (!box || !cov) return;
  const { equity, report } = cov;
  const pct = (v) => `${fmtNumber(100 * v)}%`;
  const byDay = new Map();
  for (let day = equity.start; day <= equity.end; day = nextDay(day)) byDay.set(day, { label: fmtDay(day), a: 0, b: 0 });
  for (const r of report) {
    const d = byDay.get(r.date) || { label: fmtDay(r.date), a: 0, b: 0 };
    d.a += r.required; d.b += r.staffed;
    byDay.set(r.date, d);
  }
  const dist = [...equity.distribution].sort((a, b) => a.ratio - b.ratio);
  fill(box,
    h('div', { class: 'cards' },
      stat(t('equity.gini'), fmtNumber(equity.gini, 2), 'equity-gini'), stat(t('equity.mean'), pct(equity.mean_ratio)),
      stat(t('equity.municipalities'), equity.municipalities), stat(t('equity.flagged'), equity.flagged.length)),
    h('section', { class: 'panel chart' }, h('h3', {}, t('coverage.byday')),
      h('div', { class: 'legendline' }, h('span', {}, h('span', { class: 'sw', style: 'background:#90a4ae' }), t('coverage.required')),
        h('span', {}, h('span', { class: 'sw', style: 'background:#1b5e20' }), t('coverage.staffed'))),
      byDay.size ? pairs([...byDay.values()], { label: t('coverage.byday'), colours: ['#90a4ae', '#1b5e20'], format: (v) => fmtNumber(v) }) : h('p', { class: 'empty' }, t('coverage.nodata'))),
    h('div', { class: 'split' },
      h('section', { class: 'panel chart' }, h('h3', {}, t('equity.lorenz')), dist.length ? lorenz(dist.map((r) => r.ratio), { label: t('equity.lorenz'), axisX: t('equity.axis.x'), axisY: t('equity.axis.y') }) : h('p', { class: 'empty' }, t('coverage.nodata')),
        h('p', { class: 'hint' }, t('equity.gini.hint'))),
      h('section', { class: 'panel chart' }, h('h3', {}, t('equity.bars')),
        dist.length ? hbars(dist.map((r) => ({ label: r.zone_name_el, value: r.ratio, colour: ratioColour(r.ratio) })), { label: t('equity.bars'), format: pct }) : h('p', { class: 'empty' }, t('coverage.nodata')))),
    h('section', { class: 'panel chart' }, h('h3', {}, t('equity.flagged.title')),
      equity.flagged.length ? h('table', { class: 'holders' },
        h('thead', {}, h('tr', {}, ['day', 'zone', 'category', 'staffed'].map((k) => h('th', { scope: 'col' }, t(`equity.h.${k}`))))),
        h('tbody', {}, equity.flagged.map((f) => h('tr', {}, h('td', {}, fmtDay(f.date)), h('td', {}, f.zone_name_el),
          h('td', {}, riskChip(f.category), ` ${f.category} · ${t(`risk.${f.category}`)}`), h('td', {}, `${f.staffed}/${f.required} (${pct(f.ratio)})`)))))
        : h('p', { class: 'empty' }, t('equity.noflagged'))));
}

function nextDay(day) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** Green when fully staffed, amber from half, red below. */
function ratioColour(ratio) {
  return ratio >= 1 ? '#2e7d32' : ratio >= 0.5 ? '#f9a825' : '#c62828';
}

function stat(label, value, id) {
  return h('div', { class: 'panel stat', id }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, label));
}

// --- ICS-214 -----------------------------------------------------------------------------------------
function setupIcs() {
  const now = new Date();
  $('ics-until').value = showDayTime(isoToAthensLocal(now.toISOString()));
  $('ics-since').value = showDayTime(isoToAthensLocal(new Date(now.getTime() - 24 * 3600e3).toISOString()));
  $('ics-lang').value = getLang();
  $('ics-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('ics-error').textContent = '';
    let query;
    try {
      query = { organisation_id: $('ics-org').value, since: typedInstant('ics-since'), until: typedInstant('ics-until'), lang: $('ics-lang').value };
    } catch (err) { $('ics-error').textContent = err.message; return; }
    try {
      await download('/api/v1/activity-log.pdf', query, `ics214-${query.organisation_id}-${athensDay(0)}-${query.lang}.pdf`);
      toast(t('review.pdf.done'));
    } catch (err) { $('ics-error').textContent = describe(err); }
  });
}

main().catch((err) => {
  console.error(err);
  toast(describe(err), { bad: true });
});
