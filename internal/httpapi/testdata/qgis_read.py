"""QGIS, headless, as a GIS user opens zoneplan: an authentication config of
type Basic holding the token as its password, every OGC API - Features
collection as an OAPIF layer, the vector tiles as an XYZ vector tile layer,
and both rendered to a PNG. Prints one JSON object: per collection whether
the layer is valid, its geometry type, its feature count and how many of
its features have a drawable geometry of that type; and the rendered
images' non-blank pixel counts. Run by TestQGISReadsCollectionsAndTiles
with /usr/bin/python3 and QT_QPA_PLATFORM=offscreen.

usage: qgis_read.py BASE_URL TOKEN OUT_DIR COLLECTION...
"""
import json
import os
import sys

base, token, out_dir, collections = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QGIS_CUSTOM_CONFIG_PATH"] = os.path.join(out_dir, "profile")

from qgis.core import (QgsApplication, QgsAuthMethodConfig, QgsCoordinateReferenceSystem,  # noqa: E402
                       QgsMapRendererSequentialJob, QgsMapSettings, QgsRectangle, QgsVectorLayer,
                       QgsVectorTileLayer, QgsWkbTypes)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

app = QgsApplication([], False)
app.setPrefixPath("/usr", True)
app.initQgis()
auth = QgsApplication.authManager()
auth.setMasterPassword("zoneplan-test-master", True)
cfg = QgsAuthMethodConfig("Basic")
cfg.setName("zoneplan")
cfg.setConfig("username", "qgis")
cfg.setConfig("password", token)
ok = auth.storeAuthenticationConfig(cfg)
authcfg = cfg.id()

result = {"authcfg_stored": bool(ok[0] if isinstance(ok, tuple) else ok), "collections": {}, "render": {}}
geom_names = {QgsWkbTypes.PointGeometry: "point", QgsWkbTypes.LineGeometry: "line", QgsWkbTypes.PolygonGeometry: "polygon"}


def render(layers, name):
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    extent = QgsRectangle()
    for l in layers:
        e = settings.layerExtentToOutputExtent(l, l.extent())
        if e.isFinite() and not e.isEmpty():
            extent.combineExtentWith(e)
    if extent.isEmpty() or not extent.isFinite():
        # Vietnam, EPSG:3857
        extent = QgsRectangle(11365720, 915952, 12211748, 2692598)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(800, 800))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    img = job.renderedImage()
    path = os.path.join(out_dir, name + ".png")
    img.save(path)
    inked = 0
    for y in range(0, img.height(), 2):
        for x in range(0, img.width(), 2):
            if img.pixelColor(x, y) != QColor(255, 255, 255):
                inked += 1
    return {"png": path, "inked": inked, "errors": [str(e.message) for e in job.errors()]}


vector_layers = []
for name in collections:
    uri = "url='%s/ogc' typename='%s' authcfg=%s" % (base, name, authcfg)
    layer = QgsVectorLayer(uri, name, "OAPIF")
    entry = {"valid": layer.isValid()}
    if layer.isValid():
        gtype = geom_names.get(layer.geometryType(), "other")
        drawable = 0
        total = 0
        for f in layer.getFeatures():
            total += 1
            g = f.geometry()
            if not g.isNull() and not g.isEmpty() and g.type() == layer.geometryType():
                drawable += 1
        entry.update({"geometry": gtype, "count": total, "drawable": drawable})
        vector_layers.append(layer)
    else:
        entry["error"] = layer.error().summary()
    result["collections"][name] = entry

result["render"]["features"] = render(vector_layers[:12], "features")

tiles = QgsVectorTileLayer("type=xyz&url=%s/tiles/all/{z}/{x}/{y}.mvt&zmin=0&zmax=14&authcfg=%s" % (base, authcfg), "tiles")
result["tiles_valid"] = tiles.isValid()
if tiles.isValid():
    result["render"]["tiles"] = render([tiles], "tiles")

print(json.dumps(result), flush=True)
# QGIS 3.22's Python bindings may crash tearing the application down
# (exitQgis); what was to be said is said.
os._exit(0)
