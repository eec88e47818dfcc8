package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logWriter collects the server's log lines and writes them out every
// interval, or at once when 64 KiB wait, so a busy server makes a few
// write calls a second instead of one per request (the request log is one
// line per request). Flush writes what waits; Close flushes and stops.
// Lines at warn and above are flushed at once (flushOnWarn), so errors and
// panics are never held back.
type logWriter struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	stop chan struct{}
	done chan struct{}
}

const logWriterLimit = 64 << 10

func newLogWriter(w io.Writer, interval time.Duration) *logWriter {
	l := &logWriter{w: w, buf: make([]byte, 0, logWriterLimit), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				l.Flush()
			case <-l.stop:
				l.Flush()
				return
			}
		}
	}()
	return l
}

// Write keeps p (whole lines, as slog writes them) for the next flush.
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf)+len(p) > logWriterLimit {
		l.flushLocked()
	}
	if len(p) >= logWriterLimit {
		return l.w.Write(p)
	}
	l.buf = append(l.buf, p...)
	return len(p), nil
}

// Flush writes every line kept so far.
func (l *logWriter) Flush() {
	l.mu.Lock()
	l.flushLocked()
	l.mu.Unlock()
}

func (l *logWriter) flushLocked() {
	if len(l.buf) > 0 {
		_, _ = l.w.Write(l.buf) // a log that cannot be written has nowhere to say so
		l.buf = l.buf[:0]
	}
}

// Close flushes and stops the periodic flushing; later writes still land,
// on the next Flush.
func (l *logWriter) Close() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}

// flushOnWarn is a slog handler that flushes its logWriter after every
// record at warn level or above.
type flushOnWarn struct {
	slog.Handler
	w *logWriter
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.w.Flush()
	}
	return err
}

func (h flushOnWarn) WithAttrs(as []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(as), h.w}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.w}
}
