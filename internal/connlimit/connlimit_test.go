package connlimit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// server is a real HTTP server on a capped listener: GET /ok answers at
// once, GET /block waits until release is closed.
type server struct {
	l       *Listener
	addr    string
	release chan struct{}
	entered chan struct{}
	once    sync.Once
}

// unblock lets every /block request finish.
func (s *server) unblock() { s.once.Do(func() { close(s.release) }) }

func start(t *testing.T, opt Options) *server {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{l: Listen(inner, opt), addr: inner.Addr().String(), release: make(chan struct{}), entered: make(chan struct{}, 100)}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		s.entered <- struct{}{}
		<-s.release
		io.WriteString(w, "done")
	})
	srv := &http.Server{Handler: mux, ConnState: s.l.ConnState, ReadHeaderTimeout: 30 * time.Second}
	go srv.Serve(s.l)
	t.Cleanup(func() {
		s.unblock()
		srv.Close()
	})
	return s
}

// dial opens a raw connection.
func (s *server) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// get sends one keep-alive GET on c and reads the answer; the connection
// stays open.
func get(t *testing.T, c net.Conn, path string) (*http.Response, string) {
	t.Helper()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// fresh is a new client's GET /ok on its own connection, timed.
func (s *server) fresh(t *testing.T) (*http.Response, string, time.Duration) {
	t.Helper()
	start := time.Now()
	c := s.dial(t)
	resp, body := get(t, c, "/ok")
	return resp, body, time.Since(start)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestBusyConnectionsAtCapRefuseClearly: with every connection busy with a
// request, a new one is answered with the refusal at once (503 with
// Retry-After, read as a proper HTTP response), the busy ones are never
// closed and finish, and the count returns to zero when they close.
func TestBusyConnectionsAtCapRefuseClearly(t *testing.T) {
	refusal := "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/problem+json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
	s := start(t, Options{Max: 3, Refusal: []byte(refusal), HeaderGrace: time.Millisecond})
	busy := make([]net.Conn, 3)
	for i := range busy {
		busy[i] = s.dial(t)
		fmt.Fprintf(busy[i], "GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
		<-s.entered
	}
	for i := 0; i < 5; i++ {
		start := time.Now()
		c := s.dial(t)
		fmt.Fprintf(c, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("refused client %d: %v", i, err)
		}
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("refused client %d: %d, Retry-After %q", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if el := time.Since(start); el > time.Second {
			t.Fatalf("refusal took %s", el)
		}
	}
	if s.l.Refused() != 5 || s.l.Open() != 3 || s.l.Reclaimed() != 0 {
		t.Fatalf("refused %d open %d reclaimed %d, want 5, 3, 0", s.l.Refused(), s.l.Open(), s.l.Reclaimed())
	}
	s.unblock()
	for i, c := range busy {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("busy connection %d did not finish: %v", i, err)
		}
		c.Close()
	}
	waitFor(t, "every connection is forgotten", func() bool { return s.l.Open() == 0 })
}

// TestIdleKeepAliveMakesRoom: with the cap filled by idle keep-alive
// connections, a new client is served at once: the one idle longest is
// closed for it.
func TestIdleKeepAliveMakesRoom(t *testing.T) {
	s := start(t, Options{Max: 4, PressureIdle: time.Hour})
	idle := make([]net.Conn, 4)
	for i := range idle {
		idle[i] = s.dial(t)
		if resp, _ := get(t, idle[i], "/ok"); resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
		// The server marks a connection idle just after answering: wait,
		// so the idle order is the order of the requests.
		waitFor(t, "idle", func() bool { return s.l.Idle() == i+1 })
	}
	for i := 0; i < 3; i++ {
		resp, body, el := s.fresh(t)
		if resp.StatusCode != 200 || body != "ok" || el > time.Second {
			t.Fatalf("new client %d at the cap: %d %q in %s", i, resp.StatusCode, body, el)
		}
	}
	if s.l.Reclaimed() != 3 || s.l.Refused() != 0 || s.l.Open() > 4 {
		t.Fatalf("reclaimed %d refused %d open %d", s.l.Reclaimed(), s.l.Refused(), s.l.Open())
	}
	// The longest idle went first: the first three idle connections are
	// closed by the server, the fourth still works.
	for i := 0; i < 3; i++ {
		_ = idle[i].SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := idle[i].Read(make([]byte, 1)); err == nil {
			t.Fatalf("idle connection %d still open", i)
		}
	}
	if resp, _ := get(t, idle[3], "/ok"); resp.StatusCode != 200 {
		t.Fatalf("the most recent idle connection was closed")
	}
}

// TestPressureClosesLongIdle: from three quarters of the cap on, each new
// connection closes the keep-alive connections idle for longer than
// PressureIdle, and only those.
func TestPressureClosesLongIdle(t *testing.T) {
	s := start(t, Options{Max: 8, PressureIdle: 100 * time.Millisecond})
	old := make([]net.Conn, 6)
	for i := range old {
		old[i] = s.dial(t)
		get(t, old[i], "/ok")
	}
	time.Sleep(150 * time.Millisecond)
	recent := s.dial(t)
	get(t, recent, "/ok") // at 6 open: pressure; the 6 old idle ones go
	waitFor(t, "the long-idle ones are closed", func() bool { return s.l.Reclaimed() == 6 })
	if resp, _ := get(t, recent, "/ok"); resp.StatusCode != 200 {
		t.Fatal("the connection that just arrived was closed")
	}
	if s.l.Open() != 1 {
		t.Fatalf("open %d, want 1", s.l.Open())
	}
}

// TestBelowPressureKeepsIdle: below three quarters of the cap nothing idle
// is closed, however long it has been idle.
func TestBelowPressureKeepsIdle(t *testing.T) {
	s := start(t, Options{Max: 100, PressureIdle: time.Millisecond})
	c := s.dial(t)
	get(t, c, "/ok")
	time.Sleep(20 * time.Millisecond)
	for i := 0; i < 5; i++ {
		s.fresh(t)
	}
	if s.l.Reclaimed() != 0 {
		t.Fatalf("reclaimed %d below pressure", s.l.Reclaimed())
	}
	if resp, _ := get(t, c, "/ok"); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
}

// TestSlowHeadersMakeRoom: connections dribbling their first request's
// headers (slowloris) fill the cap; once they have taken HeaderGrace, a new
// client is served in their place; before that it is refused.
func TestSlowHeadersMakeRoom(t *testing.T) {
	s := start(t, Options{Max: 3, HeaderGrace: 300 * time.Millisecond})
	for i := 0; i < 3; i++ {
		c := s.dial(t)
		fmt.Fprintf(c, "GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	}
	waitFor(t, "three open", func() bool { return s.l.Open() == 3 })
	c := s.dial(t)
	fmt.Fprintf(c, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("within the grace a new client is refused: %v %v", resp, err)
	}
	time.Sleep(350 * time.Millisecond)
	resp, body, el := s.fresh(t)
	if resp.StatusCode != 200 || body != "ok" || el > time.Second {
		t.Fatalf("after the grace: %d %q in %s", resp.StatusCode, body, el)
	}
	if s.l.Reclaimed() != 1 {
		t.Fatalf("reclaimed %d", s.l.Reclaimed())
	}
}

// TestRefusalsAreBounded: refusals being written are bounded; past the
// bound a refused connection is closed at once, and the listener keeps
// accepting.
func TestRefusalsAreBounded(t *testing.T) {
	s := start(t, Options{Max: 1, MaxRefusing: 2, RefusalTime: 2 * time.Second})
	busy := s.dial(t)
	fmt.Fprintf(busy, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
	<-s.entered
	// Refused clients that never close hold their refusal for RefusalTime.
	var conns []net.Conn
	for i := 0; i < 6; i++ {
		conns = append(conns, s.dial(t))
	}
	waitFor(t, "six refused", func() bool { return s.l.Refused() == 6 })
	closedAtOnce := 0
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		b, _ := io.ReadAll(c)
		if len(b) == 0 {
			closedAtOnce++
		} else if !strings.HasPrefix(string(b), "HTTP/1.1 503") {
			t.Fatalf("refusal: %q", b)
		}
	}
	if closedAtOnce != 4 {
		t.Fatalf("%d closed without a refusal, want 4 (2 written at most)", closedAtOnce)
	}
}
