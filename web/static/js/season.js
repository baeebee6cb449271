// Review page, "Season" tab: a whole fire season at a glance — the zone × day heatmap of unmet need, the Lorenz
// curve of the risk-weighted shortfall over municipalities, the worst served, downloads, planner vs greedy.
import { api, describe, download } from './api.js';
import { lorenz } from './charts.js';
import { fmtDay, fmtNumber, getLang, parseDay, showDay, t } from './i18n.js';
import { fill, h, riskChip } from './ui.js';

const $ = (id) => document.getElementById(id);
const CELL_H = 11;
const LABEL_W = 200;
const TOP = 22;

/** The latest fire season (1 May – 31 October) that has begun, in Athens. */
function seasonYear() {
  const now = new Date();
  return now.getUTCMonth() >= 4 ? now.getUTCFullYear() : now.getUTCFullYear() - 1;
}

/** Unmet share 0 … 1 as a colour: green (covered) through amber to dark red (nothing staffed). */
export function unmetColour(v) {
  if (v === null || v === undefined) return '#eceff1';
  const stops = [[0, [46, 125, 50]], [0.25, [156, 204, 101]], [0.5, [249, 168, 37]], [0.75, [239, 108, 0]], [1, [142, 0, 0]]];
  for (let i = 1; i < stops.length; i += 1) {
    const [x1, c1] = stops[i];
    const [x0, c0] = stops[i - 1];
    if (v <= x1) {
      const f = (v - x0) / (x1 - x0);
      return `rgb(${c0.map((c, k) => Math.round(c + f * (c1[k] - c))).join(',')})`;
    }
  }
  return 'rgb(142,0,0)';
}

export class Season {
  constructor({ region }) {
    this.region = region;
    this.data = null;
    const year = seasonYear();
    $('sea-start').value = showDay(`${year}-05-01`);
    $('sea-end').value = showDay(`${year}-10-31`);
    $('sea-form').addEventListener('submit', (ev) => { ev.preventDefault(); this.load(); });
    $('sea-csv').addEventListener('click', () => this.download('csv'));
    $('sea-gpkg').addEventListener('click', () => this.download('gpkg'));
    $('sea-baseline').addEventListener('click', () => this.baseline());
    window.addEventListener('iolaos:lang', () => this.render());
  }

  query() {
    const read = (id) => {
      try { return parseDay($(id).value); } catch { $(id).focus(); throw new Error(t('date.invalid', { value: $(id).value.trim() })); }
    };
    return { start: read('sea-start'), end: read('sea-end'), region: this.region || undefined };
  }

  async load() {
    $('sea-error').textContent = '';
    let query;
    try { query = this.query(); } catch (err) { $('sea-error').textContent = err.message; return; }
    fill($('season'), h('p', { class: 'empty' }, t('common.loading')));
    try { this.data = await api('/api/v1/coverage/season', { query }); } catch (err) { this.data = null; $('sea-error').textContent = describe(err); }
    this.render();
  }

  async download(fmt) {
    $('sea-error').textContent = '';
    try {
      const query = this.query();
      await download(`/api/v1/coverage/season.${fmt}`, query, `iolaos-season-${query.start}-${query.end}.${fmt}`);
    } catch (err) { $('sea-error').textContent = err.message || describe(err); }
  }

  async baseline() {
    const box = $('sea-baseline-out');
    let query;
    try { query = this.query(); } catch (err) { $('sea-error').textContent = err.message; return; }
    fill(box, h('p', { class: 'empty' }, t('season.baseline.running')));
    try {
      const b = await api('/api/v1/coverage/baseline', { query });
      fill(box, b.days.length ? [
        h('p', {}, t('season.baseline.summary', { places: fmtNumber(b.places), planner: fmtNumber(b.planner_filled), greedy: fmtNumber(b.greedy_filled), days: b.days.length, more: b.days_not_compared })),
        h('table', { class: 'holders' },
          h('thead', {}, h('tr', {}, ['day', 'zones', 'places', 'planner', 'greedy'].map((k) => h('th', { scope: 'col' }, t(`season.baseline.h.${k}`))))),
          h('tbody', {}, b.days.map((d) => h('tr', {}, h('td', {}, fmtDay(d.date)), h('td', {}, d.zone_codes.length),
            h('td', { class: 'num' }, d.places), h('td', { class: 'num' }, `${d.planner_filled} (${d.planner_coverage})`),
            h('td', { class: 'num' }, `${d.greedy_filled} (${d.greedy_coverage})`))))),
      ] : h('p', { class: 'empty' }, t('season.baseline.none')));
    } catch (err) { fill(box, h('p', { class: 'error' }, describe(err))); }
  }

