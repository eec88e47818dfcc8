// Package connlimit caps the connections an HTTP server holds open, so that
// idle or slow clients cannot use up the process's file descriptors and
// lock new clients out.
//
// A Listener counts the connections it has handed to the server. Under
// pressure (from three quarters of the cap) it closes keep-alive
// connections idle between requests for more than a short while; at the
// cap it makes room for a new connection by closing the one idle longest,
// or one that has sat on its first request's headers for too long (a
// slowloris); and when neither is there, it answers the new connection
// itself with the refusal it was given (an HTTP 503 with Retry-After) and
// closes it, rather than leaving it in the kernel's queue to time out.
// Connections busy with a request are never closed by the Listener.
//
// Wire Listener.ConnState into http.Server.ConnState: that is how the
// Listener knows which connections are idle.
package connlimit

import (
	"bytes"
	"container/list"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options tune a Listener; zero fields take the defaults named.
type Options struct {
	// Max is the most connections open at once. Default: DefaultMax().
	Max int
	// PressureIdle is how long a keep-alive connection may sit idle once
	// the server is under pressure (three quarters of Max open). Default 1 s.
	PressureIdle time.Duration
	// HeaderGrace is how long a new connection may take over its first
	// request's headers before, at the cap, it may be closed to make room.
	// Default 2 s.
	HeaderGrace time.Duration
	// Refusal is written to a connection refused at the cap before it is
	// closed: a whole HTTP/1.1 response. Default: a plain 503.
	Refusal []byte
	// MaxRefusing bounds the refusals being written at once (each holds a
	// descriptor for up to RefusalTime); past it a refused connection is
	// closed without a word. Default 64.
	MaxRefusing int
	// RefusalTime bounds writing a refusal and waiting for the client to
	// read it. Default 1 s.
	RefusalTime time.Duration
}

// DefaultMax is the connection cap when Options.Max is 0: 10,000, or fewer
// when the process's descriptor limit leaves less than 1,024 spare beside
// it (for refusals in progress, the database pool, files), but at least 64.
func DefaultMax() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 10_000
	}
	return max(64, min(10_000, int(rl.Cur)-1024))
}

func (o Options) withDefaults() Options {
	if o.Max <= 0 {
		o.Max = DefaultMax()
	}
	if o.PressureIdle <= 0 {
		o.PressureIdle = time.Second
	}
	if o.HeaderGrace <= 0 {
		o.HeaderGrace = 2 * time.Second
	}
	if o.Refusal == nil {
		o.Refusal = []byte("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\n" +
			"Content-Length: 39\r\nConnection: close\r\n\r\ntoo many open connections; retry later\n")
	}
	if o.MaxRefusing <= 0 {
		o.MaxRefusing = 64
	}
	if o.RefusalTime <= 0 {
		o.RefusalTime = time.Second
	}
	return o
}

// Listener is a net.Listener with a cap on open connections.
type Listener struct {
	net.Listener
	opt      Options
	refusing chan struct{}

	mu   sync.Mutex
	open int
	idle list.List // *conn in StateIdle, longest idle first
	new  list.List // *conn in StateNew, oldest first

	refused   atomic.Int64
	reclaimed atomic.Int64
	now       func() time.Time
}

// Listen wraps inner with a cap on open connections.
func Listen(inner net.Listener, opt Options) *Listener {
	opt = opt.withDefaults()
	return &Listener{Listener: inner, opt: opt, refusing: make(chan struct{}, opt.MaxRefusing), now: time.Now}
}

// conn is a connection handed to the server.
type conn struct {
	net.Conn
	l     *Listener
	state http.ConnState // guarded by l.mu
	since time.Time      // when state began; guarded by l.mu
	elem  *list.Element  // in l.idle or l.new, or nil; guarded by l.mu
	gone  bool           // no longer counted; guarded by l.mu
}

