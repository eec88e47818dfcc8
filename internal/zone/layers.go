package zone

import (
	"sort"

	"github.com/paulmach/orb"
)

// GeometryClass is the family of geometry a layer holds; each class admits
// its single and Multi forms.
type GeometryClass string

const (
	GeomPoint   GeometryClass = "point"
	GeomLine    GeometryClass = "line"
	GeomPolygon GeometryClass = "polygon"
)

// ClassOf returns the class of an orb geometry, "" for collections and
// unknown types.
func ClassOf(g orb.Geometry) GeometryClass {
	switch g.(type) {
	case orb.Point, orb.MultiPoint:
		return GeomPoint
	case orb.LineString, orb.MultiLineString:
		return GeomLine
	case orb.Polygon, orb.MultiPolygon, orb.Ring:
		return GeomPolygon
	}
	return ""
}

// PropertyType is the type of a layer-specific property.
type PropertyType string

const (
	PropString  PropertyType = "string"
	PropNumber  PropertyType = "number"
	PropStrings PropertyType = "string[]"
	PropBoolean PropertyType = "boolean"
)

// PropertySpec declares one typed property a layer's features carry in their
// free properties, beyond the fields every component has.
type PropertySpec struct {
	Name    string       `json:"name"`
	Type    PropertyType `json:"type"`
	TitleVI string       `json:"title_vi"`
	TitleEN string       `json:"title_en"`
	Enum    []string     `json:"enum,omitempty"` // allowed values (each element, for string[])
}

// Style is a layer's default symbology, shared by the web map's legend and
// its vector-tile styling.
type Style struct {
	Color     string  `json:"color"`                // stroke, CSS colour
	FillColor string  `json:"fill_color,omitempty"` // polygon and marker fill
	Weight    float64 `json:"weight"`               // stroke width in pixels
	Dash      string  `json:"dash,omitempty"`       // SVG dash array
	Radius    float64 `json:"radius,omitempty"`     // point marker radius in pixels
}

// Layer is one collection of components, the unit every API shows (an OGC
// collection, an MVT layer, a web-map overlay).
type Layer struct {
	ID          string          `json:"id"`
	TitleVI     string          `json:"title_vi"`
	TitleEN     string          `json:"title_en"`
	Group       string          `json:"group"` // "border", "defence" or "projects": the web map's grouping
	Geometries  []GeometryClass `json:"geometry_types"`
	Kinds       []string        `json:"kinds"` // allowed values of Component.Kind; the first is the default
	Properties  []PropertySpec  `json:"properties,omitempty"`
	Style       Style           `json:"style"`
	DefenceWork bool            `json:"defence"` // a defence component (false only for project sites)
	// Ceiling is the highest classification the layer may hold. Writing in
	// a layer takes a clearance of at least its ceiling (Scope.MayWrite):
	// an editor who could not see all of a layer could learn from a
	// refused code or id that a hidden component exists.
	Ceiling Classification `json:"ceiling"`
}

// DefaultKind is the kind given to a feature that names none.
func (l *Layer) DefaultKind() string { return l.Kinds[0] }

// AllowsKind reports whether kind is one of the layer's kinds.
func (l *Layer) AllowsKind(kind string) bool { return contains(l.Kinds, kind) }

// AllowsGeometry reports whether g's class is one the layer holds.
func (l *Layer) AllowsGeometry(g orb.Geometry) bool {
	c := ClassOf(g)
	for _, a := range l.Geometries {
		if a == c {
			return true
		}
	}
	return false
}

// Property returns the spec of a layer-specific property.
func (l *Layer) Property(name string) (PropertySpec, bool) {
	for _, p := range l.Properties {
		if p.Name == name {
			return p, true
		}
	}
	return PropertySpec{}, false
}

// Defence-work kinds (layer defence_works).
const (
	KindCommandPost          = "command_post"
	KindRearBase             = "rear_base"
	KindLogisticsBase        = "logistics_base"
	KindArtilleryPosition    = "artillery_position"
	KindObservationPost      = "observation_post"
	KindDepot                = "depot"
	KindAntennaField         = "antenna_field"
	KindShootingRange        = "shooting_range"
	KindMilitaryZone         = "military_zone"
	KindBorderRestrictedZone = "border_restricted_zone"
)

// Layer ids.
const (
	LayerBorderLines   = "border_lines"
	LayerBorderMarkers = "border_markers"
	LayerPatrolRoutes  = "patrol_routes"
	LayerCombatBases   = "combat_bases"
	LayerCommuneHQs    = "commune_hqs"
	LayerDefenceWorks  = "defence_works"
	LayerProjectSites  = "project_sites"
)