  render() {
    const box = $('season');
    const d = this.data;
    if (!box || !d) return;
    const hours = (v) => fmtNumber(v);
    const unmet = d.totals.need_hours ? d.totals.shortfall_hours / d.totals.need_hours : 0;
    const name = (z) => (getLang() === 'el' ? z.name_el : z.name_en);
    fill(box,
      h('div', { class: 'cards' },
        stat(t('season.gini'), fmtNumber(d.gini, 2), 'season-gini'),
        stat(t('season.need'), hours(d.totals.need_hours)),
        stat(t('season.staffed'), hours(d.totals.staffed_hours)),
        stat(t('season.patrolled'), hours(d.totals.patrolled_hours)),
        stat(t('season.unmet'), `${fmtNumber(100 * unmet)}%`)),
      h('section', { class: 'panel chart' }, h('h3', {}, t('season.heatmap')),
        h('p', { class: 'hint' }, t('season.heatmap.hint', { zones: d.heatmap.zones.length, days: d.heatmap.days.length })),
        legend(),
        d.heatmap.zones.length ? this.heatmap(d.heatmap, name) : h('p', { class: 'empty' }, t('coverage.nodata'))),
      h('div', { class: 'split' },
        h('section', { class: 'panel chart' }, h('h3', {}, t('season.lorenz')),
          d.municipalities.length ? lorenz(d.municipalities.map((m) => m.weighted_shortfall), { label: t('season.lorenz'), axisX: t('equity.axis.x'), axisY: t('season.axis.y') }) : h('p', { class: 'empty' }, t('coverage.nodata')),
          h('p', { class: 'hint' }, t('season.gini.hint'))),
        h('section', { class: 'panel chart' }, h('h3', {}, t('season.worst')),
          d.worst.length ? h('div', { class: 'tablewrap' }, h('table', { class: 'holders', id: 'season-worst' },
            h('thead', {}, h('tr', {}, ['zone', 'category', 'need', 'staffed', 'patrolled', 'shortfall', 'share'].map((k) => h('th', { scope: 'col' }, t(`season.h.${k}`))))),
            h('tbody', {}, d.worst.map((m) => h('tr', {},
              h('td', {}, name(m), h('div', { class: 'meta' }, `${m.code} · ${m.region_code || ''}`)),
              h('td', {}, riskChip(m.category), ` ${m.category ?? '—'}`),
              h('td', { class: 'num' }, fmtNumber(m.need_hours)), h('td', { class: 'num' }, fmtNumber(m.staffed_hours)),
              h('td', { class: 'num' }, fmtNumber(m.patrolled_hours)), h('td', { class: 'num' }, fmtNumber(m.weighted_shortfall)),
              h('td', { class: 'num' }, `${fmtNumber(100 * m.share, 1)}%`)))))) : h('p', { class: 'empty' }, t('coverage.nodata')))));
  }

  /** The zone × day grid on a canvas (a season nationally is ~60,000 cells); hover names the cell. */
  heatmap(map, name) {
    const room = ($('season')?.clientWidth || 900) - 40;
    const CELL_W = Math.max(3, Math.min(12, Math.floor((room - LABEL_W) / Math.max(1, map.days.length))));
    const width = LABEL_W + map.days.length * CELL_W + 8;
    const height = TOP + map.zones.length * CELL_H + 4;
    const canvas = h('canvas', { id: 'season-heatmap', width, height, role: 'img', 'aria-label': t('season.heatmap.aria', { zones: map.zones.length, days: map.days.length }) });
    const ctx = canvas.getContext('2d');
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = '#14202b';
    map.days.forEach((day, j) => {
      if (day.endsWith('-01')) {
        ctx.fillText(fmtDay(day).replace(/^\S+\s/, ''), LABEL_W + j * CELL_W, 12);
        ctx.fillRect(LABEL_W + j * CELL_W, 14, 1, 6);
      }
    });
    map.zones.forEach((zone, i) => {
      const y = TOP + i * CELL_H;
      if (CELL_H >= 8) {
        const label = name(zone);
        ctx.fillStyle = '#14202b';
        ctx.fillText(label.length > 34 ? `${label.slice(0, 33)}…` : label, 2, y + CELL_H - 2);
      }
      map.unmet[i].forEach((v, j) => {
        ctx.fillStyle = unmetColour(v);
        ctx.fillRect(LABEL_W + j * CELL_W, y, CELL_W - (CELL_W > 3 ? 0.5 : 0), CELL_H - 1);
      });
    });
    const tip = h('div', { class: 'heat-tip', hidden: true, role: 'status' });
    canvas.addEventListener('mousemove', (ev) => {
      const r = canvas.getBoundingClientRect();
      const x = ((ev.clientX - r.left) * width) / r.width;
      const y = ((ev.clientY - r.top) * height) / r.height;
      const i = Math.floor((y - TOP) / CELL_H);
      const j = Math.floor((x - LABEL_W) / CELL_W);
      if (i < 0 || j < 0 || i >= map.zones.length || j >= map.days.length) { tip.hidden = true; return; }
      const v = map.unmet[i][j];
      const cat = map.category[i][j];
      const inherited = map.source?.[i]?.[j] === 'i' ? ` (${t('season.inherited')})` : '';
      tip.hidden = false;
      tip.textContent = `${name(map.zones[i])} · ${fmtDay(map.days[j])} · ${cat ? `${t('equity.h.category')} ${cat}${inherited}` : t('risk.none')} · ${v === null ? t('season.noneed') : t('season.cell', { pct: fmtNumber(100 * v) })}`;
    });
    canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
    return h('div', { class: 'heatwrap' }, canvas, tip);
  }
}

function legend() {
  return h('div', { class: 'legendline' }, [0, 0.25, 0.5, 0.75, 1].map((v) => h('span', {}, h('span', { class: 'sw', style: `background:${unmetColour(v)}` }), `${fmtNumber(100 * v)}%`)),
    h('span', {}, h('span', { class: 'sw', style: `background:${unmetColour(null)}` }), t('season.noneed')));
}

function stat(label, value, id) {
  return h('div', { class: 'panel stat', id }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, label));
}
