// appraisals.js: the list of appraisals (filtered by status and verdict), an
// appraisal's record with its checks, its printable report, a new check, and
// the reviewer's decision.

import { el, meta, verdictChip } from './ui.js';
import { renderResult } from './check.js';
import { staleReason } from './serverwords.js';

const STATUSES = ['pending', 'approved', 'approved_with_conditions', 'rejected'];
const VERDICTS = ['clear', 'incomplete', 'review', 'conflict'];
const OUTCOMES = ['approved', 'approved_with_conditions', 'rejected'];
const PAGE = 20;

/** RECORD_STYLE is how an opened appraisal's footprint looks on the map. */
export const RECORD_STYLE = { color: '#6a1b9a', weight: 3, fillColor: '#ba68c8', fillOpacity: 0.2 };

export class Appraisals {
  constructor(app) {
    this.app = app;
    const L = window.L;
    this.offset = 0;
    this.total = 0;
    this.stale = true; // the list needs loading when next shown
    this.currentId = '';
    this.current = null; // the open appraisal
    this.footprint = L.featureGroup().addTo(app.map);
    this.overlaps = L.featureGroup().addTo(app.map);
    this.fillFilters();
    this.wire();
  }

  get t() {
    return this.app.i18n.t.bind(this.app.i18n);
  }

  wire() {
    const $ = (id) => document.getElementById(id);
    $('appr-filter').addEventListener('submit', (e) => {
      e.preventDefault();
      this.offset = 0;
      this.load();
    });
    for (const id of ['appr-status', 'appr-verdict', 'appr-stale']) {
      $(id).addEventListener('change', () => {
        this.offset = 0;
        this.load();
      });
    }
    $('appr-prev').addEventListener('click', () => {
      this.offset = Math.max(0, this.offset - PAGE);
      this.load();
    });
    $('appr-next').addEventListener('click', () => {
      this.offset += PAGE;
      this.load();
    });
    $('appr-back').addEventListener('click', () => this.showList());
  }

  fillFilters() {
    const fill = (id, values, prefix) => {
      const select = document.getElementById(id);
      const current = select.value;
      select.replaceChildren(el('option', { value: '' }, this.t('appr.all')),
        ...values.map((v) => el('option', { value: v }, this.t(prefix + v))));
      select.value = current;
    };
    fill('appr-status', STATUSES, 'status.');
    fill('appr-verdict', VERDICTS, 'verdict.');
  }

  onUserChanged() {
    this.stale = true;
    this.showList();
    document.getElementById('appr-list').replaceChildren();
    document.getElementById('appr-total').textContent = '';
  }

  relabel() {
    this.fillFilters();
    if (this.items) this.renderList();
    if (this.worse) this.renderWorse();
    if (this.current) this.renderRecord();
  }

  /** clearMap takes the open record's outline and overlaps off the map (the check panel's "clear"). */
  clearMap() {
    this.footprint.clearLayers();
    this.overlaps.clearLayers();
  }

  /** invalidate marks the list out of date (an appraisal was added or decided). */
  invalidate() {
    this.stale = true;
  }

  /** shown is called when the tab is selected. */
  shown() {
    if (this.stale && !this.current) this.load();
  }

  async load() {
    if (!this.app.me) return;
    const f = document.getElementById('appr-filter');
    const query = {
      status: f.elements.status.value,
      verdict: f.elements.verdict.value,
      q: f.elements.q.value.trim(),
      limit: PAGE,
      offset: this.offset,
    };
    // Changed data only: the stale ones, approved ones made worse first.
    if (f.elements.stale.checked) Object.assign(query, { stale: 'true', worse: 'true' });
    try {
      const [page] = await Promise.all([this.app.api.get('api/appraisals', query), this.loadWorse()]);
      this.items = page.items || [];
      this.total = page.total ?? this.items.length;
      this.stale = false;
      this.renderList();
    } catch (err) {
      this.app.notices.apiError(err);
    }
  }

