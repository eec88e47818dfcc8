// check.js: the appraiser's panel. A project footprint is drawn (Geoman),
// edited, or read from a file or a pasted boundary-point table in a picked
// CRS (upload.js; the server converts it to WGS84 and it is previewed on
// the map); the check result is shown as a verdict banner, a findings list
// and the overlaps highlighted on the map; the footprint and its
// attributes can then be saved as an appraisal.

import { el, meta, formatMetres, formatArea, verdictMark, verdictChip } from './ui.js';
import { band, basis } from './serverwords.js';
import { ACCEPT, PASTED_NAME, CRSPicker, convert, crsLabel, describeUploadError, showUploadError } from './upload.js';

/** SECTORS are the project kinds offered when the server's layer list names none. */
const SECTORS = ['project', 'factory', 'resort', 'mine', 'road', 'residential', 'port', 'energy', 'agriculture'];

/** FOOTPRINT_STYLE is how a drawn or uploaded footprint looks. */
export const FOOTPRINT_STYLE = { color: '#0b57d0', weight: 3, fillColor: '#4f8ef7', fillOpacity: 0.2 };

/**
 * UPLOAD_STYLE is how a footprint read from a file looks until it is
 * edited: dashed and teal, so that the preview is not taken for a drawing.
 */
export const UPLOAD_STYLE = { color: '#00796b', weight: 3, dashArray: '8 5', fillColor: '#26a69a', fillOpacity: 0.2 };

/** MAX_EDIT_VERTICES bounds the vertices of an uploaded footprint offered for editing on the map. */
const MAX_EDIT_VERTICES = 2000;

/** OVERLAP_STYLE marks where a footprint overlaps a zone or component. */
export const OVERLAP_STYLE = {
  color: '#b3261e', weight: 3, fillColor: '#e53935', fillOpacity: 0.45, dashArray: '6 3', className: 'overlap-highlight',
};

export class Appraiser {
  /** @param {object} app the App of main.js (map, api, i18n, notices, can) */
  constructor(app) {
    this.app = app;
    const L = window.L;
    this.footprint = L.featureGroup().addTo(app.map);
    this.overlaps = L.featureGroup().addTo(app.map);
    this.result = null; // the last check result
    this.resultGeometry = ''; // JSON of the footprint the result is for
    this.editing = false;
    // The last file read into the footprint, while the footprint is still
    // that file's: a new CRS pick reads it again. {blob, name, format}
    this.source = null;
    this.failed = null; // the last file that could not be read, until the footprint changes
    this.picker = new CRSPicker(document.getElementById('fp-crs'), app);
    this.picker.load();
    this.wire();
    this.fillSectors();
    this.showFootprintStatus();
  }

  get t() {
    return this.app.i18n.t.bind(this.app.i18n);
  }

  wire() {
    const map = this.app.map;
    const $ = (id) => document.getElementById(id);
    $('fp-polygon').addEventListener('click', () => this.draw('Polygon'));
    $('fp-line').addEventListener('click', () => this.draw('Line'));
    $('fp-point').addEventListener('click', () => this.draw('Marker'));
    $('fp-edit').addEventListener('click', () => this.setEditing(!this.editing));
    $('fp-clear').addEventListener('click', () => this.clearProject());
    $('fp-file').accept = ACCEPT;
    $('fp-file').addEventListener('change', (e) => {
      const file = e.target.files && e.target.files[0];
      if (file) {
        this.picker.newFile();
        this.upload({ blob: file, name: file.name, label: file.name });
      }
      e.target.value = '';
    });
    $('fp-table-read').addEventListener('click', () => {
      const text = $('fp-table').value;
      if (!text.trim()) {
        this.app.notices.error(this.t('fp.paste.empty'));
        $('fp-table').focus();
        return;
      }
      this.picker.newFile();
      this.upload({ blob: new Blob([text], { type: 'text/plain' }), name: PASTED_NAME, label: this.t('fp.pastedName'), format: 'table' });
    });
    $('fp-crs').addEventListener('change', () => {
      // The coordinates of the last file are read again in the CRS now
      // picked, unless the footprint has moved on (drawn, edited, cleared).
      // A file that could not be read is tried again too: the pick may be
      // what it lacked (a boundary table needs its zone).
      const again = this.source || this.failed;
      if (again) this.upload(again);
    });
    $('attr-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.check();
    });
    $('check-save').addEventListener('click', () => this.save());

