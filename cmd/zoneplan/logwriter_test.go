package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLogWriterBatchesAndFlushesWarnings(t *testing.T) {
	var out syncBuffer
	lw := newLogWriter(&out, time.Hour) // no periodic flush within the test
	log := slog.New(flushOnWarn{slog.NewTextHandler(lw, nil), lw})

	log.Info("request", "path", "/tiles/all/8/203/111.mvt")
	if got := out.String(); got != "" {
		t.Fatalf("an info line was written before a flush: %q", got)
	}
	log.With("part", "index").Warn("slow") // a warning writes itself and what waited
	if got := out.String(); !strings.Contains(got, "msg=request") || !strings.Contains(got, "msg=slow part=index") {
		t.Fatalf("after a warning: %q", got)
	}
	log.Info("later")
	big := strings.Repeat("x", logWriterLimit)
	log.Info("big", "v", big) // over the limit: written through
	if got := out.String(); !strings.Contains(got, "msg=later") || !strings.Contains(got, big) {
		t.Fatalf("a line over the limit did not go out with what waited")
	}
	log.Info("last")
	lw.Close()
	if got := out.String(); !strings.HasSuffix(got, "level=INFO msg=last\n") {
		t.Fatalf("Close did not flush: ...%q", got[max(0, len(got)-80):])
	}
	lw.Close() // twice is fine
}
