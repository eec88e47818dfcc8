package tiles

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Tiles are gzipped twice over their life in the cache, by measurement
// (BenchmarkTileGzip, on the benchmark tiles of every layer):
//
//   - as built, for the caller waiting (the cache off, or the first ask of
//     a tile): klauspost/compress at its fastest level, about 0.7x the CPU
//     of the standard library's BestSpeed for about 3% more bytes, so a
//     cold tile waits less;
//   - once cached, again in the background: the standard library at its
//     default level, about 5% smaller than BestSpeed and 8% smaller than
//     the fast form (higher levels gain under 0.1% more), for every later
//     answer. Its CPU (about twice BestSpeed's) is spent once per tile and
//     version, off the request path.
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

// maxPendingRecompressions bounds the tiles waiting to be compressed small
// (each holds its plain MVT, up to the tile budget): past it, a tile stays
// in its fast form, which is correct, only larger.
const maxPendingRecompressions = 64

// recompressor holds the cached tiles waiting to be compressed small, and
// whether a goroutine is working through them (one at a time: the work
// yields the CPU to requests rather than competing with them in parallel).
type recompressor struct {
	mu      sync.Mutex
	pending []recompression
	running bool
	done    sync.WaitGroup // for tests: every queued recompression ended
	skipped int64          // queue full
	swapped int64          // cached tiles replaced by their small form
}

type recompression struct {
	key  string
	raw  []byte
	fast []byte // the cached form to replace: if the entry holds another, leave it
}

// recompressLater queues the tile cached under k (raw, cached as fast) to
// be compressed small and swapped into the cache if it is still there.
func (s *Service) recompressLater(k string, raw, fast []byte) {
	r := &s.recompress
	r.mu.Lock()
	if len(r.pending) >= maxPendingRecompressions {
		r.skipped++
		r.mu.Unlock()
		return
	}
	r.pending = append(r.pending, recompression{key: k, raw: raw, fast: fast})
	r.done.Add(1)
	start := !r.running
	r.running = true
	r.mu.Unlock()
	if start {
		go s.recompressPending()
	}
}

// recompressPending works through the queue and ends when it is empty.
func (s *Service) recompressPending() {
	r := &s.recompress
	for {
		r.mu.Lock()
		if len(r.pending) == 0 {
			r.running = false
			r.mu.Unlock()
			return
		}
		job := r.pending[0]
		r.pending[0] = recompression{}
		r.pending = r.pending[1:]
		r.mu.Unlock()

		small := smallGzip(job.raw)
		if len(small) < len(job.fast) && s.cache.ReplaceIf(job.key, cached{gz: small}, func(c cached) bool { return sameBytes(c.gz, job.fast) }) {
			r.mu.Lock()
			r.swapped++
			r.mu.Unlock()
		}
		r.done.Done()
	}
}

// sameBytes reports whether a and b are the same slice (not equal
// contents: the same allocation).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}
