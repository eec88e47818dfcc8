// measure.js: two map tools. The pointer readout gives the coordinates
// under the pointer in WGS84 and in a VN-2000 zone (proj4, with the PROJ
// string /api/crs gives for the zone: the server's own definition, VN-2000
// pinned to EPSG:6960). The measuring tool measures a path's length and the
// area it encloses on the WGS84 ellipsoid (Karney's geodesics,
// geographiclib-geodesic), never in degrees or on a projection.

import { el, formatMetres, formatArea } from './ui.js';
import { crsName } from './upload.js';

/** MEASURE_STYLE is how a measured path looks. */
export const MEASURE_STYLE = { color: '#212121', weight: 2, dashArray: '4 4', fillColor: '#9e9e9e', fillOpacity: 0.15 };

/**
 * geodesicLength is the length in metres of a path of [lat, lng] points
 * along geodesics on the WGS84 ellipsoid.
 */
export function geodesicLength(points) {
  const geod = window.geodesic.Geodesic.WGS84;
  let s = 0;
  for (let i = 1; i < points.length; i++) {
    s += geod.Inverse(points[i - 1][0], points[i - 1][1], points[i][0], points[i][1]).s12;
  }
  return s;
}

/** geodesicArea is the area in m² of the polygon of [lat, lng] points (closed implicitly), on the ellipsoid. */
export function geodesicArea(points) {
  const poly = window.geodesic.Geodesic.WGS84.Polygon(false);
  for (const [lat, lng] of points) poly.AddPoint(lat, lng);
  return Math.abs(poly.Compute(false, true).area);
}

/**
 * Readout is the pointer's coordinates, at the map's foot: WGS84 and the
 * VN-2000 zone picked in it ("auto": the provincial TM-3 zone whose area
 * holds the point, the nearest central meridian first).
 */
export class Readout {
  constructor(app) {
    this.app = app;
    this.zones = []; // VN-2000 projected CRSs of /api/crs, with proj4
    this.pick = 'auto';
    const L = window.L;
    const control = L.control({ position: 'bottomleft' });
    control.onAdd = () => this.build();
    control.addTo(app.map);
    this.show(app.map.getCenter());
    // The container's own event: Leaflet fires no map 'mousemove' while
    // the pointer is over an interactive feature.
    app.map.getContainer().addEventListener('mousemove', (e) => {
      this.pointerSeen = true;
      this.show(app.map.mouseEventToLatLng(e));
    });
    // A touch screen has no pointer: the readout follows the map's centre.
    app.map.on('move', () => {
      if (!this.pointerSeen) this.show(app.map.getCenter());
    });
  }

  build() {
    const L = window.L;
    this.box = el('div', { className: 'leaflet-control zp-readout', 'aria-label': '' });
    this.wgs = el('div', { className: 'wgs' });
    this.vn = el('div', { className: 'vn' });
    this.select = el('select', { className: 'zone', id: 'readout-zone' });
    this.select.addEventListener('change', () => {
      this.pick = this.select.value;
      if (this.last) this.show(this.last);
    });
    this.box.append(this.wgs, el('div', { className: 'vnrow' }, this.select, this.vn));
    L.DomEvent.disableClickPropagation(this.box);
    L.DomEvent.disableScrollPropagation(this.box);
    this.relabel();
    return this.box;
  }

  /** setZones takes /api/crs and keeps the VN-2000 projected zones with their PROJ strings. */
  setZones(list) {
    this.zones = (list || []).filter((c) => c.kind === 'projected' && /VN-?2000/i.test(c.name || '') && c.proj4)
      .map((c) => ({ ...c, proj: window.proj4('EPSG:4326', c.proj4) }));
    this.relabel();
  }

  relabel() {
    if (!this.select) return;
    const t = this.app.i18n.t.bind(this.app.i18n);
    this.box.setAttribute('aria-label', t('readout.label'));
    this.select.setAttribute('aria-label', t('readout.zone'));
    this.select.title = t('readout.zone');
    this.select.replaceChildren(el('option', { value: 'auto' }, t('readout.auto')),
      ...this.zones.map((z) => el('option', { value: z.code }, `${crsName(z, this.app.i18n).replace(/^VN-?2000\s*/, '')} (${z.code})`)));
    this.select.value = this.zones.some((z) => z.code === this.pick) ? this.pick : 'auto';
    if (this.last) this.show(this.last);
  }

  /** zoneFor is the zone the readout uses at a point. */
  zoneFor(latlng) {
    if (this.pick !== 'auto') return this.zones.find((z) => z.code === this.pick) || null;
    let best = null;
    let bestD = Infinity;
    for (const z of this.zones) {
      const m = /\+lon_0=([-\d.]+)/.exec(z.proj4);
      if (!m || !/TM-?3 \d/.test(z.name)) continue;
      const [w, s, e, n] = z.bbox || [];
      if (!(latlng.lng >= w && latlng.lng <= e && latlng.lat >= s && latlng.lat <= n)) continue;
      const d = Math.abs(latlng.lng - Number(m[1]));
      if (d < bestD) {
        bestD = d;
        best = z;
      }
    }
    return best;
  }

