package httpapi

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zoneplan/zoneplan/internal/admission"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Classes of work: routes.go names, for each route that can be heavy, the
// function below that picks its class for a request; package admission
// bounds each class. Everything else is light and passes no gate, so
// health checks, metadata, cached tiles and small pages are never queued
// behind heavy work. (Tile builds are admitted inside tiles.Service, where
// a cache miss is known.)
//
//   - heavy pages: items pages of more than HeavyPageItems features, and
//     appraisal reports (a map drawn and a document laid out, HTML or PDF);
//   - uploads and parsing: multipart uploads and JSON bodies over
//     largeBody (checks, appraisals, conversions, feature edits), and every
//     /api/convert;
//   - checks: checks and appraisals from a small JSON body, rechecks.
//
// The body of admitted work is received before it asks for a slot, into
// memory counted against one budget for all requests (Admission.Bodies),
// so a client sending slowly holds only what it has sent and never a slot
// that others wait for; past the budget a request is refused with 503.
// Light requests read their (small) bodies themselves.

// Admission holds the gates of the classes of work. NewServer fills a nil
// gate with its default size for GOMAXPROCS.
type Admission struct {
	HeavyPages *admission.Gate
	Uploads    *admission.Gate
	Checks     *admission.Gate
	// Bodies bounds the bytes of admitted requests' bodies held in memory
	// at once (DefaultBodyMemory).
	Bodies *admission.Budget
}

// DefaultBodyMemory is the default size of Admission.Bodies: two uploads
// at the size limit, each counted twice (its body and the file copied out
// of it, receive).
const DefaultBodyMemory = 2 * MinBodyMemory

// MinBodyMemory is the smallest Admission.Bodies that admits an upload at
// the size limit.
const MinBodyMemory = 2 * maxUploadBody

// HeavyPageItems is the largest items page (limit) that is light work.
const HeavyPageItems = 1000

// largeBody is the largest JSON body read as light (or check) work: larger
// ones are parsing work, admitted as uploads.
const largeBody = 1 << 20

// Default class sizes for procs CPUs (GOMAXPROCS). Each class runs one at
// a time per CPU. What bounds the queue is its wait: heavy pages and checks
// wait up to 2 s, uploads up to 5 s (their work is quick to refuse: a
// hostile file stops at its first limit). Its length, 32 a slot, only
// bounds the goroutines waiting: a check takes milliseconds, so 32 waiting
// are served well within the wait, and a busy but steady load (64 clients
// asking back to back) queues instead of being refused.
func DefaultHeavyPages(procs int) admission.Limit {
	return admission.Scaled(procs, 1, 32, 2*time.Second)
}

func DefaultUploads(procs int) admission.Limit {
	return admission.Scaled(procs, 1, 32, 5*time.Second)
}

func DefaultChecks(procs int) admission.Limit {
	return admission.Scaled(procs, 1, 32, 2*time.Second)
}

// withDefaults fills the nil gates.
func (a Admission) withDefaults() Admission {
	procs := runtime.GOMAXPROCS(0)
	if a.HeavyPages == nil {
		a.HeavyPages = admission.New("heavy pages", DefaultHeavyPages(procs))
	}
	if a.Uploads == nil {
		a.Uploads = admission.New("uploads", DefaultUploads(procs))
	}
	if a.Checks == nil {
		a.Checks = admission.New("checks", DefaultChecks(procs))
	}
	if a.Bodies == nil {
		a.Bodies = admission.NewBudget("request body memory", DefaultBodyMemory)
	}
	return a
}

// admit runs h once the gate class picks for the request (nil: light
// work, at once) has admitted it, having received its body first; a
// refusal is a 503 with Retry-After.
func (s *server) admit(class func(*http.Request) *admission.Gate, h func(http.ResponseWriter, *http.Request, zone.Principal)) func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		g := class(r)
		if g == nil {
			h(w, r, p)
			return
		}
		held, err := s.receive(r)
		defer s.Admission.Bodies.Give(held)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		release, err := g.Acquire(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		once := &slotRelease{release: release}
		defer once.do()
		h(w, r.WithContext(context.WithValue(r.Context(), slotKey, once)), p)
	}
}