    if (map.pm) {
      map.on('pm:create', (e) => {
        e.layer.setStyle && e.layer.setStyle(FOOTPRINT_STYLE);
        // A footprint is of one kind (points, lines or polygons): the server
        // keeps it as one geometry. Drawing another kind starts a new one.
        const kind = family(e.layer.toGeoJSON().geometry);
        const others = this.footprint.getLayers().filter((l) => family(l.toGeoJSON().geometry) !== kind);
        if (others.length) {
          for (const l of others) this.footprint.removeLayer(l);
          this.app.notices.info(this.t('fp.replaced'));
        }
        this.footprint.addLayer(e.layer);
        e.layer.on('pm:edit', () => this.footprintChanged());
        this.footprintChanged();
      });
      map.on('pm:drawend', () => this.showFootprintStatus());
    }
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && map.pm && map.pm.globalDrawModeEnabled()) {
        map.pm.disableDraw();
        this.showFootprintStatus();
      }
    });
  }

  /**
   * fillSectors offers the project kinds as suggestions for the sector, a
   * free text (the layer's sector property has no fixed list).
   */
  fillSectors() {
    const list = document.getElementById('attr-sectors');
    const layer = this.app.layerById && this.app.layerById('project_sites');
    const kinds = layer && Array.isArray(layer.kinds) && layer.kinds.length ? layer.kinds : SECTORS;
    list.replaceChildren(...kinds.map((k) => {
      const key = 'sector.' + k;
      return el('option', { value: this.t(key) === key ? this.app.i18n.kind(k) : this.t(key) });
    }));
  }

  /** onUserChanged starts afresh: one user's footprint and project are not left for the next. */
  onUserChanged() {
    document.getElementById('check-save').hidden = !this.app.can('appraise');
    this.clear();
    document.getElementById('attr-form').reset();
    document.getElementById('fp-table').value = '';
    this.fillSectors();
  }

  relabel() {
    this.picker.fill();
    this.showSource();
    if (this.uploadError) this.showUploadError(this.uploadError);
    this.fillSectors();
    this.showFootprintStatus();
    if (this.result) this.showResult(this.result);
  }

  draw(shape) {
    const map = this.app.map;
    if (!map.pm) return;
    this.setEditing(false);
    map.pm.enableDraw(shape, {
      pathOptions: FOOTPRINT_STYLE,
      templineStyle: { color: FOOTPRINT_STYLE.color },
      hintlineStyle: { color: FOOTPRINT_STYLE.color, dashArray: '5 5' },
      finishOn: shape === 'Line' ? 'dblclick' : null,
      continueDrawing: false,
    });
    document.getElementById('fp-status').textContent = this.t('fp.drawing');
    map.getContainer().focus();
  }

  setEditing(on) {
    this.editing = on;
    const btn = document.getElementById('fp-edit');
    btn.setAttribute('aria-pressed', String(on));
    btn.textContent = on ? this.t('fp.editDone') : this.t('fp.edit');
    this.footprint.eachLayer((l) => {
      if (!l.pm) return;
      if (on) l.pm.enable({ allowSelfIntersection: false });
      else l.pm.disable();
    });
  }

  clear() {
    this.setEditing(false);
    if (this.app.map.pm) this.app.map.pm.disableDraw();
    this.footprint.clearLayers();
    this.overlaps.clearLayers();
    this.result = null;
    this.source = null;
    this.failed = null;
    this.uploadToken = null; // a file still being read is no longer wanted
    this.converted = null;
    this.hideUploadError();
    this.showSource();
    document.getElementById('check-result').replaceChildren();
    this.showFootprintStatus();
  }

  /**
   * clearProject is the "clear" button: the footprint, the whole project
   * form, the pasted table, the CRS pick and the open record's outline go,
   * so that the next project starts from nothing of the last.
   */
  clearProject() {
    this.clear();
    document.getElementById('attr-form').reset();
    document.getElementById('fp-table').value = '';
    this.picker.reset();
    this.app.appraisals.clearMap();
  }

  footprintChanged() {
    // An edited preview is the user's footprint now: a new CRS pick no
    // longer replaces it.
    this.source = null;
    this.failed = null;
    // A result belongs to the footprint it was computed for: once the
    // footprint changes, its overlaps go and the result is marked stale.
    this.overlaps.clearLayers();
    const box = document.getElementById('check-result');
    if (box.firstChild && !box.querySelector('.stale-note')) {
      box.classList.add('stale');
      box.prepend(el('p', { className: 'error stale-note', role: 'status' }, this.t('check.stale')));
    }
    this.showFootprintStatus();
  }

  showFootprintStatus() {
    const status = document.getElementById('fp-status');
    const layers = this.footprint.getLayers();
    if (!layers.length) {
      status.textContent = this.t('fp.empty');
      return;
    }
    const types = layers.map((l) => this.t('geom.' + l.toGeoJSON().geometry.type));
    status.textContent = this.t('fp.parts', { n: layers.length, types: [...new Set(types)].join(', ') });
  }

  /**
   * upload sends a file (or a pasted table) to /api/convert in the picked
   * CRS and, when the server could read it, shows the WGS84 result on the
   * map as the footprint to check. source: {blob, name, label, format?};
   * label is how the page names it (a pasted table has no file name).
   * A file the server cannot read leaves the footprint as it was and says
   * which file, which record and what is wrong.
   */
  async upload(source) {
    const status = document.getElementById('fp-status');
    status.textContent = this.t('fp.reading', { file: source.label });
    const token = (this.uploadToken = {});
    this.hideUploadError();
    let res;
    try {
      res = await convert(this.app.api, source.blob, source.name, this.picker.value, source.format);
    } catch (err) {
      if (token !== this.uploadToken) return;
      this.showFootprintStatus();
      this.failed = source;
      if (describeUploadError(err, source, this.app.i18n)) this.showUploadError({ err, source });
      else this.app.notices.apiError(err);
      return;
    }
    if (token !== this.uploadToken) return; // a later upload or pick won
    const fc = res && res.footprints;
    const features = fc && Array.isArray(fc.features) ? fc.features.filter((f) => f && f.geometry) : [];
    if (!features.length) {
      this.showFootprintStatus();
      this.showUploadError({ source, key: 'fp.why.noFeatures' });
      return;
    }
    if (new Set(features.map((f) => family(f.geometry))).size > 1) {
      this.showFootprintStatus();
      this.showUploadError({ source, key: 'fp.mixed' });
      return;
    }
    this.showUploaded(features, source, res);
  }

  /** showUploaded makes converted features the footprint: previewed, zoomed to, editable when small. */
  showUploaded(features, source, res) {
    const L = window.L;
    this.clear();
    const vertices = features.reduce((n, f) => n + countVertices(f.geometry), 0);
    const editable = vertices <= MAX_EDIT_VERTICES;
    let count = 0;
    L.geoJSON({ type: 'FeatureCollection', features }, {
      style: () => UPLOAD_STYLE,
      pmIgnore: !editable,
      onEachFeature: (feature, layer) => {
        this.footprint.addLayer(layer);
        layer.on('pm:edit', () => this.footprintChanged());
        count++;
      },
    });
    // Attributes in the file fill the form (a value the file lacks is kept).
    if (features.length === 1 && features[0].properties) this.fillForm(features[0].properties);
    this.app.map.fitBounds(this.footprint.getBounds(), { maxZoom: 17, padding: [30, 30] });
    this.source = source;
    this.converted = { label: source.label, format: res.format, crs: res.crs, editable, vertices };
    this.showSource();
    this.showFootprintStatus();
    this.app.notices.info(this.t('fp.loaded', { n: count, file: source.label }));
  }

  /** showSource says what the footprint was read from, in which format and CRS. */
  showSource() {
    const box = document.getElementById('fp-source');
    const c = this.converted;
    if (!c) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const code = c.crs && c.crs.code ? c.crs.code : '';
    const known = this.picker.byCode(code);
    let crsText = known ? crsLabel(known, this.app.i18n) : (c.crs && c.crs.name) || code;
    // A shapefile's .prj wins over the picker (which serves only when the .prj is missing).
    if (c.format === 'shapefile' && this.picker.value !== code) crsText = this.t('fp.source.prj', { crs: crsText });
    const format = this.t('format.' + c.format) === 'format.' + c.format ? String(c.format || '') : this.t('format.' + c.format);
    box.replaceChildren(this.t('fp.source', { file: c.label, format, crs: crsText }),
      c.editable ? '' : el('span', {}, ' ', this.t('fp.notEditable', { n: c.vertices })));
    box.hidden = false;
  }

  /**
   * showUploadError says why a file was not read, next to the upload: a
   * server problem {err, source} or a page's own {source, key}. It is kept
   * to be worded again on a language switch.
   */
  showUploadError(problem) {
    this.uploadError = problem;
    const { err, source, key } = problem;
    const described = err ? describeUploadError(err, source, this.app.i18n)
      : { text: this.t('fp.readFailed', { file: source.label }), items: [this.t(key)] };
    const box = document.getElementById('fp-error');
    showUploadError(box, described);
    box.scrollIntoView({ block: 'nearest' });
  }

  hideUploadError() {
    this.uploadError = null;
    const box = document.getElementById('fp-error');
    box.hidden = true;
    box.replaceChildren();
  }

  fillForm(p) {
    const f = document.getElementById('attr-form');
    const set = (name, v) => {
      const input = f.elements[name];
      if (input && v !== undefined && v !== null && v !== '') input.value = v;
    };
    set('name', p.name);
    set('investor', p.investor);
    set('sector', p.sector);
    set('height_m', p.height_m);
    if (Array.isArray(p.activities)) {
      for (const box of f.querySelectorAll('input[name=activities]')) box.checked = p.activities.includes(box.value);
    }
  }

  /** attributes reads the form: name, investor, sector, height_m, activities. */
  attributes() {
    const f = document.getElementById('attr-form');
    const height = f.elements.height_m.value.trim();
    return {
      name: f.elements.name.value.trim(),
      investor: f.elements.investor.value.trim(),
      sector: f.elements.sector.value.trim(),
      height_m: height === '' ? null : Number(height),
      activities: [...f.querySelectorAll('input[name=activities]:checked')].map((b) => b.value),
    };
  }

  /**
   * geometry merges the footprint's parts into one GeoJSON geometry (WGS84
   * lon/lat): one part as it is, parts of one kind as a Multi geometry,
   * mixed kinds as a GeometryCollection. Null when nothing is drawn.
   */
  geometry() {
    const geoms = this.footprint.getLayers().map((l) => l.toGeoJSON(false).geometry);
    return mergeGeometries(geoms);
  }

  async check() {
    const geometry = this.geometry();
    if (!geometry) {
      this.app.notices.error(this.t('fp.missing'));
      return;
    }
    const a = this.attributes();
    const properties = { activities: a.activities };
    if (a.name) properties.name = a.name;
    if (a.sector) properties.sector = a.sector;
    if (a.height_m !== null) properties.height_m = a.height_m;
    const btn = document.getElementById('check-run');
    btn.disabled = true;
    btn.textContent = this.t('check.running');
    try {
      const result = await this.app.api.post('api/check', { type: 'Feature', geometry, properties });
      this.result = result;
      this.resultGeometry = JSON.stringify(geometry);
      this.showResult(result);
    } catch (err) {
      this.app.notices.apiError(err);
    } finally {
      btn.disabled = false;
      btn.textContent = this.t('check.run');
    }
  }

  showResult(result) {
    const box = document.getElementById('check-result');
    box.classList.remove('stale');
    box.replaceChildren(renderResult(result, this.app, this.overlaps));
    // Bring the verdict into view and give it focus, so that keyboard and
    // screen-reader users land on the answer.
    const banner = box.querySelector('.verdict');
    if (banner) {
      banner.scrollIntoView({ block: 'start' });
      banner.focus({ preventScroll: true });
    }
  }

  async save() {
    const geometry = this.geometry();
    if (!geometry) {
      this.app.notices.error(this.t('fp.missing'));
      return;
    }
    const a = this.attributes();
    if (!a.name) {
      this.app.notices.error(this.t('attr.nameMissing'));
      document.getElementById('attr-name').focus();
      return;
    }
    const body = { name: a.name, investor: a.investor, sector: a.sector, activities: a.activities, footprint: geometry };
    if (a.height_m !== null) body.height_m = a.height_m;
    const btn = document.getElementById('check-save');
    btn.disabled = true;
    try {
      const appraisal = await this.app.api.post('api/appraisals', body);
      this.app.notices.info(this.t('check.saved', { name: appraisal.name || a.name }));
      this.app.selectTab('appraisals');
      this.app.appraisals.invalidate();
      await this.app.appraisals.open(appraisal.id, appraisal);
    } catch (err) {
      this.app.notices.apiError(err);
    } finally {
      btn.disabled = false;
    }
  }
}

