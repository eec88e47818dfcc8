// main.js: the zoneplan map page. It builds the map, signs the user in,
// shows the layers the user may see, and hands the footprint check and the
// appraisal list to their own modules. Every piece of state lives in one App
// object; nothing is kept in module-level variables.

import { Client, Session, ApiError } from './api.js';
import { I18n } from './i18n.js';
import { el, meta, Notices, swatch, formatMetres, verdictMark } from './ui.js';
import {
  createDataGrid, cssId, layerPathStyle, isApproved,
  ZONE_KINDS, ZONE_MIN_ZOOM, ZONE_STYLE, PROVISIONAL_DASH, VERDICT_OUTLINE, CLUSTER, CLUSTER_MAX_ZOOM, pointStyle,
} from './tiles.js';
import { Appraiser, FOOTPRINT_STYLE, OVERLAP_STYLE, UPLOAD_STYLE } from './check.js';
import { Appraisals, RECORD_STYLE } from './appraisals.js';
import { Measure, Readout } from './measure.js';

/** PERMISSIONS mirrors the server's role table (internal/zone rolePermissions) to show only usable controls. */
const PERMISSIONS = {
  viewer: ['read'],
  appraiser: ['read', 'check', 'appraise'],
  reviewer: ['read', 'check', 'read_appraisals', 'decide'],
  editor: ['read', 'check', 'edit'],
  admin: ['read', 'check', 'appraise', 'read_appraisals', 'decide', 'edit', 'manage_tokens', 'manage_rules', 'read_audit'],
  auditor: ['read', 'read_audit'],
};

/** GROUPS is the order of the layer groups in the panel. */
const GROUPS = ['border', 'defence', 'projects'];

/** COVERAGE_STYLE draws where the data is complete: a faint wash, a dotted edge. */
const COVERAGE_STYLE = { color: '#2f6f8f', weight: 1.5, dashArray: '1 4', fillColor: '#7fb8d4', fillOpacity: 0.08 };

/** VIETNAM_BOUNDS is the first view when the URL names none: mainland Vietnam (WGS84). */
const VIETNAM_BOUNDS = [[8.3, 102.1], [23.4, 109.6]];

/** PLACES_MIN_ZOOM is the lowest zoom at which the provincial centres are named. */
const PLACES_MIN_ZOOM = 6;

/** TRANSPARENT_PNG stands in for a raster base tile that failed to load. */
const TRANSPARENT_PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

class App {
  constructor() {
    this.i18n = new I18n();
    this.session = new Session();
    this.api = new Client(this.session, () => this.i18n.lang);
    this.notices = new Notices(document.getElementById('notices'), this.i18n);
    this.config = { basemap_url: '', basemap_attribution: '', public_read: false };
    this.me = null; // the signed-in principal, or null
    this.layers = []; // the caller's layers from /api/layers
    this.grid = null; // the VectorGrid of data layers
    this.hidden = new Set(); // hidden layer ids and zone kinds ("zone:<kind>")
    this.lastTileError = 0;
    this.api.onUnauthorized = () => this.signedOut('signin.expired');
  }

  async start() {
    performance.mark('zoneplan:start');
    document.title = `zoneplan – ${this.i18n.t('app.title')}`;
    // The first requests go out at once, in parallel, before the map is
    // built: the configuration, and with a saved token who the user is and
    // which layers they see. That saves two round trips on every load.
    const early = {
      config: this.api.get('api/config'),
      countries: this.api.get('api/basemap/countries.geojson'),
      places: this.api.get('api/basemap/places.geojson'),
      me: this.session.token ? this.api.request('api/me', { quiet: true }) : null,
      layers: this.session.token ? this.api.request('api/layers', { quiet: true }) : null,
    };
    // Nothing may reject unobserved: the steps below decide what an error means.
    for (const p of Object.values(early)) if (p) p.catch(() => {});

    this.i18n.apply(document);
    this.readHash();
    this.buildMap();
    this.readout = new Readout(this);
    this.measure = new Measure(this);
    this.wireHeader();
    this.wireTabs();
    this.wireSearch();
    this.appraiser = new Appraiser(this);
    this.appraisals = new Appraisals(this);
    this.i18n.onChange(() => this.relabel());

    try {
      this.config = { ...this.config, ...(await early.config) };
    } catch (err) {
      this.notices.apiError(err);
    }
    this.setupBaseMaps(early.countries, early.places);
    await this.authenticate(early);
    performance.mark('zoneplan:ready');
  }

