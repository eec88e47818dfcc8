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
  review: { color: '#d39b00', weight: 2.5 },
  conflict: { color: '#b3261e', weight: 3 },
};

/** PROVISIONAL_DASH is the outline dash of a zone not fixed by a decision. */
export const PROVISIONAL_DASH = '5 4';

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
    styles[layer.id] = layer.group === 'projects'
      ? (props) => ({ ...style, ...(VERDICT_OUTLINE[props.verdict] || {}), className: cls })
      : () => ({ ...style, className: cls });
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
      L.VectorGrid.prototype.initialize.call(this, options);
      // A tile scrolled out of view before it arrived is not fetched to the end.
      this.on('tileunload', (e) => {
        const key = this._tileCoordsToKey(e.coords);
        const ctl = this._aborts.get(key);
        if (ctl) ctl.abort();
        this._aborts.delete(key);
      });
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
          return decodeTile(await res.arrayBuffer());
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
      features.push({ type: f.type, properties: f.properties, geometry: f.loadGeometry() });
    }
    layers[name] = { name, extent: src.extent, length: features.length, features };
  }
  return { layers };
}
