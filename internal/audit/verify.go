package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Anchor is a head of the chain recorded elsewhere (its sequence number
// and hash): a trail rewritten from before it, however consistently, no
// longer holds it.
type Anchor struct {
	Seq  int64
	Hash []byte
}

// ParseAnchor reads "SEQ:HASH" (the hash in hex), as `audit verify` prints it.
func ParseAnchor(s string) (Anchor, error) {
	seqS, hashS, ok := strings.Cut(strings.TrimSpace(s), ":")
	seq, err := strconv.ParseInt(seqS, 10, 64)
	h, herr := hex.DecodeString(hashS)
	if !ok || err != nil || seq < 1 || herr != nil || len(h) != HashSize {
		return Anchor{}, zone.Errorf(zone.CodeInvalid, "anchor %q: want SEQ:HASH, the sequence number and the 64 hex digits of an entry's hash", s)
	}
	return Anchor{Seq: seq, Hash: h}, nil
}

func (a Anchor) String() string {
	return strconv.FormatInt(a.Seq, 10) + ":" + hex.EncodeToString(a.Hash)
}

// Report is the outcome of Verify.
type Report struct {
	Entries int64  // entries checked
	Head    Anchor // the last entry checked (Seq 0 for an empty trail)
	Break   *Break // the first break; nil when the chain is intact
}

// errStop ends a scan at the first break.
var errStop = errors.New("stop")

// Verify walks the whole trail of st in order and checks the chain (and,
// when anchors are given, that the trail still holds each). The error is
// the store's; a broken chain is Report.Break.
func Verify(ctx context.Context, st zone.AuditStore, anchors ...Anchor) (Report, error) {
	v := NewVerifier()
	want := map[int64][]byte{}
	for _, a := range anchors {
		want[a.Seq] = a.Hash
	}
	var anchorBreak *Break
	err := st.ScanAudit(ctx, 0, func(e zone.AuditEntry) error {
		if b := v.Next(e); b != nil {
			return errStop
		}
		if h, ok := want[e.Seq]; ok {
			delete(want, e.Seq)
			if !bytes.Equal(h, e.Hash) {
				anchorBreak = &Break{Seq: e.Seq, Field: "anchor", Reason: fmt.Sprintf(
					"its hash %s is not the anchor's %s: the trail was rewritten from this entry or before", short(e.Hash), short(h))}
				return errStop
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return Report{}, err
	}
	rep := Report{Entries: v.Entries(), Break: v.End()}
	rep.Head.Seq, rep.Head.Hash = v.Head()
	if rep.Break == nil && anchorBreak != nil {
		rep.Break = anchorBreak
	}
	if rep.Break == nil {
		for seq := range want {
			if rep.Break == nil || seq < rep.Break.Seq {
				rep.Break = &Break{Seq: seq, Field: "anchor", Reason: fmt.Sprintf("the trail ends at entry %d, before this anchored entry: entries were removed", rep.Head.Seq)}
			}
		}
	}
	return rep, nil
}