  /**
   * confirm asks a yes/no question in the page's own dialog (the browser's
   * confirm() is worded in the browser's language) and resolves true when
   * the user chose okLabel.
   */
  confirm(text, okLabel) {
    const dialog = document.getElementById('confirm-dialog');
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-ok').textContent = okLabel;
    dialog.returnValue = '';
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
      dialog.showModal();
      document.getElementById('confirm-cancel').focus();
    });
  }

  // ---- permissions ------------------------------------------------------

  /** can reports whether the signed-in user's role grants a permission. */
  can(perm) {
    if (!this.me) return false;
    if (Array.isArray(this.me.permissions)) return this.me.permissions.includes(perm);
    return (PERMISSIONS[this.me.role] || []).includes(perm);
  }

  layerById(id) {
    return this.layers.find((l) => l.id === id);
  }

  // ---- the map ------------------------------------------------------------

  buildMap() {
    const L = window.L;
    const map = L.map('map', {
      zoomControl: true,
      maxZoom: 22,
      minZoom: 3,
      worldCopyJump: true,
      keyboard: true,
    });
    this.map = map;
    map.attributionControl.setPrefix('Leaflet');
    // Panes, bottom to top: offline outlines, raster base (tilePane, 200),
    // data tiles, then drawn footprints and highlights (overlayPane, 400).
    map.createPane('zpBase').style.zIndex = 150;
    // Where each layer's data is complete, under the data, taking no clicks.
    const coverage = map.createPane('zpCoverage');
    coverage.style.zIndex = 300;
    coverage.style.pointerEvents = 'none';
    map.createPane('zpData').style.zIndex = 350;
    // Labels and cluster counts over the data, taking no clicks.
    const labels = map.createPane('zpLabels');
    labels.style.zIndex = 360;
    labels.style.pointerEvents = 'none';
    L.control.scale({ imperial: false }).addTo(map);
    this.labelMapControls();
    // Leaflet names a popup's close button in English: name it in the user's language.
    map.on('popupopen', (e) => {
      const close = e.popup.getElement() && e.popup.getElement().querySelector('.leaflet-popup-close-button');
      if (close) {
        close.setAttribute('aria-label', this.i18n.t('map.closePopup'));
        close.title = this.i18n.t('map.closePopup');
      }
    });

    if (this.initialView) map.setView(this.initialView.center, this.initialView.zoom);
    else map.fitBounds(VIETNAM_BOUNDS);

    map.on('moveend', () => this.writeHash());
    map.on('zoomend', () => this.updateZoneNote());
    // A link pasted into this tab (only the fragment changes) moves the map,
    // shows the layers it names, and opens the appraisal it names.
    window.addEventListener('hashchange', () => {
      if (location.hash === this.hashText) return; // written by writeHash
      this.readHash();
      if (this.initialView) map.setView(this.initialView.center, this.initialView.zoom);
      this.buildLayerPanel();
      if (this.openAppraisal && this.openAppraisal !== this.appraisals.currentId && this.me) {
        this.selectTab('appraisals');
        this.appraisals.open(this.openAppraisal);
      }
      this.openAppraisal = '';
    });
    // Geoman draws into the overlay pane; its tooltips follow the page language.
    if (map.pm) {
      map.pm.setGlobalOptions({ snappable: false, allowSelfIntersection: false });
      this.setDrawLanguage();
    }
  }

  /** labelMapControls names Leaflet's zoom buttons (English titles by default) in the user's language. */
  labelMapControls() {
    const c = this.map.getContainer();
    for (const [sel, key] of [['.leaflet-control-zoom-in', 'map.zoomIn'], ['.leaflet-control-zoom-out', 'map.zoomOut']]) {
      const a = c.querySelector(sel);
      if (!a) continue;
      a.title = this.i18n.t(key);
      a.setAttribute('aria-label', this.i18n.t(key));
    }
  }

  setDrawLanguage() {
    if (!this.map.pm) return;
    if (this.i18n.lang === 'en') {
      this.map.pm.setLang('en');
      return;
    }
    this.map.pm.setLang('vi_zoneplan', {
      tooltips: {
        placeMarker: 'Bấm để đặt điểm',
        firstVertex: 'Bấm để đặt đỉnh đầu tiên',
        continueLine: 'Bấm để vẽ tiếp',
        finishLine: 'Bấm vào một đỉnh đã có để kết thúc',
        finishPoly: 'Bấm vào đỉnh đầu tiên để khép vùng',
        finishRect: 'Bấm để kết thúc',
      },
      actions: { finish: 'Xong', cancel: 'Huỷ', removeLastVertex: 'Xoá đỉnh cuối' },
    }, 'en');
  }

  /** setupBaseMaps adds the offline outlines (countries: the request for them) and the configured raster base map. */
  setupBaseMaps(countries, places) {
    const L = window.L;
    const online = document.getElementById('base-online');
    const offline = document.getElementById('base-offline');
    const note = document.getElementById('base-note');

    this.offlineBase = L.geoJSON(null, {
      pane: 'zpBase',
      renderer: L.canvas({ pane: 'zpBase' }),
      interactive: false,
      pmIgnore: true,
      style: (f) => offlineStyle(f.properties || {}),
    }).addTo(this.map);
    this.baseLabels = L.layerGroup().addTo(this.map);
    countries
      .then((gj) => {
        this.offlineBase.addData(gj);
        this.baseFeatures = (gj.features || []).filter((f) => f.properties && f.properties.kind === 'archipelago');
        this.labelBase();
      })
      .catch((err) => this.notices.apiError(err));
    // The provincial centres: a dot and the province's name, from zoom 6
    // (below it, 34 names would cover the country).
    if (places) {
      places
        .then((gj) => {
          this.places = gj.features || [];
          this.labelBase();
        })
        .catch((err) => this.notices.apiError(err));
      this.map.on('zoomend', () => this.labelBase());
    }

    const url = this.config.basemap_url;
    const offlineNote = (key) => {
      offline.checked = true;
      note.textContent = this.i18n.t(key);
      note.dataset.i18n = key;
      note.hidden = false;
    };
    if (!url) {
      online.disabled = true;
      offlineNote('base.none');
    } else {
      this.onlineBase = L.tileLayer(url, {
        attribution: this.config.basemap_attribution || '',
        maxNativeZoom: 19,
        maxZoom: 22,
        errorTileUrl: TRANSPARENT_PNG,
        crossOrigin: true,
      });
      // Online or offline is decided once, before any tile is asked for:
      // by the server's probe (/api/config basemap_reachable), or when it
      // has none, by one tile of our own. An offline load then requests no
      // tile it cannot have.
      const decide = (reachable) => {
        if (reachable) {
          this.onlineBase.addTo(this.map);
          online.checked = true;
        } else {
          offlineNote('base.unreachable');
        }
      };
      if (typeof this.config.basemap_reachable === 'boolean') {
        decide(this.config.basemap_reachable);
      } else {
        const probe = new Image();
        probe.crossOrigin = 'anonymous';
        probe.onload = () => decide(true);
        probe.onerror = () => decide(false);
        probe.src = L.Util.template(url, { s: 'a', z: 0, x: 0, y: 0, r: '' });
      }
    }
    // A local archive (serve --basemap-file) works on any network: it is
    // the base map when there is one.
    const archiveRadio = document.getElementById('base-archive');
    const info = this.config.basemap_archive;
    if (info && info.url) {
      this.archiveBase = archiveLayer(info);
      document.getElementById('base-archive-row').hidden = false;
      if (this.onlineBase) this.map.removeLayer(this.onlineBase);
      this.archiveBase.addTo(this.map);
      archiveRadio.checked = true;
      note.hidden = true;
    }
    const choose = () => {
      for (const [layer, radio] of [[this.onlineBase, online], [this.archiveBase, archiveRadio]]) {
        if (!layer) continue;
        if (radio.checked) layer.addTo(this.map);
        else this.map.removeLayer(layer);
      }
    };
    for (const radio of [online, offline, archiveRadio]) radio.addEventListener('change', choose);
  }

  /**
   * labelBase names the base map's archipelagos (Hoàng Sa, Trường Sa): a
   * few islands of a few hundred metres are specks at the zooms where the
   * country is seen whole.
   */
  labelBase() {
    const L = window.L;
    this.baseLabels.clearLayers();
    for (const f of this.baseFeatures || []) {
      const b = L.geoJSON(f).getBounds();
      if (!b.isValid()) continue;
      const text = (this.i18n.lang === 'en' ? f.properties.name_en : f.properties.name) || f.properties.name;
      this.baseLabels.addLayer(L.marker(b.getCenter(), {
        pane: 'zpLabels', interactive: false, keyboard: false,
        icon: L.divIcon({ className: 'zp-label zp-label-area zp-base-label', html: '', iconSize: [0, 0] }),
      }).on('add', (e) => {
        const span = document.createElement('span');
        span.textContent = text;
        e.target.getElement().replaceChildren(span);
      }));
    }
    if (this.map.getZoom() < PLACES_MIN_ZOOM) return;
    for (const f of this.places || []) {
      const [lng, lat] = f.geometry.coordinates;
      const p = f.properties || {};
      const name = (this.i18n.lang === 'en' ? p.name_en : p.name) || p.name;
      this.baseLabels.addLayer(L.circleMarker([lat, lng], {
        pane: 'zpLabels', interactive: false, radius: 3, weight: 1, color: '#5b4a1a', fillColor: '#fff', fillOpacity: 1,
      }));
      this.baseLabels.addLayer(L.marker([lat, lng], {
        pane: 'zpLabels', interactive: false, keyboard: false,
        icon: L.divIcon({ className: 'zp-label zp-place-label', html: '', iconSize: [0, 0] }),
      }).on('add', (e) => {
        const span = document.createElement('span');
        span.textContent = name;
        e.target.getElement().replaceChildren(span);
      }));
    }
  }

  // ---- the URL keeps the view, so a link can be shared -------------------

  /** readHash parses #map=zoom/lat/lng&hide=a,b into the initial view and hidden layers. */
  readHash() {
    this.hashText = location.hash;
    const params = new URLSearchParams(location.hash.replace(/^#/, ''));
    const m = (params.get('map') || '').split('/').map(Number);
    if (m.length === 3 && m.every(Number.isFinite) && Math.abs(m[1]) <= 90) {
      this.initialView = { zoom: m[0], center: [m[1], m[2]] };
    }
    this.hidden = new Set((params.get('hide') || '').split(',').filter(Boolean));
    this.openAppraisal = params.get('appraisal') || '';
  }

  writeHash() {
    if (!this.map) return;
    const c = this.map.getCenter();
    const z = this.map.getZoom();
    // Five decimals of a degree are about a metre: enough for a shared view.
    const params = new URLSearchParams();
    params.set('map', `${z}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
    if (this.hidden.size) params.set('hide', [...this.hidden].join(','));
    if (this.appraisals && this.appraisals.currentId) params.set('appraisal', this.appraisals.currentId);
    const text = '#' + params.toString().replace(/%2F/g, '/').replace(/%2C/g, ',').replace(/%3A/g, ':');
    this.hashText = text;
    history.replaceState(null, '', text);
  }

  // ---- sign in ------------------------------------------------------------

  wireHeader() {
    const dialog = document.getElementById('signin-dialog');
    const form = document.getElementById('signin-form');
    const input = document.getElementById('signin-token');
    const error = document.getElementById('signin-error');
    document.getElementById('signin-open').addEventListener('click', () => this.openSignIn());
    document.getElementById('signin-cancel').addEventListener('click', () => dialog.close());
    document.getElementById('signout').addEventListener('click', () => {
      this.session.token = '';
      this.signedOut(this.config.public_read ? '' : 'signin.needed');
      if (this.config.public_read) this.authenticate();
    });
    document.getElementById('lang').addEventListener('click', () => {
      this.i18n.setLang(this.i18n.lang === 'vi' ? 'en' : 'vi');
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      error.hidden = true;
      const previous = this.session.token;
      this.session.token = token;
      try {
        const me = await this.fetchMe();
        input.value = '';
        dialog.close();
        await this.signedIn(me);
      } catch (err) {
        this.session.token = previous;
        const { status } = err instanceof ApiError ? err : { status: -1 };
        error.textContent = status === 401 ? this.i18n.t('signin.expired') : err.message || String(err);
        if (err instanceof ApiError && err.problem.detail) error.textContent = err.problem.detail;
        error.hidden = false;
      }
    });
  }

  /** fetchMe asks who the token belongs to; a 401 here is an answer, not a session end. */
  fetchMe() {
    return this.api.request('api/me', { quiet: true });
  }

  openSignIn(reasonKey = '') {
    const dialog = document.getElementById('signin-dialog');
    const reason = document.getElementById('signin-reason');
    document.getElementById('signin-error').hidden = true;
    reason.hidden = !reasonKey;
    if (reasonKey) {
      reason.textContent = this.i18n.t(reasonKey);
      reason.dataset.i18n = reasonKey;
    }
    if (!dialog.open) dialog.showModal();
    document.getElementById('signin-token').focus();
  }

  /**
   * authenticate finds out who the user is at start: a saved token, or
   * public read. early holds the requests start() sent ahead, if any.
   */
  async authenticate(early = {}) {
    if (!this.session.token && !this.config.public_read) {
      this.signedOut('signin.needed');
      return;
    }
    try {
      const me = await (early.me || this.fetchMe());
      await this.signedIn(me, early.layers);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        this.session.token = '';
        this.signedOut('signin.expired');
      } else {
        this.notices.apiError(err);
      }
    }
  }

  async signedIn(me, layersRequest) {
    this.me = me;
    this.showUser();
    await this.loadLayers(layersRequest);
    await this.loadCoverage();
    this.appraiser.onUserChanged();
    this.appraisals.onUserChanged();
    if (this.openAppraisal && (this.can('appraise') || this.can('read_appraisals'))) {
      this.selectTab('appraisals');
      this.appraisals.open(this.openAppraisal);
      this.openAppraisal = '';
    }
  }

  /** signedOut forgets the user and their layers; reasonKey, if set, opens the sign-in dialog. */
  signedOut(reasonKey) {
    this.me = null;
    // What the last user saw or did is not left on screen for the next one.
    this.notices.clear();
    this.map.closePopup();
    this.session.token = '';
    this.showUser();
    this.layers = [];
    if (this.grid) {
      this.map.removeLayer(this.grid);
      this.grid = null;
    }
    if (this.coverage) {
      this.map.removeLayer(this.coverage);
      this.coverage = null;
    }
    this.buildLayerPanel();
    if (this.appraiser) this.appraiser.onUserChanged();
    if (this.appraisals) this.appraisals.onUserChanged();
    if (reasonKey) this.openSignIn(reasonKey);
  }

  showUser() {
    const name = document.getElementById('user-name');
    const role = document.getElementById('user-role');
    const clearance = document.getElementById('user-clearance');
    const me = this.me;
    if (!me) {
      name.dataset.i18n = 'user.none';
      name.textContent = this.i18n.t('user.none');
    } else {
      delete name.dataset.i18n;
      name.textContent = me.anonymous ? this.i18n.t('user.anonymous') : me.name;
    }
    role.hidden = !me;
    clearance.hidden = !me;
    if (me) {
      role.textContent = `${this.i18n.t('user.role')}: ${this.i18n.t('role.' + me.role)}`;
      role.dataset.role = me.role;
      clearance.textContent = `${this.i18n.t('user.clearance')}: ${this.i18n.t('clearance.' + me.clearance)}`;
      clearance.dataset.clearance = me.clearance;
    }
    document.getElementById('signin-open').hidden = !!(me && !me.anonymous);
    document.getElementById('signout').hidden = !(me && !me.anonymous);
    document.getElementById('tab-check').hidden = !this.can('check');
    document.getElementById('tab-appraisals').hidden = !(this.can('appraise') || this.can('read_appraisals'));
    const selected = document.querySelector('[role=tab][aria-selected=true]');
    if (selected && selected.hidden) this.selectTab('layers');
  }

  // ---- layers -------------------------------------------------------------

  /** loadLayers lists the user's layers (from a request already sent, if given) and shows their tiles. */
  async loadLayers(request) {
    try {
      this.layers = await (request || this.api.get('api/layers'));
    } catch (err) {
      this.layers = [];
      this.notices.apiError(err);
    }
    if (this.grid) this.map.removeLayer(this.grid);
    this.grid = null;
    if (this.layers.length) {
      this.grid = createDataGrid({
        layers: this.layers,
        headers: () => this.session.headers(),
        pane: 'zpData',
        onTileError: (status) => this.tileFailed(status),
      });
      this.grid.on('click', (e) => this.featureClicked(e));
      this.grid.addTo(this.map);
    }
    this.buildLayerPanel();
  }

  /**
   * loadCoverage draws where each layer's data is complete (GET /api/coverage:
   * what the user's clearance may see of it), under the data: outside it a
   * check says "incomplete" rather than "clear".
   */
  async loadCoverage() {
    if (this.coverage) this.map.removeLayer(this.coverage);
    this.coverage = null;
    let fc = { type: 'FeatureCollection', features: [] };
    try {
      fc = await this.api.get('api/coverage');
    } catch (err) {
      this.notices.apiError(err);
    }
    this.coverage = window.L.geoJSON(fc, {
      pane: 'zpCoverage',
      interactive: false,
      style: () => ({ ...COVERAGE_STYLE, className: 'zp-coverage zp-l-coverage' }),
    });
    this.coverage.addTo(this.map);
    this.coverageAreas = fc.features.length;
    this.buildLayerPanel();
  }

  tileFailed(status) {
    if (status === 401) {
      this.signedOut('signin.expired');
      return;
    }
    // One notice per burst of failures, not one per tile.
    const now = Date.now();
    if (now - this.lastTileError < 15000) return;
    this.lastTileError = now;
    this.notices.error(status ? this.i18n.t('error.tiles', { status }) : this.i18n.t('error.network'));
  }

  /** buildLayerPanel lists the user's layers by group, each with its legend symbol. */
  buildLayerPanel() {
    const box = document.getElementById('layer-groups');
    box.replaceChildren();
    this.writeHideRules();
    if (!this.me) return;
    if (!this.layers.length) {
      box.append(el('p', { className: 'hint' }, this.i18n.t('layers.none')));
      return;
    }
    // Known groups in their order, then any group the server adds later.
    const groups = [...GROUPS, ...new Set(this.layers.map((l) => l.group).filter((g) => !GROUPS.includes(g)))];
    for (const group of groups) {
      const layers = this.layers.filter((l) => l.group === group);
      if (!layers.length) continue;
      const title = this.i18n.t('group.' + group);
      const fs = el('fieldset', { className: 'group', 'data-group': group },
        el('legend', {}, title === 'group.' + group ? String(group || '—') : title));
      for (const layer of layers) {
        const id = `layer-${cssId(layer.id)}`;
        const input = el('input', { type: 'checkbox', id, 'data-layer': layer.id, checked: !this.hidden.has(layer.id) });
        input.addEventListener('change', () => this.toggleHidden(layer.id, !input.checked));
        fs.append(el('label', { className: 'row', for: id },
          input,
          swatch({ ...layerPathStyle(layer), pointFill: pointStyle(layerPathStyle(layer), {}, CLUSTER_MAX_ZOOM).fillColor },
            layer.geometry_types || ['polygon']),
          el('span', {}, this.i18n.title(layer)),
          layer.count !== undefined ? el('span', { className: 'count' }, this.i18n.t('layers.count', { n: this.i18n.number(layer.count) })) : null));
        if (group === 'projects') {
          // The outline colours of project sites, by latest verdict.
          for (const v of ['clear', 'incomplete', 'review', 'conflict']) {
            fs.append(el('div', { className: 'row hint sub-legend' },
              swatch({ ...layerPathStyle(layer), ...VERDICT_OUTLINE[v] }, ['polygon']),
              `${verdictMark(v)} ${this.i18n.t('verdict.' + v)}`));
          }
        }
      }
      box.append(fs);
    }
    // Protection zones belong to defence components: offer them only when
    // the user sees some defence layer.
    if (this.layers.some((l) => l.group !== 'projects')) {
      const fs = el('fieldset', { className: 'group', 'data-group': 'zones' }, el('legend', {}, this.i18n.t('group.zones')));
      for (const kind of ZONE_KINDS) {
        const key = 'zone:' + kind;
        const id = `zone-${kind}`;
        const input = el('input', { type: 'checkbox', id, 'data-zone': kind, checked: !this.hidden.has(key) });
        input.addEventListener('change', () => this.toggleHidden(key, !input.checked));
        fs.append(el('label', { className: 'row', for: id }, input,
          swatch({ ...ZONE_STYLE[kind] }, ['polygon']), el('span', {}, this.i18n.t('zone.' + kind))));
      }
      const solid = { color: '#555', fillColor: '#fff', fillOpacity: 0, weight: 1.5 };
      fs.append(
        el('div', { className: 'row hint' }, swatch(solid, ['polygon']), this.i18n.t('zone.approved')),
        el('div', { className: 'row hint' }, swatch({ ...solid, dashArray: PROVISIONAL_DASH }, ['polygon']), this.i18n.t('zone.provisional')),
        el('p', { className: 'hint', id: 'zone-note' }));
      box.append(fs);
      this.updateZoneNote();
    }
    // Where the data is complete (drawn under the data), with its count.
    if (this.coverage) {
      const input = el('input', { type: 'checkbox', id: 'coverage-toggle', 'data-layer': 'coverage', checked: !this.hidden.has('coverage') });
      input.addEventListener('change', () => this.toggleHidden('coverage', !input.checked));
      box.append(el('fieldset', { className: 'group', 'data-group': 'coverage' },
        el('legend', {}, this.i18n.t('group.coverage')),
        el('label', { className: 'row', for: 'coverage-toggle' }, input, swatch(COVERAGE_STYLE, ['polygon']),
          el('span', {}, this.i18n.t('coverage.show')),
          el('span', { className: 'count' }, this.i18n.t('coverage.count', { n: this.i18n.number(this.coverageAreas || 0) }))),
        el('p', { className: 'hint' }, this.i18n.t('coverage.hint'))));
    }
    // The appraiser's own symbols: the footprint and the overlaps a check found.
    if (this.can('check')) {
      box.append(el('fieldset', { className: 'group', 'data-group': 'check' },
        el('legend', {}, this.i18n.t('tab.check')),
        el('div', { className: 'row' }, swatch(FOOTPRINT_STYLE, ['polygon']), this.i18n.t('legend.footprint')),
        el('div', { className: 'row' }, swatch(UPLOAD_STYLE, ['polygon']), this.i18n.t('legend.upload')),
        el('div', { className: 'row' }, swatch(OVERLAP_STYLE, ['polygon']), this.i18n.t('legend.overlap')),
        el('div', { className: 'row' }, swatch(RECORD_STYLE, ['polygon']), this.i18n.t('legend.record'))));
    }
  }

  updateZoneNote() {
    const note = document.getElementById('zone-note');
    if (note) note.textContent = this.i18n.t('zone.minzoom', { z: ZONE_MIN_ZOOM, cur: this.map.getZoom() });
  }

  toggleHidden(key, hide) {
    if (hide) this.hidden.add(key);
    else this.hidden.delete(key);
    this.writeHideRules();
    this.writeHash();
  }

  /**
   * writeHideRules hides features by CSS: every path of a data layer carries
   * the class zp-l-<layer>, every zone path zp-z-<kind>. Hiding a layer also
   * hides the zones around its components.
   */
  writeHideRules() {
    let style = document.getElementById('zp-hide-rules');
    if (!style) {
      style = el('style', { id: 'zp-hide-rules' });
      document.head.append(style);
    }
    const rules = [];
    for (const key of this.hidden) {
      if (key.startsWith('zone:')) rules.push(`#map .zp-z-${cssId(key.slice(5))} { display: none; }`);
      else rules.push(`#map .zp-l-${cssId(key)} { display: none; }`);
    }
    style.textContent = rules.join('\n');
  }

  // ---- feature popups -----------------------------------------------------

  featureClicked(e) {
    // While drawing a footprint, a click places a vertex, not a popup;
    // while measuring, a point of the measured path.
    if (this.map.pm && this.map.pm.globalDrawModeEnabled()) return;
    const props = (e.layer && e.layer.properties) || {};
    if (e.originalEvent) window.L.DomEvent.stopPropagation(e.originalEvent);
    if (this.measure && this.measure.active) {
      this.measure.add(e.latlng);
      return;
    }
    // A cluster stands for several points: a click zooms in on them.
    if (props[CLUSTER]) {
      this.map.setView(e.latlng, Math.min(this.map.getZoom() + 2, CLUSTER_MAX_ZOOM));
      return;
    }
    if (props.component_id !== undefined) this.showZonePopup(e.latlng, props);
    else this.showFeaturePopup(e.latlng, props);
  }

  /** showFeaturePopup opens a popup from the tile's properties, then fills in the details. */
  showFeaturePopup(latlng, props) {
    const L = window.L;
    const layer = this.layerById(props.layer);
    const body = el('div', { className: 'popup' });
    const render = (p, details) => {
      const rows = [
        [this.i18n.t('field.layer'), layer ? this.i18n.title(layer) : p.layer],
        [this.i18n.t('field.kind'), p.kind ? this.i18n.kind(p.kind) : ''],
        [this.i18n.t('field.code'), p.code],
        [this.i18n.t('field.classification'), p.classification ? this.i18n.t('clearance.' + p.classification) : ''],
        [this.i18n.t('field.province'), p.province],
      ];
      if (details) {
        rows.push(
          [this.i18n.t('field.function_type'), details.function_type],
          [this.i18n.t('field.group'), details.group],
          [this.i18n.t('field.investor'), details.investor],
          [this.i18n.t('field.sector'), details.sector ? this.i18n.kind(details.sector) : ''],
          [this.i18n.t('field.height_m'), details.height_m],
          [this.i18n.t('field.activities'), Array.isArray(details.activities) ? details.activities.map((a) => this.i18n.t('act.' + a)).join(', ') : ''],
          [this.i18n.t('field.status'), details.status ? this.i18n.t('status.' + details.status) : ''],
          [this.i18n.t('field.verdict'), details.verdict ? this.i18n.t('verdict.' + details.verdict) : ''],
          [this.i18n.t('field.version'), details.version],
          [this.i18n.t('field.updated_at'), this.i18n.date(details.updated_at)],
        );
      } else if (p.verdict) {
        rows.push([this.i18n.t('field.verdict'), this.i18n.t('verdict.' + p.verdict)]);
      }
      const zones = details && Array.isArray(details.zones) && details.zones.length
        ? el('div', {}, el('strong', {}, this.i18n.t('field.zones')),
          el('ul', { className: 'zones' }, details.zones.map((z) => el('li', {},
            this.i18n.kind(z.kind),
            z.width_m !== undefined && z.width_m !== null ? ` — ${formatMetres(z.width_m, this.i18n)}`
              : z.geometry ? ` — ${this.i18n.t('zone.byDecision')}` : '',
            z.decision ? ` — ${this.i18n.t('field.decision')} ${z.decision}${z.decision_date ? ' (' + z.decision_date + ')' : ''}` : ''))))
        : null;
      body.replaceChildren(...[
        el('h3', {}, p.name || this.i18n.kind(p.kind) || p.id),
        meta(rows),
        zones,
        details && details.synthetic ? el('p', { className: 'synthetic' }, this.i18n.t('field.synthetic')) : null,
      ].filter(Boolean));
    };
    render(props, null);
    const status = el('p', { className: 'hint loading' }, this.i18n.t('popup.loading'));
    body.append(status);
    const popup = L.popup({ maxWidth: 340, autoPanPadding: [20, 20] }).setLatLng(latlng).setContent(body).openOn(this.map);
    if (!props.layer || props.id === undefined) {
      status.remove();
      return popup;
    }
    this.fetchFeature(props.layer, props.id)
      .then((f) => {
        render({ ...props, ...(f.properties || {}) }, f.properties || {});
        popup.update();
      })
      .catch((err) => {
        status.className = 'error';
        status.textContent = this.i18n.t('popup.failed', { msg: err.message });
      });
    return popup;
  }

  showZonePopup(latlng, props) {
    const L = window.L;
    const layer = this.layerById(props.layer);
    const body = el('div', { className: 'popup' },
      el('h3', {}, this.i18n.t('zone.' + props.kind)),
      meta([
        [this.i18n.t('field.kind'), isApproved(props.approved) ? this.i18n.t('zone.is_approved') : this.i18n.t('zone.is_provisional')],
        [this.i18n.t('field.layer'), layer ? this.i18n.title(layer) : props.layer],
      ]));
    const component = el('p', { className: 'hint loading' }, this.i18n.t('popup.loading'));
    body.append(component);
    const popup = L.popup({ maxWidth: 320 }).setLatLng(latlng).setContent(body).openOn(this.map);
    this.fetchFeature(props.layer, props.component_id)
      .then((f) => {
        const p = f.properties || {};
        component.className = '';
        component.textContent = `${this.i18n.t('zone.of')}: ${p.name || ''}${p.code ? ' (' + p.code + ')' : ''}`;
        // The zone's own record: its width, and the decision that fixed it.
        const z = (p.zones || []).find((x) => x.kind === props.kind);
        if (z) {
          const rows = [];
          if (z.width_m) rows.push([this.i18n.t('zone.width'), `${this.i18n.number(z.width_m, 1)} m`]);
          if (z.decision) {
            const day = z.decision_date ? new Date(z.decision_date + 'T00:00:00Z') : null;
            rows.push([this.i18n.t('zone.decision'), day && !Number.isNaN(day.getTime())
              ? this.i18n.t('zone.decision_on', {
                number: z.decision,
                date: day.toLocaleDateString(this.i18n.lang === 'en' ? 'en-GB' : 'vi-VN', { timeZone: 'UTC' }),
              })
              : z.decision]);
          }
          if (rows.length) component.after(meta(rows));
        }
        popup.update();
      })
      .catch((err) => {
        component.className = 'error';
        component.textContent = this.i18n.t('popup.failed', { msg: err.message });
      });
  }

  /** fetchFeature reads one component through the OGC API (GeoJSON Feature). */
  fetchFeature(layer, id) {
    return this.api.get(`ogc/collections/${encodeURIComponent(layer)}/items/${encodeURIComponent(id)}`, { f: 'json' });
  }

  // ---- search -------------------------------------------------------------

  wireSearch() {
    const form = document.getElementById('search-form');
    const input = document.getElementById('search-q');
    let timer = 0;
    let ctl = null;
    const run = async () => {
      const q = input.value.trim();
      const status = document.getElementById('search-status');
      const list = document.getElementById('search-results');
      if (q.length < 2) {
        list.replaceChildren();
        status.textContent = '';
        return;
      }
      if (ctl) ctl.abort();
      ctl = new AbortController();
      try {
        const results = await this.api.get('api/search', { q, limit: 10 }, { signal: ctl.signal });
        status.textContent = results.length ? this.i18n.t('search.results', { n: results.length }) : this.i18n.t('search.none');
        list.replaceChildren(...results.map((r) => {
          const layer = this.layerById(r.layer);
          return el('li', {}, el('button', { type: 'button', onclick: () => this.goTo(r) },
            el('strong', {}, r.name || r.code || r.id),
            el('span', { className: 'sub' }, [r.code, r.kind ? this.i18n.kind(r.kind) : '', layer ? this.i18n.title(layer) : r.layer].filter(Boolean).join(' · '))));
        }));
      } catch (err) {
        this.notices.apiError(err);
      }
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      clearTimeout(timer);
      run();
    });
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(run, 300);
    });
  }

  /** goTo zooms to a search result and opens its popup. */
  goTo(r) {
    const [minx, miny, maxx, maxy] = r.bbox || [];
    if (![minx, miny, maxx, maxy].every(Number.isFinite)) return;
    const center = [(miny + maxy) / 2, (minx + maxx) / 2];
    if (maxx - minx < 1e-6 && maxy - miny < 1e-6) this.map.setView(center, 16);
    else this.map.fitBounds([[miny, minx], [maxy, maxx]], { maxZoom: 17, padding: [30, 30] });
    this.showFeaturePopup(center, { id: r.id, layer: r.layer, name: r.name, code: r.code, kind: r.kind });
  }

  // ---- tabs ---------------------------------------------------------------

  wireTabs() {
    const tabs = [...document.querySelectorAll('[role=tab]')];
    for (const tab of tabs) {
      tab.addEventListener('click', () => this.selectTab(tab.id.replace('tab-', '')));
      // Arrow keys move between tabs (WAI-ARIA tabs pattern).
      tab.addEventListener('keydown', (e) => {
        if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
        const visible = tabs.filter((t) => !t.hidden);
        const i = visible.indexOf(tab);
        const next = visible[(i + (e.key === 'ArrowRight' ? 1 : visible.length - 1)) % visible.length];
        this.selectTab(next.id.replace('tab-', ''));
        next.focus();
      });
    }
  }

  selectTab(name) {
    for (const tab of document.querySelectorAll('[role=tab]')) {
      const on = tab.id === `tab-${name}`;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute('aria-controls')).hidden = !on;
    }
    if (name === 'appraisals' && this.appraisals) this.appraisals.shown();
  }

  /** relabel redraws everything whose words come from code after a language switch. */
  relabel() {
    document.title = `zoneplan – ${this.i18n.t('app.title')}`;
    this.showUser();
    this.buildLayerPanel();
    this.setDrawLanguage();
    this.labelMapControls();
    this.labelBase();
    this.readout.relabel();
    this.measure.relabel();
    this.appraiser.relabel();
    this.appraisals.relabel();
    this.map.closePopup();
  }
}

