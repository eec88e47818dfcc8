// upload.js: reading a footprint from a file or a pasted boundary-point
// table. The CRS picker (filled from /api/crs), the request to
// /api/convert (which reads the file, transforms it to WGS84 and stores
// nothing), and the server's file/record/reason problems in the user's
// language. check.js previews the result and makes it the footprint.

import { el } from './ui.js';
import { ApiError } from './api.js';
import { serverReason, localizePointer } from './serverwords.js';

/** CRS_KEY keeps the last CRS picked in this tab's session storage. */
const CRS_KEY = 'zoneplan.crs';

/** ACCEPT is what the file input offers: every format /api/convert reads. */
export const ACCEPT = '.geojson,.json,.kml,.kmz,.zip,.csv,.txt,application/geo+json,application/json,application/vnd.google-earth.kml+xml,application/vnd.google-earth.kmz,application/zip,text/csv,text/plain';

/** PASTED_NAME is the file name a pasted table is sent (and named in errors) under. */
export const PASTED_NAME = 'pasted-table.txt';

/**
 * formatOfName guesses the format of a file from its name, as the server
 * sniffs it (a .zip may also be a KMZ: the server's answer says).
 */
export function formatOfName(name) {
  const ext = String(name).toLowerCase().replace(/^.*(\.[^.]*)$/, '$1');
  return { '.geojson': 'geojson', '.json': 'geojson', '.kml': 'kml', '.kmz': 'kmz', '.zip': 'shapefile', '.csv': 'table', '.txt': 'table' }[ext] || '';
}

/**
 * crsGroup sorts a CRS of /api/crs into the picker's groups: wgs84 (and Web
 * Mercator), tm3 (VN-2000 provincial 3-degree zones, named by their central
 * meridian), utm (VN-2000 UTM 48N, 49N) and vn2000 (VN-2000 geographic and
 * the national 3-degree zones 481, 482, 491).
 */
export function crsGroup(c) {
  const name = String(c.name || '');
  if (!/VN-?2000/i.test(name)) return 'wgs84';
  if (/UTM/i.test(name)) return 'utm';
  if (/TM-?3 \d+-\d+/i.test(name)) return 'tm3';
  return 'vn2000';
}

/** GROUPS is the order of the picker's groups. */
const GROUPS = ['wgs84', 'tm3', 'utm', 'vn2000'];

/**
 * crsLabel names a CRS in the current language: the zone's central
 * meridian, where it is used (Vietnamese province names from i18n.js), and
 * its code.
 */
export function crsLabel(c, i18n) {
  if (c.code === 'OGC:CRS84') return i18n.t('crs.crs84');
  const name = crsName(c, i18n);
  const area = i18n.crsArea(c.code) || String(c.area || '').replace(/^Vietnam - /, 'Vietnam, ');
  return area ? `${name} — ${area} (${c.code})` : `${name} (${c.code})`;
}

/** crsName names a CRS in the current language, without its area and code. */
export function crsName(c, i18n) {
  const t = i18n.t.bind(i18n);
  if (c.code === 'OGC:CRS84') return t('crs.crs84');
  let name = c.name;
  const m = /TM-?3 (\d+)-(\d+)/.exec(c.name || '');
  if (m) name = t('crs.tm3', { meridian: `${Number(m[1])}°${m[2]}′` });
  const zone = /TM-?3 zone (\d+)/.exec(c.name || '');
  if (zone) name = t('crs.tm3zone', { zone: zone[1] });
  const utm = /UTM zone (\d+N)/.exec(c.name || '');
  if (utm) name = t('crs.utm', { zone: utm[1] });
  if (c.code === 'EPSG:4756') name = t('crs.vn2000geo');
  return name;
}

/** CRSPicker is the select of the CRS an uploaded file's coordinates are in. */
export class CRSPicker {
  /**
   * @param {HTMLSelectElement} select
   * @param {object} app the App (api, i18n)
   */
  constructor(select, app) {
    this.select = select;
    this.app = app;
    this.list = []; // /api/crs
    // A pick serves the next file chosen (or the file on screen, read
    // again), not every file after it: a zone picked for one table must not
    // turn the next WGS84 file into metres. pickedSinceFile: the user picked
    // since the last file was chosen, so the pick is meant for the next one.
    this.pickedSinceFile = false;
    select.addEventListener('change', () => {
      this.pickedSinceFile = true;
      if (select.value) sessionStorage.setItem(CRS_KEY, select.value);
      else sessionStorage.removeItem(CRS_KEY);
      this.showTitle();
    });
    this.fill();
  }

  /** value is the picked CRS code, or '' to let the file (or WGS84) decide. */
  get value() {
    return this.select.value;
  }

  /** byCode returns the listed CRS with that code, or null. */
  byCode(code) {
    return this.list.find((c) => c.code === code) || null;
  }

