// Leaflet map with zones as the base layer (no tiles needed), coloured by fire-risk category, with a legend.
import * as L from '/static/vendor/leaflet/leaflet-src.esm.js';
import { api } from './api.js';
import { getLang, t } from './i18n.js';
import { h, NO_RISK_HEX, RISK_HEX } from './ui.js';

export { L };
const GREECE = [[34.7, 19.3], [41.8, 28.3]];

/** The tile URL template configured on the server (IOLAOS_TILE_URL), or null: zones alone are the base layer. */
export function tileUrl() {
  const value = document.querySelector('meta[name="iolaos-tile-url"]')?.content?.trim();
  return value || null;
}

/** A map in el fitted to Greece, with optional tiles and zones drawn on a canvas. */
export function createMap(el, { zoomControl = true } = {}) {
  const map = L.map(el, { preferCanvas: true, zoomControl, attributionControl: true, minZoom: 5, maxZoom: 16, keyboardPanDelta: 120 });
  map.attributionControl.setPrefix(false);
  const url = tileUrl();
  if (url) {
    let host = url;
    try { host = new URL(url.replace(/\{[a-z]\}/g, 'x')).host; } catch { /* keep the template */ }
    L.tileLayer(url, { maxZoom: 19, attribution: host }).addTo(map);
  }
  map.fitBounds(GREECE);
  return map;
}

/** Municipal zones (GeoJSON) from the public zones API; parent limits them to one region. Simplified for zoom 12
 * (within about 10 m), a fraction of the full boundaries' size; the API serves full geometry without zoom. */
export async function fetchMunicipalities(parent) {
  return api('/api/v1/zones', { query: { kind: 'municipality', parent, limit: 1000, zoom: 12 } });
}

/** The risk map of a day (YYYY-MM-DD) for municipalities, as {zone_code: level}: every municipality's effective
 * category (its own, or inherited from its region: `inherited`, `from_zone_code`), as REST, OGC and the planner see it. */
export async function fetchRisk(day, region) {
  const levels = await api(`/api/v1/zones/risk/${day}`, { query: { kind: 'municipality', region } });
  return Object.fromEntries(levels.map((l) => [l.zone_code, l]));
}

/** Zones drawn as polygons, each filled with its risk colour, with a tooltip and a legend control. */
export class ZoneLayer {
  constructor(map, collection, { interactive = true, onClick, compact } = {}) {
    this.map = map;
    this.compact = compact ?? map.getContainer().clientWidth < 560;
    this.levels = {};
    this.byCode = new Map();
    this.layer = L.geoJSON(collection, {
      smoothFactor: 1.5,
      interactive,
      style: (f) => this.style(f.properties.code),
      onEachFeature: (feature, layer) => {
        this.byCode.set(feature.properties.code, layer);
        if (interactive) {
          layer.bindTooltip(() => this.tooltip(feature.properties), { sticky: true });
          if (onClick) layer.on('click', (ev) => onClick(ev.latlng, feature.properties));
        }
      },
    }).addTo(map);
    // Zones are the base of the map. On the shared canvas the last layer drawn is the one hovered, so zones that
    // arrive after crew positions would otherwise cover them and no crew tooltip would ever open.
    this.layer.bringToBack();
    this.legend = L.control({ position: 'bottomright' });
    this.legend.onAdd = () => { this.legendEl = h('div', { class: 'legend', role: 'group' }); this.renderLegend(); return this.legendEl; };
    this.legend.addTo(map);
    window.addEventListener('iolaos:lang', () => this.renderLegend());
  }

  style(code) {
    const level = this.levels[code];
    return { color: '#37474f', weight: 0.7, opacity: 0.8, fillColor: level ? (RISK_HEX[level.category] || level.hex) : NO_RISK_HEX, fillOpacity: level ? 0.68 : 0.25 };
  }

  tooltip(props) {
    const level = this.levels[props.code];
    const label = level ? `${level.category} · ${getLang() === 'el' ? level.label_el : level.label_en}` : t('risk.none');
    // Built from text nodes, not an HTML string (escaping by hand is one forgotten call away from injection).
    const origin = level?.inherited ? [h('br'), h('em', {}, t('risk.inherited', { code: level.from_zone_code }))] : [];
    return h('span', { class: 'zone-tooltip' }, h('strong', {}, props.name_el), h('br'), `${t('risk.legend')}: ${label}`, ...origin);
  }

  /** Colour the zones by levels ({code: LevelOut}); day is shown in the legend. */
  setRisk(levels, dayLabel) {
    this.levels = levels;
    this.dayLabel = dayLabel;
    this.layer.setStyle((f) => this.style(f.properties.code));
    this.renderLegend();
  }

  /** True when a live risk.changed event's levels touch the day shown (a region's change reaches every
   * municipality that inherits it, so the caller refetches the effective map rather than merging rows). */
  touches(levels, day) { return levels.some((level) => level.date === day); }

  renderLegend() {
    if (!this.legendEl) return;
    if (this.compact) {
      this.legendEl.className = 'legend compact';
      this.legendEl.replaceChildren(h('span', {}, t('risk.legend')),
        ...[1, 2, 3, 4, 5].map((c) => h('span', { class: 'risk-chip num', style: `background:${RISK_HEX[c]}`, title: t(`risk.${c}`) }, String(c))));
      this.legendEl.setAttribute('aria-label', `${t('risk.legend')}: ${[1, 2, 3, 4, 5].map((c) => `${c} ${t(`risk.${c}`)}`).join(', ')}`);
      return;
    }
    const rows = [1, 2, 3, 4, 5].map((c) => h('div', {}, h('span', { class: 'risk-chip', style: `background:${RISK_HEX[c]}` }), `${c} · ${t(`risk.${c}`)}`));
    rows.push(h('div', {}, h('span', { class: 'risk-chip', style: `background:${NO_RISK_HEX}` }), t('risk.none')));
    this.legendEl.replaceChildren(h('h3', {}, t('risk.legend'), this.dayLabel ? ` — ${this.dayLabel}` : ''), ...rows);
    this.legendEl.setAttribute('aria-label', t('risk.legend'));
  }

  /** Bounds of one zone (for fitting the map to it), or null. */
  bounds(code) { return this.byCode.get(code)?.getBounds() || null; }

  /** Bounds of every zone drawn. */
  allBounds() { return this.layer.getBounds(); }
}

const SEVERITY_FILL = { low: '#fdd835', medium: '#fb8c00', high: '#e53935', critical: '#8e0000' };

/** A keyboard-focusable map marker for an incident (a flame in a pin, coloured by severity). */
export function incidentMarker(incident, label) {
  const [lon, lat] = incident.point.coordinates;
  const fill = SEVERITY_FILL[incident.severity] || '#e53935';
  const ring = incident.status === 'reported' ? '#ffffff' : '#1b2a3a';
  const html = `<svg viewBox="0 0 26 26" aria-hidden="true"><circle cx="13" cy="13" r="11" fill="${fill}" stroke="${ring}" stroke-width="3"/>`
    + '<path d="M13 6c.6 3 4 4.6 4 8.2a4 4 0 0 1-8 0c0-2.3 1.8-3.4 2.3-5.2.6 1.2.6 2.3 1.7 2.9 0-2.3-.6-4 0-5.9z" fill="#fff"/></svg>';
  const icon = L.divIcon({ className: 'inc-marker', html, iconSize: [26, 26], iconAnchor: [13, 13] });
  return L.marker([lat, lon], { icon, keyboard: true, title: label, alt: label, riseOnHover: true });
}

export function escapeHtml(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
