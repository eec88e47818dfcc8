// tiles.js: the data layers as vector tiles. One VectorGrid over
// /tiles/all/{z}/{x}/{y}.mvt draws every layer the caller may see; showing and
// hiding a layer toggles a CSS class on the map, so no tile is fetched again.
//
// Leaflet.VectorGrid.Protobuf cannot add request headers, and the tiles must
// carry the bearer token, so AuthVectorGrid fetches and decodes the tiles
// itself (fetch + @mapbox/vector-tile) and hands VectorGrid the decoded tile.
// VectorGrid is used with its SVG renderer: its canvas renderer throws on
// click with Leaflet 1.9.

import { PbfReader } from 'pbf';
import { VectorTile } from '@mapbox/vector-tile';

/** ZONE_MIN_ZOOM is the lowest zoom at which protection zones are drawn. */
export const ZONE_MIN_ZOOM = 11;

/** ZONE_KINDS are the protection-zone kinds, from the inside out. */
export const ZONE_KINDS = ['restricted_area', 'protected_area', 'safety_belt'];

/** ZONE_LAYER is the MVT layer holding protection-zone polygons. */
export const ZONE_LAYER = 'protection_zones';

/** ZONE_STYLE is the symbology of protection zones; the legend draws the same. */
export const ZONE_STYLE = {
  restricted_area: { color: '#c62828', fillColor: '#e53935', fillOpacity: 0.28, weight: 1.5 },
  protected_area: { color: '#ef6c00', fillColor: '#fb8c00', fillOpacity: 0.18, weight: 1.2 },
  safety_belt: { color: '#9e9d24', fillColor: '#fdd835', fillOpacity: 0.12, weight: 1 },
};

/** VERDICT_OUTLINE overrides a project site's outline by its latest verdict. */
export const VERDICT_OUTLINE = {
  clear: { color: '#1b7a35', weight: 2.5 },
  incomplete: { color: '#5b6b7a', weight: 2.5, dashArray: '2 3' },
  review: { color: '#d39b00', weight: 2.5 },
  conflict: { color: '#b3261e', weight: 3 },
};

/** PROVISIONAL_DASH is the outline dash of a zone not fixed by a decision. */
export const PROVISIONAL_DASH = '5 4';

/**
 * CLUSTER_MAX_ZOOM: below it, points close together on screen are drawn as
 * one cluster with their count (at zoom 6 the country's border markers
 * would otherwise merge into one blob). A click on a cluster zooms in.
 */
export const CLUSTER_MAX_ZOOM = 10;

/** CLUSTER_CELL_PX is the side of the screen cell whose points make one cluster. */
const CLUSTER_CELL_PX = 56;

/** LABEL_MIN_ZOOM: from it, points are labelled with their code (or name); polygons from LABEL_MIN_ZOOM + 2. */
export const LABEL_MIN_ZOOM = 13;

/** GEOM is the property decodeTile adds to each feature: its MVT type (1 point, 2 line, 3 polygon). */
export const GEOM = '_geom';

/** CLUSTER is the property of a cluster feature: how many points it stands for. */
export const CLUSTER = '_cluster';

/** OMITTED marks a cluster of features the server left out of a full tile (they are not drawn). */
export const OMITTED = '_omitted';

/**
 * OMITTED_LAYER is the MVT layer in which the server counts, per layer and
 * eighth of the tile, the features a tile over its budget left out
 * (internal/tiles thin.go): points with "layer" and "count".
 */
export const OMITTED_LAYER = 'omitted';

/**
 * pointStyle is how a point is drawn: a filled symbol (never a hollow ring)
 * with a white halo, smaller at low zoom; a cluster larger with its count
 * (the count is a label, see AuthVectorGrid).
 */