/** family is a geometry's kind without Multi: Point, LineString, Polygon or GeometryCollection. */
function family(g) {
  return g.type.replace(/^Multi/, '');
}

/** countVertices counts the positions of a GeoJSON geometry. */
function countVertices(g) {
  if (!g) return 0;
  if (g.type === 'GeometryCollection') return (g.geometries || []).reduce((n, x) => n + countVertices(x), 0);
  const walk = (c) => (typeof c[0] === 'number' ? 1 : c.reduce((n, x) => n + walk(x), 0));
  return Array.isArray(g.coordinates) && g.coordinates.length ? walk(g.coordinates) : 0;
}

/** mergeGeometries combines GeoJSON geometries into one (see Appraiser.geometry). */
export function mergeGeometries(geoms) {
  const parts = geoms.filter(Boolean);
  if (!parts.length) return null;
  if (parts.length === 1) return parts[0];
  const fam = family(parts[0]);
  if (fam !== 'GeometryCollection' && parts.every((g) => family(g) === fam)) {
    const coords = [];
    for (const g of parts) {
      if (g.type.startsWith('Multi')) coords.push(...g.coordinates);
      else coords.push(g.coordinates);
    }
    return { type: 'Multi' + fam, coordinates: coords };
  }
  return { type: 'GeometryCollection', geometries: parts };
}

