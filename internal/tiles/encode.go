package tiles

import (
	"encoding/binary"
	"math"

	"github.com/paulmach/orb"
)

// This file writes Mapbox Vector Tile 2.1 protobuf directly, one feature at
// a time, so a tile's exact size is known while it is built (the thinning
// budget) and no intermediate feature maps are made. Field numbers and
// geometry commands are those of vector_tile.proto and the MVT 2.1 spec.

const (
	wireVarint = 0
	wireBytes  = 2

	cmdMoveTo    = 1
	cmdLineTo    = 2
	cmdClosePath = 7

	geomPoint      = 1
	geomLineString = 2
	geomPolygon    = 3
)

// attr is one feature attribute: a string, a bool when isBool, or an
// unsigned integer when isUint. A
// unique value (an id, a name) is written without looking for an equal
// one first: the value table holds it once either way, and the lookup
// would only cost a hash of a string no other feature has.
type attr struct {
	key    string
	str    string
	isBool bool
	b      bool
	isUint bool
	u      uint64
	unique bool
}

// valueKey identifies a value in a layer's value table.
type valueKey struct {
	str    string
	isBool bool
	b      bool
	isUint bool
	u      uint64
}

// layerEncoder accumulates one MVT layer.
type layerEncoder struct {
	name     string
	extent   uint32
	keys     []string
	keyIndex map[string]uint32
	values   []valueKey
	valIndex map[valueKey]uint32
	features []byte // encoded Feature messages, each with its field key and length
	count    int
	size     int // bytes of keys, values and features so far
	scratch  []uint32
	tags     []uint32
	ids      map[uint64]struct{} // feature ids in the layer
	idOrder  []uint64            // the same, in the order added (for undo)
}

func newLayerEncoder(name string, extent int) *layerEncoder {
	return &layerEncoder{name: name, extent: uint32(extent), keyIndex: map[string]uint32{}, valIndex: map[valueKey]uint32{}, ids: map[uint64]struct{}{}}
}

// layerMark is a layer's state before a feature, to take the feature back.
type layerMark struct{ features, keys, values, ids, count, size int }

func (l *layerEncoder) mark() layerMark {
	return layerMark{len(l.features), len(l.keys), len(l.values), len(l.idOrder), l.count, l.size}
}

// undo takes back every feature added since m.
func (l *layerEncoder) undo(m layerMark) {
	for _, k := range l.keys[m.keys:] {
		delete(l.keyIndex, k)
	}
	for _, v := range l.values[m.values:] {
		if i, ok := l.valIndex[v]; ok && int(i) >= m.values {
			delete(l.valIndex, v)
		}
	}
	for _, id := range l.idOrder[m.ids:] {
		delete(l.ids, id)
	}
	l.features, l.keys, l.values, l.idOrder = l.features[:m.features], l.keys[:m.keys], l.values[:m.values], l.idOrder[:m.ids]
	l.count, l.size = m.count, m.size
}

// maxFeatureID is the largest feature id: 2^53 - 1, exact as a JavaScript
// number.
const maxFeatureID = 1<<53 - 1

// unique returns id, or when another feature of the layer has it already
// (two 53-bit hashes meeting: about one tile in 10^9 of 10,000 features)
// the next free one in steps of 4, which keep a zone's kind bits; and
// notes it as taken.
func (l *layerEncoder) unique(id uint64) uint64 {
	id &= maxFeatureID
	for {
		if _, taken := l.ids[id]; !taken {
			break
		}
		id = (id + 4) & maxFeatureID
	}
	l.ids[id] = struct{}{}
	l.idOrder = append(l.idOrder, id)
	return id
}

// addWithin adds a feature unless the layer would then pass limit bytes;
// it returns the bytes added (0 when the feature was empty or refused) and
// whether it fitted.
func (l *layerEncoder) addWithin(limit int, id uint64, g orb.Geometry, attrs []attr) (int, bool) {
	m := l.mark()
	n := l.add(id, g, attrs)
	if l.size > limit {
		l.undo(m)
		return 0, false
	}
	return n, true
}

// add encodes one feature and returns the bytes it added to the layer
// (0 when its geometry is empty).
func (l *layerEncoder) add(id uint64, g orb.Geometry, attrs []attr) int {
	typ, cmds := encodeGeometry(g, l.scratch[:0])
	l.scratch = cmds
	if typ == 0 || len(cmds) == 0 {
		return 0
	}
	before := l.size
	id = l.unique(id)
	tags := l.tags[:0]
	for _, a := range attrs {
		k, ok := l.keyIndex[a.key]
		if !ok {
			k = uint32(len(l.keys))
			l.keys = append(l.keys, a.key)
			l.keyIndex[a.key] = k
			l.size += 1 + varintLen(uint64(len(a.key))) + len(a.key)
		}
		vk := valueKey{str: a.str, isBool: a.isBool, b: a.b, isUint: a.isUint, u: a.u}
		v, ok := uint32(0), false
		if !a.unique {
			v, ok = l.valIndex[vk]
		}
		if !ok {
			v = uint32(len(l.values))
			l.values = append(l.values, vk)
			if !a.unique {
				l.valIndex[vk] = v
			}
			n := valueLen(vk)
			l.size += 1 + varintLen(uint64(n)) + n
		}
		tags = append(tags, k, v)
	}
	l.tags = tags

	// Feature: id (1), tags (2, packed), type (3), geometry (4, packed).
	body := 1 + varintLen(id) + packedLen(2, tags) + 2 + packedLen(4, cmds)
	start := len(l.features)
	l.features = appendKey(l.features, 2, wireBytes)
	l.features = binary.AppendUvarint(l.features, uint64(body))
	l.features = appendKey(l.features, 1, wireVarint)
	l.features = binary.AppendUvarint(l.features, id)
	l.features = appendPacked(l.features, 2, tags)
	l.features = appendKey(l.features, 3, wireVarint)
	l.features = append(l.features, byte(typ))
	l.features = appendPacked(l.features, 4, cmds)
	l.size += len(l.features) - start
	l.count++
	return l.size - before
}