/**
 * offlineStyle styles the offline base layer: Vietnam filled lighter than its
 * neighbours, provinces as thin lines. It reads the usual Natural Earth and
 * world-atlas property names, so the server may send either.
 */
function offlineStyle(p) {
  const level = String(p.level || p.kind || p.admin_level || p.type || '').toLowerCase();
  if (level.includes('province') || level === '4') {
    return { color: '#8d9aa3', weight: 0.8, fill: false, dashArray: '3 3' };
  }
  const names = [p.iso_a3, p.ISO_A3, p.adm0_a3, p.ADM0_A3, p.id, p.name, p.NAME, p.name_en].map((v) => String(v ?? '').toLowerCase());
  const isVietnam = p.role === 'vietnam' || names.some((n) => n === 'vnm' || n === '704' || n === 'vietnam' || n === 'viet nam' || n === 'việt nam');
  return {
    color: '#6b7780',
    weight: isVietnam ? 1.6 : 1,
    fillColor: isVietnam ? '#fbf8ef' : '#e9e7e1',
    fillOpacity: 1,
  };
}

/**
 * archiveLayer draws the server's local base map archive: raster tiles as
 * a tile layer; vector tiles (OpenMapTiles-style layers, as tilemaker and
 * planetiler write them) with a plain style: water blue, land cover green,
 * roads grey, boundaries purple, buildings tan, anything else a faint line.
 */