/**
 * renderResult draws a check result: the verdict banner, the figures, the
 * findings (a click zooms to one), and the overlaps on the map (into the
 * given feature group). Shared by the check panel and the appraisal record.
 */
export function renderResult(result, app, overlapGroup) {
  const { i18n } = app;
  const t = i18n.t.bind(i18n);
  const L = window.L;
  const v = result.verdict;
  overlapGroup.clearLayers();

  const banner = el('div', { className: `verdict verdict-${v}`, role: 'status', tabindex: '-1', 'data-verdict': v },
    el('span', { className: 'mark', 'aria-hidden': 'true' }, verdictMark(v)),
    el('div', {},
      el('div', { className: 'word' }, `${t('verdict.label')}: ${t('verdict.' + v)}`),
      el('p', {}, t(`verdict.${v}.text`))));

  const fp = result.footprint || {};
  const figures = meta([
    [t('result.area'), fp.area_m2 ? formatArea(fp.area_m2, i18n) : ''],
    [t('result.length'), fp.length_m ? formatMetres(fp.length_m, i18n) : ''],
    [t('result.ruleset'), result.ruleset_version],
  ]);
  // The server's counters (data version, time taken) matter to whoever
  // runs it, not to an appraiser: shown on request.
  const counters = [
    [t('result.data'), result.data_version],
    [t('result.took'), result.took_ms !== undefined ? `${i18n.number(result.took_ms, 1)} ms` : ''],
  ];
  const technical = counters.some(([, v]) => v !== undefined && v !== null && v !== '')
    ? el('details', { className: 'technical' }, el('summary', {}, t('result.technical')), meta(counters))
    : null;

  const findings = Array.isArray(result.findings) ? result.findings : [];
  const list = el('ul', { className: 'findings' });
  findings.forEach((f, i) => {
    let overlapLayer = null;
    if (f.overlap) {
      overlapLayer = L.geoJSON(f.overlap, { style: () => OVERLAP_STYLE, pmIgnore: true, interactive: false });
      overlapGroup.addLayer(overlapLayer);
    }
    // A finding about a component the caller may not see carries no name,
    // place or distance: the server marks it redacted (on the finding or on
    // its component) and the page says so instead of showing blanks.
    const redacted = !!(f.redacted || (f.component && f.component.redacted));
    const c = redacted ? null : f.component;
    const layer = c ? app.layerById(c.layer) : null;
    const rows = [
      [t('finding.zone'), f.zone ? i18n.kind(f.zone) : ''],
      [t('finding.component'), c ? `${c.name || ''}${c.kind ? ' — ' + i18n.kind(c.kind) : ''}${layer ? ' (' + i18n.title(layer) + ')' : ''}` : ''],
      [t('finding.band'), band(f, i18n.lang)],
      [t('finding.distance'), redacted || f.distance_m === undefined || f.distance_m === null ? ''
        : Number(f.distance_m) === 0 ? t('finding.inside') : formatMetres(f.distance_m, i18n)],
      [t('finding.overlap'), f.overlap_area_m2 ? formatArea(f.overlap_area_m2, i18n) : ''],
      [t('finding.basis'), basis(f, i18n.lang)],
      [t('finding.contact'), localized(f.contact, i18n.lang)],
    ];
    const message = typeof f.message === 'object' ? localized(f.message, i18n.lang)
      : i18n.lang === 'vi' && f.message_vi ? f.message_vi : f.message;
    const content = [
      el('span', { className: 'head' }, verdictChip(f.verdict, i18n), el('span', {}, `${t('finding.rule')}: ${f.rule || ''}`)),
      redacted ? el('p', { className: 'message redacted-note' }, t('finding.redacted')) : null,
      meta(rows),
      message ? el('p', { className: 'message' }, message) : null,
      f.provisional ? el('p', { className: 'hint' }, t('finding.provisional')) : null,
    ];
    const canZoom = !!(f.overlap || (c && c.id !== undefined));
    const item = el('li', { className: redacted ? 'redacted' : '', 'data-verdict': f.verdict, 'data-index': i });
    if (canZoom) item.append(el('button', { type: 'button', className: 'finding', onclick: () => zoomToFinding(app, f, overlapLayer) }, content));
    else item.append(el('div', { className: 'finding', style: 'padding:.45rem .3rem' }, content));
    list.append(item);
  });

  return el('div', {},
    banner,
    figures,
    technical,
    el('h3', {}, t('findings.title')),
    !findings.length ? el('p', { className: 'hint' }, t('findings.none'))
      : list.querySelector('button.finding') ? el('p', { className: 'hint' }, t('findings.zoom')) : null,
    list);
}

/** localized picks the caller's language from a {vi, en} object, or returns a string as it is. */
function localized(v, lang) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return v[lang] || v.vi || v.en || '';
}

/** zoomToFinding shows the overlap, or else the component the finding names. */
async function zoomToFinding(app, f, overlapLayer) {
  const map = app.map;
  if (overlapLayer && overlapLayer.getBounds().isValid()) {
    map.fitBounds(overlapLayer.getBounds(), { maxZoom: 18, padding: [40, 40] });
    return;
  }
  const c = f.component;
  if (!c) return;
  try {
    const feature = await app.fetchFeature(c.layer, c.id);
    const bounds = window.L.geoJSON(feature).getBounds();
    if (app.appraiser && app.appraiser.footprint.getLayers().length) bounds.extend(app.appraiser.footprint.getBounds());
    if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 17, padding: [40, 40] });
  } catch (err) {
    app.notices.apiError(err);
  }
}
