// Review page panel: every public warning in reach with its history: each CAP message sent (type, time,
// identifier, what it references) and the journal of who drafted, edited, approved, published and cancelled it.
import { api, describe } from './api.js';
import { fmtDateTime, getLang, t } from './i18n.js';
import './strings-warnings.js';
import { badge, fill, h, toast } from './ui.js';

export class WarningHistory {
  constructor() {
    this.items = [];
    this.catalogue = null;
    this.selected = null;
    this.journal = [];
    this.loaded = false;
    document.getElementById('tab-warnings')?.addEventListener('click', () => { if (!this.loaded) this.load(); });
    window.addEventListener('iolaos:lang', () => this.render());
  }

  async load() {
    this.loaded = true;
    try {
      [this.items, this.catalogue] = await Promise.all([api('/api/v1/warnings', { query: { limit: 200 } }),
        api('/api/v1/warnings/templates')]);
    } catch (err) {
      toast(`${t('error.warnings')}: ${describe(err)}`, { bad: true });
    }
    this.render();
  }

  async open(id) {
    this.selected = id;
    try {
      this.journal = (await api('/api/v1/audit', { query: { subject_type: 'warning', subject_id: id, limit: 1000 } })).records || [];
    } catch { this.journal = []; }
    this.render();
  }

  render() {
    const list = document.getElementById('warn-list');
    if (!list) return;
    document.getElementById('warn-count').textContent = this.items.length;
    const desc = (w) => (getLang() === 'el' ? w.area.desc_el : w.area.desc_en);
    fill(list, this.items.length ? this.items.map((w) => h('li', {},
      h('button', { type: 'button', class: 'item-btn', 'data-warning': String(w.id), 'aria-current': this.selected === w.id ? 'true' : undefined,
        onclick: () => this.open(w.id) },
      badge('warn.state.', w.state, 'wst'), ` #${w.id} `, h('strong', {}, this.catalogue?.hazards?.[w.hazard]?.event?.[getLang()] || w.hazard),
      h('div', { class: 'meta' }, desc(w)),
      h('div', { class: 'meta' }, `${t('warn.messages')}: ${w.messages.map((m) => m.msg_type).join(' → ') || '—'}`))))
      : h('li', { class: 'empty' }, t('warn.none')));
    const box = document.getElementById('warn-history');
    const w = this.items.find((x) => x.id === this.selected);
    if (!w) { fill(box, h('p', { class: 'empty body' }, t('warn.review.pick'))); return; }
    fill(box,
      h('header', {}, h('h2', {}, `#${w.id} · ${desc(w)}`), badge('warn.state.', w.state, 'wst')),
      h('div', { class: 'body warn-history' },
        h('h3', {}, t('warn.messages')),
        h('table', { id: 'warn-messages-table' },
          h('thead', {}, h('tr', {}, ['msgType', 'sent', 'identifier', 'references', 'status'].map((c) => h('th', {}, c)))),
          h('tbody', {}, w.messages.map((m) => h('tr', { 'data-type': m.msg_type },
            h('td', {}, h('strong', {}, m.msg_type)), h('td', {}, fmtDateTime(m.sent)),
            h('td', {}, h('a', { href: m.url, target: '_blank', rel: 'noopener', class: 'mono' }, m.identifier)),
            h('td', { class: 'mono' }, String(m.references.length)), h('td', {}, m.status))))),
        h('h3', {}, t('review.tab.journal')),
        h('ol', { class: 'cap-messages', id: 'warn-journal' }, this.journal.map((r) => h('li', {},
          `${fmtDateTime(r.occurred_at)} · `, h('code', {}, r.action), ` ${t('warn.by')} ${r.actor_name || '—'}`,
          r.data?.revision ? ` · ${t('warn.revision', { revision: r.data.revision })}` : ''))),
        h('p', {}, h('a', { href: '/api/v1/cap/feed.atom', target: '_blank', rel: 'noopener' }, t('warn.review.feed')))));
  }
}
