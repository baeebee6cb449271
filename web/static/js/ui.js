// Small DOM helpers shared by the pages: element builder, toasts, the sign-in form and the top bar.
import { api, describe, getToken, signIn, signOut } from './api.js';
import { applyI18n, langButton, t } from './i18n.js';

/** Build an element: h('button', {class: 'x', onclick: fn}, 'text', child…). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace el's children. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

let toastBox;
/** A short message at the bottom of the screen (announced to screen readers). */
export function toast(text, { bad = false, ms = 3500 } = {}) {
  if (!toastBox) {
    toastBox = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastBox);
  }
  const item = h('div', { class: `toast${bad ? ' bad' : ''}` }, text);
  toastBox.append(item);
  setTimeout(() => item.remove(), ms);
}

/** A badge for a status-like value, translated with prefix (e.g. 'status.'). */
export function badge(prefix, value, cls = 'st') {
  return h('span', { class: `badge ${cls}-${value}` }, t(`${prefix}${value}`));
}

/** Risk category colours (the standard five) and the grey for "no published level". */
export const RISK_HEX = { 1: '#2e7d32', 2: '#1565c0', 3: '#f9a825', 4: '#ef6c00', 5: '#c62828' };
export const NO_RISK_HEX = '#b0bec5';

/** A small coloured square for a risk category. */
export function riskChip(category) {
  return h('span', { class: 'risk-chip', style: `background:${RISK_HEX[category] || NO_RISK_HEX}`, 'aria-hidden': 'true' });
}

/**
 * Make sure someone is signed in: returns /auth/me, showing the sign-in form in main until they are.
 * roleHint names who the page is for (translated key).
 */
export async function ensureSignedIn(main, { titleKey, hintKey }) {
  if (getToken()) {
    try { return await api('/api/v1/auth/me'); } catch (err) {
      if (err.status !== 401) throw err;
    }
  }
  return new Promise((resolve) => {
    const error = h('p', { class: 'error', role: 'alert' });
    const user = h('input', { id: 'signin-user', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
    const pass = h('input', { id: 'signin-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-i18n': 'signin.submit' });
    const form = h('form', { class: 'panel signin', 'aria-labelledby': 'signin-title' },
      h('h2', { id: 'signin-title', 'data-i18n': titleKey }),
      h('p', { class: 'hint', 'data-i18n': hintKey }),
      h('label', { for: 'signin-user', 'data-i18n': 'signin.username' }), user,
      h('label', { for: 'signin-pass', 'data-i18n': 'signin.password' }), pass,
      error, submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      error.textContent = '';
      try {
        const me = await signIn(user.value.trim(), pass.value);
        form.remove();
        resolve(me);
      } catch (err) {
        error.textContent = err.status === 401 ? t('signin.failed') : err.network ? t('error.network') : describe(err);
      } finally {
        submit.disabled = false;
      }
    });
    fill(main, form);
    applyI18n(form);
    user.focus();
  });
}

/** Fill the top bar: title, connection indicator slot, who is signed in, language and sign-out buttons. */
export function topBar(bar, { pageKey, me, extra = [] }) {
  const conn = h('span', { class: 'conn state-connecting', role: 'status', 'aria-live': 'polite', id: 'conn' });
  const who = h('span', { class: 'who', id: 'who' });
  const out = h('button', { type: 'button', id: 'signout', hidden: !me }, signOutIcon(), h('span', { class: 'label', 'data-i18n': 'signin.signout' }));
  out.addEventListener('click', async () => { await signOut(); location.reload(); });
  if (me) who.textContent = `${me.full_name} · ${t(`role.${me.role}`)}`;
  window.addEventListener('iolaos:lang', () => { if (me) who.textContent = `${me.full_name} · ${t(`role.${me.role}`)}`; });
  fill(bar,
    h('h1', {}, h('img', { src: '/static/img/favicon.svg', alt: '' }), h('span', { 'data-i18n': 'app.name' }),
      h('span', { class: 'sub', 'data-i18n': pageKey })),
    h('span', { class: 'spacer' }), ...extra, me ? conn : null, who, langButton(), out);
  applyI18n(bar);
  return { conn };
}

function signOutIcon() {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('width', '18');
  svg.setAttribute('height', '18');
  svg.innerHTML = '<path d="M10 4H5v16h5M15 8l4 4-4 4M19 12H9" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>';
  return svg;
}

/** Sign out everywhere on this page when the server says the token is no longer valid. */
export function reloadOnSignOut() {
  window.addEventListener('iolaos:signedout', () => {
    toast(t('signin.expired'), { bad: true });
    setTimeout(() => location.reload(), 1500);
  });
}

/** Ask for a short reason in a modal dialog; resolves to the text, or null when cancelled. */
export function askReason({ titleKey, labelKey = 'reason.label', min = 3 }) {
  return new Promise((resolve) => {
    const input = h('textarea', { id: 'reason-input', required: true, minlength: String(min), maxlength: '500' });
    const dialog = h('dialog', { 'aria-labelledby': 'reason-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'reason-title' }, t(titleKey)),
        h('label', { for: 'reason-input' }, t(labelKey)), input,
        h('p', { class: 'hint' }, t('reason.hint', { min })),
        h('div', { class: 'actions' },
          h('button', { type: 'button', value: 'cancel', onclick: () => dialog.close('cancel') }, t('common.cancel')),
          h('button', { type: 'submit', value: 'ok', class: 'primary' }, t('common.confirm')))));
    dialog.addEventListener('close', () => {
      const value = dialog.returnValue === 'ok' ? input.value.trim() : null;
      dialog.remove();
      resolve(value);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}