export function pointStyle(base, props, zoom) {
  if (props[CLUSTER]) {
    const n = Number(props[CLUSTER]);
    return {
      ...base, radius: Math.min(8 + 2 * Math.log2(n), 16), weight: 2, color: '#ffffff',
      fillColor: base.color, fillOpacity: 0.85, dashArray: null,
    };
  }
  const small = zoom < CLUSTER_MAX_ZOOM;
  return {
    ...base,
    radius: small ? 3.5 : base.radius,
    weight: small ? 1 : Math.max(base.weight, 2),
    fillColor: base.fillColor === '#ffffff' ? base.color : base.fillColor,
    fillOpacity: 0.9,
    color: small ? '#ffffff' : base.color,
    dashArray: null,
  };
}

/** cssId makes a layer id safe inside a class name. */
export function cssId(id) {
  return String(id).replace(/[^A-Za-z0-9_-]/g, '_');
}

/** layerPathStyle is the Leaflet path style of a data layer, from its server style. */
export function layerPathStyle(layer) {
  const s = layer.style || {};
  return {
    color: s.color || '#333',
    weight: s.weight || 2,
    dashArray: s.dash || null,
    fill: true,
    fillColor: s.fill_color || s.color || '#333',
    fillOpacity: 0.35,
    radius: s.radius || 6,
    opacity: 1,
  };
}

/** zonePathStyle is the Leaflet path style of one protection-zone polygon. */
export function zonePathStyle(props) {
  const base = ZONE_STYLE[props.kind] || ZONE_STYLE.safety_belt;
  return {
    ...base,
    fill: true,
    opacity: 0.9,
    dashArray: isApproved(props.approved) ? null : PROVISIONAL_DASH,
  };
}

/** isApproved reads the MVT "approved" property (a bool, or a string from some encoders). */
export function isApproved(v) {
  return v === true || v === 'true' || v === 1;
}

/**
 * createDataGrid builds the VectorGrid of every data layer.
 * @param {object} opts
 * @param {object[]} opts.layers the caller's layers from /api/layers
 * @param {() => object} opts.headers returns the request headers (Authorization)
 * @param {(status:number) => void} opts.onTileError called once per failed tile
 * @param {string} opts.pane the map pane to draw into
 */
