// Package basemap is the server's side of the web map's base maps: it finds
// out whether the online tile service is reachable, once for every page
// (so that a page on a network without internet asks it for nothing), and
// serves a local tile archive (MBTiles or PMTiles) as the base map.
package basemap

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ProbeTimeout bounds one probe of the online tile service.
const ProbeTimeout = 3 * time.Second

// Probe knows whether an online tile service answers: it asks for the
// world tile (0/0/0) when started and again every interval. Its answer is
// what every page is told, so no page of an offline network requests a
// tile it cannot have.
type Probe struct {
	url    string
	client *http.Client

	once  chan struct{} // closed after the first probe
	mu    sync.Mutex
	known bool
	ok    bool
}

// NewProbe returns a probe of the tile URL template ({z}/{x}/{y}, and {s}
// for a subdomain, as Leaflet reads them). It asks nothing until Run.
func NewProbe(template string, client *http.Client) *Probe {
	if client == nil {
		client = &http.Client{Timeout: ProbeTimeout}
	}
	r := strings.NewReplacer("{s}", "a", "{z}", "0", "{x}", "0", "{y}", "0", "{r}", "")
	return &Probe{url: r.Replace(template), client: client, once: make(chan struct{})}
}

// Run probes now and then every interval until ctx ends.
func (p *Probe) Run(ctx context.Context, interval time.Duration) {
	first := true
	for {
		ok := p.probe(ctx)
		p.mu.Lock()
		p.known, p.ok = true, ok
		p.mu.Unlock()
		if first {
			close(p.once)
			first = false
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// probe reports whether the world tile arrives: any 2xx answer (a tile
// server that refuses, 4xx or 5xx, will not serve the page either).
func (p *Probe) probe(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return false
	}
	// Tile services' usage policies ask clients to say who they are.
	req.Header.Set("User-Agent", "zoneplan (base map reachability probe)")
	res, err := p.client.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	return res.StatusCode >= 200 && res.StatusCode < 300
}

// Reachable reports the last probe's answer, waiting for the first probe
// while ctx allows; known is false when there is none yet.
func (p *Probe) Reachable(ctx context.Context) (ok, known bool) {
	select {
	case <-p.once:
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok, p.known
}
