// Plain SVG charts (no library): horizontal bars, paired day bars and a Lorenz curve.
const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function svg(width, height, label) {
  return s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label, preserveAspectRatio: 'xMinYMin meet' });
}

/**
 * Horizontal bars, one per row {label, value (0..), colour, title}; a dashed line marks `target` (e.g. 1 = 100 %).
 * format(value) writes the value at the end of each bar.
 */
export function hbars(rows, { label, format, target = 1, max: maxValue } = {}) {
  const width = 760;
  const labelW = 230;
  const rowH = 20;
  const height = rows.length * rowH + 28;
  const max = Math.max(maxValue ?? 0, target, ...rows.map((r) => r.value)) || 1;
  const scale = (v) => ((width - labelW - 60) * v) / max;
  const root = svg(width, height, label);
  rows.forEach((r, i) => {
    const y = 6 + i * rowH;
    const title = s('title', {}, r.title || `${r.label}: ${format(r.value)}`);
    const g = s('g');
    g.append(title,
      s('text', { x: labelW - 6, y: y + 13, 'text-anchor': 'end' }, r.label.length > 34 ? `${r.label.slice(0, 33)}…` : r.label),
      s('rect', { x: labelW, y: y + 2, width: Math.max(1, scale(r.value)), height: rowH - 6, rx: 2, fill: r.colour }),
      s('text', { x: labelW + scale(r.value) + 4, y: y + 13 }, format(r.value)));
    root.append(g);
  });
  const tx = labelW + scale(target);
  root.append(s('line', { x1: tx, x2: tx, y1: 0, y2: height - 20, stroke: '#14202b', 'stroke-dasharray': '4 3', 'stroke-width': 1.2 }),
    s('text', { x: tx, y: height - 6, 'text-anchor': 'middle' }, format(target)));
  return root;
}

/** Paired vertical bars per group {label, a, b} (e.g. required vs staffed per day); colours [a, b]. */
export function pairs(groups, { label, colours, format }) {
  const width = 760;
  const height = 230;
  const left = 44;
  const bottom = 40;
  const max = Math.max(1, ...groups.flatMap((g) => [g.a, g.b]));
  const slot = (width - left - 10) / Math.max(groups.length, 1);
  const bar = Math.min(28, slot / 2.6);
  const y = (v) => height - bottom - ((height - bottom - 10) * v) / max;
  const root = svg(width, height, label);
  for (const tick of [0, 0.5, 1]) {
    const v = Math.round(max * tick);
    root.append(s('line', { x1: left, x2: width - 4, y1: y(v), y2: y(v), stroke: '#d5dce2' }), s('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, format(v)));
  }
  groups.forEach((g, i) => {
    const cx = left + slot * i + slot / 2;
    const a = s('rect', { x: cx - bar - 1, y: y(g.a), width: bar, height: y(0) - y(g.a), fill: colours[0] });
    const b = s('rect', { x: cx + 1, y: y(g.b), width: bar, height: y(0) - y(g.b), fill: colours[1] });
    a.append(s('title', {}, `${g.label}: ${format(g.a)}`));
    b.append(s('title', {}, `${g.label}: ${format(g.b)}`));
    root.append(a, b, s('text', { x: cx, y: height - bottom + 16, 'text-anchor': 'middle' }, g.label));
  });
  return root;
}

/** Lorenz curve of values (e.g. staffed/required per municipality) against the line of equality. */
export function lorenz(values, { label, axisX, axisY }) {
  const size = 240;
  const pad = 34;
  const sorted = [...values].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0) || 1;
  let acc = 0;
  const pts = [[0, 0], ...sorted.map((v, i) => { acc += v; return [(i + 1) / sorted.length, acc / total]; })];
  const px = (p) => pad + p * (size - pad - 8);
  const py = (p) => size - pad - p * (size - pad - 8);
  const root = svg(size, size, label);
  root.append(
    s('rect', { x: px(0), y: py(1), width: px(1) - px(0), height: py(0) - py(1), fill: '#f7f9fa', stroke: '#c9d1d9' }),
    s('line', { x1: px(0), y1: py(0), x2: px(1), y2: py(1), stroke: '#90a4ae', 'stroke-dasharray': '4 3' }),
    s('polyline', { points: pts.map(([x, yv]) => `${px(x)},${py(yv)}`).join(' '), fill: 'none', stroke: '#b3300b', 'stroke-width': 2.5 }),
    s('text', { x: (px(0) + px(1)) / 2, y: size - 8, 'text-anchor': 'middle' }, axisX),
    s('text', { x: 12, y: (py(0) + py(1)) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(py(0) + py(1)) / 2})` }, axisY));
  return root;
}
