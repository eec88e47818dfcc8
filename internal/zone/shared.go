package zone

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Sharer gives components decoded in bulk (a full listing for the
// in-memory index) one copy of what many of them hold alike: the same
// free properties (every generated work has {"note": ...}), the same
// author names, decision dates. At a million components a map of
// properties each is about 440 bytes and a JSON decode each; shared, it
// is neither. It is for one listing at a time, not for concurrent use.
//
// Components given shared values must be treated as read-only (Clone
// before changing one), as the index treats every component it holds.
type Sharer struct {
	props   map[string]map[string]any
	strings map[string]string
	zones   map[string][]ProtectionZone
	key     strings.Builder
}

// Bounds of a Sharer: only short values are shared (long ones are rarely
// the same), and at most so many of each, so that a store whose values
// are all different costs a bounded table and nothing more.
const (
	sharedPropsMaxLen  = 512
	sharedPropsMax     = 1 << 14
	sharedStringMaxLen = 64
	sharedStringsMax   = 1 << 14
	sharedZonesMax     = 1 << 16
)

// NewSharer returns an empty Sharer.
func NewSharer() *Sharer {
	return &Sharer{props: map[string]map[string]any{}, strings: map[string]string{}, zones: map[string][]ProtectionZone{}}
}

// Properties decodes a JSON object of free properties (empty or null: an
// empty map), giving components whose object is the same text the same
// map.
func (s *Sharer) Properties(raw []byte) (map[string]any, error) {
	if len(raw) <= sharedPropsMaxLen {
		if m, ok := s.props[string(raw)]; ok {
			return m, nil
		}
	}
	m := map[string]any{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
	}
	if len(raw) <= sharedPropsMaxLen && len(s.props) < sharedPropsMax {
		s.props[string(raw)] = m
	}
	return m, nil
}

// String returns one shared copy of a short string.
func (s *Sharer) String(v string) string {
	if len(v) > sharedStringMaxLen {
		return v
	}
	if w, ok := s.strings[v]; ok {
		return w
	}
	if len(s.strings) < sharedStringsMax {
		s.strings[v] = v
	}
	return v
}

// Share makes c's names (ShareNames), authors and zone decisions and
// dates the shared copies, and its zones one shared list when they are
// all provisional widths (a commune HQ's 15 m and 100 m, say: the same
// for thousands of components).
func (s *Sharer) Share(c *Component) {
	c.ShareNames()
	c.CreatedBy, c.UpdatedBy = s.String(c.CreatedBy), s.String(c.UpdatedBy)
	for i := range c.Zones {
		c.Zones[i].Decision = s.String(c.Zones[i].Decision)
		c.Zones[i].DecisionDate = s.String(c.Zones[i].DecisionDate)
	}
	c.Zones = s.sharedZones(c.Zones)
}

// sharedZones returns the shared list equal to zs when zs holds no
// approved polygon, else zs.
func (s *Sharer) sharedZones(zs []ProtectionZone) []ProtectionZone {
	if len(zs) == 0 {
		return zs
	}
	s.key.Reset()
	for _, z := range zs {
		if z.Geometry != nil {
			return zs
		}
		s.key.WriteString(string(z.Kind))
		s.key.WriteByte(0)
		s.key.WriteString(strconv.FormatFloat(z.WidthM, 'g', -1, 64))
		s.key.WriteByte(0)
		s.key.WriteString(z.Decision)
		s.key.WriteByte(0)
		s.key.WriteString(z.DecisionDate)
		s.key.WriteByte(0)
	}
	if shared, ok := s.zones[s.key.String()]; ok {
		return shared
	}
	zs = zs[:len(zs):len(zs)] // an append to a shared list must copy it
	if len(s.zones) < sharedZonesMax {
		s.zones[s.key.String()] = zs
	}
	return zs
}
