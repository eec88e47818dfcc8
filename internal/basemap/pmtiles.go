package basemap

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// PMTiles v3 (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md):
// a 127-byte header, a root directory, metadata, leaf directories and the
// tile data, in one file read by byte ranges. Tiles are addressed by a
// Hilbert-curve tile id; directories map runs of ids to byte ranges.
// This reader is the small part of the spec a server needs: it keeps the
// root directory in memory and reads leaf directories and tiles from the
// file on each request.

const (
	pmHeaderLen    = 127
	pmMaxDirDepth  = 4 // root plus at most three levels of leaves
	compressNone   = 1
	compressGzip   = 2
	maxDirectoryMB = 64
)

// TileType is what an archive's tiles are.
type TileType uint8

// Tile types of PMTiles v3.
const (
	TileUnknown TileType = 0
	TileMVT     TileType = 1
	TilePNG     TileType = 2
	TileJPEG    TileType = 3
	TileWebP    TileType = 4
	TileAVIF    TileType = 5
)

// String is the type as a format name: mvt, png, jpg, webp, avif.
func (t TileType) String() string {
	switch t {
	case TileMVT:
		return "mvt"
	case TilePNG:
		return "png"
	case TileJPEG:
		return "jpg"
	case TileWebP:
		return "webp"
	case TileAVIF:
		return "avif"
	}
	return "unknown"
}

// ContentType is the HTTP content type of the tiles.
func (t TileType) ContentType() string {
	switch t {
	case TileMVT:
		return "application/vnd.mapbox-vector-tile"
	case TilePNG:
		return "image/png"
	case TileJPEG:
		return "image/jpeg"
	case TileWebP:
		return "image/webp"
	case TileAVIF:
		return "image/avif"
	}
	return "application/octet-stream"
}

// Header is what a PMTiles archive says about itself.
type Header struct {
	RootOffset, RootLength         uint64
	MetadataOffset, MetadataLength uint64
	LeafOffset, LeafLength         uint64
	DataOffset, DataLength         uint64
	InternalCompression            uint8
	TileCompression                uint8
	TileType                       TileType
	MinZoom, MaxZoom               uint8
	// Bounds: west, south, east, north (WGS84 degrees).
	Bounds [4]float64
}

type entry struct {
	tileID    uint64
	offset    uint64
	length    uint32
	runLength uint32 // 0: a leaf directory
}

// PMTiles is an open archive.
type PMTiles struct {
	f      *os.File
	header Header
	root   []entry
}