  /** load fetches the supported CRSs (public: no sign-in needed) and fills the picker. */
  async load() {
    try {
      const list = await this.app.api.get('api/crs', undefined, { quiet: true });
      this.list = Array.isArray(list) ? list : [];
      // The pointer readout converts to the same zones.
      if (this.app.readout) this.app.readout.setZones(this.list);
    } catch (err) {
      this.app.notices.apiError(err);
    }
    this.fill();
  }

  /** fill (re)builds the options in the current language, keeping the choice. */
  fill() {
    const t = this.app.i18n.t.bind(this.app.i18n);
    const keep = this.select.value || sessionStorage.getItem(CRS_KEY) || '';
    const groups = GROUPS.map((g) => {
      const items = this.list.filter((c) => crsGroup(c) === g);
      if (!items.length) return null;
      return el('optgroup', { label: t('crs.group.' + g) },
        items.map((c) => el('option', { value: c.code }, crsLabel(c, this.app.i18n))));
    });
    this.select.replaceChildren(el('option', { value: '' }, t('crs.auto')), ...groups);
    this.select.value = this.list.some((c) => c.code === keep) ? keep : '';
    this.showTitle();
  }

  /** showTitle puts the whole label of the pick in a tooltip: the narrow select cuts it. */
  showTitle() {
    const opt = this.select.selectedOptions[0];
    this.select.title = opt ? opt.textContent : '';
  }

  /**
   * newFile is called when another file is chosen: a pick made for an
   * earlier file is dropped, one made since is kept for this file.
   */
  newFile() {
    if (!this.pickedSinceFile) this.reset();
    this.pickedSinceFile = false;
  }

  /** reset goes back to "as the file says" and forgets the pick. */
  reset() {
    this.pickedSinceFile = false;
    this.select.value = '';
    sessionStorage.removeItem(CRS_KEY);
    this.showTitle();
  }

  /** pick selects a CRS by code (as the user would, remembered for the session). */
  pick(code) {
    this.select.value = code;
    this.select.dispatchEvent(new Event('change'));
  }
}

/**
 * convert sends a file to /api/convert with the picked CRS (and the
 * format, when it is forced) and returns {format, crs, footprints}: the
 * footprints as a WGS84 FeatureCollection.
 */
export async function convert(api, blob, name, crs, format) {
  const form = new FormData();
  form.append('file', blob, name);
  if (crs) form.append('crs', crs);
  if (format) form.append('format', format);
  return api.post('api/convert', form);
}

/**
 * describeUploadError turns a failed /api/convert into a sentence naming
 * the file and a list of "file: record: reason" lines in the user's
 * language. source: {name, label} as sent (the server names source.name,
 * the page says source.label). Null when the error is not about the file
 * (network, sign-in): the caller shows those as usual.
 */
export function describeUploadError(err, source, i18n) {
  if (!(err instanceof ApiError) || (err.status !== 422 && err.status !== 400 && err.status !== 413)) return null;
  const t = i18n.t.bind(i18n);
  const named = (s) => (source.label && s.startsWith(source.name) ? source.label + s.slice(source.name.length) : s);
  const lines = err.errors.map((d) => {
    const where = d.pointer ? localizePlace(named(d.pointer), i18n) : '';
    const reason = localizeReason(String(d.reason || ''), i18n);
    return where ? `${where}: ${reason}` : reason;
  });
  if (!lines.length) lines.push(localizeProblem(named(String(err.problem.detail || err.problem.title || '')), i18n));
  return { text: t('fp.readFailed', { file: source.label || source.name }), items: lines };
}

/**
 * localizePlace words a problem's place, "site.zip: site.shp: record 3",
 * in the current language: the file names are kept, records translated.
 */
export function localizePlace(pointer, i18n) {
  const t = i18n.t.bind(i18n);
  const places = [
    [/^row (\d+)$/, (m) => t('fp.where.row', { n: m[1] })],
    [/^record (\d+)$/, (m) => t('fp.where.record', { n: m[1] })],
    [/^feature (\d+)$/, (m) => t('fp.where.feature', { n: m[1] })],
    // KML: placemark 1 "name" (line 3)
    [/^placemark (\d+)(.*)$/, (m) => t('fp.where.placemark', { n: m[1] })
      + m[2].replace(/\(line (\d+)\)/, (x, n) => `(${t('fp.where.line', { n })})`)],
    [/^boundary of rows (\d+)-(\d+)$/, (m) => t('fp.where.boundary', { a: m[1], b: m[2] })],
    [/^crs$/, () => t('fp.where.crs')],
    [/^file$/, () => t('fp.where.file')],
  ];
  return pointer.split(': ').map((part) => {
    for (const [re, fn] of places) {
      const m = re.exec(part);
      if (m) return fn(m);
    }
    return part;
  }).join(': ');
}