export function createDataGrid({ layers, headers, onTileError, pane }) {
  const L = window.L;
  const styles = {};
  for (const layer of layers) {
    const style = layerPathStyle(layer);
    const cls = `zp-f zp-l-${cssId(layer.id)}`;
    // Project sites are outlined in the colour of their latest verdict, so a
    // planner sees the conflicts at a glance (the legend shows the same).
    const byGeometry = (props, zoom) => (props[GEOM] === 1 ? pointStyle(style, props, zoom) : style);
    styles[layer.id] = layer.group === 'projects'
      ? (props, zoom) => ({ ...byGeometry(props, zoom), ...(VERDICT_OUTLINE[props.verdict] || {}), className: cls })
      : (props, zoom) => ({ ...byGeometry(props, zoom), className: cls + (props[CLUSTER] ? ' zp-cluster' : '') });
  }
  // Zones are drawn only from ZONE_MIN_ZOOM; below it they would be specks
  // that hide the components they belong to.
  styles[ZONE_LAYER] = (props, zoom) => {
    if (zoom < ZONE_MIN_ZOOM) return [];
    const cls = `zp-f zp-zone zp-z-${cssId(props.kind)} zp-l-${cssId(props.layer)}`;
    return { ...zonePathStyle(props), className: cls };
  };

  const AuthVectorGrid = L.VectorGrid.extend({
    initialize(url, options) {
      this._url = url;
      this._aborts = new Map();
      this._labels = new Map(); // tile key -> L.LayerGroup of its labels
      this._areaLabels = new Map(); // zoom/layer/id -> {box, keys, marker}: polygon labels across tiles
      L.VectorGrid.prototype.initialize.call(this, options);
      // A tile scrolled out of view before it arrived is not fetched to the
      // end; its labels go with it.
      this.on('tileunload', (e) => {
        const key = this._tileCoordsToKey(e.coords);
        const ctl = this._aborts.get(key);
        if (ctl) ctl.abort();
        this._aborts.delete(key);
        this._dropLabels(key);
      });
    },

    onRemove(map) {
      for (const key of [...this._labels.keys()]) this._dropLabels(key);
      for (const a of this._areaLabels.values()) a.marker.remove();
      this._areaLabels.clear();
      L.VectorGrid.prototype.onRemove.call(this, map);
    },

    _dropLabels(key) {
      const group = this._labels.get(key);
      if (group) group.remove();
      this._labels.delete(key);
      // A polygon's label goes with the last tile holding a piece of it.
      for (const [id, a] of this._areaLabels) {
        if (a.keys.delete(key) && !a.keys.size) {
          a.marker.remove();
          this._areaLabels.delete(id);
        }
      }
    },

    /**
     * _areaLabel labels a polygon once however many tiles hold pieces of
     * it: at the middle of the union of its pieces' boxes (global pixels).
     */
    _areaLabel(key, coords, it, size) {
      const L = window.L;
      const box = [(coords.x + it.box[0]) * size.x, (coords.y + it.box[1]) * size.y,
        (coords.x + it.box[2]) * size.x, (coords.y + it.box[3]) * size.y];
      const id = `${coords.z}/${it.id}`;
      let a = this._areaLabels.get(id);
      if (a) {
        a.box = [Math.min(a.box[0], box[0]), Math.min(a.box[1], box[1]), Math.max(a.box[2], box[2]), Math.max(a.box[3], box[3])];
      } else {
        a = { box, keys: new Set(), marker: null };
        this._areaLabels.set(id, a);
      }
      a.keys.add(key);
      const at = this._map.unproject([(a.box[0] + a.box[2]) / 2, (a.box[1] + a.box[3]) / 2], coords.z);
      if (a.marker) {
        a.marker.setLatLng(at);
        return;
      }
      a.marker = labelMarker(at, it).addTo(this._map);
    },

    /**
     * _addLabels writes a tile's labels: a cluster's count, and from
     * LABEL_MIN_ZOOM a feature's code (or name). Labels are text in a pane
     * of their own that takes no clicks; each carries its layer's class,
     * so hiding a layer hides its labels.
     */
    _addLabels(key, coords, tile) {
      this._dropLabels(key);
      if (!this._map) return;
      const items = tileLabels(tile, coords.z);
      if (!items.length) return;
      const size = this.getTileSize();
      const group = L.layerGroup();
      for (const it of items) {
        if (it.box) {
          this._areaLabel(key, coords, it, size);
          continue;
        }
        const latlng = this._map.unproject([(coords.x + it.x) * size.x, (coords.y + it.y) * size.y], coords.z);
        group.addLayer(labelMarker(latlng, it));
      }
      this._labels.set(key, group);
      group.addTo(this._map);
    },

    // Leaflet gives an event on a small circle marker the marker's
    // getLatLng(); a VectorGrid point has none (it lives in tile pixels),
    // so every click on a point threw. Without getLatLng the event takes
    // the pointer's place, as it does for lines and polygons.
    _createLayer(feat, pxPerExtent, layerStyle) {
      const layer = L.VectorGrid.prototype._createLayer.call(this, feat, pxPerExtent, layerStyle);
      if (feat.type === 1 && layer) layer.getLatLng = undefined;
      return layer;
    },

    // _getVectorTilePromise is VectorGrid's hook for subclasses: return a
    // promise of {layers: {name: {extent, features: [{type, properties, geometry}]}}}.
    // It never rejects: VectorGrid does not catch, so a failure becomes an
    // empty tile and a call to onTileError.
    _getVectorTilePromise(coords) {
      const key = this._tileCoordsToKey(coords);
      const ctl = new AbortController();
      this._aborts.set(key, ctl);
      const url = L.Util.template(this._url, { z: coords.z, x: coords.x, y: coords.y });
      return fetch(url, { headers: headers(), signal: ctl.signal })
        .then(async (res) => {
          if (res.status === 204) return { layers: {} };
          if (!res.ok) {
            onTileError(res.status);
            return { layers: {} };
          }
          const tile = clusterPoints(foldOmitted(decodeTile(await res.arrayBuffer())), coords.z);
          this._addLabels(key, coords, tile);
          return tile;
        })
        .catch((err) => {
          if (err.name !== 'AbortError') onTileError(0);
          return { layers: {} };
        })
        .finally(() => {
          if (this._aborts.get(key) === ctl) this._aborts.delete(key);
        });
    },
  });

  return new AuthVectorGrid('tiles/all/{z}/{x}/{y}.mvt', {
    pane,
    rendererFactory: L.svg.tile,
    vectorTileLayerStyles: styles,
    interactive: true,
    maxZoom: 22,
    // Tiles are cut for 256-pixel tiles (z/x/y of the usual web grid).
    tileSize: 256,
    updateWhenZooming: false,
    keepBuffer: 2,
  });
}