  /**
   * loadWorse finds, for a reviewer, the approved appraisals a re-check
   * after a change of the data or the rules made worse (the server lists
   * them first with worse=true), for the notice above the list.
   */
  async loadWorse() {
    this.worse = [];
    if (this.app.can('decide')) {
      const page = await this.app.api.get('api/appraisals', { stale: 'true', worse: 'true', limit: 50 });
      this.worse = (page.items || []).filter((a) => a.stale && a.stale.worse
        && (a.status === 'approved' || a.status === 'approved_with_conditions'));
    }
    this.renderWorse();
  }

  renderWorse() {
    const box = document.getElementById('appr-worse-notice');
    const worse = this.worse || [];
    box.hidden = worse.length === 0;
    box.replaceChildren(...(worse.length ? [
      el('p', {}, this.t('appr.worseNotice', { n: this.app.i18n.number(worse.length) })),
      el('ul', {}, worse.map((a) => el('li', { 'data-id': a.id },
        el('button', { type: 'button', className: 'link', onclick: () => this.open(a.id) }, a.name || a.id), ' ',
        verdictChip(a.verdict, this.app.i18n)))),
    ] : []));
  }

  renderList() {
    const { i18n } = this.app;
    const list = document.getElementById('appr-list');
    document.getElementById('appr-total').textContent = this.items.length ? this.t('appr.total', { n: i18n.number(this.total) }) : this.t('appr.empty');
    list.replaceChildren(...this.items.map((a) => el('li', { 'data-id': a.id },
      el('button', { type: 'button', onclick: () => this.open(a.id) },
        el('strong', {}, a.name || a.id), ' ',
        a.verdict ? verdictChip(a.verdict, i18n) : null,
        a.stale ? el('span', { className: 'chip stale', title: staleReason(a.stale.reason, i18n.lang) },
          this.t(a.stale.worse ? 'appr.worseChip' : 'appr.staleChip')) : null,
        el('span', { className: 'sub' }, [
          this.t('status.' + a.status),
          personName(a.created_by),
          i18n.date(a.created_at),
        ].filter(Boolean).join(' · '))))));
    const pages = Math.max(1, Math.ceil(this.total / PAGE));
    document.getElementById('appr-page').textContent = this.t('appr.page', { p: Math.floor(this.offset / PAGE) + 1, n: pages });
    document.getElementById('appr-prev').disabled = this.offset === 0;
    document.getElementById('appr-next').disabled = this.offset + PAGE >= this.total;
  }

  showList() {
    this.current = null;
    this.currentId = '';
    this.footprint.clearLayers();
    this.overlaps.clearLayers();
    document.getElementById('appr-list-view').hidden = false;
    document.getElementById('appr-record-view').hidden = true;
    this.app.writeHash();
    if (this.stale && this.app.me && !document.getElementById('panel-appraisals').hidden) this.load();
  }

  /**
   * open shows an appraisal's record. known, when given, is the appraisal as
   * just returned by the server (after saving), so it is not fetched again.
   */
  async open(id, known) {
    let a = known;
    try {
      if (!a || !Array.isArray(a.checks)) a = await this.app.api.get(`api/appraisals/${encodeURIComponent(id)}`);
    } catch (err) {
      this.app.notices.apiError(err);
      return;
    }
    this.current = a;
    this.currentId = a.id;
    this.site = {};
    document.getElementById('appr-list-view').hidden = true;
    document.getElementById('appr-record-view').hidden = false;
    this.renderRecord();
    this.app.writeHash();
    await this.showFootprint(a);
  }