// slotRelease gives an admitted request's slot back once, early (a
// handler whose work is done but whose answer waits, see releaseSlot) or
// when the handler returns.
type slotRelease struct {
	once    sync.Once
	release func()
}

func (s *slotRelease) do() { s.once.Do(s.release) }

const slotKey ctxKey = 2

// releaseSlot gives back the admission slot r holds, if any, before the
// handler returns: for a handler that has done its work and only waits
// (the uncleared write floor), so the wait holds no slot others need.
func releaseSlot(r *http.Request) {
	if s, ok := r.Context().Value(slotKey).(*slotRelease); ok {
		s.do()
	}
}

// itemsPage: an items page of more than HeavyPageItems features is a
// heavy page; a smaller one (or a limit the handler will refuse) is light.
func (s *server) itemsPage(r *http.Request) *admission.Gate {
	limit, err := strconv.Atoi(strings.TrimSpace(r.URL.Query().Get("limit")))
	if err == nil && limit > HeavyPageItems {
		return s.Admission.HeavyPages
	}
	return nil
}

// reportWork: an appraisal report is a heavy page.
func (s *server) reportWork(*http.Request) *admission.Gate { return s.Admission.HeavyPages }

// heavyWork: a plan's results read whole (summary, downloads) are heavy pages.
func (s *server) heavyWork(*http.Request) *admission.Gate { return s.Admission.HeavyPages }

// uploadWork: everything is parsing work (/api/convert).
func (s *server) uploadWork(*http.Request) *admission.Gate { return s.Admission.Uploads }

// checkWork: an uploaded file or a large body is parsing work, anything
// else a check.
func (s *server) checkWork(r *http.Request) *admission.Gate {
	if isUpload(r) {
		return s.Admission.Uploads
	}
	return s.Admission.Checks
}

// bodyWork: an uploaded file or a large body is parsing work; a small
// body is light (a feature edit).
func (s *server) bodyWork(r *http.Request) *admission.Gate {
	if isUpload(r) {
		return s.Admission.Uploads
	}
	return nil
}

// isUpload reports whether a request brings a multipart upload or a body
// over largeBody (or of unknown length: chunked).
func isUpload(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data" || r.ContentLength > largeBody || r.ContentLength < 0
}

// receivedBody is a request body read whole by receive.
type receivedBody struct {
	*bytes.Reader
	data []byte
}

func (*receivedBody) Close() error { return nil }

// receive reads r's body into memory, taking what it allocates from the
// body budget as the bytes arrive (a refusal once the budget is spent),
// and puts the bytes in its place for the handler. An upload's file is
// then copied out of the body (readMultipart), at most the body's size:
// that is taken from the budget too. It returns what it took from the
// budget, to be given back when the request is done. The body is still
// bounded by the route's limit and guarded against slowness while it is
// read.
func (s *server) receive(r *http.Request) (held int64, err error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return 0, nil
	}
	// Enough room for the declared length, or to see an undeclared one
	// pass the largest limit (the route's reader fails there first).
	room := int64(maxUploadBody) + 1
	if r.ContentLength > 0 {
		room = r.ContentLength
	}
	var b []byte
	for {
		if len(b) == cap(b) {
			if int64(len(b)) >= room {
				break // the declared length is in
			}
			// Grow by doubling from 64 KiB, up to the room needed, taking
			// the new capacity from the budget before allocating it.
			grown := int(min(int64(max(64<<10, 2*cap(b))), room))
			if err := s.Admission.Bodies.Take(int64(grown - cap(b))); err != nil {
				return held, err
			}
			held += int64(grown - cap(b))
			b = append(make([]byte, 0, grown), b...)
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return held, bodyError(err, "reading request body")
		}
	}
	if isUpload(r) {
		if err := s.Admission.Bodies.Take(int64(len(b))); err != nil {
			return held, err
		}
		held += int64(len(b))
	}
	r.Body = &receivedBody{Reader: bytes.NewReader(b), data: b}
	return held, nil
}
