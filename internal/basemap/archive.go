package basemap

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ArchiveInfo is what the page needs to draw an archive: where its tiles
// are (a URL template relative to the page), what they are, and where.
type ArchiveInfo struct {
	URL     string     `json:"url"`    // e.g. api/basemap/tiles/{z}/{x}/{y}
	Format  string     `json:"format"` // mvt, png, jpg, webp, avif
	Kind    string     `json:"kind"`   // raster or vector
	MinZoom uint8      `json:"minzoom"`
	MaxZoom uint8      `json:"maxzoom"`
	Bounds  [4]float64 `json:"bounds"` // west, south, east, north (WGS84)
}

// Archive serves the tiles of a local PMTiles archive: the base map of a
// network without internet (from an OpenStreetMap extract with tilemaker or
// planetiler, or a national geoportal's tiles converted with `pmtiles
// convert` from MBTiles).
type Archive struct {
	p *PMTiles
}

// TilesPath is where Handler is mounted.
const TilesPath = "/api/basemap/tiles/"

// OpenArchive opens the archive at path; it says what is wrong with a
// file that is not a usable PMTiles v3 archive.
func OpenArchive(path string) (*Archive, error) {
	p, err := OpenPMTiles(path)
	if err != nil {
		return nil, err
	}
	if p.Header().TileType == TileUnknown {
		p.Close()
		return nil, fmt.Errorf("%s: the archive does not say what its tiles are (tile type unknown)", path)
	}
	return &Archive{p: p}, nil
}

// Close closes the archive's file.
func (a *Archive) Close() error { return a.p.Close() }

// Info describes the archive for the page.
func (a *Archive) Info() ArchiveInfo {
	h := a.p.Header()
	kind := "raster"
	if h.TileType == TileMVT {
		kind = "vector"
	}
	return ArchiveInfo{URL: strings.TrimPrefix(TilesPath, "/") + "{z}/{x}/{y}", Format: h.TileType.String(), Kind: kind,
		MinZoom: h.MinZoom, MaxZoom: h.MaxZoom, Bounds: h.Bounds}
}

// ServeHTTP answers GET TilesPath + z/x/y: the tile (gzipped tiles with
// Content-Encoding gzip, which browsers undo), 204 where the archive has
// none, 400 for an address that is not a tile. The base map is public, as
// the offline outlines are: it holds no defence data.
func (a *Archive) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, TilesPath)
	parts := strings.Split(rest, "/")
	if len(parts) == 3 {
		parts[2] = strings.TrimSuffix(parts[2], "."+a.p.Header().TileType.String())
	}
	z, x, y, err := parseZXY(parts)
	if err != nil {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"type":"https://zoneplan.example/problems/invalid","title":"Bad Request","status":400,"code":"invalid","detail":%q}`+"\n", err.Error())
		return
	}
	tile, err := a.p.Tile(z, x, y)
	if err != nil {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"type":"https://zoneplan.example/problems/internal","title":"Internal Server Error","status":500,"code":"internal","detail":"the base map archive could not be read"}`+"\n")
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	if tile == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h := a.p.Header()
	w.Header().Set("Content-Type", h.TileType.ContentType())
	if h.TileCompression == compressGzip {
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(tile)))
	_, _ = w.Write(tile)
}

// parseZXY reads a tile address z/x/y, within the zoom's grid.
func parseZXY(parts []string) (z uint8, x, y uint32, err error) {
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("a base map tile is addressed z/x/y")
	}
	zz, err1 := strconv.ParseUint(parts[0], 10, 8)
	xx, err2 := strconv.ParseUint(parts[1], 10, 32)
	yy, err3 := strconv.ParseUint(parts[2], 10, 32)
	if err1 != nil || err2 != nil || err3 != nil || zz > 30 || xx >= 1<<zz || yy >= 1<<zz {
		return 0, 0, 0, fmt.Errorf("%s/%s/%s is not a tile address (z 0-30, x and y below 2^z)", parts[0], parts[1], parts[2])
	}
	return uint8(zz), uint32(xx), uint32(yy), nil
}