  /**
   * showFootprint draws the appraisal's project site and zooms to it. The
   * record carries the site (it is in its layer for other readers only once
   * an admin publishes it); an older server's record is read through the OGC API.
   */
  async showFootprint(a) {
    this.footprint.clearLayers();
    if (!a.site_id && !a.site) return;
    try {
      const site = a.site || await this.app.fetchFeature('project_sites', a.site_id);
      if (this.current !== a) return;
      // The project's attributes live on its site feature.
      this.site = site.properties || {};
      this.renderRecord();
      const layer = window.L.geoJSON(site, { style: () => RECORD_STYLE, pmIgnore: true });
      this.footprint.addLayer(layer);
      const b = layer.getBounds();
      if (b.isValid()) this.app.map.fitBounds(b, { maxZoom: 16, padding: [40, 40] });
    } catch (err) {
      this.app.notices.apiError(err);
    }
  }

  renderRecord() {
    const a = this.current;
    const site = this.site || {};
    const { i18n } = this.app;
    const t = this.t;
    const box = document.getElementById('appr-record');
    const checks = Array.isArray(a.checks) ? a.checks : [];
    const latest = checks[0];

    const actions = el('div', { className: 'buttons' },
      el('button', { type: 'button', id: 'appr-report', onclick: () => this.openReport(a.id, false) }, t('appr.report')),
      el('button', { type: 'button', id: 'appr-report-pdf', onclick: () => this.openReport(a.id, true) }, t('appr.report') + ' (PDF)'),
      this.app.can('appraise') ? el('button', { type: 'button', id: 'appr-recheck', onclick: () => this.recheck(a.id) }, t('appr.recheck')) : null);

    const decision = a.decision
      ? el('p', { id: 'appr-decision-text', title: a.decision.by || '' }, t('appr.decided', {
        outcome: t('status.' + a.decision.outcome), by: personName(a.decision.by), at: i18n.date(a.decision.at),
      }), a.decision.note ? el('span', { className: 'sub' }, ` — ${a.decision.note}`) : null)
      : el('p', { className: 'hint', id: 'appr-decision-text' }, t('appr.noDecision'));

    box.replaceChildren(el('div', { className: 'record', 'data-id': a.id },
      el('h2', {}, a.name || a.id),
      a.stale ? el('p', { className: 'stale-notice', id: 'appr-stale-mark' },
        t('appr.stale', { at: i18n.date(a.stale.since), reason: staleReason(a.stale.reason, i18n.lang) }),
        a.stale.rechecked ? ' ' + t('appr.staleRechecked') : '',
        a.stale.worse ? ' ' + t('appr.staleWorse') : '') : null,
      meta([
        [t('field.status'), t('status.' + a.status)],
        [t('field.verdict'), a.verdict ? verdictChip(a.verdict, i18n) : ''],
        [t('appr.by'), personName(a.created_by)],
        [t('appr.created'), i18n.date(a.created_at)],
        [t('field.investor'), a.investor || site.investor],
        [t('field.sector'), a.sector || site.sector],
        [t('field.height_m'), a.height_m ?? site.height_m],
        [t('field.activities'), (Array.isArray(site.activities) ? site.activities : []).map((x) => t('act.' + x)).join(', ')],
        [t('field.code'), site.code],
      ]),
      actions,
      el('h3', {}, t('appr.decision')),
      decision,
      this.app.can('decide') ? this.decisionForm(a) : null,
      latest ? el('h3', {}, t('appr.latest')) : null,
      latest && latest.result ? renderResult(latest.result, this.app, this.overlaps) : null,
      checks.length > 1 ? el('h3', {}, t('appr.checks')) : null,
      checks.length > 1 ? el('ol', { className: 'checks-history' }, checks.map((c) => el('li', {},
        verdictChip(c.verdict, i18n), ' ', i18n.date(c.created_at),
        c.recheck && c.diff ? el('span', { className: 'sub diff' }, ' — ', t('appr.diff', {
          from: t('verdict.' + c.diff.verdict_from), to: t('verdict.' + c.diff.verdict_to),
          added: i18n.number((c.diff.added || []).length), removed: i18n.number((c.diff.removed || []).length),
        }), c.reason ? ` (${staleReason(c.reason, i18n.lang)})` : '') : null))) : null));
  }

