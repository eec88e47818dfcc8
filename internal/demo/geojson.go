package demo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// WriteFeatureCollection writes cs as one GeoJSON FeatureCollection named
// after the layer, one feature per line in the given order, so that a
// regenerated file diffs line by line. The store-owned version field is left
// out: a committed file is an input, not a stored state.
func WriteFeatureCollection(w io.Writer, layer string, cs []*zone.Component) error {
	bw := bufio.NewWriter(w)
	name, err := json.Marshal(layer)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "{\"type\":\"FeatureCollection\",\"name\":%s,\"features\":[\n", name)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i, c := range cs {
		f := c.Feature()
		delete(f.Properties, zone.FieldVersion)
		buf.Reset()
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("feature %d (%s): %w", i, c.Name, err)
		}
		line := bytes.TrimRight(buf.Bytes(), "\n")
		bw.Write(line)
		if i < len(cs)-1 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}
