// ui.js: small DOM helpers shared by the panels: element building (text is
// always set as text, never parsed as HTML, so server strings cannot inject
// markup), notices, and turning an API error into words.

import { ApiError } from './api.js';
import { PROBLEM_CODES, serverReason, localizePointer } from './serverwords.js';

/**
 * el creates an element. attrs: properties such as className, or attributes
 * (names with a dash, aria-*, data-*); on* functions become listeners.
 * Children are nodes or strings (added as text); null and false are skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'className' || k === 'textContent' || k === 'value' || k === 'checked' || k === 'type') node[k] = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** meta builds a definition list of [label, value] rows, skipping empty values. */
export function meta(rows) {
  const dl = el('dl', { className: 'meta' });
  for (const [k, v] of rows) {
    if (v === undefined || v === null || v === '') continue;
    dl.append(el('dt', {}, k), el('dd', {}, v));
  }
  return dl;
}

/** Notices shows short messages at the top right of the page. */
export class Notices {
  constructor(container, i18n) {
    this.box = container;
    this.i18n = i18n;
  }

  /** info shows a message that goes away by itself. */
  info(text, timeout = 5000) {
    return this.show(text, { timeout });
  }

  /** error shows a message, and its itemised errors, until dismissed. */
  error(text, items = []) {
    return this.show(text, { error: true, items });
  }

  /** apiError shows what went wrong with a request in the user's words. */
  apiError(err) {
    if (err && err.name === 'AbortError') return null;
    const { text, items } = describeError(err, this.i18n);
    return this.error(text, items);
  }

  /** clear removes every notice. */
  clear() {
    this.box.replaceChildren();
  }

  show(text, { error = false, items = [], timeout = 0 } = {}) {
    const close = el('button', { type: 'button', 'aria-label': this.i18n.t('close'), title: this.i18n.t('close') }, '×');
    const body = el('div', { className: 'msg' }, text, items.length ? el('ul', {}, items.map((i) => el('li', {}, i))) : null);
    const node = el('div', { className: 'notice' + (error ? ' error' : ''), role: error ? 'alert' : 'status' }, body, close);
    close.addEventListener('click', () => node.remove());
    this.box.append(node);
    // Keep the stack short: the oldest goes first.
    while (this.box.children.length > 4) this.box.firstElementChild.remove();
    if (timeout) setTimeout(() => node.remove(), timeout);
    return node;
  }
}

/**
 * describeError turns an error into a sentence and a list of item problems,
 * in the user's language. A problem+json answer is worded by its code; its
 * detail and reasons are worded by serverwords.js where the page knows them,
 * and otherwise shown as the server's words.
 */
export function describeError(err, i18n) {
  if (err instanceof ApiError) {
    if (err.status === 0) return { text: i18n.t('error.network'), items: [] };
    const p = err.problem;
    const head = i18n.t('error.status', { status: err.status });
    const code = PROBLEM_CODES.includes(p.code) ? p.code : '';
    const reason = (r) => {
      const s = String(r || '');
      if (i18n.lang !== 'vi') return s;
      return serverReason(s) ?? (s ? i18n.t('error.server', { text: s }) : '');
    };
    const items = err.errors.map((e) => {
      // index is the feature's position in a collection; -1 or absent: the whole body.
      const where = [Number.isInteger(e.index) && e.index >= 0 ? `#${e.index + (i18n.lang === 'vi' ? 1 : 0)}` : '',
        localizePointer(e.pointer, i18n.lang)].filter(Boolean).join(' ');
      return where ? `${where}: ${reason(e.reason)}` : reason(e.reason);
    });
    let text;
    if (i18n.lang === 'vi') {
      // The code's sentence, then the detail when the page can word it.
      const said = code ? i18n.t('problem.' + code) : (err.status === 403 ? i18n.t('problem.forbidden') : '');
      const detail = p.detail ? serverReason(p.detail) : null;
      text = [said, detail].filter(Boolean).join(': ');
      if (!text && p.detail) text = i18n.t('error.server', { text: p.detail });
    } else {
      text = p.detail || p.title || '';
      if (!text && err.status === 403) text = i18n.t('error.forbidden');
    }
    return { text: text ? `${head}: ${text}` : head, items };
  }
  return { text: String((err && err.message) || err), items: [] };
}

/** formatMetres writes a length in m or km. */
export function formatMetres(m, i18n) {
  if (m === undefined || m === null || Number.isNaN(Number(m))) return '';
  const v = Number(m);
  if (Math.abs(v) >= 10000) return `${i18n.number(v / 1000, 1)} km`;
  return `${i18n.number(v, v < 10 ? 1 : 0)} m`;
}

/** formatArea writes an area in m² or ha. */
export function formatArea(a, i18n) {
  if (a === undefined || a === null || Number.isNaN(Number(a))) return '';
  const v = Number(a);
  if (v >= 10000) return `${i18n.number(v / 10000, 2)} ha`;
  return `${i18n.number(v, 0)} m²`;
}

/** verdictMark is the symbol shown with a verdict, so colour is never the only cue. */
export function verdictMark(v) {
  return { clear: '✔', incomplete: '◌', review: '!', conflict: '✖' }[v] || '?';
}

/** verdictChip is a small labelled verdict. */
export function verdictChip(v, i18n) {
  return el('span', { className: `vchip ${v}` }, `${verdictMark(v)} ${i18n.t('verdict.' + v)}`);
}

/** swatch draws a layer's or zone's symbol as inline SVG, per geometry type. */
export function swatch(style, types) {
  const ns = document.createElementNS.bind(document, 'http://www.w3.org/2000/svg');
  const box = el('span', { className: 'swatch', 'aria-hidden': 'true' });
  for (const t of types) {
    const svg = ns('svg');
    svg.setAttribute('width', '22');
    svg.setAttribute('height', '16');
    svg.setAttribute('viewBox', '0 0 22 16');
    let shape;
    if (t === 'point') {
      shape = ns('circle');
      shape.setAttribute('cx', '11');
      shape.setAttribute('cy', '8');
      shape.setAttribute('r', String(Math.min(style.radius || 5, 7)));
      shape.setAttribute('fill', style.pointFill || style.fillColor);
      shape.setAttribute('fill-opacity', '0.9');
    } else if (t === 'line') {
      shape = ns('path');
      shape.setAttribute('d', 'M1 12 L8 5 L14 10 L21 3');
      shape.setAttribute('fill', 'none');
    } else {
      shape = ns('rect');
      shape.setAttribute('x', '2');
      shape.setAttribute('y', '2');
      shape.setAttribute('width', '18');
      shape.setAttribute('height', '12');
      shape.setAttribute('fill', style.fillColor);
      shape.setAttribute('fill-opacity', String(style.fillOpacity ?? 0.35));
    }
    shape.setAttribute('stroke', style.color);
    shape.setAttribute('stroke-width', String(Math.min(style.weight || 2, 3)));
    if (style.dashArray) shape.setAttribute('stroke-dasharray', style.dashArray);
    svg.append(shape);
    box.append(svg);
  }
  return box;
}