/**
 * decodeTile parses an MVT into VectorGrid's shape. Protection zones come
 * first so that they are drawn beneath the components they surround.
 */
function decodeTile(buf) {
  const tile = new VectorTile(new PbfReader(new Uint8Array(buf)));
  const names = Object.keys(tile.layers).sort((a, b) => (a === ZONE_LAYER ? -1 : b === ZONE_LAYER ? 1 : 0));
  const layers = {};
  for (const name of names) {
    const src = tile.layers[name];
    const features = [];
    for (let i = 0; i < src.length; i++) {
      const f = src.feature(i);
      features.push({ type: f.type, properties: { ...f.properties, [GEOM]: f.type }, geometry: f.loadGeometry() });
    }
    layers[name] = { name, extent: src.extent, length: features.length, features };
  }
  return { layers };
}

/** labelMarker is a label's marker: its text (never HTML: names come from the data) in the labels pane. */
function labelMarker(latlng, it) {
  const L = window.L;
  const cls = `zp-label zp-l-${cssId(it.layer)}${it.count ? ' zp-count' : ''}${it.area ? ' zp-label-area' : ''}`;
  return L.marker(latlng, {
    pane: 'zpLabels', interactive: false, keyboard: false,
    icon: L.divIcon({ className: cls, html: '', iconSize: [0, 0] }),
  }).on('add', (e) => {
    const span = document.createElement('span');
    span.textContent = it.text;
    e.target.getElement().replaceChildren(span);
  });
}

/**
 * foldOmitted turns the server's count of left-out features (OMITTED_LAYER)
 * into clusters of their own layers: drawn, labelled "+n", hidden with
 * their layer, and a click zooms in, where they are drawn.
 */
export function foldOmitted(tile) {
  const om = tile.layers[OMITTED_LAYER];
  if (!om) return tile;
  delete tile.layers[OMITTED_LAYER];
  for (const f of om.features) {
    const p = f.properties || {};
    const name = String(p.layer || '');
    const n = Number(p.count);
    if (!name || !(n > 0)) continue;
    if (!tile.layers[name]) tile.layers[name] = { name, extent: om.extent, length: 0, features: [] };
    const layer = tile.layers[name];
    const scale = layer.extent / om.extent;
    const pt = f.geometry[0][0];
    layer.features.push({
      type: 1,
      properties: { layer: name, [GEOM]: 1, [CLUSTER]: n, [OMITTED]: true },
      geometry: [[{ x: Math.round(pt.x * scale), y: Math.round(pt.y * scale) }]],
    });
    layer.length = layer.features.length;
  }
  return tile;
}

/**
 * clusterPoints replaces, below CLUSTER_MAX_ZOOM, the points of each layer
 * that fall in one CLUSTER_CELL_PX screen cell of the tile by one cluster
 * point at their mean, with their count (a lone point stays as it is).
 * Cells are the tile's own, so a cluster never spans two tiles.
 */
