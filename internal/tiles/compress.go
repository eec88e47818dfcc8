package tiles

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Tiles are gzipped one of two ways, by measurement (BenchmarkTileGzip, on
// the benchmark tiles of every layer), and always the same way for a given
// configuration, so a tile's bytes, like its strong ETag, depend on its
// content alone:
//
//   - with the cache on, small, once, when the tile is built: the standard
//     library at its default level, about 5% smaller than its BestSpeed
//     (higher levels gain under 0.1% more) for about twice its CPU, spent
//     once per tile and version and answered from the cache thereafter;
//   - with the cache off, every answer is a build: klauspost/compress at
//     its fastest level, about 0.7x the CPU of the standard library's
//     BestSpeed for about 3% more bytes.
//
// Vector tiles compress little (to about 0.55 of their size) whatever the
// level: they are already varint-packed.

var fastWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

var smallWriters = sync.Pool{New: func() any {
	zw, _ := stdgzip.NewWriterLevel(io.Discard, stdgzip.DefaultCompression)
	return zw
}}

// fastGzip compresses raw for an answer that waits on it.
func fastGzip(raw []byte) []byte { return gzipWith(&fastWriters, raw) }

// smallGzip compresses raw as small as is worth it, for the cache.
func smallGzip(raw []byte) []byte { return gzipWith(&smallWriters, raw) }

// gzipWriter is what both libraries' gzip writers do.
type gzipWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

func gzipWith(writers *sync.Pool, raw []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(raw)*2/3 + 64)
	zw := writers.Get().(gzipWriter)
	zw.Reset(&buf)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	writers.Put(zw)
	return buf.Bytes()
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
