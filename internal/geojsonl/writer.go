// Package geojsonl streams GeoJSON FeatureCollections: one feature per line,
// written as it comes, so exporting or serving a large layer never holds it
// in memory; and stops as soon as the reader has gone.
package geojsonl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sort"
)

// Writer writes a FeatureCollection feature by feature.
type Writer struct {
	w   *bufio.Writer
	ctx context.Context
	n   int
	err error
}

// NewWriter starts a FeatureCollection on w.
func NewWriter(w io.Writer) *Writer {
	return NewWriterContext(context.Background(), w)
}

// NewWriterContext starts a FeatureCollection on w for a reader whose
// going away ends ctx (an HTTP request's context): once ctx is done, every
// write fails with its error, so a caller stops encoding for nobody even
// while the connection's buffers still take the bytes. It looks every 64
// features.
func NewWriterContext(ctx context.Context, w io.Writer) *Writer {
	fw := &Writer{w: bufio.NewWriterSize(w, 64<<10), ctx: ctx}
	_, fw.err = fw.w.WriteString(`{"type":"FeatureCollection","features":[` + "\n")
	return fw
}

// Write appends one feature (anything that marshals to a GeoJSON Feature).
func (fw *Writer) Write(feature any) error {
	if fw.err != nil {
		return fw.err
	}
	b, err := marshal(feature)
	if err != nil {
		fw.err = err
		return err
	}
	return fw.WriteRaw(b)
}

// WriteRaw appends one feature already encoded as JSON.
func (fw *Writer) WriteRaw(b []byte) error {
	if fw.err != nil {
		return fw.err
	}
	if fw.n%64 == 63 {
		if fw.err = fw.ctx.Err(); fw.err != nil {
			return fw.err
		}
	}
	if fw.n > 0 {
		if _, fw.err = fw.w.WriteString(",\n"); fw.err != nil {
			return fw.err
		}
	}
	fw.n++
	_, fw.err = fw.w.Write(b)
	return fw.err
}

// Count is the number of features written.
func (fw *Writer) Count() int { return fw.n }

// Close ends the collection, adding members (e.g. numberMatched, links) after
// the features, and flushes. It does not close the underlying writer.
func (fw *Writer) Close(members map[string]any) error {
	if fw.err != nil {
		return fw.err
	}
	if err := fw.ctx.Err(); err != nil {
		return err
	}
	if _, err := fw.w.WriteString("\n]"); err != nil {
		return err
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Strings(keys) // stable output
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		vb, err := marshal(members[k])
		if err != nil {
			return err
		}
		fw.w.WriteString(",")
		fw.w.Write(kb)
		fw.w.WriteString(":")
		fw.w.Write(vb)
	}
	if _, err := fw.w.WriteString("}\n"); err != nil {
		return err
	}
	return fw.w.Flush()
}

// marshal encodes v as JSON without HTML escaping, so links keep their "&"
// rather than "\u0026" (valid either way, but people read these).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