/**
 * localizeProblem words a whole problem message ("file: where: reason"):
 * the part after the last place is the reason.
 */
function localizeProblem(msg, i18n) {
  const parts = msg.split(': ');
  for (let i = 1; i < parts.length; i++) {
    const reason = parts.slice(i).join(': ');
    const said = localizeReason(reason, i18n);
    if (said !== reason) return `${localizePlace(parts.slice(0, i).join(': '), i18n)}: ${said}`;
  }
  return localizeReason(msg, i18n);
}

/**
 * REASONS are the server's file problems (package formats) the page words
 * in Vietnamese; any other reason is shown as the server wrote it. In
 * English the server's words are used as they are.
 */
const REASONS = [
  [/^([XY]) "(.*)" is not a number$/, 'fp.why.notNumber', (m) => ({ axis: m[1], v: m[2] })],
  [/^a boundary needs at least 3 points, the table has (\d+)$/, 'fp.why.fewPoints', (m) => ({ n: m[1] })],
  [/^point (\S+): X (\S+), Y (\S+): X and Y look swapped/, 'fp.why.swapped', (m) => ({ num: m[1], x: m[2], y: m[3] })],
  [/^point (\S+): X (\S+), Y (\S+) \(northing, easting\): (.*)$/, 'fp.why.outside', (m) => ({ num: m[1], x: m[2], y: m[3], why: m[4] })],
  [/^has (\d+) columns?[,;]/, 'fp.why.columns', (m) => ({ n: m[1] })],
  [/^a boundary-point table needs its CRS/, 'fp.why.tableCRS', () => ({})],
  [/^a boundary-point table holds X \(northing\) and Y \(easting\) in metres; (\S+) is geographic/, 'fp.why.tableGeographic', (m) => ({ crs: m[1] })],
  [/^empty table/, 'fp.why.emptyTable', () => ({})],
  [/^not a readable zip archive/, 'fp.why.badZip', () => ({})],
  [/^cannot (open|read) (in|from) the archive/, 'fp.why.badZip', () => ({})],
  [/^no \.shp file in the archive \(found: (.*)\)$/, 'fp.why.noShp', (m) => ({ found: m[1] })],
  [/^unknown CRS: (.*?); zoneplan reads/, 'fp.why.unknownPrj', (m) => ({ why: m[1] })],
  [/^missing: the shapefile does not say its CRS/, 'fp.why.noPrj', () => ({})],
  [/^the shapefile has no shapes$/, 'fp.why.noShapes', () => ({})],
  [/^truncated(.*)$/, 'fp.why.truncated', (m) => ({ why: m[1].replace(/^[:\s]+/, '') })],
  [/^no placemark has a geometry$/, 'fp.why.kmlNoGeometry', () => ({})],
  [/^no geometry/, 'fp.why.noGeometry', () => ({})],
  [/^no Placemark found/, 'fp.why.noPlacemark', () => ({})],
  [/^no \.kml file in the KMZ archive$/, 'fp.why.noKml', () => ({})],
  [/^not valid JSON: (.*)$/, 'fp.why.json', (m) => ({ why: m[1] })],
  [/^not valid XML at line (\d+)/, 'fp.why.xml', (m) => ({ line: m[1] })],
  [/^no features with a geometry$/, 'fp.why.noFeatures', () => ({})],
  [/^(.*) is empty$/, 'fp.why.empty', () => ({})],
  [/^(.*?)\[([^\]]*)\] looks like longitude, latitude degrees, not (\S+) metres/, 'fp.why.degrees', (m) => ({ pre: m[1], p: m[2], crs: m[3] })],
  [/upload a shapefile as one \.zip/, 'fp.why.shpAlone', () => ({})],
];

/** localizeReason words one reason in Vietnamese when the page knows it. */
export function localizeReason(reason, i18n) {
  if (i18n.lang !== 'vi') return reason;
  for (const [re, key, vars] of REASONS) {
    const m = re.exec(reason);
    if (m) return i18n.t(key, vars(m));
  }
  // A geometry fault (an unclosed or self-intersecting ring) is worded as
  // in the check's problems, after its place in the geometry when it
  // starts with one ("coordinates[0]: ring intersects itself").
  const said = serverReason(reason);
  if (said !== null) return said;
  const m = /^((?:geometry\.)?coordinates(?:\[\d+\])*): (.*)$/.exec(reason);
  if (m && serverReason(m[2]) !== null) return `${localizePointer(m[1], i18n.lang)}: ${serverReason(m[2])}`;
  return reason;
}

/** showUploadError fills the panel's upload-error element with a described error. */
export function showUploadError(box, described) {
  box.replaceChildren(el('p', {}, described.text),
    described.items.length ? el('ul', {}, described.items.map((i) => el('li', {}, i))) : null);
  box.hidden = false;
}