// Project-site property names and values.
const (
	PropInvestor   = "investor"
	PropSector     = "sector"
	PropHeightM    = "height_m"
	PropActivities = "activities"
	PropStatus     = "status"
	PropVerdict    = "verdict"
	// PropPublished false marks a project site an appraisal created and no
	// admin has published (Component.Published).
	PropPublished = "published"
	// PropVerdicts holds a site's verdict by reader clearance
	// (Component.ForClearance); it is never shown.
	PropVerdicts = "verdicts"

	ActivityBlasting    = "blasting"
	ActivityMining      = "mining"
	ActivityResidential = "residential"
	ActivityCrowd       = "crowd"
)

// layers is the registry: every layer zoneplan knows, defined once.
var layers = []Layer{
	{
		ID: LayerBorderLines, TitleVI: "Đường biên giới quốc gia", TitleEN: "National border lines", Group: "border",
		Geometries: []GeometryClass{GeomLine}, Kinds: []string{"land_border"}, DefenceWork: true,
		Style:   Style{Color: "#b00020", Weight: 3, Dash: "8 4 2 4"},
		Ceiling: Public, // the border line is fixed by treaty and published
	},
	{
		ID: LayerBorderMarkers, TitleVI: "Mốc quốc giới", TitleEN: "Border markers", Group: "border",
		Geometries: []GeometryClass{GeomPoint}, Kinds: []string{"border_marker"}, DefenceWork: true,
		Style:   Style{Color: "#b00020", FillColor: "#ffffff", Weight: 2, Radius: 4},
		Ceiling: Secret,
	},
	{
		ID: LayerPatrolRoutes, TitleVI: "Đường tuần tra biên giới", TitleEN: "Border patrol routes", Group: "border",
		Geometries: []GeometryClass{GeomLine}, Kinds: []string{"patrol_route"}, DefenceWork: true,
		Style:   Style{Color: "#e65100", Weight: 2, Dash: "6 4"},
		Ceiling: Secret,
	},
	{
		ID: LayerCombatBases, TitleVI: "Căn cứ chiến đấu", TitleEN: "Combat bases", Group: "defence",
		Geometries: []GeometryClass{GeomPoint, GeomPolygon}, Kinds: []string{"combat_base"}, DefenceWork: true,
		Style:   Style{Color: "#1b5e20", FillColor: "#43a047", Weight: 2, Radius: 7},
		Ceiling: Secret,
	},
	{
		ID: LayerCommuneHQs, TitleVI: "Trụ sở Ban chỉ huy quân sự cấp xã", TitleEN: "Commune military command HQs", Group: "defence",
		Geometries: []GeometryClass{GeomPoint}, Kinds: []string{"commune_hq"}, DefenceWork: true,
		Style:   Style{Color: "#0d47a1", FillColor: "#42a5f5", Weight: 2, Radius: 6},
		Ceiling: Secret,
	},
	{
		ID: LayerDefenceWorks, TitleVI: "Công trình quốc phòng và khu quân sự", TitleEN: "Defence works and military zones", Group: "defence",
		Geometries: []GeometryClass{GeomPoint, GeomPolygon},
		Kinds: []string{KindCommandPost, KindRearBase, KindLogisticsBase, KindArtilleryPosition, KindObservationPost,
			KindDepot, KindAntennaField, KindShootingRange, KindMilitaryZone, KindBorderRestrictedZone},
		DefenceWork: true,
		Style:       Style{Color: "#4a148c", FillColor: "#ab47bc", Weight: 2, Radius: 6},
		Ceiling:     Secret,
	},
	{
		ID: LayerProjectSites, TitleVI: "Dự án kinh tế - xã hội", TitleEN: "Socio-economic project sites", Group: "projects",
		Geometries: []GeometryClass{GeomPoint, GeomLine, GeomPolygon},
		Kinds:      []string{"project", "factory", "resort", "mine", "road", "residential", "port", "energy", "agriculture"},
		Properties: []PropertySpec{
			{Name: PropInvestor, Type: PropString, TitleVI: "Chủ đầu tư", TitleEN: "Investor"},
			{Name: PropSector, Type: PropString, TitleVI: "Lĩnh vực", TitleEN: "Sector"},
			{Name: PropHeightM, Type: PropNumber, TitleVI: "Chiều cao (m)", TitleEN: "Height (m)"},
			{Name: PropActivities, Type: PropStrings, TitleVI: "Hoạt động", TitleEN: "Activities",
				Enum: []string{ActivityBlasting, ActivityMining, ActivityResidential, ActivityCrowd}},
			{Name: PropStatus, Type: PropString, TitleVI: "Trạng thái", TitleEN: "Status",
				Enum: []string{"pending", "approved", "approved_with_conditions", "rejected"}},
			{Name: PropVerdict, Type: PropString, TitleVI: "Kết luận thẩm định", TitleEN: "Latest verdict",
				Enum: []string{"clear", "incomplete", "review", "conflict"}},
			{Name: PropPublished, Type: PropBoolean, TitleVI: "Đã công bố", TitleEN: "Published"},
		},
		Style:   Style{Color: "#f9a825", FillColor: "#fff176", Weight: 2, Radius: 6},
		Ceiling: Secret,
	},
}

