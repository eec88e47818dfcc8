// Package audit is zoneplan's audit trail: the canonical encoding of an
// entry (zone.AuditEntry), the hash chain that makes the trail
// tamper-evident, its verification, and the Recorder that appends entries
// in batches so that a check never waits for the database.
//
// # The chain
//
// Every entry carries the hash of the one before it: Hash = SHA-256(Prev ||
// Canonical(entry)), Prev of the first entry being 32 zero bytes, and Seq
// counting 1, 2, 3… without gaps. Changing any field of a stored entry, its
// hash, or removing, inserting or reordering entries breaks the chain at
// that entry, and Verify names it. The stores keep the trail append-only
// (PostGIS: a trigger refuses UPDATE, DELETE and TRUNCATE of audit_log;
// embedded: a bucket the code only appends to) and seal entries inside the
// appending transaction, under a lock, so several server instances on one
// database still make one chain. Someone able to rewrite the whole table
// from an entry onwards (recomputing every later hash) is caught only by
// comparing the head with a copy kept elsewhere: `zoneplan audit verify`
// prints the head's sequence number and hash for that, and `--anchor`
// checks the chain still holds a recorded one.
//
// # The recorder and what happens when the store cannot take entries
//
// Recorder.Record queues an entry in memory and returns at once; a
// background loop appends the queue every FlushEvery (100 ms) or as soon as
// BatchMax entries wait, in one transaction per batch, and Close appends
// what is left. While the store fails (a database that is down, a full
// disk) entries stay queued, in order, and are retried with back-off; the
// server keeps answering what it can answer from memory (checks, reads),
// each still recorded in the queue. The queue is bounded (Backlog entries,
// default 50,000, about 25 MB): once it is full, Admit refuses with
// CodeUnavailable and a Retry-After, and the server refuses every auditable
// action (checks, appraisals, edits, reads of classified features) with 503
// rather than act unaudited. Entries already admitted are always queued, so
// the bound is exceeded by at most the requests in flight.
//
// What is lost if the process dies: the entries queued and not yet
// appended, at most FlushEvery's worth in normal running, the whole queue
// during an outage. Actions that write to the store anyway (edits, tokens,
// rule sets, decisions) are appended at once rather than at the next tick,
// which narrows that window for them.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// HashSize is the length of an entry's hash (SHA-256).
const HashSize = sha256.Size

// Genesis returns the Prev of the first entry: 32 zero bytes.
func Genesis() []byte { return make([]byte, HashSize) }

// canonicalTag starts every canonical encoding, so a hash of this format
// cannot be mistaken for one of a later format.
const canonicalTag = "zoneplan-audit/1"

