package basemap

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	var asked atomic.Value
	tiles := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Store(r.URL.Path + " " + r.Header.Get("User-Agent"))
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("\x89PNG"))
	}))
	defer tiles.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "blocked", http.StatusForbidden)
	}))
	defer refusing.Close()
	// A port nothing listens on: the connection is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	for _, c := range []struct {
		name, template string
		want           bool
	}{
		{"a tile service that answers", tiles.URL + "/{z}/{x}/{y}.png", true},
		{"one that refuses", refusing.URL + "/{z}/{x}/{y}.png", false},
		{"nothing listening", closed + "/{z}/{x}/{y}.png", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p := NewProbe(c.template, nil)
			if _, known := p.Reachable(canceled()); known {
				t.Fatalf("known before any probe")
			}
			go p.Run(ctx, time.Hour)
			wait, stop := context.WithTimeout(ctx, 2*ProbeTimeout)
			defer stop()
			ok, known := p.Reachable(wait)
			if !known || ok != c.want {
				t.Errorf("Reachable = %v (known %v), want %v", ok, known, c.want)
			}
		})
	}
	if got, _ := asked.Load().(string); got != "/0/0/0.png zoneplan (base map reachability probe)" {
		t.Errorf("the probe asked %q, want the world tile with zoneplan's User-Agent", got)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