// Close closes the connection and stops counting it.
func (c *conn) Close() error {
	c.l.mu.Lock()
	c.l.forgetLocked(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// CloseWrite shuts down the writing side, when the connection can: the
// server does that before closing a connection whose request it did not
// read, so the client gets the answer rather than a reset.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// forgetLocked stops counting c (once).
func (l *Listener) forgetLocked(c *conn) {
	if c.gone {
		return
	}
	c.gone = true
	l.open--
	l.unlistLocked(c)
}

func (l *Listener) unlistLocked(c *conn) {
	if c.elem == nil {
		return
	}
	if c.state == http.StateIdle {
		l.idle.Remove(c.elem)
	} else {
		l.new.Remove(c.elem)
	}
	c.elem = nil
}

// Accept returns the next connection within the cap. Connections past it
// are answered with the refusal and closed here, never returned.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		now := l.now()
		l.mu.Lock()
		victims := l.reclaimLocked(now)
		admit := l.open < l.opt.Max
		var c *conn
		if admit {
			c = &conn{Conn: nc, l: l, state: http.StateNew, since: now}
			c.elem = l.new.PushBack(c)
			l.open++
		}
		l.mu.Unlock()
		for _, v := range victims {
			_ = v.Conn.Close()
		}
		l.reclaimed.Add(int64(len(victims)))
		if admit {
			return c, nil
		}
		l.refuse(nc)
	}
}

// reclaimLocked picks the connections to close for the one just accepted:
// under pressure, those idle longer than PressureIdle; at the cap, at
// least one idle connection or one stuck on its first headers for
// HeaderGrace, if there is one. They stop counting at once.
func (l *Listener) reclaimLocked(now time.Time) []*conn {
	var victims []*conn
	take := func(c *conn) {
		l.forgetLocked(c)
		victims = append(victims, c)
	}
	if l.open >= l.opt.Max*3/4 {
		for e := l.idle.Front(); e != nil; e = l.idle.Front() {
			c := e.Value.(*conn)
			if now.Sub(c.since) < l.opt.PressureIdle {
				break
			}
			take(c)
		}
	}
	if l.open >= l.opt.Max {
		if e := l.idle.Front(); e != nil {
			take(e.Value.(*conn))
		} else if e := l.new.Front(); e != nil && now.Sub(e.Value.(*conn).since) >= l.opt.HeaderGrace {
			take(e.Value.(*conn))
		}
	}
	return victims
}

// refuse writes the refusal to nc and closes it, in the background and
// within RefusalTime; when MaxRefusing refusals are already being written,
// it closes nc at once.
func (l *Listener) refuse(nc net.Conn) {
	l.refused.Add(1)
	select {
	case l.refusing <- struct{}{}:
	default:
		_ = nc.Close()
		return
	}
	go func() {
		defer func() { <-l.refusing }()
		defer nc.Close()
		deadline := l.now().Add(l.opt.RefusalTime)
		// Answer the request, not the connection: a client that gets a
		// response before it has sent its request (Go's among them) takes
		// it for garbage on an idle connection and reports an error
		// instead of the 503. Wait for the end of its headers, for up to
		// half the refusal time (a client that sends nothing is answered
		// then anyway).
		_ = nc.SetReadDeadline(l.now().Add(l.opt.RefusalTime / 2))
		readHead(nc)
		_ = nc.SetDeadline(deadline)
		if _, err := nc.Write(l.opt.Refusal); err != nil {
			return
		}
		// Closing with the request unread would reset the connection,
		// and the client could lose the answer: end our side, then read
		// what the client sent until it closes or the time is up.
		if cw, ok := nc.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(nc, 1<<20))
	}()
}

// readHead reads from nc until the end of a request's headers (a blank
// line), 8 KiB, an error or the read deadline, whichever comes first.
func readHead(nc net.Conn) {
	var buf [8 << 10]byte
	n := 0
	for n < len(buf) {
		m, err := nc.Read(buf[n:])
		n += m
		if bytes.Contains(buf[max(0, n-m-3):n], []byte("\r\n\r\n")) || err != nil {
			return
		}
	}
}

// ConnState follows the server's connection states; set it as (or call it
// from) http.Server.ConnState.
func (l *Listener) ConnState(nc net.Conn, s http.ConnState) {
	c, ok := nc.(*conn)
	if !ok || c.l != l {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.gone {
		return
	}
	l.unlistLocked(c)
	c.state, c.since = s, l.now()
	switch s {
	case http.StateIdle:
		c.elem = l.idle.PushBack(c)
	case http.StateNew:
		c.elem = l.new.PushBack(c)
	}
	// StateActive and StateHijacked connections are not listed: never
	// reclaimed. StateClosed: Close has forgotten it already.
}

// Open is the number of connections open now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Idle is the number of keep-alive connections idle between requests now.
func (l *Listener) Idle() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.idle.Len()
}

// Max is the cap.
func (l *Listener) Max() int { return l.opt.Max }

// Refused is the number of connections refused at the cap so far.
func (l *Listener) Refused() int64 { return l.refused.Load() }

// Reclaimed is the number of idle or stalled connections closed to make
// room so far.
func (l *Listener) Reclaimed() int64 { return l.reclaimed.Load() }
