// Console panels from the planning API: the day's patrols (crew, overrides, cancel), plan preview/commit,
// and coverage gaps (required vs staffed crew places per zone).
import { api, describe } from './api.js';
import { fmtDay, fmtNumber, fmtTime, has, t } from './i18n.js';
import { askReason, badge, fill, h, riskChip, toast } from './ui.js';

export class Planning {
  constructor({ state, can, orgName, onCount }) {
    this.state = state;
    this.can = can;
    this.orgName = orgName;
    this.onCount = onCount;
    this.patrols = [];
    this.gaps = [];
    this.selected = null;
    this.timer = null;
    this.zones = null;
    this.volunteers = null;
    document.getElementById('plan-day').addEventListener('click', () => this.preview());
    document.getElementById('plan-day').hidden = !can('plan.write');
    window.addEventListener('iolaos:lang', () => this.render());
  }

  /** Refetch soon (several live events in a burst cause one reload). */
  reloadSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(this.day), 400);
  }

  async load(day) {
    if (!day) return;
    this.day = day;
    const [patrols, coverage] = await Promise.all([
      this.can('patrol.read') ? api('/api/v1/patrols', { query: { date: day, limit: 500 } }).catch((e) => this.fail(e)) : [],
      this.can('coverage.read') ? api('/api/v1/coverage/report', { query: { start: day, end: day, region: this.state.region } }).catch((e) => this.fail(e)) : [],
    ]);
    this.patrols = patrols || [];
    this.gaps = (coverage || []).filter((r) => r.required > r.staffed)
      .sort((a, b) => (b.category ?? 0) - (a.category ?? 0) || a.ratio - b.ratio);
    this.coverageRows = coverage || [];
    this.render();
  }

  fail(err) {
    toast(`${t('error.planning')}: ${describe(err)}`, { bad: true });
    return [];
  }

  render() {
    this.onCount(this.patrols.length, this.gaps.length);
    this.renderPatrols();
    this.renderGaps();
    this.renderPatrolDetail();
  }

  zoneName(p) { return p.zone_name_el; }

  skill(code) { return has(`skill.${code}`) ? t(`skill.${code}`) : code; }

  renderPatrols() {
    const list = document.getElementById('patrols');
    document.getElementById('patrols-note').textContent = this.day ? fmtDay(this.day) : '';
    if (!this.patrols.length) { fill(list, h('li', { class: 'empty' }, t('patrols.none'))); return; }
    fill(list, this.patrols.map((p) => {
      const filled = p.crew.filter((c) => ['accepted', 'checked_in', 'checked_out'].includes(c.status)).length;
      const proposed = p.crew.filter((c) => c.status === 'proposed').length;
      return h('li', {}, h('button', {
        type: 'button', class: 'item-btn', 'aria-current': String(this.selected === p.patrol_id),
        onclick: () => this.select(p.patrol_id),
      },
      h('span', { class: 'title-line' }, h('strong', {}, riskChip(p.risk_category), ' ', this.zoneName(p)), badge('patrol.status.', p.status)),
      h('span', { class: 'meta' }, `${fmtTime(p.shift_start)}–${fmtTime(p.shift_end)} · ${t(`capability.${p.capability}`)} · `
        + t('patrols.crew', { filled, size: p.crew_size }) + (proposed ? ` ${t('patrols.proposed', { n: proposed })}` : ''))));
    }));
  }

  select(id) {
    this.selected = id;
    const patrol = this.patrols.find((p) => p.patrol_id === id);
    const bounds = patrol && this.zones?.bounds(patrol.zone_code);
    if (bounds) this.state.map.fitBounds(bounds, { maxZoom: 11, padding: [30, 30] });
    this.renderPatrols();
    this.renderPatrolDetail();
  }

  renderPatrolDetail() {
    const box = document.getElementById('patrol-detail');
    const p = this.patrols.find((x) => x.patrol_id === this.selected);
    box.parentElement.classList.toggle('has-detail', Boolean(p));
    if (!p) { box.hidden = true; return; }
    box.hidden = false;
    const override = this.can('assignment.override');
    const crew = p.crew.map((c) => h('li', {},
      h('span', { class: 'title-line' }, h('strong', {}, c.volunteer_name || t('patrols.volunteer', { id: c.volunteer_id })),
        badge('assignment.', c.status), c.slot_skill ? h('span', { class: 'badge' }, t('patrols.skill', { skill: this.skill(c.slot_skill) })) : null),
      h('div', { class: 'meta' }, this.orgName(c.organisation_id, c.organisation_name), c.decline_reason ? ` · ${t('patrols.declined', { reason: c.decline_reason })}` : ''),
      c.reasons.length ? h('ul', { class: 'reasons', lang: 'en' }, c.reasons.map((r) => h('li', {}, r))) : null,
      override && c.assignment_id && ['proposed', 'accepted'].includes(c.status)
        ? h('button', { type: 'button', class: 'link', onclick: () => this.remove(c) }, t('patrols.remove')) : null));
    const gaps = p.open_places.map((g) => h('li', {}, h('strong', {}, g.skill ? t('patrols.skill', { skill: this.skill(g.skill) }) : t('patrols.place')), h('div', { class: 'meta', lang: 'en' }, g.reason)));
    fill(box,
      h('h3', {}, riskChip(p.risk_category), this.zoneName(p), badge('patrol.status.', p.status)),
      h('p', { class: 'meta' }, `${fmtDay(p.shift_start.slice(0, 10))} ${fmtTime(p.shift_start)}–${fmtTime(p.shift_end)} · ${t(`capability.${p.capability}`)}`
        + (p.required_skills.length ? ` · ${t('patrols.skills')}: ${p.required_skills.map((x) => this.skill(x)).join(', ')}` : '')),
      h('h4', {}, t('patrols.crewtitle')), crew.length ? h('ul', { class: 'crew' }, crew) : h('p', { class: 'empty' }, t('patrols.nocrew')),
      gaps.length ? [h('h4', {}, t('patrols.open')), h('ul', { class: 'crew' }, gaps)] : null,
      override && ['planned', 'staffed'].includes(p.status) ? this.addForm(p) : null,
      override && ['planned', 'staffed'].includes(p.status)
        ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: () => this.cancel(p) }, t('patrols.cancel'))) : null);
  }

  addForm(p) {
    const select = h('select', { id: 'add-volunteer', required: true }, h('option', { value: '' }, t('common.loading')));
    const reason = h('input', { id: 'add-reason', required: true, minlength: '3', maxlength: '500' });
    const error = h('p', { class: 'error', role: 'alert' });
    this.volunteerOptions(select, p);
    const form = h('form', {},
      h('label', { for: 'add-volunteer' }, t('patrols.addwho')), select,
      h('label', { for: 'add-reason' }, t('handover.reason')), reason, error,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('patrols.add'))));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api(`/api/v1/patrols/${p.patrol_id}/crew`, { method: 'POST', json: { volunteer_id: Number(select.value), reason: reason.value.trim() } });
        toast(t('patrols.added'));
        this.load(this.day);
      } catch (err) { error.textContent = describe(err); }
    });
    return h('fieldset', {}, h('legend', {}, t('patrols.addtitle')), form);
  }

  async volunteerOptions(select, patrol) {
    if (!this.volunteers) {
      try { this.volunteers = await api('/api/v1/volunteers', { query: { status: 'available', limit: 500 } }); } catch { this.volunteers = []; }
    }
    const onPatrol = new Set(patrol.crew.map((c) => c.volunteer_id));
    const options = this.volunteers.filter((v) => !onPatrol.has(v.id))
      .map((v) => h('option', { value: v.id }, `${v.full_name} · ${this.orgName(v.organisation_id)}`));
    fill(select, h('option', { value: '' }, t('patrols.choose')), options);
  }

  async remove(member) {
    const reason = await askReason({ titleKey: 'patrols.removetitle' });
    if (!reason) return;
    try {
      await api(`/api/v1/assignments/${member.assignment_id}/remove`, { method: 'POST', json: { reason } });
      this.load(this.day);
    } catch (err) { toast(describe(err), { bad: true }); }
  }

  async cancel(patrol) {
    const reason = await askReason({ titleKey: 'patrols.canceltitle' });
    if (!reason) return;
    try {
      await api(`/api/v1/patrols/${patrol.patrol_id}/cancel`, { method: 'POST', json: { reason } });
      this.load(this.day);
    } catch (err) { toast(describe(err), { bad: true }); }
  }

  renderGaps() {
    const list = document.getElementById('gaps');
    const note = document.getElementById('coverage-note');
    if (!this.can('coverage.read')) { note.textContent = t('coverage.noaccess'); fill(list); return; }
    note.textContent = t('coverage.note', { day: this.day ? fmtDay(this.day) : '', zones: this.coverageRows?.length || 0 });
    if (!this.gaps.length) { fill(list, h('li', { class: 'empty' }, t('coverage.nogaps'))); return; }
    fill(list, this.gaps.map((g) => h('li', {}, h('button', {
      type: 'button', class: 'item-btn',
      onclick: () => { const b = this.zones?.bounds(g.zone_code); if (b) this.state.map.fitBounds(b, { maxZoom: 11 }); },
    },
    h('span', { class: 'title-line' }, riskChip(g.category), h('strong', {}, g.zone_name_el),
      h('span', { class: 'badge' }, t('coverage.ratio', { staffed: g.staffed, required: g.required }))),
    h('span', { class: 'meta' }, t('coverage.detail', { planned: g.planned, proposed: g.proposed, pct: fmtNumber(100 * g.ratio) })),
    h('span', { class: 'gapbar', 'aria-hidden': 'true' }, h('span', { style: `width:${Math.min(100, 100 * g.ratio)}%` }))))));
  }

  async preview() {
    const region = this.state.region;
    const dialog = h('dialog', { 'aria-labelledby': 'plan-title', id: 'plan-dialog' });
    const body = h('div', { class: 'plan-summary' }, h('p', { class: 'empty' }, t('plan.computing')));
    const error = h('p', { class: 'error', role: 'alert' });
    const commit = h('button', { type: 'button', class: 'primary', disabled: true }, t('plan.commit'));
    fill(dialog, h('form', { method: 'dialog' },
      h('h2', { id: 'plan-title' }, t('plan.title', { day: fmtDay(this.day) })), body, error,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => dialog.close() }, t('common.close')), commit)));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    let plan;
    try {
      plan = await api('/api/v1/plans/preview', { query: { date: this.day, region } });
    } catch (err) { fill(body); error.textContent = describe(err); return; }
    const o = plan.objective;
    const zones = new Map();
    for (const p of plan.patrols) zones.set(p.zone_name_el, (zones.get(p.zone_name_el) || 0) + 1);
    fill(body,
      h('p', {}, t('plan.summary', { patrols: plan.patrols.length, filled: o.filled, places: o.places, km: fmtNumber(o.travel_km, 1) })),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, t('plan.zone')), h('th', {}, t('plan.patrols')))),
        h('tbody', {}, [...zones].map(([name, n]) => h('tr', {}, h('td', {}, name), h('td', {}, n))))));
    commit.disabled = !plan.patrols.length;
    commit.addEventListener('click', async () => {
      commit.disabled = true;
      try {
        await api('/api/v1/plans', { method: 'POST', json: { date: this.day, region_code: region, fingerprint: plan.fingerprint } });
        toast(t('plan.committed'));
        dialog.close();
        this.load(this.day);
      } catch (err) { error.textContent = describe(err); commit.disabled = false; }
    });
  }
}