// OpenPMTiles opens an archive and reads its header and root directory.
func OpenPMTiles(path string) (*PMTiles, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	p := &PMTiles{f: f}
	if err := p.init(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func (p *PMTiles) init() error {
	buf := make([]byte, pmHeaderLen)
	if _, err := p.f.ReadAt(buf, 0); err != nil {
		return fmt.Errorf("reading the header: %w", err)
	}
	h, err := parseHeader(buf)
	if err != nil {
		return err
	}
	p.header = h
	if h.TileCompression != compressNone && h.TileCompression != compressGzip {
		return fmt.Errorf("tile compression %d is not supported (none or gzip)", h.TileCompression)
	}
	p.root, err = p.directory(h.RootOffset, h.RootLength)
	return err
}

func parseHeader(b []byte) (Header, error) {
	if len(b) < pmHeaderLen || string(b[:7]) != "PMTiles" {
		return Header{}, errors.New("not a PMTiles archive (no PMTiles magic)")
	}
	if b[7] != 3 {
		return Header{}, fmt.Errorf("PMTiles version %d is not supported (3)", b[7])
	}
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }
	deg := func(i int) float64 { return float64(int32(binary.LittleEndian.Uint32(b[i:]))) / 1e7 }
	h := Header{
		RootOffset: u(8), RootLength: u(16), MetadataOffset: u(24), MetadataLength: u(32),
		LeafOffset: u(40), LeafLength: u(48), DataOffset: u(56), DataLength: u(64),
		InternalCompression: b[97], TileCompression: b[98], TileType: TileType(b[99]),
		MinZoom: b[100], MaxZoom: b[101],
		Bounds: [4]float64{deg(102), deg(106), deg(110), deg(114)},
	}
	if h.MaxZoom < h.MinZoom || h.MaxZoom > 30 {
		return Header{}, fmt.Errorf("zooms %d-%d are not valid", h.MinZoom, h.MaxZoom)
	}
	return h, nil
}

// Header returns the archive's header.
func (p *PMTiles) Header() Header { return p.header }

// Close closes the file.
func (p *PMTiles) Close() error { return p.f.Close() }

// Tile returns the tile z/x/y as stored (gzipped when TileCompression is
// gzip), or nil when the archive has none there.
func (p *PMTiles) Tile(z uint8, x, y uint32) ([]byte, error) {
	if z < p.header.MinZoom || z > p.header.MaxZoom || x >= 1<<z || y >= 1<<z {
		return nil, nil
	}
	id := ZXYToTileID(z, x, y)
	dir := p.root
	for depth := 0; depth < pmMaxDirDepth; depth++ {
		e, ok := findEntry(dir, id)
		if !ok {
			return nil, nil
		}
		if e.runLength > 0 {
			buf := make([]byte, e.length)
			if _, err := p.f.ReadAt(buf, int64(p.header.DataOffset+e.offset)); err != nil {
				return nil, fmt.Errorf("reading tile %d/%d/%d: %w", z, x, y, err)
			}
			return buf, nil
		}
		var err error
		if dir, err = p.directory(p.header.LeafOffset+e.offset, uint64(e.length)); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("directories nested too deep")
}

// findEntry finds the entry holding id: the last whose tile id is at most
// id, when id falls in its run (a leaf's run is the rest of the ids up to
// the next entry).
func findEntry(dir []entry, id uint64) (entry, bool) {
	i := sort.Search(len(dir), func(i int) bool { return dir[i].tileID > id }) - 1
	if i < 0 {
		return entry{}, false
	}
	e := dir[i]
	if e.runLength == 0 || id < e.tileID+uint64(e.runLength) {
		return e, true
	}
	return entry{}, false
}

// directory reads and decodes a directory at offset, length.
func (p *PMTiles) directory(offset, length uint64) ([]entry, error) {
	if length > maxDirectoryMB<<20 {
		return nil, fmt.Errorf("a directory of %d bytes is too large", length)
	}
	raw := make([]byte, length)
	if _, err := p.f.ReadAt(raw, int64(offset)); err != nil {
		return nil, fmt.Errorf("reading a directory: %w", err)
	}
	switch p.header.InternalCompression {
	case compressNone:
	case compressGzip:
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("a directory: %w", err)
		}
		if raw, err = io.ReadAll(io.LimitReader(zr, maxDirectoryMB<<20)); err != nil {
			return nil, fmt.Errorf("a directory: %w", err)
		}
	default:
		return nil, fmt.Errorf("directory compression %d is not supported (none or gzip)", p.header.InternalCompression)
	}
	return decodeDirectory(raw)
}

func decodeDirectory(b []byte) ([]entry, error) {
	r := bytes.NewReader(b)
	n, err := binary.ReadUvarint(r)
	if err != nil || n > uint64(len(b)) {
		return nil, errors.New("a directory is corrupt (its entry count)")
	}
	es := make([]entry, n)
	read := func() uint64 {
		v, e := binary.ReadUvarint(r)
		if e != nil && err == nil {
			err = errors.New("a directory is corrupt (truncated)")
		}
		return v
	}
	var id uint64
	for i := range es {
		id += read()
		es[i].tileID = id
	}
	for i := range es {
		es[i].runLength = uint32(read())
	}
	for i := range es {
		es[i].length = uint32(read())
	}
	for i := range es {
		v := read()
		if v == 0 && i > 0 {
			es[i].offset = es[i-1].offset + uint64(es[i-1].length)
		} else {
			es[i].offset = v - 1
		}
	}
	return es, err
}

// ZXYToTileID is the PMTiles tile id of z/x/y: the tiles of every lower
// zoom, then the tile's position on the Hilbert curve of its zoom.
func ZXYToTileID(z uint8, x, y uint32) uint64 {
	var acc uint64
	for t := uint8(0); t < z; t++ {
		acc += uint64(1) << (2 * t)
	}
	tx, ty := uint64(x), uint64(y)
	var d uint64
	for s := (uint64(1) << z) / 2; s > 0; s /= 2 {
		var rx, ry uint64
		if tx&s > 0 {
			rx = 1
		}
		if ty&s > 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		if ry == 0 {
			if rx == 1 {
				tx, ty = s-1-tx, s-1-ty
			}
			tx, ty = ty, tx
		}
	}
	return acc + d
}

// TileData is one tile to write: its address and bytes (as they are to be
// stored, e.g. gzipped for a gzip archive).
type TileData struct {
	Z    uint8
	X, Y uint32
	Data []byte
}

// WritePMTiles writes tiles as a PMTiles v3 archive with one root
// directory (no leaves: fine up to some ten thousand tiles), gzipped, and
// empty metadata. It serves tests and small archives; big ones come from
// tilemaker, planetiler or the pmtiles tool.
func WritePMTiles(w io.Writer, tiles []TileData, t TileType, tileCompression uint8, bounds [4]float64) error {
	if len(tiles) == 0 {
		return errors.New("no tiles")
	}
	sorted := append([]TileData(nil), tiles...)
	sort.Slice(sorted, func(i, j int) bool {
		return ZXYToTileID(sorted[i].Z, sorted[i].X, sorted[i].Y) < ZXYToTileID(sorted[j].Z, sorted[j].X, sorted[j].Y)
	})
	var data bytes.Buffer
	es := make([]entry, len(sorted))
	minZ, maxZ := uint8(math.MaxUint8), uint8(0)
	for i, tl := range sorted {
		es[i] = entry{tileID: ZXYToTileID(tl.Z, tl.X, tl.Y), offset: uint64(data.Len()), length: uint32(len(tl.Data)), runLength: 1}
		data.Write(tl.Data)
		minZ, maxZ = min(minZ, tl.Z), max(maxZ, tl.Z)
	}
	var dir bytes.Buffer
	put := func(v uint64) { dir.Write(binary.AppendUvarint(nil, v)) }
	put(uint64(len(es)))
	var last uint64
	for _, e := range es {
		put(e.tileID - last)
		last = e.tileID
	}
	for _, e := range es {
		put(uint64(e.runLength))
	}
	for _, e := range es {
		put(uint64(e.length))
	}
	for i, e := range es {
		if i > 0 && e.offset == es[i-1].offset+uint64(es[i-1].length) {
			put(0)
		} else {
			put(e.offset + 1)
		}
	}
	var root bytes.Buffer
	zw := gzip.NewWriter(&root)
	if _, err := zw.Write(dir.Bytes()); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	meta := []byte("{}")
	h := make([]byte, pmHeaderLen)
	copy(h, "PMTiles")
	h[7] = 3
	le := binary.LittleEndian
	rootOff := uint64(pmHeaderLen)
	metaOff := rootOff + uint64(root.Len())
	leafOff := metaOff + uint64(len(meta))
	dataOff := leafOff
	for i, v := range []uint64{rootOff, uint64(root.Len()), metaOff, uint64(len(meta)), leafOff, 0, dataOff, uint64(data.Len()),
		uint64(len(es)), uint64(len(es)), uint64(len(es))} {
		le.PutUint64(h[8+8*i:], v)
	}
	h[96] = 1 // clustered
	h[97] = compressGzip
	h[98] = tileCompression
	h[99] = uint8(t)
	h[100], h[101] = minZ, maxZ
	for i, v := range bounds {
		le.PutUint32(h[102+4*i:], uint32(int32(math.Round(v*1e7))))
	}
	h[118] = minZ
	le.PutUint32(h[119:], uint32(int32(math.Round((bounds[0]+bounds[2])/2*1e7))))
	le.PutUint32(h[123:], uint32(int32(math.Round((bounds[1]+bounds[3])/2*1e7))))
	for _, part := range [][]byte{h, root.Bytes(), meta, data.Bytes()} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}