// appendTo appends the layer as field 3 of a Tile message.
func (l *layerEncoder) appendTo(out []byte) []byte {
	var body []byte
	body = appendKey(body, 15, wireVarint)
	body = append(body, 2) // version 2
	body = appendString(body, 1, l.name)
	body = append(body, l.features...)
	for _, k := range l.keys {
		body = appendString(body, 3, k)
	}
	for _, v := range l.values {
		body = appendKey(body, 4, wireBytes)
		body = binary.AppendUvarint(body, uint64(valueLen(v)))
		switch {
		case v.isBool:
			body = appendKey(body, 7, wireVarint)
			if v.b {
				body = append(body, 1)
			} else {
				body = append(body, 0)
			}
		case v.isUint:
			body = appendKey(body, 5, wireVarint)
			body = binary.AppendUvarint(body, v.u)
		default:
			body = appendString(body, 1, v.str)
		}
	}
	body = appendKey(body, 5, wireVarint)
	body = binary.AppendUvarint(body, uint64(l.extent))
	out = appendKey(out, 3, wireBytes)
	out = binary.AppendUvarint(out, uint64(len(body)))
	return append(out, body...)
}

func valueLen(v valueKey) int {
	if v.isBool {
		return 2
	}
	if v.isUint {
		return 1 + varintLen(v.u)
	}
	return 1 + varintLen(uint64(len(v.str))) + len(v.str)
}

func appendKey(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wire))
}

func appendString(b []byte, field int, s string) []byte {
	b = appendKey(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func packedLen(field int, vs []uint32) int {
	if len(vs) == 0 {
		return 0
	}
	n := 0
	for _, v := range vs {
		n += varintLen(uint64(v))
	}
	return varintLen(uint64(field<<3|wireBytes)) + varintLen(uint64(n)) + n
}

func appendPacked(b []byte, field int, vs []uint32) []byte {
	if len(vs) == 0 {
		return b
	}
	n := 0
	for _, v := range vs {
		n += varintLen(uint64(v))
	}
	b = appendKey(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(n))
	for _, v := range vs {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return b
}

func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// geomWriter emits geometry commands with the cursor the spec requires:
// each coordinate is a zigzag delta from the previous one.
type geomWriter struct {
	cmds []uint32
	x, y int32
}

func command(id, count int) uint32 { return uint32(id&7) | uint32(count)<<3 }

func zigzag(v int32) uint32 { return uint32((v << 1) ^ (v >> 31)) }

func (w *geomWriter) point(p orb.Point) {
	x, y := int32(math.Round(p[0])), int32(math.Round(p[1]))
	w.cmds = append(w.cmds, zigzag(x-w.x), zigzag(y-w.y))
	w.x, w.y = x, y
}

func (w *geomWriter) line(ps []orb.Point) {
	w.cmds = append(w.cmds, command(cmdMoveTo, 1))
	w.point(ps[0])
	w.cmds = append(w.cmds, command(cmdLineTo, len(ps)-1))
	for _, p := range ps[1:] {
		w.point(p)
	}
}

// ring writes a closed ring without its repeated closing vertex.
func (w *geomWriter) ring(r orb.Ring) {
	w.line(r[:len(r)-1])
	w.cmds = append(w.cmds, command(cmdClosePath, 1))
}

// encodeGeometry returns the MVT geometry type and commands of a geometry
// already in integer tile units, lines and rings cleaned and oriented by
// finish.
func encodeGeometry(g orb.Geometry, buf []uint32) (int, []uint32) {
	w := geomWriter{cmds: buf}
	switch g := g.(type) {
	case orb.Point:
		w.cmds = append(w.cmds, command(cmdMoveTo, 1))
		w.point(g)
		return geomPoint, w.cmds
	case orb.MultiPoint:
		if len(g) == 0 {
			return 0, nil
		}
		w.cmds = append(w.cmds, command(cmdMoveTo, len(g)))
		for _, p := range g {
			w.point(p)
		}
		return geomPoint, w.cmds
	case orb.LineString:
		w.line(g)
		return geomLineString, w.cmds
	case orb.MultiLineString:
		for _, l := range g {
			w.line(l)
		}
		return geomLineString, w.cmds
	case orb.Polygon:
		for _, r := range g {
			w.ring(r)
		}
		return geomPolygon, w.cmds
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				w.ring(r)
			}
		}
		return geomPolygon, w.cmds
	}
	return 0, nil
}
