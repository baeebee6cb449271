// Console: each recent notification and how its delivery went on each channel (sent, waiting, retrying, failed,
// skipped, unknown), shown under the safety alerts and refreshed every few seconds.
import { api } from './api.js';
import { fmtDateTime, fmtTime, t } from './i18n.js';
import { fill, h } from './ui.js';

const REFRESH_MS = 10_000;

export class NotificationStatus {
  constructor({ pane }) {
    this.list = h('ul', { class: 'items notifications', id: 'notifications', 'aria-live': 'polite' });
    pane.append(h('h3', { id: 'notify-status-title' }, t('notify.status.title')), this.list);
    this.title = pane.querySelector('#notify-status-title');
    this.items = [];
    window.addEventListener('iolaos:lang', () => this.render());
    this.load();
    this.timer = setInterval(() => this.load(), REFRESH_MS);
  }

  async load() {
    if (!navigator.onLine) return;
    try { this.items = await api('/api/v1/notifications', { query: { limit: 50 } }); } catch { return; }
    this.render();
  }

  render() {
    this.title.textContent = t('notify.status.title');
    fill(this.list, this.items.length ? this.items.map((n) => h('li', { 'data-notification': n.id, class: n.life_safety ? 'lifesafety' : '' },
      h('div', { class: 'title-line' }, h('strong', {}, n.title), ' ', h('span', { class: 'meta' }, n.user_name)),
      h('div', { class: 'meta' }, `${n.body} · ${fmtDateTime(n.created_at)}`),
      n.suppressed ? h('div', { class: 'meta' }, t('notify.status.suppressed', { why: t(`notify.why.${n.suppressed}`) }))
        : h('div', { class: 'deliveries' }, n.deliveries.map((d) => h('span', {
          class: `badge delivery-${d.status}`, 'data-channel': d.channel, 'data-status': d.status,
          title: d.last_error || '',
        }, `${t(`notify.channel.${d.channel}`)}: ${t(`notify.state.${d.status}`)}`
          + (d.status === 'pending' && d.attempts ? ` (${d.attempts}, ${fmtTime(d.next_attempt_at)})` : ''))))))
      : h('li', { class: 'empty' }, t('notify.status.none')));
  }
}
