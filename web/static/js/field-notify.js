// Notifications on the field page: which channels a leader wants, quiet hours, and this phone's push subscription.
// Permission is asked only when the person presses "turn on" — never when the page opens.
import { api, describe } from './api.js';
import { t } from './i18n.js';
import { fill, h, toast } from './ui.js';

const CHANNELS = ['push', 'email', 'sms'];

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window && window.isSecureContext;
}

/** Add the notifications card to the field page (after the assignments). */
export async function setupNotifications(container) {
  let config;
  let prefs;
  try {
    [config, prefs] = await Promise.all([api('/api/v1/notifications/config'), api('/api/v1/notifications/preferences')]);
  } catch {
    return;  // offline before the first visit, or the service is older: no card
  }
  const card = h('section', { class: 'card notify', id: 'notify', 'aria-labelledby': 'notify-title' });
  container.append(card);
  const render = () => renderCard(card, config, prefs, (next) => { prefs = next; render(); });
  render();
  window.addEventListener('iolaos:lang', render);
}

function renderCard(card, config, prefs, update) {
  const permission = 'Notification' in window ? Notification.permission : 'unsupported';
  const canPush = Boolean(config.vapid_public_key) && pushSupported();
  const boxes = CHANNELS.map((c) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'channel', value: c, checked: prefs.channels.includes(c), disabled: !config.channels.includes(c) }),
    ` ${t(`notify.channel.${c}`)}`));
  const start = h('input', { type: 'time', id: 'quiet-start', value: prefs.quiet_start || '' });
  const end = h('input', { type: 'time', id: 'quiet-end', value: prefs.quiet_end || '' });
  const enable = canPush && !(prefs.push_subscribed && permission === 'granted')
    ? h('button', { type: 'button', class: 'primary', id: 'notify-enable', disabled: permission === 'denied',
      onclick: () => enablePush(config, prefs, update) }, t(permission === 'denied' ? 'notify.denied' : 'notify.enable'))
    : null;
  fill(card,
    h('h2', { id: 'notify-title' }, t('notify.title')),
    h('p', { class: 'hint' }, t(prefs.push_subscribed && permission === 'granted' ? 'notify.on' : 'notify.hint')),
    enable,
    h('fieldset', {}, h('legend', {}, t('notify.channels')), boxes),
    h('div', { class: 'quiet' }, h('label', { for: 'quiet-start' }, t('notify.quiet')), start, ' – ', end),
    h('p', { class: 'hint' }, t('notify.lifesafety')),
    h('button', { type: 'button', id: 'notify-save', onclick: () => save(card, update) }, t('notify.save')));
}

async function save(card, update) {
  const channels = [...card.querySelectorAll('input[name=channel]:checked')].map((i) => i.value);
  const quietStart = card.querySelector('#quiet-start').value || null;
  const quietEnd = card.querySelector('#quiet-end').value || null;
  try {
    update(await api('/api/v1/notifications/preferences', { method: 'PUT', json: { channels, quiet_start: quietStart, quiet_end: quietEnd } }));
    toast(t('notify.saved'));
  } catch (err) {
    toast(err.network ? t('error.network') : describe(err), { bad: true });
  }
}

async function enablePush(config, prefs, update) {
  try {
    if ((await Notification.requestPermission()) !== 'granted') { update({ ...prefs }); return; }
    const registration = await navigator.serviceWorker.ready;
    const subscription = (await registration.pushManager.getSubscription())
      || await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(config.vapid_public_key) });
    await api('/api/v1/notifications/subscriptions', { method: 'POST', json: subscription.toJSON() });
    const channels = prefs.channels.includes('push') ? prefs.channels : [...prefs.channels, 'push'];
    update(await api('/api/v1/notifications/preferences', { method: 'PUT', json: { channels, quiet_start: prefs.quiet_start, quiet_end: prefs.quiet_end } }));
    toast(t('notify.on'));
  } catch (err) {
    toast(`${t('notify.failed')}: ${describe(err)}`, { bad: true });
  }
}