var layersByID = func() map[string]*Layer {
	m := make(map[string]*Layer, len(layers))
	for i := range layers {
		m[layers[i].ID] = &layers[i]
	}
	return m
}()

// Layers returns every layer in display order. The slice is shared: do not
// modify it.
func Layers() []Layer { return layers }

// LayerIDs returns every layer id in display order.
func LayerIDs() []string {
	ids := make([]string, len(layers))
	for i, l := range layers {
		ids[i] = l.ID
	}
	return ids
}

// LookupLayer returns the layer with the given id.
func LookupLayer(id string) (*Layer, bool) {
	l, ok := layersByID[id]
	return l, ok
}

// GetLayer returns a layer by id, or a not-found error naming the known ones.
func GetLayer(id string) (*Layer, error) {
	if l, ok := layersByID[id]; ok {
		return l, nil
	}
	ids := LayerIDs()
	sort.Strings(ids)
	return nil, Errorf(CodeNotFound, "unknown layer %q (known: %v)", id, ids)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sharedNames holds one copy of every name the registry knows: layer ids,
// kinds, function types, groups and zone kinds.
var sharedNames = func() map[string]string {
	m := map[string]string{}
	add := func(s string) { m[s] = s }
	for i := range layers {
		add(layers[i].ID)
		for _, k := range layers[i].Kinds {
			add(k)
		}
	}
	for _, f := range []FunctionType{FunctionA, FunctionB, FunctionC, FunctionD} {
		add(string(f))
	}
	for _, g := range []Group{GroupSpecial, GroupI, GroupII, GroupIII} {
		add(string(g))
	}
	for _, z := range ZoneKinds() {
		add(string(z))
	}
	return m
}()

// ShareNames makes c's layer, kind, function type, group and zone kinds
// the registry's own copies of those names, where it knows them. A store
// decoding components row by row gives each its own copy; the checker and
// the item pages compare these names for thousands of components a
// request, and one shared copy stays in the CPU cache where a hundred
// thousand scattered ones do not. Call it on a component nobody else
// holds yet.
func (c *Component) ShareNames() {
	share := func(s string) string {
		if v, ok := sharedNames[s]; ok {
			return v
		}
		return s
	}
	c.Layer, c.Kind = share(c.Layer), share(c.Kind)
	c.FunctionType, c.Group = FunctionType(share(string(c.FunctionType))), Group(share(string(c.Group)))
	for i := range c.Zones {
		c.Zones[i].Kind = ZoneKind(share(string(c.Zones[i].Kind)))
	}
}

// A LayerPart is the features of one geometry class of a layer that holds
// several (defence works: points and areas), offered beside the layer as a
// collection of its own: GIS clients that type a layer by its first
// features (QGIS's OGC API - Features provider) draw only that type, so a
// mixed layer loses the rest there.
type LayerPart struct {
	ID      string // the layer's id and "_points", "_lines" or "_areas"
	Layer   *Layer
	Class   GeometryClass
	TitleVI string
	TitleEN string
}

// Holds reports whether c belongs in the part: its geometry's class.
func (p *LayerPart) Holds(c *Component) bool { return ClassOf(c.Geometry) == p.Class }

var layerParts = func() []LayerPart {
	suffix := map[GeometryClass][3]string{
		GeomPoint:   {"_points", "điểm", "points"},
		GeomLine:    {"_lines", "tuyến", "lines"},
		GeomPolygon: {"_areas", "vùng", "areas"},
	}
	var out []LayerPart
	for i := range layers {
		l := &layers[i]
		if len(l.Geometries) < 2 {
			continue
		}
		for _, g := range l.Geometries {
			s := suffix[g]
			out = append(out, LayerPart{ID: l.ID + s[0], Layer: l, Class: g,
				TitleVI: l.TitleVI + " (" + s[1] + ")", TitleEN: l.TitleEN + " (" + s[2] + ")"})
		}
	}
	return out
}()

// LayerParts lists the parts of every mixed layer, in layer order. The
// slice is shared: do not modify it.
func LayerParts() []LayerPart { return layerParts }

// LookupLayerPart returns the part with the given id.
func LookupLayerPart(id string) (*LayerPart, bool) {
	for i := range layerParts {
		if layerParts[i].ID == id {
			return &layerParts[i], true
		}
	}
	return nil, false
}