function archiveLayer(info) {
  const L = window.L;
  const [w, s, e, n] = info.bounds || [];
  const bounds = [w, s, e, n].every(Number.isFinite) && e > w && n > s ? [[s, w], [n, e]] : undefined;
  if (info.kind !== 'vector') {
    return L.tileLayer(info.url, {
      minNativeZoom: info.minzoom, maxNativeZoom: info.maxzoom, maxZoom: 22, bounds,
      attribution: '', errorTileUrl: TRANSPARENT_PNG,
    });
  }
  const style = (name) => {
    const n = String(name).toLowerCase();
    if (/water|ocean|sea|lake|river/.test(n)) return { weight: 0.8, color: '#7fb2d6', fill: true, fillColor: '#aad3ef', fillOpacity: 1 };
    if (/landcover|landuse|park|wood|forest|green/.test(n)) return { weight: 0, fill: true, fillColor: '#d8ead0', fillOpacity: 0.8 };
    if (/transport|road|highway|rail/.test(n)) return { weight: 1.2, color: '#9a9a9a', fill: false };
    if (/boundar|admin/.test(n)) return { weight: 1, color: '#8e6fa8', dashArray: '4 3', fill: false };
    if (/building/.test(n)) return { weight: 0.5, color: '#c9b8a0', fill: true, fillColor: '#e4d8c6', fillOpacity: 0.9 };
    if (/place|label|poi|name|housenumber/.test(n)) return [];
    return { weight: 0.6, color: '#b8b8b8', fill: false };
  };
  // VectorGrid asks for a style by layer name; an archive's names are not
  // known in advance, so every name is answered.
  const styles = new Proxy({}, { get: (_, name) => (typeof name === 'string' ? style(name) : undefined) });
  return L.vectorGrid.protobuf(info.url, {
    rendererFactory: L.svg.tile, vectorTileLayerStyles: styles, interactive: false,
    minNativeZoom: info.minzoom, maxNativeZoom: info.maxzoom, maxZoom: 22, bounds, pane: 'tilePane',
  });
}

document.addEventListener('DOMContentLoaded', () => {
  new App().start();
});