// timeLayout is an entry's time in its canonical encoding: UTC, always six
// fractional digits (the stores keep microseconds).
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Normalize puts e in the form it is hashed and stored in: its time in UTC
// truncated to microseconds, and "{}" for an empty detail. The detail is
// kept byte for byte as given (both stores keep its bytes exactly); it
// must be JSON. It fails when the detail is not JSON, a text field not
// UTF-8 without NUL (PostgreSQL would refuse the whole batch), or a
// classification not one.
func Normalize(e *zone.AuditEntry) error {
	if !e.Classification.Valid() || !e.ActorClearance.Valid() {
		return fmt.Errorf("audit entry classified %d for an actor of clearance %d: not classifications", int(e.Classification), int(e.ActorClearance))
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if len(bytes.TrimSpace(e.Detail)) == 0 {
		e.Detail = json.RawMessage("{}")
		return nil
	}
	if !json.Valid(e.Detail) || !utf8.Valid(e.Detail) {
		return fmt.Errorf("audit entry detail is not JSON in UTF-8: %.40q", e.Detail)
	}
	for _, f := range [...]string{e.Action, e.Actor, string(e.Role), e.Object, e.Layer} {
		if !utf8.ValidString(f) || strings.IndexByte(f, 0) >= 0 {
			return fmt.Errorf("audit entry field %.40q is not UTF-8 text", f)
		}
	}
	return nil
}

// Canonical is the byte string an entry's hash covers (Prev and Hash
// aside): a tag, then every field in a fixed order, each as a 4-byte
// big-endian length and its bytes, so no two entries encode alike. Numbers
// are decimal, ids their 36-character form, classifications and roles
// their names, the time as timeLayout, the detail as stored.
func Canonical(e *zone.AuditEntry) []byte { return appendCanonical(nil, e) }

func appendCanonical(out []byte, e *zone.AuditEntry) []byte {
	var seq, id, actorID, at [40]byte
	fields := [...][]byte{
		[]byte(canonicalTag),
		strconv.AppendInt(seq[:0], e.Seq, 10),
		appendUUID(id[:0], e.ID),
		e.Time.UTC().AppendFormat(at[:0], timeLayout),
		[]byte(e.Action),
		appendUUID(actorID[:0], e.ActorID),
		[]byte(e.Actor),
		[]byte(e.Role),
		[]byte(e.ActorClearance.String()),
		[]byte(e.Object),
		[]byte(e.Layer),
		[]byte(e.Classification.String()),
		e.Detail,
	}
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	out = slices.Grow(out, n)
	for _, f := range fields {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

// appendUUID appends id's 36-character form.
func appendUUID(b []byte, id uuid.UUID) []byte {
	var s [36]byte
	hex.Encode(s[0:8], id[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], id[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], id[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], id[8:10])
	s[23] = '-'
	hex.Encode(s[24:], id[10:])
	return append(b, s[:]...)
}

// HashOf is the hash of entry e linked to prev.
func HashOf(prev []byte, e *zone.AuditEntry) []byte {
	buf := appendCanonical(append(make([]byte, 0, 640), prev...), e)
	h := sha256.Sum256(buf)
	return h[:]
}

// Seal makes e the entry after one with sequence number seq and hash prev
// (0 and Genesis for the first): it normalizes e, sets Seq, Prev and Hash.
// Stores call it inside the appending transaction.
func Seal(e *zone.AuditEntry, seq int64, prev []byte) error {
	if err := Normalize(e); err != nil {
		return err
	}
	if len(prev) == 0 {
		prev = Genesis()
	}
	e.Seq = seq + 1
	e.Prev = append([]byte(nil), prev...)
	e.Hash = HashOf(e.Prev, e)
	return nil
}

// Break says where the chain breaks: the entry and what of it is wrong.
type Break struct {
	Seq int64
	// Field is what is wrong: "seq" (an entry missing or out of place),
	// "prev" (the link to the entry before), "hash" (the entry's stored
	// hash was changed), "content" (a field of the entry was changed after
	// it was written), or "content or hash" (the last entry, where the two
	// cannot be told apart).
	Field  string
	Reason string
}

func (b *Break) Error() string { return fmt.Sprintf("entry %d: %s", b.Seq, b.Reason) }

// Verifier checks a chain entry by entry, in order (Next), then at its end
// (End). It holds one entry back: a hash that does not match its entry is
// told apart from a changed entry by the link the next entry holds.
type Verifier struct {
	n        int64
	lastSeq  int64
	lastHash []byte
	suspect  *zone.AuditEntry // an entry whose hash does not match; judged by the next
	suspectH []byte           // its recomputed hash
	broken   *Break
}

// NewVerifier starts at the beginning of the chain.
func NewVerifier() *Verifier { return &Verifier{lastHash: Genesis()} }

// Next checks the next entry and returns the first break found so far
// (then the verifier stops looking).
func (v *Verifier) Next(e zone.AuditEntry) *Break {
	if v.broken != nil {
		return v.broken
	}
	if v.suspect != nil {
		s := v.suspect
		v.suspect = nil
		if bytes.Equal(e.Prev, v.suspectH) {
			v.broken = &Break{Seq: s.Seq, Field: "hash", Reason: fmt.Sprintf(
				"its stored hash was changed (its contents still match the hash entry %d links to)", e.Seq)}
		} else {
			v.broken = &Break{Seq: s.Seq, Field: "content", Reason: "its contents were changed after it was written (they no longer match its hash)"}
		}
		return v.broken
	}
	v.n++
	switch {
	case e.Seq == v.lastSeq+2:
		v.broken = &Break{Seq: e.Seq, Field: "seq", Reason: fmt.Sprintf("entry %d before it is missing (the sequence jumps from %d)", v.lastSeq+1, v.lastSeq)}
	case e.Seq > v.lastSeq+2:
		v.broken = &Break{Seq: e.Seq, Field: "seq", Reason: fmt.Sprintf("entries %d to %d before it are missing (the sequence jumps from %d)", v.lastSeq+1, e.Seq-1, v.lastSeq)}
	case e.Seq <= v.lastSeq:
		v.broken = &Break{Seq: e.Seq, Field: "seq", Reason: fmt.Sprintf("it comes after entry %d (out of order or repeated)", v.lastSeq)}
	case !bytes.Equal(e.Prev, v.lastHash):
		what := fmt.Sprintf("entry %d's hash", v.lastSeq)
		if v.lastSeq == 0 {
			what = "the chain's start (32 zero bytes)"
		}
		v.broken = &Break{Seq: e.Seq, Field: "prev", Reason: "its link (prev_hash " + short(e.Prev) + ") is not " + what + " " + short(v.lastHash) +
			": an entry before it was removed, inserted or rewritten"}
	}
	if v.broken != nil {
		return v.broken
	}
	want := HashOf(e.Prev, &e)
	if !bytes.Equal(want, e.Hash) {
		c := e
		v.suspect, v.suspectH = &c, want
		// The next entry's link says which of the two was changed; the
		// chain goes on from the hash it links to.
		v.lastSeq, v.lastHash = e.Seq, e.Hash
		return nil
	}
	v.lastSeq, v.lastHash = e.Seq, e.Hash
	return nil
}

// End finishes the check: the first break, or nil for an intact chain.
func (v *Verifier) End() *Break {
	if v.broken == nil && v.suspect != nil {
		v.broken = &Break{Seq: v.suspect.Seq, Field: "content or hash", Reason: "its contents do not match its hash (the last entry: either was changed)"}
		v.suspect = nil
	}
	return v.broken
}

// Entries is how many entries Next has taken in order.
func (v *Verifier) Entries() int64 { return v.n }

// Head is the last entry's sequence number and hash (0 and Genesis for
// an empty trail).
func (v *Verifier) Head() (int64, []byte) { return v.lastSeq, v.lastHash }

func short(h []byte) string {
	s := hex.EncodeToString(h)
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// Encode is an entry as the embedded store keeps it: Prev, the canonical
// encoding (which holds every other field), then Hash. Decode reads it
// back.
func Encode(e *zone.AuditEntry) []byte {
	out := appendCanonical(append(make([]byte, 0, 640), e.Prev...), e)
	return append(out, e.Hash...)
}

// SealEncoded is Seal and Encode at once, encoding the entry once.
func SealEncoded(e *zone.AuditEntry, seq int64, prev []byte) ([]byte, error) {
	if err := Normalize(e); err != nil {
		return nil, err
	}
	if len(prev) == 0 {
		prev = Genesis()
	}
	e.Seq = seq + 1
	e.Prev = append([]byte(nil), prev...)
	out := appendCanonical(append(make([]byte, 0, 640), prev...), e)
	h := sha256.Sum256(out)
	e.Hash = h[:]
	return append(out, e.Hash...), nil
}

// Decode reads what Encode wrote. It fails on bytes that are not such an
// encoding (a field missing, a value that does not parse); a changed
// value that still parses decodes, and Verify finds it.
func Decode(b []byte) (zone.AuditEntry, error) {
	var e zone.AuditEntry
	if len(b) < 2*HashSize {
		return e, fmt.Errorf("audit record of %d bytes is too short", len(b))
	}
	e.Prev = append([]byte(nil), b[:HashSize]...)
	e.Hash = append([]byte(nil), b[len(b)-HashSize:]...)
	rest := b[HashSize : len(b)-HashSize]
	var fields [13]string
	for i := range fields {
		if len(rest) < 4 {
			return e, fmt.Errorf("audit record ends before field %d", i)
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(len(rest)-4) < uint64(n) {
			return e, fmt.Errorf("audit record's field %d is cut short", i)
		}
		fields[i], rest = string(rest[4:4+n]), rest[4+n:]
	}
	if fields[0] != canonicalTag || len(rest) != 0 {
		return e, fmt.Errorf("not an audit record of format %s", canonicalTag)
	}
	var err error
	bad := func(what string, cause error) error { return fmt.Errorf("audit record's %s: %w", what, cause) }
	if e.Seq, err = strconv.ParseInt(fields[1], 10, 64); err != nil {
		return e, bad("seq", err)
	}
	if e.ID, err = uuid.Parse(fields[2]); err != nil {
		return e, bad("id", err)
	}
	if e.Time, err = time.Parse(timeLayout, fields[3]); err != nil {
		return e, bad("time", err)
	}
	e.Action = fields[4]
	if e.ActorID, err = uuid.Parse(fields[5]); err != nil {
		return e, bad("actor id", err)
	}
	e.Actor, e.Role = fields[6], zone.Role(fields[7])
	if e.ActorClearance, err = zone.ParseClassification(fields[8]); err != nil {
		return e, bad("actor clearance", err)
	}
	e.Object, e.Layer = fields[9], fields[10]
	if e.Classification, err = zone.ParseClassification(fields[11]); err != nil {
		return e, bad("classification", err)
	}
	e.Detail = []byte(fields[12])
	return e, nil
}