  decisionForm(a) {
    const t = this.t;
    const name = `outcome-${a.id}`;
    const form = el('form', { className: 'decision-form stack', id: 'appr-decision' },
      el('fieldset', { className: 'outcomes' },
        el('legend', {}, t('appr.decide')),
        OUTCOMES.map((o) => el('label', {},
          el('input', { type: 'radio', name, value: o, checked: a.decision ? a.decision.outcome === o : false }),
          ' ', t('status.' + o)))),
      el('label', { for: `note-${a.id}` }, t('appr.note')),
      el('textarea', { id: `note-${a.id}`, name: 'note', rows: '3' }),
      el('div', { className: 'buttons' }, el('button', { type: 'submit', className: 'primary' }, t('appr.decide'))));
    const submit = form.querySelector('button[type=submit]');
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      // One decision at a time: the button stays disabled from the
      // confirmation until the server has answered.
      if (this.deciding) return;
      const outcome = form.querySelector(`input[name="${name}"]:checked`);
      const note = form.elements.note.value.trim();
      if (!outcome) {
        form.querySelector('input[type=radio]').focus();
        return;
      }
      if (outcome.value !== 'approved' && !note) {
        this.app.notices.error(t('appr.noteNeeded'));
        form.elements.note.focus();
        return;
      }
      this.deciding = true;
      submit.disabled = true;
      try {
        const sure = await this.app.confirm(t('appr.confirm', { outcome: t('status.' + outcome.value), name: a.name || a.id }), t('appr.confirmOk'));
        if (!sure) return;
        await this.app.api.post(`api/appraisals/${encodeURIComponent(a.id)}/decision`, { outcome: outcome.value, note });
        this.app.notices.info(t('appr.decisionSaved'));
        this.invalidate();
        await this.open(a.id);
      } catch (err) {
        this.app.notices.apiError(err);
      } finally {
        this.deciding = false;
        submit.disabled = false;
      }
    });
    return form;
  }

  async recheck(id) {
    try {
      await this.app.api.post(`api/appraisals/${encodeURIComponent(id)}/recheck`, {});
      this.app.notices.info(this.t('appr.rechecked'));
      this.invalidate();
      await this.open(id);
    } catch (err) {
      this.app.notices.apiError(err);
    }
  }

  /**
   * openReport shows the server-rendered report (HTML, or the PDF when pdf
   * is true) in the page's language in a new tab. A new tab cannot send the
   * bearer header, so the page fetches the report itself and opens it as a
   * blob URL. The tab is opened during the click, before the fetch, so that
   * pop-up blockers allow it.
   */
  async openReport(id, pdf) {
    const win = window.open('', '_blank');
    try {
      const lang = this.app.i18n.lang === 'en' ? 'en' : 'vi';
      const path = `api/appraisals/${encodeURIComponent(id)}/report${pdf ? '.pdf' : ''}?lang=${lang}`;
      const type = pdf ? 'application/pdf' : 'text/html;charset=utf-8';
      const res = await this.app.api.request(path, { raw: true, accept: pdf ? 'application/pdf' : 'text/html' });
      const body = await res.blob();
      const url = URL.createObjectURL(new Blob([body], { type }));
      if (win) win.location.href = url;
      else this.app.notices.error(this.t('appr.reportBlocked'));
      // The tab has loaded the document by then; free the blob.
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      if (win) win.close();
      this.app.notices.apiError(err);
    }
  }
}

/**
 * personName is how a person is shown: the server writes who created or
 * decided a record as "Name (token id)"; the page shows the name (the id,
 * for audit, stays in the element's title where it is shown).
 */
export function personName(by) {
  const s = String(by || '');
  const m = /^(.*\S)\s*\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)$/i.exec(s);
  return m ? m[1] : s;
}
