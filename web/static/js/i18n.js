// Greek and English texts, the chosen language (remembered), and times shown in Europe/Athens.
import { EL, EN } from './strings.js';

const KEY = 'iolaos.lang';
const DICTS = { el: EL, en: EN };
const LOCALES = { el: 'el-GR', en: 'en-GB' };
export const TIME_ZONE = 'Europe/Athens';
export const missing = new Set();  // keys asked for but not in the dictionary (the browser tests check it stays empty)

let lang = DICTS[localStorage.getItem(KEY)] ? localStorage.getItem(KEY) : 'el';

/** The current language code ('el' or 'en'). */
export function getLang() { return lang; }

/** The BCP 47 locale of the current language. */
export function locale() { return LOCALES[lang]; }

/** Switch language, remember it, re-translate the page and tell listeners. */
export function setLang(code) {
  if (!DICTS[code] || code === lang) return;
  lang = code;
  localStorage.setItem(KEY, code);
  applyI18n(document);
  window.dispatchEvent(new CustomEvent('iolaos:lang', { detail: code }));
}

/** The text for key in the current language, with {name} placeholders filled from vars. */
export function t(key, vars) {
  let text = DICTS[lang][key];
  if (text === undefined) {
    missing.add(`${lang}:${key}`);
    text = DICTS.en[key] ?? key;
  }
  return vars ? text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : text;
}

/** Does the dictionary know key? (for optional labels such as server codes) */
export function has(key) { return key in DICTS[lang]; }

/** Translate elements marked with data-i18n (text) and data-i18n-attr ("attr:key;attr:key"). */
export function applyI18n(root) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
  if (document.body?.dataset.titleKey) document.title = `${t(document.body.dataset.titleKey)} · ${t('app.name')}`;
}

/** A button that switches between Greek and English. */
export function langButton() {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'lang';
  const render = () => {
    const other = lang === 'el' ? 'en' : 'el';
    button.textContent = other === 'en' ? 'EN' : 'ΕΛ';
    button.lang = other;
    button.setAttribute('aria-label', t('lang.switch'));
    button.title = t('lang.switch');
  };
  button.addEventListener('click', () => setLang(lang === 'el' ? 'en' : 'el'));
  window.addEventListener('iolaos:lang', render);
  render();
  return button;
}

const formats = new Map();
function fmt(options) {
  const key = `${lang}|${JSON.stringify(options)}`;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, ...options }));
  return formats.get(key);
}

/** Date and time in Athens, e.g. 27/11/2025, 14:05. */
export function fmtDateTime(value) {
  return value ? fmt({ day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(value)) : '';
}

/** Time of day in Athens, e.g. 14:05. */
export function fmtTime(value) {
  return value ? fmt({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(value)) : '';
}

/** A calendar date (YYYY-MM-DD, a day in Athens) written out, e.g. Πέμ 27 Νοε. */
export function fmtDay(isoDay) {
  const [y, m, d] = isoDay.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' })
    .format(new Date(Date.UTC(y, m - 1, d, 12)));
}

/** A number in the current locale. */
export function fmtNumber(value, digits = 0) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

/** Today's date in Athens plus offsetDays, as YYYY-MM-DD. */
export function athensDay(offsetDays = 0) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(new Date()).map((p) => [p.type, p.value]));
  const day = new Date(Date.UTC(+parts.year, +parts.month - 1, +parts.day + offsetDays));
  return day.toISOString().slice(0, 10);
}

/** Athens' offset from UTC in minutes at instant ms. */
function athensOffset(ms) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: TIME_ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return (Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(ms / 1000) * 1000) / 60000;
}

/** A typed day 'DD/MM/YYYY' as 'YYYY-MM-DD' ('' stays null); throws RangeError when it is not a valid day. */
export function parseDay(text) {
  const value = (text || '').trim();
  if (!value) return null;
  const m = value.match(/^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/);
  const iso = m && `${m[3]}-${m[2].padStart(2, '0')}-${m[1].padStart(2, '0')}`;
  if (!iso || Number.isNaN(Date.parse(`${iso}T00:00:00Z`)) || new Date(`${iso}T00:00:00Z`).getUTCDate() !== Number(m[1])) {
    throw new RangeError(value);
  }
  return iso;
}

/** A typed Athens time 'DD/MM/YYYY HH:MM' (time optional) as 'YYYY-MM-DDTHH:MM'; throws RangeError when invalid. */
export function parseDayTime(text) {
  const value = (text || '').trim();
  if (!value) return null;
  const [day, time = '00:00', extra] = value.split(/\s+/);
  const t = time.match(/^(\d{1,2}):(\d{2})$/);
  if (extra !== undefined || !t || Number(t[1]) > 23 || Number(t[2]) > 59) throw new RangeError(value);
  return `${parseDay(day)}T${t[1].padStart(2, '0')}:${t[2]}`;
}

/** 'YYYY-MM-DD' as typed by people: 'DD/MM/YYYY'. */
export function showDay(iso) { return iso ? `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}` : ''; }

/** 'YYYY-MM-DDTHH:MM' as typed by people: 'DD/MM/YYYY HH:MM'. */
export function showDayTime(local) { return local ? `${showDay(local.slice(0, 10))} ${local.slice(11, 16)}` : ''; }

/** A local Athens wall time 'YYYY-MM-DDTHH:MM' as an ISO instant with Z. */
export function athensLocalToIso(local) {
  if (!local) return null;
  const [d, tm] = local.split('T');
  const [y, m, day] = d.split('-').map(Number);
  const [hh, mm] = (tm || '00:00').split(':').map(Number);
  const guess = Date.UTC(y, m - 1, day, hh, mm);
  let instant = guess - athensOffset(guess) * 60000;
  instant = guess - athensOffset(instant) * 60000;  // settle across a DST change
  return new Date(instant).toISOString();
}

/** An instant as an Athens wall time 'YYYY-MM-DDTHH:MM' for <input type=datetime-local>. */
export function isoToAthensLocal(value) {
  const ms = new Date(value).getTime();
  return new Date(ms + athensOffset(ms) * 60000).toISOString().slice(0, 16);
}