  show(latlng) {
    if (!this.wgs) return;
    this.last = latlng;
    // The exact point, for whoever checks the figures (the text is rounded).
    this.box.dataset.lat = String(latlng.lat);
    this.box.dataset.lng = String(latlng.lng);
    const { i18n } = this.app;
    const deg = (v, pos, neg) => `${i18n.number(Math.abs(v), 6)}° ${v >= 0 ? pos : neg}`;
    const t = i18n.t.bind(i18n);
    this.wgs.textContent = `WGS84 ${deg(latlng.lat, t('readout.north'), t('readout.south'))}, ${deg(latlng.lng, t('readout.east'), t('readout.west'))}`;
    const z = this.zoneFor(latlng);
    if (!z) {
      this.vn.textContent = t('readout.noZone');
      return;
    }
    // proj4 takes and gives east first; Vietnamese surveys write X (northing) first.
    const [east, north] = z.proj.forward([latlng.lng, latlng.lat]);
    const m = (v) => i18n.number(v, 3);
    this.vn.textContent = `${z.code}: X ${m(north)} m, Y ${m(east)} m`;
    this.vn.dataset.code = z.code;
  }
}


/**
 * Measure is the measuring tool: a button on the map; while it is on, each
 * click adds a point, and the panel gives the path's length and, from three
 * points, the area of the polygon they close, both on the ellipsoid.
 */
export class Measure {
  constructor(app) {
    this.app = app;
    this.active = false;
    this.points = [];
    const L = window.L;
    this.layer = L.featureGroup().addTo(app.map);
    const control = L.control({ position: 'topleft' });
    control.onAdd = () => this.build();
    control.addTo(app.map);
    // A click on the map's background; one on a feature comes through
    // add() (Leaflet gives it to the feature, not to the map).
    app.map.on('click', (e) => {
      if (this.active) this.add(e.latlng);
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.active) this.setActive(false);
    });
  }

  build() {
    const L = window.L;
    this.button = el('button', { type: 'button', id: 'measure', 'aria-pressed': 'false', className: 'zp-measure-button' }, rulerIcon());
    this.button.addEventListener('click', () => this.setActive(!this.active));
    this.clearButton = el('button', { type: 'button', id: 'measure-clear', hidden: true });
    this.clearButton.addEventListener('click', () => this.clear());
    this.result = el('div', { className: 'zp-measure-result', id: 'measure-result', 'aria-live': 'polite', hidden: true });
    this.box = el('div', { className: 'leaflet-control leaflet-bar zp-measure' }, this.button, this.result, this.clearButton);
    L.DomEvent.disableClickPropagation(this.box);
    this.relabel();
    return this.box;
  }

  relabel() {
    if (!this.button) return;
    const t = this.app.i18n.t.bind(this.app.i18n);
    const label = this.active ? t('measure.stop') : t('measure.start');
    this.button.title = label;
    this.button.setAttribute('aria-label', label);
    this.clearButton.textContent = t('measure.clear');
    this.show();
  }

  setActive(on) {
    this.active = on;
    if (on && this.app.map.pm) this.app.map.pm.disableDraw();
    this.button.setAttribute('aria-pressed', String(on));
    this.app.map.getContainer().classList.toggle('zp-measuring', on);
    if (on) this.clear();
    this.relabel();
  }

  /** add adds a point to the measured path. */
  add(latlng) {
    this.points.push([latlng.lat, latlng.lng]);
    this.draw();
  }

  clear() {
    this.points = [];
    this.layer.clearLayers();
    this.show();
  }

  draw() {
    const L = window.L;
    this.layer.clearLayers();
    const opts = { ...MEASURE_STYLE, interactive: false, pmIgnore: true };
    if (this.points.length >= 3) this.layer.addLayer(L.polygon(this.points, { ...opts, dashArray: null, weight: 0 }));
    if (this.points.length >= 2) this.layer.addLayer(L.polyline(this.points, opts));
    for (const p of this.points) this.layer.addLayer(L.circleMarker(p, { ...opts, radius: 3, dashArray: null, fillOpacity: 1, fillColor: '#fff' }));
    this.show();
  }

  show() {
    if (!this.result) return;
    const { i18n } = this.app;
    const t = i18n.t.bind(i18n);
    const n = this.points.length;
    this.clearButton.hidden = n === 0;
    if (!this.active && n === 0) {
      this.result.hidden = true;
      return;
    }
    this.result.hidden = false;
    if (n < 2) {
      this.result.textContent = t('measure.hint');
      return;
    }
    const rows = [`${t('measure.length')}: ${formatMetres(geodesicLength(this.points), i18n)}`];
    if (n >= 3) {
      const closed = [...this.points, this.points[0]];
      rows.push(`${t('measure.perimeter')}: ${formatMetres(geodesicLength(closed), i18n)}`);
      rows.push(`${t('measure.area')}: ${formatArea(geodesicArea(this.points), i18n)}`);
    }
    this.result.replaceChildren(...rows.map((r) => el('div', {}, r)));
  }
}

/** rulerIcon is the measuring button's symbol (inline SVG: no emoji font is needed). */
function rulerIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 20 20');
  svg.setAttribute('width', '18');
  svg.setAttribute('height', '18');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M2 14 L14 2 L18 6 L6 18 Z M5 11 l2 2 M8 8 l2 2 M11 5 l2 2');
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', '#1c2329');
  path.setAttribute('stroke-width', '1.6');
  path.setAttribute('stroke-linejoin', 'round');
  svg.append(path);
  return svg;
}