export function clusterPoints(tile, zoom) {
  if (zoom >= CLUSTER_MAX_ZOOM) return tile;
  for (const [name, layer] of Object.entries(tile.layers)) {
    if (name === ZONE_LAYER) continue;
    const cell = (layer.extent * CLUSTER_CELL_PX) / 256;
    const cells = new Map();
    const rest = [];
    for (const f of layer.features) {
      const p = f.type === 1 && f.geometry.length === 1 && f.geometry[0].length === 1 ? f.geometry[0][0] : null;
      if (!p) {
        rest.push(f);
        continue;
      }
      // A point in the tile's buffer belongs to the neighbouring tile,
      // which clusters it: counted here too, it would be counted twice.
      if (p.x < 0 || p.y < 0 || p.x >= layer.extent || p.y >= layer.extent) continue;
      const k = `${Math.floor(p.x / cell)}/${Math.floor(p.y / cell)}`;
      if (!cells.has(k)) cells.set(k, []);
      cells.get(k).push(f);
    }
    for (const members of cells.values()) {
      if (members.length === 1) {
        rest.push(members[0]);
        continue;
      }
      // A member may itself stand for several (the server's count of
      // left-out features): it weighs its count.
      const weight = (m) => Number(m.properties[CLUSTER]) || 1;
      const total = members.reduce((n, m) => n + weight(m), 0);
      let x = 0;
      let y = 0;
      for (const m of members) {
        x += (m.geometry[0][0].x * weight(m)) / total;
        y += (m.geometry[0][0].y * weight(m)) / total;
      }
      rest.push({
        type: 1,
        properties: { layer: members[0].properties.layer || name, [GEOM]: 1, [CLUSTER]: total },
        geometry: [[{ x: Math.round(x), y: Math.round(y) }]],
      });
    }
    layer.features = rest;
    layer.length = rest.length;
  }
  return tile;
}

/**
 * tileLabels lists a decoded tile's labels as {x, y (fractions of the
 * tile), text, layer, count}: every cluster's count; from LABEL_MIN_ZOOM
 * each point's code or name; from LABEL_MIN_ZOOM + 2 each polygon's, at
 * the middle of its outline's box when that lies in this tile (so a
 * polygon cut by tile edges is labelled once, in most cases).
 */
export function tileLabels(tile, zoom) {
  const out = [];
  for (const [name, layer] of Object.entries(tile.layers)) {
    if (name === ZONE_LAYER) continue;
    const e = layer.extent;
    for (const f of layer.features) {
      const p = f.properties || {};
      const layerId = p.layer || name;
      if (p[CLUSTER]) {
        const pt = f.geometry[0][0];
        const text = p[OMITTED] ? `+${p[CLUSTER]}` : String(p[CLUSTER]);
        out.push({ x: pt.x / e, y: pt.y / e, text, layer: layerId, count: true });
        continue;
      }
      const text = p.code || p.name;
      if (!text) continue;
      const inside = (pt) => pt.x >= 0 && pt.y >= 0 && pt.x < e && pt.y < e;
      if (f.type === 1 && zoom >= LABEL_MIN_ZOOM) {
        for (const ring of f.geometry) for (const pt of ring) if (inside(pt)) out.push({ x: pt.x / e, y: pt.y / e, text, layer: layerId });
      } else if (f.type === 3 && zoom >= LABEL_MIN_ZOOM + 2 && f.geometry.length) {
        // The outline's box within this tile; the grid merges the boxes of
        // a polygon's pieces in several tiles into one label (by its id).
        const clamp = (v) => Math.min(Math.max(v, 0), e);
        let minx = Infinity; let miny = Infinity; let maxx = -Infinity; let maxy = -Infinity;
        for (const pt of f.geometry[0]) {
          minx = Math.min(minx, clamp(pt.x)); maxx = Math.max(maxx, clamp(pt.x));
          miny = Math.min(miny, clamp(pt.y)); maxy = Math.max(maxy, clamp(pt.y));
        }
        if (maxx > minx && maxy > miny) {
          out.push({ box: [minx / e, miny / e, maxx / e, maxy / e], id: `${layerId}/${p.id ?? text}`, text, layer: layerId, area: true });
        }
      }
    }
  }
  return out;
}
