#!/bin/sh
# vendor.sh: install the pinned npm packages (package-lock.json) and copy the
# exact files the page loads into static/vendor/<package>@<version>/.
# The copies are committed so that `go build` alone embeds a working page;
# node_modules is not. Run it again after changing package.json:
#
#   cd web && ./vendor.sh
#
# The one change made to the copied files: the trailing sourceMappingURL
# comment is removed, because the .map files are not shipped (a browser with
# developer tools open would otherwise ask the server for them and log 404s).
set -eu
cd "$(dirname "$0")"

npm ci --no-audit --no-fund --ignore-scripts

out=static/vendor
rm -rf "$out"
mkdir -p "$out"

# version PKG: the installed version of an npm package.
version() {
	node -p "require('./node_modules/$1/package.json').version"
}

# copy PKG FILE...: copy files (paths relative to the package) into
# static/vendor/<name>@<version>/, keeping their relative paths, and the
# package's licence file beside them.
copy() {
	pkg=$1
	shift
	dir="$out/$(echo "$pkg" | tr / _)@$(version "$pkg")"
	for f in "$@"; do
		mkdir -p "$dir/$(dirname "$f")"
		sed -e '/^\/\/# sourceMappingURL=/d' -e 's#/\*\# sourceMappingURL=[^*]*\*/##' \
			"node_modules/$pkg/$f" >"$dir/$f"
	done
	for lic in LICENSE LICENSE.txt LICENSE.md; do
		if [ -f "node_modules/$pkg/$lic" ]; then
			cp "node_modules/$pkg/$lic" "$dir/LICENSE.txt"
		fi
	done
}

# copybin PKG FILE...: like copy, for binary files (images), unchanged.
copybin() {
	pkg=$1
	shift
	dir="$out/$(echo "$pkg" | tr / _)@$(version "$pkg")"
	for f in "$@"; do
		mkdir -p "$dir/$(dirname "$f")"
		cp "node_modules/$pkg/$f" "$dir/$f"
	done
}

copy leaflet dist/leaflet.js dist/leaflet.css
copybin leaflet dist/images/marker-icon.png dist/images/marker-icon-2x.png \
	dist/images/marker-shadow.png dist/images/layers.png dist/images/layers-2x.png
copy leaflet.vectorgrid dist/Leaflet.VectorGrid.min.js
copy @geoman-io/leaflet-geoman-free dist/leaflet-geoman.min.js dist/leaflet-geoman.css
copy pbf index.js
copy @mapbox/vector-tile index.js
copy @mapbox/point-geometry index.js
# Measuring on the ellipsoid (Karney's geodesics: lengths and areas) and the
# pointer's VN-2000 coordinates (proj4 with the Decision 05/2007 parameters).
copy geographiclib-geodesic geographiclib-geodesic.min.js
copy proj4 dist/proj4.js
# The OGC API definition as a page (/ogc/api?f=html): Swagger UI, its spec
# written into the page, nothing fetched from elsewhere.
copy swagger-ui-dist swagger-ui-bundle.js swagger-ui.css

# leaflet.vectorgrid ships no licence file; its package.json says "Beerware"
# and its README holds the text: keep that notice beside the code.
vg="$out/leaflet.vectorgrid@$(version leaflet.vectorgrid)"
sed -n '/THE BEER-WARE LICENSE/,/beer in return/p' node_modules/leaflet.vectorgrid/README.md >"$vg/LICENSE.txt"
test -s "$vg/LICENSE.txt"

find "$out" -type f | sort
